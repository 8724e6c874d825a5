package slacktest

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// historyPage calls conversations.history with params.
func historyPage(t *testing.T, s *Server, params url.Values) (ts []string, more bool, next string, raw map[string]any) {
	t.Helper()
	a := callWith(http.DefaultClient, s, "conversations.history", params)
	if a.body["ok"] != true {
		t.Fatalf("conversations.history %v: %+v", params, a)
	}
	for _, m := range a.body["messages"].([]any) {
		ts = append(ts, m.(map[string]any)["ts"].(string))
	}
	more, _ = a.body["has_more"].(bool)
	if md, ok := a.body["response_metadata"].(map[string]any); ok {
		next, _ = md["next_cursor"].(string)
	}
	return ts, more, next, a.body
}

// 2,500 messages over the last 2,500 seconds, thread replies among them:
// paging with a cursor reads each top-level message once, newest first,
// and oldest/latest bound a scan by time.
func TestHistoryPagesAndTimeBounds(t *testing.T) {
	t.Parallel()
	s := Start(t, "xapp-1", "xoxb-1")
	now := time.Now().Truncate(time.Second)
	var msgs []Message
	for i := range 2500 {
		m := Message{TS: TSAt(now.Add(-time.Duration(2500-i) * time.Second)), Text: fmt.Sprintf("refused %d", i), User: "U0OTHERAPP", BotID: "B0OTHER"}
		if i%10 == 9 {
			m.ThreadTS = msgs[i-1].TS // a reply: not in the channel's history
		}
		msgs = append(msgs, m)
	}
	added := s.AddHistory("C0AUDIT", msgs...)
	var top []string // newest first
	for i := len(added) - 1; i >= 0; i-- {
		if added[i].ThreadTS == "" {
			top = append(top, added[i].TS)
		}
	}

	var got []string
	cursor, pages := "", 0
	for {
		params := url.Values{"channel": {"C0AUDIT"}, "limit": {"999"}}
		if cursor != "" {
			params.Set("cursor", cursor)
		}
		ts, more, next, _ := historyPage(t, s, params)
		got = append(got, ts...)
		pages++
		if !more {
			break
		}
		if _, err := strconv.ParseFloat(next, 64); err == nil {
			t.Errorf("the cursor %q is a ts: Slack's are opaque", next)
		}
		cursor = next
	}
	if pages != 3 || len(got) != len(top) {
		t.Fatalf("%d pages, %d messages; want 3 pages of the %d top-level messages", pages, len(got), len(top))
	}
	for i := range top {
		if got[i] != top[i] {
			t.Fatalf("message %d is %s, want %s", i, got[i], top[i])
		}
	}

	// A limit over 999 is 999; none is 100.
	if ts, _, _, _ := historyPage(t, s, url.Values{"channel": {"C0AUDIT"}, "limit": {"5000"}}); len(ts) != 999 {
		t.Errorf("limit 5000 gave %d", len(ts))
	}
	if ts, _, _, _ := historyPage(t, s, url.Values{"channel": {"C0AUDIT"}}); len(ts) != 100 {
		t.Errorf("no limit gave %d", len(ts))
	}
	// The last 10 minutes, by time: oldest is exclusive unless inclusive.
	oldest := TSAt(now.Add(-600 * time.Second))
	ts, more, _, _ := historyPage(t, s, url.Values{"channel": {"C0AUDIT"}, "oldest": {oldest}, "limit": {"999"}})
	if len(ts) != 539 || more { // one a second after oldest: 599, less 60 thread replies
		t.Errorf("after %s: %d messages (more %v), want 539", oldest, len(ts), more)
	}
	ts, _, _, _ = historyPage(t, s, url.Values{"channel": {"C0AUDIT"}, "oldest": {oldest}, "latest": {oldest}, "inclusive": {"true"}})
	if len(ts) != 1 || ts[0] != oldest {
		t.Errorf("inclusive at one ts: %v", ts)
	}
	if a := callWith(http.DefaultClient, s, "conversations.history", url.Values{"channel": {"C0AUDIT"}, "cursor": {"1764158400.000100"}}); a.body["error"] != "invalid_cursor" {
		t.Errorf("a ts as a cursor: %+v", a)
	}
}

// Metadata comes back only with include_all_metadata; other apps'
// messages say who wrote them.
func TestHistoryShowsMetadataOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	s := Start(t, "xapp-1", "xoxb-1")
	md := `{"event_type":"sessionbot_reset","event_payload":{"state":"started"}}`
	s.AddHistory("C0AUDIT", Message{Text: "from before the restart", Metadata: []byte(md), User: BotUser, BotID: BotID}, Message{Text: "someone's"})
	_, _, _, plain := historyPage(t, s, url.Values{"channel": {"C0AUDIT"}})
	_, _, _, full := historyPage(t, s, url.Values{"channel": {"C0AUDIT"}, "include_all_metadata": {"true"}})
	for _, m := range plain["messages"].([]any) {
		if m.(map[string]any)["metadata"] != nil {
			t.Errorf("metadata without include_all_metadata: %v", m)
		}
	}
	msgs := full["messages"].([]any)
	if len(msgs) != 2 || msgs[1].(map[string]any)["metadata"] == nil || msgs[1].(map[string]any)["bot_id"] != BotID {
		t.Errorf("with include_all_metadata: %v", msgs)
	}
	if who := msgs[0].(map[string]any)["user"]; who != someone {
		t.Errorf("someone's message is by %v", who)
	}
}

// A message the app posts now comes after any history, however close.
func TestPostsComeAfterHistory(t *testing.T) {
	t.Parallel()
	s := Start(t, "xapp-1", "xoxb-1")
	future := s.AddHistory("C1", Message{TS: TSAt(time.Now().Add(time.Second)), Text: "a clock ahead"})[0]
	posted := post(t, s, "chat.postMessage", url.Values{"channel": {"C1"}, "text": {"now"}})
	a, _ := tsMicros(future.TS)
	b, _ := tsMicros(posted["ts"].(string))
	if b <= a {
		t.Errorf("posted at %s, not after %s", posted["ts"], future.TS)
	}
}

func TestEphemeralFailuresAndDirectMessages(t *testing.T) {
	t.Parallel()
	s := Start(t, "xapp-1", "xoxb-1")
	s.Fail("chat.postEphemeral", Failure{Error: "user_not_in_channel", Channel: "C1"}, Failure{Error: "channel_not_found", Channel: "C0PRIVATE"})
	for ch, want := range map[string]string{"C1": "user_not_in_channel", "C0PRIVATE": "channel_not_found"} {
		if a := callWith(http.DefaultClient, s, "chat.postEphemeral", url.Values{"channel": {ch}, "user": {"U1"}, "text": {"x"}}); a.body["error"] != want {
			t.Errorf("ephemeral in %s: %+v, want %s", ch, a, want)
		}
	}
	// The fallback: a DM.
	a := callWith(http.DefaultClient, s, "conversations.open", url.Values{"users": {"U0ALICE"}})
	ch, _ := a.body["channel"].(map[string]any)
	if a.body["ok"] != true || ch["id"] != DM("U0ALICE") || !strings.HasPrefix(DM("U0ALICE"), "D") {
		t.Fatalf("conversations.open = %+v", a)
	}
	if a := callWith(http.DefaultClient, s, "chat.postMessage", url.Values{"channel": {DM("U0ALICE")}, "text": {"only you can see this"}}); a.body["ok"] != true {
		t.Errorf("posting in the DM: %+v", a)
	}
	if got := waitMessages(t, s, 1); got[0].Channel != DM("U0ALICE") {
		t.Errorf("messages = %+v", got)
	}
	if a := callWith(http.DefaultClient, s, "conversations.open", url.Values{}); a.body["error"] != "users_list_not_supplied" {
		t.Errorf("conversations.open of nobody = %+v", a)
	}
}

// conversations.replies answers the parent first, then its replies oldest
// first, paged behind a cursor, bounded by oldest (the parent always
// comes), and refuses a thread that does not exist.
func TestRepliesPagesAThread(t *testing.T) {
	t.Parallel()
	s := Start(t, "xapp-1", "xoxb-1")
	now := time.Now().Truncate(time.Second)
	parent := Message{TS: TSAt(now.Add(-time.Hour)), Text: "parent"}
	msgs := []Message{parent, {TS: TSAt(now.Add(-time.Hour + time.Second)), Text: "elsewhere"}}
	for i := range 5 {
		msgs = append(msgs, Message{TS: TSAt(now.Add(-time.Duration(50-i) * time.Minute)), ThreadTS: parent.TS, Text: fmt.Sprintf("reply %d", i)})
	}
	s.AddHistory("C0AUDIT", msgs...)
	read := func(params url.Values) (texts []string, next string) {
		t.Helper()
		a := callWith(http.DefaultClient, s, "conversations.replies", params)
		if a.body["ok"] != true {
			t.Fatalf("conversations.replies %v: %+v", params, a)
		}
		for _, m := range a.body["messages"].([]any) {
			texts = append(texts, m.(map[string]any)["text"].(string))
		}
		if md, ok := a.body["response_metadata"].(map[string]any); ok {
			next, _ = md["next_cursor"].(string)
		}
		return texts, next
	}
	var got []string
	params := url.Values{"channel": {"C0AUDIT"}, "ts": {parent.TS}, "limit": {"2"}}
	for pages := 0; ; pages++ {
		texts, next := read(params)
		got = append(got, texts...)
		if next == "" {
			break
		}
		if pages > 5 {
			t.Fatal("the cursor never ends")
		}
		params.Set("cursor", next)
	}
	if want := "parent,reply 0,reply 1,reply 2,reply 3,reply 4"; strings.Join(got, ",") != want {
		t.Errorf("the thread reads %q, want %q", strings.Join(got, ","), want)
	}
	recent, _ := read(url.Values{"channel": {"C0AUDIT"}, "ts": {parent.TS}, "oldest": {TSAt(now.Add(-48 * time.Minute))}})
	if want := "parent,reply 3,reply 4"; strings.Join(recent, ",") != want {
		t.Errorf("replies after oldest read %q, want %q", strings.Join(recent, ","), want)
	}
	if a := callWith(http.DefaultClient, s, "conversations.replies", url.Values{"channel": {"C0AUDIT"}, "ts": {"1.000001"}}); a.body["error"] != "thread_not_found" {
		t.Errorf("a thread that does not exist: %+v", a)
	}
}
