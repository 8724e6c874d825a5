package slack

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sessionbot/sessionbot/bot"
	"github.com/sessionbot/sessionbot/bot/slack/slacktest"
)

func testJournal(t *testing.T) (*Journal, *slacktest.Server) {
	t.Helper()
	sl := slacktest.NewServer("xapp-1-journal-test", "xoxb-journal-test")
	t.Cleanup(sl.Close)
	s := New(Options{AppToken: sl.AppToken, BotToken: sl.BotToken, APIURL: sl.URL})
	if _, err := s.AuthTest(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s.Journal("C0AUDIT"), sl
}

func TestJournalRoundTrip(t *testing.T) {
	j, sl := testJournal(t)
	ctx := context.Background()
	started := time.Unix(1764158400, 0)
	e := bot.Entry{
		RequestID: "a1b2c3d4", State: bot.StateStarted, Source: bot.SourceSlack, User: "U0ALICE", Channel: "C0GENERAL",
		Thread: "1764158400.000001", Started: started, Expires: started.Add(5 * time.Minute),
		Targets: []bot.Target{{Hash: "01H7YCG0R9GYY1YCPS2S4QA6WB"}, {Hash: "01HQ5K3P97DY8EX9Y90YT1K6XA", Username: "scraper-eu"}},
	}
	ref, err := j.Write(ctx, e, bot.Message{Text: "started"})
	if err != nil {
		t.Fatal(err)
	}
	e.Ref = ref
	got, err := j.Read(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if got.RequestID != e.RequestID || got.State != e.State || got.Thread != e.Thread || !got.Started.Equal(started) ||
		!got.Expires.Equal(e.Expires) || !slices.Equal(got.Targets, e.Targets) || got.Ref != ref || got.User != e.User {
		t.Errorf("read %+v, wrote %+v", got, e)
	}

	e.State, e.Took, e.Reason = bot.StateFailed, 412*time.Millisecond, "IPRoyal had a server error."
	if err := j.Rewrite(ctx, e, bot.Message{Text: "failed"}); err != nil {
		t.Fatal(err)
	}
	got, _ = j.Read(ctx, ref)
	if got.State != bot.StateFailed || got.Took != e.Took || got.Reason != e.Reason {
		t.Errorf("after the rewrite: %+v", got)
	}
	if cur, _ := sl.State().Current("C0AUDIT", ref); cur.Text != "failed" {
		t.Errorf("the audit message shows %q", cur.Text)
	}

	// An approval's fields: who may approve (one set per grant), why, and
	// who decided when.
	e.State, e.Approvers, e.Why = bot.StateDenied, [][]string{{"U0AAA", "S0BBB"}, {"U0CCC"}}, "12 targets under *sre*, more than 10"
	e.Decider, e.Decided = "U0AAA", started.Add(time.Minute)
	if err := j.Rewrite(ctx, e, bot.Message{Text: "denied"}); err != nil {
		t.Fatal(err)
	}
	got, _ = j.Read(ctx, ref)
	if got.State != bot.StateDenied || len(got.Approvers) != 2 || !slices.Equal(got.Approvers[0], e.Approvers[0]) ||
		!slices.Equal(got.Approvers[1], e.Approvers[1]) || got.Why != e.Why || got.Decider != "U0AAA" || !got.Decided.Equal(e.Decided) {
		t.Errorf("an approval read back as %+v", got)
	}

	for i, want := range []bool{true, false, false} {
		won, err := j.Claim(ctx, ref, "warning")
		if err != nil || won != want {
			t.Fatalf("claim %d = %v, %v; want %v", i+1, won, err, want)
		}
	}
	if won, err := j.Claim(ctx, ref, "ballot_box_with_check"); err != nil || !won {
		t.Errorf("another mark on the same entry = %v, %v", won, err)
	}
	if _, err := j.Read(ctx, "1764158400.999999"); err != bot.ErrNotFound {
		t.Errorf("reading nothing = %v, want ErrNotFound", err)
	}
}

func TestJournalSinceReadsEveryPage(t *testing.T) {
	j, _ := testJournal(t)
	ctx := context.Background()
	since := time.Now().Add(-time.Minute)
	const n = 2*historyPage + 7
	for i := range n {
		e := bot.Entry{RequestID: fmt.Sprintf("r%03d", i), State: bot.StateReset, Source: bot.SourceSlack, User: "U1", Started: time.Now()}
		if _, err := j.Write(ctx, e, bot.Message{Text: "x"}); err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 { // messages that are not entries are skipped
			if _, err := j.s.Post(ctx, "C0AUDIT", "", bot.Message{Text: "a refusal"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := j.Since(ctx, since)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("%d entries, want %d", len(got), n)
	}
	seen := map[string]bool{}
	for _, e := range got {
		seen[e.RequestID] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct entries, want %d", len(seen), n)
	}
}

func TestTargetsFieldDropsUsernamesFirst(t *testing.T) {
	var ts []bot.Target
	for i := range 100 {
		ts = append(ts, bot.Target{Hash: fmt.Sprintf("01H7YCG0R9GYY1YCPS2S4Q%04d", i), Username: fmt.Sprintf("%064d", i)})
	}
	field := encodeTargets(ts)
	if len(field) > maxTargetsField {
		t.Fatalf("%d characters, over %d", len(field), maxTargetsField)
	}
	e, err := decodeEntry(map[string]any{"v": float64(entryVersion), "request_id": "r", "state": "started", "targets": field})
	if err != nil || len(e.Targets) != 100 || e.Targets[99].Hash != ts[99].Hash || e.Targets[0].Username != "" {
		t.Errorf("decoded %d targets, %v", len(e.Targets), err)
	}
	small := encodeTargets(ts[:3])
	e, _ = decodeEntry(map[string]any{"v": float64(entryVersion), "request_id": "r", "state": "started", "targets": small})
	if !slices.Equal(e.Targets, ts[:3]) {
		t.Errorf("a short list lost its usernames: %q", small)
	}
}
