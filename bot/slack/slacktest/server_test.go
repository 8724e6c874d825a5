package slacktest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// post calls a Web API method of s the way slack-go does (a form).
func post(t *testing.T, s *Server, method string, form url.Values) map[string]any {
	t.Helper()
	form.Set("token", s.BotToken)
	resp, err := http.PostForm(s.URL+method, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func section(text string) map[string]any {
	return map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": text}}
}

func blocksParam(t *testing.T, bs ...map[string]any) string {
	b, err := json.Marshal(bs)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The double refuses what real Slack refuses, so that tests fail where
// Slack would.
func TestDoubleEnforcesSlacksLimits(t *testing.T) {
	s := Start(t, "xapp-1", "xoxb-1")
	many := make([]map[string]any, 51)
	for i := range many {
		many[i] = section("x")
	}
	tests := []struct {
		name   string
		blocks string
		want   string
	}{
		{"fits", blocksParam(t, section(strings.Repeat("x", 3000)), section(strings.Repeat("y", 3000))), ""},
		{"a section over 3,000", blocksParam(t, section(strings.Repeat("x", 3001))), "invalid_blocks"},
		{"more than 50 blocks", blocksParam(t, many...), "invalid_blocks"},
		{"blocks adding up to over 11,000", blocksParam(t, section(strings.Repeat("x", 2900)), section(strings.Repeat("x", 2900)), section(strings.Repeat("x", 2900)), section(strings.Repeat("x", 2900))), "msg_blocks_too_long"},
		{"not JSON", "[{", "invalid_blocks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, method := range []string{"chat.postMessage", "chat.update"} {
				form := url.Values{"channel": {"C1"}, "text": {"fallback"}, "blocks": {tt.blocks}}
				if method == "chat.update" {
					ok := post(t, s, "chat.postMessage", url.Values{"channel": {"C1"}, "text": {"first"}})
					form.Set("ts", ok["ts"].(string))
				}
				out := post(t, s, method, form)
				if got, _ := out["error"].(string); got != tt.want {
					t.Errorf("%s: error %q, want %q", method, got, tt.want)
				}
			}
		})
	}
}

func TestDoubleReactionsAreOnceAndHistoryKeepsMetadata(t *testing.T) {
	s := Start(t, "xapp-1", "xoxb-1")
	md := `{"event_type":"sessionbot_reset","event_payload":{"state":"started"}}`
	first := post(t, s, "chat.postMessage", url.Values{"channel": {"C1"}, "text": {"entry"}, "metadata": {md}})
	ts := first["ts"].(string)
	post(t, s, "chat.postMessage", url.Values{"channel": {"C1"}, "text": {"a reply"}, "thread_ts": {ts}})
	for i, want := range []string{"", "already_reacted"} {
		out := post(t, s, "reactions.add", url.Values{"channel": {"C1"}, "timestamp": {ts}, "name": {"warning"}})
		if got, _ := out["error"].(string); got != want {
			t.Errorf("reaction %d: error %q, want %q", i+1, got, want)
		}
	}
	if out := post(t, s, "reactions.add", url.Values{"channel": {"C1"}, "timestamp": {"1.000001"}, "name": {"warning"}}); out["error"] != "message_not_found" {
		t.Errorf("a reaction on nothing: %v", out)
	}
	if out := post(t, s, "chat.postMessage", url.Values{"channel": {"C1"}, "text": {"x"}, "metadata": {`{"event_type":""}`}}); out["error"] != "invalid_metadata_format" {
		t.Errorf("bad metadata: %v", out)
	}

	hist := post(t, s, "conversations.history", url.Values{"channel": {"C1"}})
	msgs := hist["messages"].([]any)
	if len(msgs) != 1 || msgs[0].(map[string]any)["metadata"] != nil {
		t.Errorf("history without include_all_metadata = %v (thread replies excluded, metadata hidden)", msgs)
	}
	hist = post(t, s, "conversations.history", url.Values{"channel": {"C1"}, "include_all_metadata": {"1"}, "latest": {ts}, "oldest": {ts}, "inclusive": {"1"}, "limit": {"1"}})
	msgs = hist["messages"].([]any)
	if len(msgs) != 1 || msgs[0].(map[string]any)["metadata"] == nil {
		t.Errorf("history of one message with metadata = %v", msgs)
	}
}
