package main

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionbot/sessionbot/bot/slack/slacktest"
	"github.com/sessionbot/sessionbot/iproyal/iproyaltest"
)

func TestBotHappyPath(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	h.command(allowedUser, "01h7ycg0r9gyy1ycps2s4qa6wb, scraper-eu\n"+hashA)

	parent := h.announcement(channel, 0)
	assertContains(t, "announcement", parent.Text, "<@"+allowedUser+">", hashA, hashB, "scraper-eu", "2 residential users")
	reply := h.threadReply(parent)
	if !strings.Contains(reply.Text, "Reset the sessions of 2 residential users in") || reply.Broadcast {
		t.Errorf("thread reply = %+v", reply)
	}
	resets := h.ipr.Resets()
	if len(resets) != 1 || !slices.Equal(resets[0], []string{hashA, hashB}) {
		t.Fatalf("IPRoyal resets = %v, want [[%s %s]]", resets, hashA, hashB)
	}
	if err := h.slack.WaitFor(wait, func(s *slacktest.State) bool { return len(s.Reactions()) == 1 }); err != nil {
		t.Fatal("no reaction on the announcement")
	}
	if r := h.slack.State().Reactions()[0]; r.Name != "white_check_mark" || r.TS != parent.TS {
		t.Errorf("reaction = %+v", r)
	}
	if n := len(h.slack.State().Responses()); n != 0 {
		t.Errorf("%d private replies on success, want none", n)
	}

	line := h.auditLine("reset")
	id, _ := line["request_id"].(string)
	if id == "" || !strings.Contains(parent.Text, id) || !strings.Contains(reply.Text, id) {
		t.Errorf("request id %q is not in both messages", id)
	}
	if line["user"] != allowedUser || line["channel"] != channel || fmt.Sprint(line["targets"]) != "["+hashA+" "+hashB+" (scraper-eu)]" {
		t.Errorf("audit line = %v", line)
	}
	if _, ok := line["duration_ms"].(float64); !ok {
		t.Errorf("audit line has no duration: %v", line)
	}
}

func TestBotDenials(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		env      map[string]string
		user, ch string
		groups   map[string][]string
		want     string
		wantLog  string
	}{
		{name: "user not allowed", user: otherUser, ch: channel,
			want: "not allowed to reset", wantLog: "not in ALLOWED_USERS."},
		{name: "not in the group", env: map[string]string{"ALLOWED_USERS": "", "ALLOWED_USERGROUPS": "S0OPS"},
			groups: map[string][]string{"S0OPS": {allowedUser}}, user: otherUser, ch: channel,
			want: "a member of <!subteam^S0OPS>", wantLog: "not in a group in ALLOWED_USERGROUPS."},
		{name: "channel not allowed", env: map[string]string{"ALLOWED_CHANNELS": "C0OPS"}, user: allowedUser, ch: channel,
			want: "cannot be reset from this channel", wantLog: "the command is not allowed in that channel (ALLOWED_CHANNELS)."},
		{name: "group lookup fails", env: map[string]string{"ALLOWED_USERS": "", "ALLOWED_USERGROUPS": "S0MISSING"},
			user: allowedUser, ch: channel, want: "could not check your user group membership", wantLog: "Slack could not say who is in ALLOWED_USERGROUPS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := startBot(t, func(env map[string]string) {
				env["AUDIT_CHANNEL"] = "C0AUDIT"
				for k, v := range tt.env {
					env[k] = v
				}
			})
			for g, members := range tt.groups {
				h.slack.SetUsergroup(g, members...)
			}
			id := h.commandIn(tt.user, tt.ch, hashA)
			got := h.private(id)
			if !strings.Contains(got.Text, tt.want) || !strings.Contains(got.Text, "Nothing was reset") {
				t.Errorf("private reply = %q, want it to contain %q", got.Text, tt.want)
			}
			mirror := h.announcement("C0AUDIT", 0)
			if !strings.Contains(mirror.Text, "Refused <@"+tt.user+"> in <#"+tt.ch+">") || !strings.Contains(mirror.Text, tt.wantLog) {
				t.Errorf("audit channel got %q", mirror.Text)
			}
			line := h.auditLine("denied")
			if line["user"] != tt.user {
				t.Errorf("audit line = %v", line)
			}
			if n := resetCalls(h.ipr); n != 0 {
				t.Errorf("IPRoyal was called %d times for a denied request", n)
			}
			for _, m := range h.slack.State().Messages() {
				if m.Channel == tt.ch {
					t.Errorf("something was posted in the channel: %q", m.Text)
				}
			}
		})
	}
}

func TestBotAllowsGroupMembersAndCachesTheLookup(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(env map[string]string) {
		env["ALLOWED_USERS"] = ""
		env["ALLOWED_USERGROUPS"] = "S0OPS,S0SRE"
	})
	h.slack.SetUsergroup("S0OPS", "U0SOMEONE")
	h.slack.SetUsergroup("S0SRE", otherUser)
	h.command(otherUser, hashA)
	h.threadReply(h.announcement(channel, 0))
	h.command(otherUser, hashB)
	h.threadReply(h.announcement(channel, 1))
	if n := len(h.ipr.Resets()); n != 2 {
		t.Fatalf("resets = %d, want 2", n)
	}
	if n := len(h.slack.State().Calls("usergroups.users.list")); n != 2 {
		t.Errorf("usergroups.users.list called %d times for two commands, want 2 (once per group, then cached)", n)
	}
}

func TestBotHelp(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	for _, text := range []string{"help", "  HELP  ", "-h"} {
		id := h.command(otherUser, text)
		got := h.private(id)
		if !strings.Contains(got.Text, "/reset-sessions HASH") || !strings.Contains(got.Text, "at most 100") {
			t.Errorf("help for %q = %q", text, got.Text)
		}
	}
	if n := resetCalls(h.ipr); n != 0 {
		t.Errorf("help called IPRoyal %d times", n)
	}
}

func TestBotRefusesBadTargets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text string
		want       []string
	}{
		{"malformed", hashA + " not_a-hash! 01H7YCG0R9", []string{"`not_a-hash!`", "`01H7YCG0R9`", "2 targets are not valid"}},
		{"unknown username", hashA + " scraper", []string{"`scraper`", "no sub-user has this username"}},
		{"hash with a bad letter", "01H7YCG0R9GYY1YCPS2S4QA6WU", []string{"probably a mistyped residential user hash", "`U` at position 26"}},
		{"hash one character short", "01H7YCG0R9GYY1YCPS2S4QA6W", []string{"probably a mistyped residential user hash", "it has 25 characters, and a hash has 26"}},
		{"username almost right", "scraper-e", []string{"`scraper-e`: not a hash, and no sub-user has this username; did you mean `scraper-eu` or `scraper-eu-old`?"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := startBot(t, nil)
			got := h.private(h.command(allowedUser, tt.text))
			assertContains(t, "reply", got.Text, tt.want...)
			if n := h.ipr.Count("DELETE", "/sessions"); n != 0 {
				t.Errorf("%d resets sent", n)
			}
			if strings.Contains(tt.name, "hash") && h.ipr.Count("GET", "/residential-subusers") != 0 {
				t.Error("a mistyped hash was looked up as a username")
			}
			if n := len(h.slack.State().Messages()); n != 0 {
				t.Errorf("%d channel messages for a refused command", n)
			}
		})
	}
}

func TestBotRefusesTooMany(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(env map[string]string) { env["MAX_HASHES"] = "2" })
	got := h.private(h.command(allowedUser, strings.Join([]string{hashA, hashB, hashC}, " ")))
	if !strings.Contains(got.Text, "3 targets is more than the limit of 2") {
		t.Errorf("reply = %q", got.Text)
	}
	if n := resetCalls(h.ipr); n != 0 {
		t.Errorf("IPRoyal called %d times", n)
	}
}

func TestBotNeverEchoesLiveMarkup(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	// As Slack delivers it: typed < > & arrive escaped, mentions arrive live.
	text := "<!channel> <!here> <@U0BOSS|boss> &lt;!everyone&gt; <#C0OTHER|general> <!subteam^S0ALL>"
	got := h.private(h.command(allowedUser, hashA+" "+text))
	all := got.Text + string(got.Blocks)
	for _, live := range []string{"<!channel>", "<!here>", "<@U0BOSS", "<!everyone>", "<#C0OTHER", "<!subteam"} {
		if strings.Contains(all, live) {
			t.Errorf("reply contains live markup %q: %s", live, all)
		}
	}
	if !strings.Contains(got.Text, "`&lt;!channel&gt;`") || !strings.Contains(got.Text, "`&lt;!everyone&gt;`") {
		t.Errorf("reply does not show the input escaped once: %q", got.Text)
	}
	if strings.Contains(all, "&amp;lt;") {
		t.Errorf("reply escaped the input twice: %q", got.Text)
	}
}

func TestBotIPRoyalFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		script    []iproyaltest.Response
		timeout   string
		want      []string
		wantCalls int
	}{
		{name: "5xx after retries", script: rep(iproyaltest.Response{Status: 503, Body: `{"message":"Service Unavailable"}`}, 3),
			want: []string{"503 Service Unavailable", "server error", "try again in a few minutes"}, wantCalls: 3},
		{name: "429 beyond the cap", script: []iproyaltest.Response{{Status: 429, Header: map[string]string{"Retry-After": "120"}}},
			want: []string{"429 Too Many Requests", "rate limiting", "try again in 2 minutes"}, wantCalls: 1},
		{name: "401", script: []iproyaltest.Response{{Status: 401, Body: `{"message":"Unauthenticated."}`}},
			want: []string{"401 Unauthorized", "Unauthenticated.", "token is wrong, or API access is not enabled", "IPROYAL_API_TOKEN"}, wantCalls: 1},
		{name: "timeout", timeout: "150ms", script: rep(iproyaltest.Response{Delay: time.Minute}, 3),
			want: []string{"did not answer in time", "running the command again is safe"}, wantCalls: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := startBot(t, func(env map[string]string) {
				if tt.timeout != "" {
					env["IPROYAL_TIMEOUT"] = tt.timeout
				}
			})
			h.ipr.Script("DELETE", "/sessions", tt.script...)
			h.command(allowedUser, hashA)
			parent := h.announcement(channel, 0)
			reply := h.threadReply(parent)
			assertContains(t, "failure reply", reply.Text, tt.want...)
			if !reply.Broadcast || !strings.Contains(reply.Text, "<@"+allowedUser+">") {
				t.Errorf("failure reply should be broadcast and mention the requester: %+v", reply)
			}
			if got := h.ipr.Count("DELETE", "/sessions"); got != tt.wantCalls {
				t.Errorf("DELETE calls = %d, want %d", got, tt.wantCalls)
			}
			if err := h.slack.WaitFor(wait, func(s *slacktest.State) bool {
				r := s.Reactions()
				return len(r) == 1 && r[0].Name == "x"
			}); err != nil {
				t.Errorf("no :x: reaction: %v", h.slack.State().Reactions())
			}
			h.auditLine("failed")
		})
	}
}

func rep(r iproyaltest.Response, n int) []iproyaltest.Response {
	out := make([]iproyaltest.Response, n)
	for i := range out {
		out[i] = r
	}
	return out
}

func TestBotCannotPostInChannel(t *testing.T) {
	t.Parallel()
	for _, code := range []string{"not_in_channel", "channel_not_found", "is_archived"} {
		t.Run(code, func(t *testing.T) {
			t.Parallel()
			h := startBot(t, nil)
			h.slack.Fail("chat.postMessage", slacktest.Failure{Error: code, Channel: channel})
			got := h.private(h.command(allowedUser, hashA))
			if !strings.Contains(got.Text, "Nothing was reset") || !strings.Contains(got.Text, "/invite @sessionbot") {
				t.Errorf("private reply = %q", got.Text)
			}
			if n := resetCalls(h.ipr); n != 0 {
				t.Errorf("IPRoyal called %d times though the announcement failed", n)
			}
			h.auditLine("post_failed")
		})
	}
}

func TestBotRetriesSlackRateLimits(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	h.slack.Fail("chat.postMessage", slacktest.Failure{RetryAfter: 1})
	h.command(allowedUser, hashA)
	parent := h.announcement(channel, 0)
	h.threadReply(parent)
	if n := len(h.ipr.Resets()); n != 1 {
		t.Fatalf("resets = %d, want 1", n)
	}
	calls := h.slack.State().Calls("chat.postMessage")
	if len(calls) < 3 {
		t.Fatalf("chat.postMessage calls = %d, want the rate-limited one, its retry and the reply", len(calls))
	}
	if gap := calls[1].At.Sub(calls[0].At); gap < time.Second {
		t.Errorf("retried after %v, before Retry-After: 1", gap)
	}
}

func TestBotGivesUpOnPersistentSlackRateLimit(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	h.slack.Fail("chat.postMessage", slacktest.Failure{RetryAfter: 1, Sticky: true})
	got := h.private(h.command(allowedUser, hashA))
	if !strings.Contains(got.Text, "Slack is rate limiting sessionbot") || !strings.Contains(got.Text, "Nothing was reset") {
		t.Errorf("private reply = %q", got.Text)
	}
	if n := resetCalls(h.ipr); n != 0 {
		t.Errorf("IPRoyal called %d times", n)
	}
}

func TestBotReconnects(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	h.slack.Disconnect("refresh_requested")
	if err := h.slack.WaitFor(wait, func(s *slacktest.State) bool { return s.Hellos() == 2 && s.Connections() == 1 }); err != nil {
		t.Fatal("no reconnect after a disconnect message")
	}
	h.command(allowedUser, hashA)
	h.threadReply(h.announcement(channel, 0))

	h.slack.DropConnections()
	if err := h.slack.WaitFor(wait, func(s *slacktest.State) bool { return s.Hellos() == 3 && s.Connections() == 1 }); err != nil {
		t.Fatal("no reconnect after the socket dropped")
	}
	h.waitReady(true)
	h.command(allowedUser, hashB)
	h.threadReply(h.announcement(channel, 1))
	if n := len(h.ipr.Resets()); n != 2 {
		t.Fatalf("resets = %d, want 2", n)
	}
	if m := h.body("/metrics"); !strings.Contains(m, "sessionbot_slack_reconnects_total 2") {
		t.Errorf("metrics do not count 2 reconnects:\n%s", grep(m, "sessionbot_slack"))
	}
}

func TestBotNotReadyWhileDisconnected(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	h.slack.Fail("apps.connections.open", slacktest.Failure{Error: "internal_error", Sticky: true})
	h.slack.DropConnections()
	h.waitReady(false)
	if code := h.get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d while disconnected; the process is fine", code)
	}
	h.slack.ClearFailures()
	h.waitReady(true)
}

// A slow IPRoyal answer for one person must not hold up anyone else.
func TestBotSlowIPRoyalDelaysNobodyElse(t *testing.T) {
	t.Parallel()
	var others []string
	for i := range 20 {
		others = append(others, fmt.Sprintf("U0FAST%02d", i))
	}
	h := startBot(t, func(env map[string]string) {
		env["ALLOWED_USERS"] = allowedUser + "," + strings.Join(others, ",")
		env["IPROYAL_TIMEOUT"] = "1m"
		env["SHUTDOWN_TIMEOUT"] = "100ms" // the slow one is cancelled at the end
	})
	h.ipr.Script("DELETE", "/sessions", iproyaltest.Response{Delay: 30 * time.Second})
	h.command(allowedUser, hashA) // this one hangs in IPRoyal
	h.announcement(channel, 0)
	eventually(t, "the slow reset reaches IPRoyal", func() bool { return h.ipr.Count("DELETE", "/sessions") == 1 })
	for _, u := range others {
		h.command(u, hashB) // fails the test unless acknowledged
	}
	for i := range 20 {
		h.threadReply(h.announcement(channel, i+1))
	}
	if n := len(h.ipr.Resets()); n != 20 {
		t.Fatalf("resets done = %d, want the 20 fast ones while the slow one still waits", n)
	}
}

// Acks never wait on IPRoyal: with IPRoyal holding every call, all
// commands are acknowledged before any reset finishes.
func TestBotAcksWithoutWaitingForIPRoyal(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(env map[string]string) {
		env["SHUTDOWN_TIMEOUT"] = "100ms"
		env["RATE_LIMIT_PER_MINUTE"] = "0"
	})
	h.ipr.SetDelay(3 * time.Second)
	for range 30 {
		h.command(allowedUser, hashA)
	}
	if n := len(h.ipr.Resets()); n != 0 {
		t.Fatalf("%d resets finished before all acks arrived", n)
	}
}

func TestBotRefusesWhenBusy(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(env map[string]string) {
		env["MAX_CONCURRENT"] = "1"
		env["SHUTDOWN_TIMEOUT"] = "100ms"
	})
	h.ipr.Script("DELETE", "/sessions", iproyaltest.Response{Delay: 30 * time.Second})
	h.command(allowedUser, hashA)
	eventually(t, "the first reset reaches IPRoyal", func() bool { return h.ipr.Count("DELETE", "/sessions") == 1 })
	id := h.command(allowedUser, hashB)
	var ack slacktest.Ack
	for _, a := range h.slack.State().Acks() {
		if a.EnvelopeID == id {
			ack = a
		}
	}
	if !strings.Contains(string(ack.Payload), "too many commands") || !strings.Contains(string(ack.Payload), `"ephemeral"`) {
		t.Errorf("busy ack payload = %s", ack.Payload)
	}
}

func TestBotHandlesARepeatedEnvelopeOnce(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	payload := fmt.Sprintf(`{"user_id":%q,"channel_id":%q,"command":"/reset-sessions","text":%q,"response_url":%q}`,
		allowedUser, channel, hashA, strings.TrimSuffix(h.slack.URL, "api/")+"response/dup")
	for range 2 {
		if err := h.slack.SendEnvelope("env-dup", "slash_commands", []byte(payload)); err != nil {
			t.Fatal(err)
		}
	}
	h.threadReply(h.announcement(channel, 0))
	if err := h.slack.WaitFor(wait, func(s *slacktest.State) bool { return len(s.Acks()) == 2 }); err != nil {
		t.Fatalf("acks = %d, want both deliveries acknowledged", len(h.slack.State().Acks()))
	}
	h.waitLog("ignored a repeated envelope")
	if n := len(h.ipr.Resets()); n != 1 {
		t.Fatalf("resets = %d, want 1", n)
	}
}

func TestBotSurvivesMalformedFrames(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	for _, frame := range []string{
		`not json at all`,
		`{"type":"mystery","envelope_id":"env-mystery","payload":{}}`,
		`{"type":"slash_commands","envelope_id":"env-broken","payload":"a string"}`,
		`{"type":"events_api","envelope_id":"env-event","payload":{"type":"event_callback","event":{"type":"app_mention"}}}`,
	} {
		if err := h.slack.SendRaw([]byte(frame)); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"env-mystery", "env-broken", "env-event"} {
		if err := h.slack.WaitFor(wait, func(s *slacktest.State) bool { return s.Acked(id) }); err != nil {
			t.Errorf("%s was not acknowledged", id)
		}
	}
	h.waitLog("ignored a frame sessionbot cannot use")
	h.command(allowedUser, hashA)
	h.threadReply(h.announcement(channel, 0))
}

func TestBotMetrics(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	h.command(allowedUser, hashA)
	h.threadReply(h.announcement(channel, 0))
	h.auditLine("reset") // counted with the audit line, after the reaction
	h.private(h.command(otherUser, hashA))
	h.auditLine("denied")
	m := h.body("/metrics")
	for _, want := range []string{
		`sessionbot_commands_total{outcome="reset"} 1`,
		`sessionbot_commands_total{outcome="denied"} 1`,
		`sessionbot_iproyal_requests_total{code="204",method="delete"} 1`,
		`sessionbot_iproyal_request_duration_seconds_count{code="204",method="delete"} 1`,
		`sessionbot_slack_connected 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s:\n%s", want, grep(m, "sessionbot_"))
		}
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
