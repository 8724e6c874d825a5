package slacktest

import (
	"net/http"
	"net/url"
	"testing"
)

// The workspace's methods answer as Slack does, errors included.
func TestWorkspaceIsAsStrictAsSlack(t *testing.T) {
	s := NewServer("xapp-1", "xoxb-1")
	defer s.Close()
	s.AddUser(User{ID: "U1", Name: "ana"})
	s.AddUsergroup(Usergroup{ID: "S1", Handle: "sre"}, "U1", "U2")
	s.AddUsergroup(Usergroup{ID: "S2", Handle: "old", Disabled: true})
	s.AddChannel(Channel{ID: "C1", Name: "general"})
	s.AddChannel(Channel{ID: "G1", Name: "secret", Private: true})
	s.AddChannel(Channel{ID: "G2", Name: "audit", Private: true, Member: true})

	errorOf := func(out map[string]any) any { return out["error"] }
	tests := []struct {
		name   string
		method string
		form   url.Values
		check  func(map[string]any) bool
	}{
		{"a user", "users.info", url.Values{"user": {"U1"}}, func(o map[string]any) bool { return o["user"].(map[string]any)["name"] == "ana" }},
		{"no such user", "users.info", url.Values{"user": {"U9"}}, func(o map[string]any) bool { return errorOf(o) == "user_not_found" }},
		{"groups, counted, without the disabled", "usergroups.list", url.Values{"include_count": {"true"}}, func(o map[string]any) bool {
			gs := o["usergroups"].([]any)
			return len(gs) == 1 && gs[0].(map[string]any)["user_count"] == float64(2)
		}},
		{"groups, the disabled too", "usergroups.list", url.Values{"include_disabled": {"true"}}, func(o map[string]any) bool { return len(o["usergroups"].([]any)) == 2 }},
		{"a public channel the bot is not in", "conversations.info", url.Values{"channel": {"C1"}}, func(o map[string]any) bool {
			return o["channel"].(map[string]any)["is_member"] == false
		}},
		{"a private channel the bot is not in is hidden", "conversations.info", url.Values{"channel": {"G1"}}, func(o map[string]any) bool { return errorOf(o) == "channel_not_found" }},
		{"no history where the bot is not", "conversations.history", url.Values{"channel": {"C1"}}, func(o map[string]any) bool { return errorOf(o) == "not_in_channel" }},
		{"history where it is", "conversations.history", url.Values{"channel": {"G2"}}, func(o map[string]any) bool { return o["ok"] == true }},
	}
	for _, tt := range tests {
		if out := post(t, s, tt.method, tt.form); !tt.check(out) {
			t.Errorf("%s: %s answered %v", tt.name, tt.method, out)
		}
	}

	// With scopes set: auth.test lists them, and a method without its scope is refused.
	s.SetScopes("usergroups:read", "channels:read")
	form := url.Values{"token": {s.BotToken}}
	resp, err := http.PostForm(s.URL+"auth.test", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-OAuth-Scopes"); got != "usergroups:read,channels:read" {
		t.Errorf("x-oauth-scopes = %q", got)
	}
	out := post(t, s, "users.info", url.Values{"user": {"U1"}})
	if out["error"] != "missing_scope" || out["needed"] != "users:read" || out["provided"] != "usergroups:read,channels:read" {
		t.Errorf("users.info without users:read = %v", out)
	}
	if out := post(t, s, "conversations.history", url.Values{"channel": {"G2"}}); out["needed"] != "groups:history" {
		t.Errorf("history without groups:history = %v", out)
	}
}
