package main

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/sessionbot/sessionbot/bot/slack/slacktest"
	"github.com/sessionbot/sessionbot/iproyal/iproyaltest"
)

// fourTargets is over the CONFIRM_ABOVE=3 these tests use.
var fourTargets = strings.Join([]string{hashA, "scraper-eu", "01HQ5K3P97DY8EX9Y90YT1K6XD", "01HQ5K3P97DY8EX9Y90YT1K6XE"}, " ")

func confirmEnv(env map[string]string) { env["CONFIRM_ABOVE"] = "3" }

// responses waits until envelope id has n response_url posts, and returns them.
func (h *harness) responses(id string, n int) []slacktest.Response {
	h.t.Helper()
	var got []slacktest.Response
	err := h.slack.WaitFor(wait, func(s *slacktest.State) bool {
		got = got[:0]
		for _, r := range s.Responses() {
			if r.EnvelopeID == id {
				got = append(got, r)
			}
		}
		return len(got) >= n
	})
	if err != nil {
		h.t.Fatalf("envelope %s got %d private replies, want %d; logs:\n%s", id, len(got), n, h.logs)
	}
	return got
}

// confirmation sends a command that needs confirming and returns its buttons.
func (h *harness) confirmation(user, text string) map[string]slacktest.Button {
	h.t.Helper()
	r := h.private(h.command(user, text))
	if !strings.Contains(r.Text, "This resets the sessions of") || !strings.Contains(r.Text, "Confirm within") {
		h.t.Fatalf("no confirmation: %q", r.Text)
	}
	buttons := map[string]slacktest.Button{}
	for _, b := range slacktest.Buttons(r.Blocks) {
		buttons[b.Text] = b
	}
	if len(buttons) != 2 || buttons["Confirm"].Value == "" || buttons["Cancel"].Value == "" {
		h.t.Fatalf("buttons = %+v", buttons)
	}
	return buttons
}

func (h *harness) click(user string, b slacktest.Button) string {
	h.t.Helper()
	id, err := h.slack.SendClick(user, channel, b)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.slack.WaitFor(wait, func(s *slacktest.State) bool { return s.Acked(id) }); err != nil {
		h.t.Fatalf("click %s was never acknowledged", id)
	}
	return id
}

func (h *harness) assertNothingReset() {
	h.t.Helper()
	if n := h.ipr.Count("DELETE", "/sessions"); n != 0 {
		h.t.Errorf("%d resets sent", n)
	}
	for _, m := range h.slack.State().Messages() {
		if m.Channel == channel {
			h.t.Errorf("posted in the channel: %q", m.Text)
		}
	}
}

func TestConfirmRunsTheReset(t *testing.T) {
	t.Parallel()
	h := startBot(t, confirmEnv)
	buttons := h.confirmation(allowedUser, fourTargets)
	if summary := h.slack.State().Responses()[0].Text; !strings.Contains(summary, "This resets the sessions of *4 residential users*") {
		t.Errorf("summary = %q", summary)
	}
	asked := h.auditLine("confirmation_requested")
	h.assertNothingReset()

	id := h.click(allowedUser, buttons["Confirm"])
	replaced := h.responses(id, 1)[0]
	if !replaced.ReplaceOriginal || !strings.Contains(replaced.Text, "Confirmed: resetting the sessions of 4") {
		t.Errorf("the confirmation was not replaced: %+v", replaced)
	}
	parent := h.announcement(channel, 0)
	if !strings.Contains(parent.Text, "<@"+allowedUser+">") || !strings.Contains(parent.Text, "sub-user `scraper-eu`") {
		t.Errorf("announcement = %q", parent.Text)
	}
	reply := h.threadReply(parent)
	if !strings.Contains(reply.Text, "Reset the sessions of 4 residential users") {
		t.Errorf("reply = %q", reply.Text)
	}
	if r := h.ipr.Resets(); len(r) != 1 || len(r[0]) != 4 || r[0][1] != hashB {
		t.Errorf("resets = %v", r)
	}
	// One request ID runs through the command, the click and the messages.
	if id := asked["request_id"].(string); !strings.Contains(parent.Text, id) || h.auditLine("reset")["request_id"] != id {
		t.Errorf("request %s does not run through the flow: %q", id, parent.Text)
	}
}

func TestCancelResetsNothing(t *testing.T) {
	t.Parallel()
	h := startBot(t, confirmEnv)
	buttons := h.confirmation(allowedUser, fourTargets)
	id := h.click(allowedUser, buttons["Cancel"])
	r := h.responses(id, 1)[0]
	// Without a journal, no replica can know that no Confirm came first
	// elsewhere, so the answer says only what it knows.
	if !r.ReplaceOriginal || !strings.Contains(r.Text, "Cancelled: this click reset nothing. If Confirm was clicked first, that reset's outcome is in <#"+channel+">") {
		t.Errorf("cancel reply = %+v", r)
	}
	h.auditLine("cancelled")
	h.assertNothingReset()
}

func TestAnotherUsersClickChangesNothing(t *testing.T) {
	t.Parallel()
	h := startBot(t, confirmEnv)
	buttons := h.confirmation(allowedUser, fourTargets)
	for _, label := range []string{"Confirm", "Cancel"} {
		id := h.click(otherUser, buttons[label])
		r := h.responses(id, 1)[0]
		if r.ReplaceOriginal || r.ResponseType != "ephemeral" || !strings.Contains(r.Text, "Only <@"+allowedUser+">, who asked for this reset, can confirm or cancel it") {
			t.Errorf("%s by another user: %+v", label, r)
		}
	}
	h.assertNothingReset()
	// The requester can still confirm.
	h.click(allowedUser, buttons["Confirm"])
	h.threadReply(h.announcement(channel, 0))
}

func TestDoubleClickResetsOnce(t *testing.T) {
	t.Parallel()
	h := startBot(t, confirmEnv)
	buttons := h.confirmation(allowedUser, fourTargets)
	h.click(allowedUser, buttons["Confirm"])
	h.click(allowedUser, buttons["Confirm"])
	h.threadReply(h.announcement(channel, 0))
	h.auditLine("click_repeated")
	if n := h.ipr.Count("DELETE", "/sessions"); n != 1 {
		t.Errorf("%d resets for a double click", n)
	}
	var announcements int
	for _, m := range h.slack.State().Messages() {
		if m.Channel == channel && m.ThreadTS == "" {
			announcements++
		}
	}
	if announcements != 1 {
		t.Errorf("%d announcements for a double click", announcements)
	}
}

func TestOnlyTheFirstClickCounts(t *testing.T) {
	t.Parallel()
	h := startBot(t, confirmEnv)
	buttons := h.confirmation(allowedUser, fourTargets)
	h.click(allowedUser, buttons["Confirm"])
	h.threadReply(h.announcement(channel, 0))
	id := h.click(allowedUser, buttons["Cancel"])
	h.waitLog(`"outcome":"click_repeated"`)
	if r := h.responses(id, 1)[0]; !strings.Contains(r.Text, "already confirmed, so this click changed nothing") || strings.Contains(r.Text, "not reset") {
		t.Errorf("a Cancel after Confirm answered %q", r.Text)
	}

	// And the other way round: Cancel, then Confirm, resets nothing.
	h2 := startBot(t, confirmEnv)
	buttons = h2.confirmation(allowedUser, fourTargets)
	h2.responses(h2.click(allowedUser, buttons["Cancel"]), 1)
	h2.click(allowedUser, buttons["Confirm"])
	h2.waitLog(`"outcome":"click_repeated"`)
	h2.assertNothingReset()
}

func TestExpiredConfirmation(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(env map[string]string) {
		confirmEnv(env)
		env["CONFIRM_TTL"] = "1ns" // expired by the time anyone clicks
	})
	r := h.private(h.command(allowedUser, fourTargets))
	var confirm slacktest.Button
	for _, b := range slacktest.Buttons(r.Blocks) {
		if b.Text == "Confirm" {
			confirm = b
		}
	}
	id := h.click(allowedUser, confirm)
	got := h.responses(id, 1)[0]
	if !got.ReplaceOriginal || !strings.Contains(got.Text, "This confirmation expired") || !strings.Contains(got.Text, "this click changed nothing") {
		t.Errorf("late click = %+v", got)
	}
	h.assertNothingReset()
}

func TestTamperedButtonIsRefused(t *testing.T) {
	t.Parallel()
	h := startBot(t, confirmEnv)
	buttons := h.confirmation(allowedUser, fourTargets)
	forged := buttons["Confirm"]
	// Swap one hash byte's worth of the value: the signature no longer matches.
	b := []byte(forged.Value)
	if b[40] == 'A' {
		b[40] = 'B'
	} else {
		b[40] = 'A'
	}
	forged.Value = string(b)
	id := h.click(allowedUser, forged)
	r := h.responses(id, 1)[0]
	if !strings.Contains(r.Text, "This button is not valid") {
		t.Errorf("tampered click = %+v", r)
	}
	h.auditLine("click_invalid")
	h.assertNothingReset()

	forged = buttons["Confirm"]
	forged.BlockID = "req.not-the-real-block"
	h.responses(h.click(allowedUser, forged), 1)
	h.assertNothingReset()
}

// startReplica runs a second bot, as a separate OS process (this test
// binary re-executed as the program), on h's doubles: a second replica.
func (h *harness) startReplica() *syncBuffer {
	h.t.Helper()
	env := maps.Clone(h.env)
	env["HTTP_ADDR"] = freeAddr(h.t)
	_, logs := startConnected(h.t, h.slack, env, 2)
	return logs
}

func TestClickReachesTheOtherReplica(t *testing.T) {
	t.Parallel()
	h := startBot(t, confirmEnv) // CONFIRM_SECRET unset: both derive the key from the bot token
	second := h.startReplica()
	// The double hands envelopes to its connections in turn, so the command
	// and the click land on different processes.
	buttons := h.confirmation(allowedUser, fourTargets)
	h.click(allowedUser, buttons["Confirm"])
	h.threadReply(h.announcement(channel, 0))

	asked := func(logs string) bool { return strings.Contains(logs, `"outcome":"confirmation_requested"`) }
	reset := func(logs string) bool { return strings.Contains(logs, `"outcome":"reset"`) }
	eventually(t, "a replica logs the reset", func() bool { return reset(h.logs.String()) || reset(second.String()) })
	a, b := h.logs.String(), second.String()
	if !(asked(a) && reset(b)) && !(asked(b) && reset(a)) {
		t.Fatalf("the command and the click were handled by the same process:\nfirst:\n%s\nsecond:\n%s", a, b)
	}
	if n := h.ipr.Count("DELETE", "/sessions"); n != 1 {
		t.Errorf("%d resets", n)
	}
}

func TestDryRunShowsAndChangesNothing(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	r := h.private(h.command(allowedUser, hashA+" --dry-run scraper-eu"))
	assertContains(t, "dry run reply", r.Text,
		"Dry run: nothing was reset and nothing was posted", hashA, "`"+hashB+"` (sub-user `scraper-eu`)", "2 residential users")
	if n := h.ipr.Count("GET", "/residential-subusers"); n != 1 {
		t.Errorf("the dry run looked up %d usernames, want 1: it must resolve like a real run", n)
	}
	h.assertNothingReset()

	// A dry run refuses what a real run would refuse.
	r = h.private(h.command(allowedUser, "--dry-run ghost"))
	if !strings.Contains(r.Text, "`ghost`: not a hash, and no sub-user has this username") {
		t.Errorf("dry run of an unknown username: %q", r.Text)
	}
	r = h.private(h.command(otherUser, "--dry-run "+hashA))
	if !strings.Contains(r.Text, "not allowed") {
		t.Errorf("dry run by a stranger: %q", r.Text)
	}
}

func TestRateLimitIsPerUser(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(env map[string]string) {
		env["RATE_LIMIT_PER_MINUTE"] = "2"
		env["ALLOWED_USERS"] = allowedUser + ",U0SECOND"
	})
	for i := range 2 {
		h.command(allowedUser, hashA)
		h.threadReply(h.announcement(channel, i))
	}
	r := h.private(h.command(allowedUser, hashA))
	if !strings.Contains(r.Text, "You have made 2 requests in the last minute") || !strings.Contains(r.Text, "Every command counts, `help` included, and so does every click") || !strings.Contains(r.Text, "try again in 30 seconds") {
		t.Errorf("third command = %q", r.Text)
	}
	if n := h.ipr.Count("DELETE", "/sessions"); n != 2 {
		t.Errorf("resets = %d, want 2", n)
	}
	h.command("U0SECOND", hashB)
	h.threadReply(h.announcement(channel, 2))
	if n := h.ipr.Count("DELETE", "/sessions"); n != 3 {
		t.Errorf("another user was held back by the first one's limit: resets = %d", n)
	}
	h.auditLine("rate_limited")
}

func TestStatus(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	h.waitLog("IPRoyal accepts IPROYAL_API_TOKEN") // the check at start: GET /me
	h.ipr.SetAccount(iproyaltest.Account{AvailableTraffic: 32.6, SubusersCount: 13, ResidentialUserHash: hashA})
	r := h.private(h.command(allowedUser, "status"))
	if !strings.Contains(r.Text, "*32.60 GB* of residential traffic available, 13 sub-users") {
		t.Errorf("status = %q", r.Text)
	}
	if n := h.ipr.Count("GET", "/me"); n != 2 {
		t.Errorf("GET /me calls = %d, want the check at start and this one", n)
	}
	r = h.private(h.command(otherUser, "status"))
	if !strings.Contains(r.Text, "not allowed") {
		t.Errorf("a stranger's status = %q", r.Text)
	}
	if n := h.ipr.Count("GET", "/me"); n != 2 {
		t.Errorf("a denied status called IPRoyal: GET /me calls = %d", n)
	}
	h.ipr.Script("GET", "/me", iproyaltest.Response{Status: 401, Body: `{"message":"Unauthenticated."}`})
	r = h.private(h.command(allowedUser, "status"))
	if !strings.Contains(r.Text, "could not get the account status") || !strings.Contains(r.Text, "IPROYAL_API_TOKEN") {
		t.Errorf("failed status = %q", r.Text)
	}
}

func TestShellConfirmsAndDryRuns(t *testing.T) {
	t.Parallel()
	_, ipr := doubles(t)
	env := resetEnv(ipr)
	env["CONFIRM_ABOVE"] = "3"
	in := fourTargets + "\nno\n" + fourTargets + "\nyes\n--dry-run " + hashA + "\n"
	r := runWith(t, env, in, "shell")
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stderr)
	}
	assertContains(t, "shell output", r.stdout,
		"This resets the sessions of *4 residential users*",
		"Confirm? [y/N]",
		"Cancelled: the sessions of 4 residential users were not reset.",
		"Confirmed: resetting the sessions of 4 residential users",
		"Reset the sessions of 4 residential users in",
		"Dry run: nothing was reset and nothing was posted",
	)
	if got := ipr.Resets(); len(got) != 1 {
		t.Errorf("resets = %d, want 1 (the confirmed one)", len(got))
	}
}

func TestBusyClickIsToldSo(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(env map[string]string) {
		confirmEnv(env)
		env["MAX_CONCURRENT"] = "1"
		env["SHUTDOWN_TIMEOUT"] = "100ms"
	})
	buttons := h.confirmation(allowedUser, fourTargets)
	eventually(t, "its slot is free again", func() bool {
		return strings.Contains(h.body("/metrics"), "sessionbot_commands_in_flight 0")
	})
	h.ipr.Script("DELETE", "/sessions", iproyaltest.Response{Delay: 30 * time.Second})
	h.command(allowedUser, hashA) // holds the only slot, waiting on IPRoyal
	eventually(t, "the slow reset reaches IPRoyal", func() bool { return h.ipr.Count("DELETE", "/sessions") == 1 })
	r := h.responses(h.click(allowedUser, buttons["Confirm"]), 1)[0]
	if !strings.Contains(r.Text, "too many commands") || r.ReplaceOriginal {
		t.Errorf("busy click = %+v", r)
	}
	if n := h.ipr.Count("DELETE", "/sessions"); n != 1 {
		t.Errorf("DELETEs = %d, want only the slow one", n)
	}
}
