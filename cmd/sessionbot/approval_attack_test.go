package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sessionbot/sessionbot/bot/slack/slacktest"
)

// Attacks on two-person approval (issue 21): a slow or failing Slack, a
// policy that changes under a request, a process that stops at the wrong
// moment. Each test says what must hold, and fails while it does not.

// approvalButtons is the first message in ch whose buttons are Approve and
// Deny, once there is one.
func approvalButtons(t *testing.T, sl *slacktest.Server, ch string) (slacktest.Message, slacktest.Button, slacktest.Button) {
	t.Helper()
	var msg slacktest.Message
	var approve, deny slacktest.Button
	if err := sl.WaitFor(wait, func(s *slacktest.State) bool {
		for _, m := range s.Messages() {
			if m.Channel != ch {
				continue
			}
			for _, b := range slacktest.Buttons(m.Blocks) {
				switch b.Text {
				case "Approve":
					msg, approve = m, b
				case "Deny":
					deny = b
				}
			}
			if approve.Value != "" && deny.Value != "" {
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatalf("no announcement with Approve and Deny in %s", ch)
	}
	return msg, approve, deny
}

// entryAt is the journal entry of the audit message at ts as st holds it
// now, or nil.
func entryAt(st *slacktest.State, ts string) map[string]any {
	cur, _ := st.Current(auditChannel, ts)
	return entryOf(cur.Metadata)
}

// A request asked while the policy needed no approval, and confirmed after
// a reload made it need one (approval.go handles "a confirmed click whose
// policy now asks for approval") must never be left waiting for an approval
// nobody can give. Either an approver's Approve runs it, or the requester
// is told to ask again, its entry is closed, and asked again it can be
// approved.
//
// The confirmation's click claimed the journal entry (the
// ballot_box_with_check reaction) and the approval reused that same entry,
// so every approval click lost the claim and was told "another click is
// being handled", until the sweep expired the request.
func TestAConfirmedRequestThatNowNeedsApprovalCanBeApproved(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "policy.yaml")
	grant := "grants:\n  - name: sre\n    users: [" + allowedUser + "]\n    subusers: [\"*\"]\n"
	if err := os.WriteFile(file, []byte(grant), 0o600); err != nil {
		t.Fatal(err)
	}
	h := startBot(t, func(env map[string]string) {
		withAudit(env)
		confirmEnv(env)
		env["ALLOWED_USERS"] = ""
		env["POLICY_FILE"] = file
	})
	buttons := h.confirmation(allowedUser, fourTargets)
	withApproval := grant + "    approval:\n      above: 1\n      approvers:\n        users: [" + approverUser + "]\n"
	if err := os.WriteFile(file, []byte(withApproval), 0o600); err != nil {
		t.Fatal(err)
	}
	h.waitLog(`"msg":"the policy changed"`)
	confirmed := h.responses(h.click(allowedUser, buttons["Confirm"]), 1)[0].Text
	if strings.Contains(confirmed, "Run the command again") {
		id := between(confirmed, "request `", "`")
		h.journalEntry(id, "refused")
		for _, m := range h.slack.State().Messages() {
			if m.Channel == channel && len(slacktest.Buttons(m.Blocks)) > 0 {
				t.Errorf("told to ask again, with an announcement waiting: %q", m.Content())
			}
		}
		h.ask(allowedUser, fourTargets)
	}
	announcement, approve, _ := approvalButtons(t, h.slack, channel)

	id := h.click(approverUser, approve)
	got := h.responses(id, 1)[0].Text
	if !strings.Contains(got, "You approved") {
		t.Errorf("the approver's Approve was answered %q, want it approved and run\naudit channel: %+v", got, auditMessages(h.slack))
	}
	if err := h.slack.WaitFor(wait, func(*slacktest.State) bool { return h.ipr.Count("DELETE", "/sessions") == 1 }); err != nil {
		t.Fatalf("%d resets after an approver's Approve, want 1; the announcement reads %q", h.ipr.Count("DELETE", "/sessions"), h.now(announcement))
	}
	h.threadReply(announcement)
}

// The waiting announcement is posted, and its buttons are live, before its
// journal entry names it (askApproval's step 3). When that update is slow
// (Slack under load), an approver who clicks at once must still get the
// whole trail: the outcome in the announcement's thread, the announcement
// updated, and an entry that says "reset" for good.
//
// Today the click reads an entry without the announcement's ts: the reset
// runs, but nothing is shown in the channel (the announcement keeps its
// buttons and "waiting for approval"); then the slow update lands and puts
// the entry back to awaiting_approval, and the sweep, which cannot claim
// it (the click did), closes it after its ttl as "expired without
// approval: nothing was reset", while the sessions were reset. (The
// process that ran the reset remembers it and leaves the entry alone; the
// other replica, or the same process 10 minutes on, does not.)
func TestAnApprovalWhileTheEntryIsSlowToNameItsAnnouncement(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(env map[string]string) {
		approvalEnv(env)
		env["APPROVAL_TTL"] = "8s"
		env["COMMAND_TIMEOUT"] = "4s"
	})
	h.startReplica() // its sweep, which does not know the request, closes what the journal shows open
	// The first chat.update of the audit channel is askApproval's step 3.
	h.slack.Fail("chat.update", slacktest.Failure{Channel: auditChannel, Delay: 2 * time.Second})
	if _, err := h.slack.SendSlashCommand(slacktest.SlashCommand{UserID: allowedUser, ChannelID: channel, Text: hashA + " scraper-eu"}); err != nil {
		t.Fatal(err)
	}
	announcement, approve, _ := approvalButtons(t, h.slack, channel)
	// As soon as it shows; again when told to.
	for try := 0; ; try++ {
		got := h.responses(h.click(approverUser, approve), 1)[0].Text
		if !strings.Contains(got, "click again") || try == 3 {
			break
		}
	}

	if err := h.slack.WaitFor(wait, func(*slacktest.State) bool { return h.ipr.Count("DELETE", "/sessions") == 1 }); err != nil {
		t.Fatalf("the approved request never ran:\n%s", h.logs)
	}
	// Past the slow update, the ttl, and the sweep's wait for a claimant
	// that stopped (COMMAND_TIMEOUT + 10 s): what the channel and the
	// journal say then is what stays.
	err := h.slack.WaitFor(30*time.Second, func(s *slacktest.State) bool {
		cur, _ := s.Current(channel, announcement.TS)
		return strings.Contains(cur.Content(), "reset the sessions of 2 residential users") && len(slacktest.Buttons(cur.Blocks)) == 0 &&
			len(threadReplies(s.Messages(), announcement, "Reset the sessions of 2 residential users")) == 1
	})
	if err != nil {
		cur, _ := h.slack.State().Current(channel, announcement.TS)
		t.Errorf("the sessions were reset, but the announcement reads %q (buttons: %d) and its thread has %d outcome replies",
			cur.Content(), len(slacktest.Buttons(cur.Blocks)), len(threadReplies(h.slack.State().Messages(), announcement, "Reset the sessions")))
	}
	for _, m := range auditMessages(h.slack) {
		if e := entryOf(m.Metadata); e != nil && e["state"] != "reset" {
			t.Errorf("the journal entry of a reset request says %q: %s", e["state"], m.Content())
		}
	}
	if strings.Contains(h.now(announcement), "nothing was reset") {
		t.Errorf("the channel says nothing was reset, after a reset: %q", h.now(announcement))
	}
}

// plantWaiting puts in the audit channel, as a sessionbot process left it,
// the journal entry of a request waiting for approval: asked at asked,
// with ttl, by allowedUser in channel, for approverUser. It returns the
// entry's audit message.
func plantWaiting(t *testing.T, sl *slacktest.Server, id string, asked time.Time, ttl time.Duration) slacktest.Message {
	t.Helper()
	expires := asked.Add(ttl + time.Second - 1).Truncate(time.Second) // as askApproval writes it
	payload, err := json.Marshal(map[string]any{
		"event_type": "sessionbot_reset",
		"event_payload": map[string]any{
			"v": 1, "request_id": id, "state": "awaiting_approval", "source": "slack", "user": allowedUser,
			"channel": channel, "thread_ts": "", "root_ts": "", "targets": hashA + " " + hashB + ":scraper-eu",
			"started": asked.Unix(), "expires": expires.Unix(), "approvers": approverUser, "why": "2 targets, more than 1 (APPROVAL_ABOVE)",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return sl.AddHistory(auditChannel, slacktest.Message{
		TS:   slacktest.TSAt(asked.Add(50 * time.Millisecond)), // posted just after it was asked
		Text: ":raised_hand: waiting for approval", Metadata: payload, User: slacktest.BotUser, BotID: slacktest.BotID,
	})[0]
}

// claimAs adds the reaction a click claims an entry with, as the bot user
// (any replica) does.
func claimAs(t *testing.T, sl *slacktest.Server, m slacktest.Message, name string) {
	t.Helper()
	form := url.Values{"channel": {m.Channel}, "timestamp": {m.TS}, "name": {name}}
	req, err := http.NewRequest(http.MethodPost, sl.URL+"reactions.add", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+botToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"ok":true`) {
		t.Fatalf("reactions.add: %s", body)
	}
}

// A request an approver's click claimed, whose process stopped before it
// recorded "started", is closed by a sweep once that process is surely
// gone: its ttl, then COMMAND_TIMEOUT and 10 s (approve.go,
// expireApproval). With the default COMMAND_TIMEOUT (2m), that is exactly
// when the entry leaves the window a sweep reads (the longest ttl, plus 2
// minutes 10 s): no sweep ever sees it closable, and the request stays
// "waiting" with every later click told "another click is being handled".
//
// The entry is planted as such a process leaves it (asked 32 minutes ago
// with the default ttl of 30 minutes, the click's reaction on it), before
// the replica that must close it starts, so that the test need not wait
// half an hour and that replica's own sweep cannot claim it first.
func TestAClaimedApprovalWhoseProcessStoppedIsClosedWithTheDefaults(t *testing.T) {
	t.Parallel()
	sl, ipr := doubles(t)
	// Closable (its ttl, 2m and 10s past) in 7 s, where the sweep reads it
	// for about 6 s more.
	asked := time.Now().Add(-(30*time.Minute + 2*time.Minute + 10*time.Second) + 6*time.Second)
	audit := plantWaiting(t, sl, "claimed1", asked, 30*time.Minute)
	claimAs(t, sl, audit, "ballot_box_with_check")

	env := baseEnv(sl, ipr, freeAddr(t))
	approvalEnv(env)
	env["APPROVAL_TTL"] = "30m" // the defaults, said
	env["COMMAND_TIMEOUT"] = "2m"
	_, logs := startMain(t, env)
	if err := sl.WaitFor(30*time.Second, func(s *slacktest.State) bool {
		e := entryAt(s, audit.TS)
		return e != nil && e["state"] == "expired"
	}); err != nil {
		t.Errorf("a request whose approving process stopped is still %q 20 s after a sweep may close it; it will never be closed\nlogs:\n%s", entryAt(sl.State(), audit.TS)["state"], logs)
	}
	if n := ipr.Count("DELETE", "/sessions"); n != 0 {
		t.Errorf("%d resets", n)
	}
}

// A request asked under a policy whose ttl was longer (30 minutes) is
// still expired by a replica started after the ttl was shortened (to a
// minute): a redeploy with a changed APPROVAL_TTL or policy file, or a
// policy that no longer asks for approval. A process's first sweep reads
// back as far as any approval can wait, and keeps what it found in reach.
func TestARequestAskedUnderALongerTTLStillExpiresAfterARestart(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(env map[string]string) {
		approvalEnv(env)
		env["APPROVAL_TTL"] = "1m" // it was 30m when the request was asked
	})
	asked := time.Now().Add(-30*time.Minute + 3*time.Second) // its 30 minutes end in 3 s
	audit := plantWaiting(t, h.slack, "asked30m", asked, 30*time.Minute)
	h.restart() // the replica starts after the request was asked, as a redeploy does
	err := h.slack.WaitFor(25*time.Second, func(s *slacktest.State) bool {
		e := entryAt(s, audit.TS)
		return e != nil && e["state"] == "expired"
	})
	if err != nil {
		t.Errorf("a request whose 30 minutes ended is still %q 20 s later: the sweep of a replica on a 1-minute ttl never reads it", entryAt(h.slack.State(), audit.TS)["state"])
	}
}

// An approver's click claimed the request, and its process is killed
// before it wrote "started": the other process's sweep closes the request
// as expired once its ttl, COMMAND_TIMEOUT and 10 s are over, nothing
// reset, and never runs it. (Small COMMAND_TIMEOUT: see
// TestAClaimedApprovalWhoseProcessStoppedIsClosedWithTheDefaults for 2m.)
func TestAKillBetweenTheApprovalClaimAndStartedResetsNothing(t *testing.T) {
	t.Parallel()
	sl, ipr := doubles(t)
	env := baseEnv(sl, ipr, freeAddr(t))
	approvalEnv(env)
	env["APPROVAL_TTL"] = "6s"
	env["COMMAND_TIMEOUT"] = "4s"
	first, logs := startConnected(t, sl, env, 1)
	if _, err := sl.SendSlashCommand(slacktest.SlashCommand{UserID: allowedUser, ChannelID: channel, Text: hashA + " scraper-eu"}); err != nil {
		t.Fatal(err)
	}
	announcement, approve, _ := approvalButtons(t, sl, channel)
	var audit slacktest.Message
	if err := sl.WaitFor(wait, func(s *slacktest.State) bool {
		for _, m := range s.Messages() {
			cur, _ := s.Current(m.Channel, m.TS)
			if e := entryOf(cur.Metadata); m.Channel == auditChannel && e != nil && e["thread_ts"] == announcement.TS {
				audit = cur
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatalf("the entry never named its announcement:\n%s", logs)
	}
	// "started" cannot land; the claim can.
	sl.Fail("chat.update", slacktest.Failure{Channel: auditChannel, Status: http.StatusInternalServerError, Sticky: true})
	if _, err := sl.SendClick(approverUser, channel, approve); err != nil {
		t.Fatal(err)
	}
	waitReaction(t, sl, auditChannel, audit.TS, "ballot_box_with_check")
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	sl.ClearFailures()
	env["HTTP_ADDR"] = freeAddr(t)
	_, after := startMain(t, env)

	if _, e := journalEntryWithin(t, sl, entryOf(audit.Metadata)["request_id"].(string), "expired", 40*time.Second); e["decider"] != nil {
		t.Errorf("the expired entry names a decider: %v", e)
	}
	if err := sl.WaitFor(wait, func(s *slacktest.State) bool {
		cur, _ := s.Current(channel, announcement.TS)
		return strings.Contains(cur.Content(), "without approval: nothing was reset") && len(slacktest.Buttons(cur.Blocks)) == 0
	}); err != nil {
		t.Errorf("the announcement reads %q\nlogs:\n%s", func() string { c, _ := sl.State().Current(channel, announcement.TS); return c.Content() }(), after)
	}
	if n := ipr.Count("DELETE", "/sessions"); n != 0 {
		t.Errorf("%d resets of a request whose approver's process was killed before it started", n)
	}
}

// What held up, kept as tests: the largest request (MAX_HASHES, 100)
// waits, is approved and runs once, its token fitting in the buttons; a
// user group whose lookup fails approves no one, and changes nothing;
// no secret reaches a log line or a message on the way.
func TestAnApprovalOfAHundredTargets(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(env map[string]string) { approvalEnv(env); env["CONFIRM_SECRET"] = confirmSecret })
	const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	var hashes []string
	for i := range 100 {
		hashes = append(hashes, "01HQ5K3P97DY8EX9Y90YT1K6"+string(crockford[i/32])+string(crockford[i%32]))
	}
	w := h.ask(allowedUser, strings.Join(hashes, " "))
	id := h.click(approverUser, w.approve)
	assertContains(t, "the approver's answer", h.responses(id, 1)[0].Text, "You approved <@"+allowedUser+">'s reset of 100 residential users")
	h.journalEntry(w.id, "reset")
	if r := h.ipr.Resets(); len(r) != 1 || len(r[0]) != 100 {
		t.Errorf("resets = %d, want one of 100", len(r))
	}
	assertNoSecrets(t, h.logs.String())
	for _, m := range h.slack.State().Messages() {
		assertNoSecrets(t, m.Content()+string(m.Metadata))
	}
}

func TestAnApproverWhoseGroupCannotBeListedChangesNothing(t *testing.T) {
	t.Parallel()
	h := startBot(t, approvalEnv)
	h.slack.SetUsergroup(approverGroup, groupie)
	w := h.ask(allowedUser, hashA+" scraper-eu")
	h.slack.Fail("usergroups.users.list", slacktest.Failure{Status: http.StatusInternalServerError, Sticky: true})
	id := h.click(groupie, w.approve)
	assertContains(t, "the groupie's answer", h.responses(id, 1)[0].Text, "could not ask Slack who is in the approvers' user groups")
	h.journalEntry(w.id, "awaiting_approval")
	if n := reactionsOn(h.slack, auditChannel, func() string { m, _ := h.journalEntry(w.id, "awaiting_approval"); return m.TS }(), "ballot_box_with_check"); n != 0 {
		t.Errorf("a click that decided nothing claimed the entry")
	}
	h.slack.ClearFailures()
	h.click(groupie, w.approve)
	h.journalEntry(w.id, "reset")
	if n := h.ipr.Count("DELETE", "/sessions"); n != 1 {
		t.Errorf("%d resets", n)
	}
}

// The process that asked is killed after it posted the waiting
// announcement and before its entry named it (askApproval's step 3, here
// refused by a failing chat.update until the kill). The buttons are live:
// an approver's Approve, on the process started after it, must run the
// reset once and show it on that announcement, not leave the announcement
// "waiting for approval" with its buttons over a reset.
func TestAnApprovalAfterAKillBeforeTheEntryNamedItsAnnouncement(t *testing.T) {
	t.Parallel()
	sl, ipr := doubles(t)
	env := baseEnv(sl, ipr, freeAddr(t))
	approvalEnv(env)
	env["APPROVAL_TTL"] = "1m"
	env["COMMAND_TIMEOUT"] = "4s"
	first, _ := startConnected(t, sl, env, 1)
	sl.Fail("chat.update", slacktest.Failure{Channel: auditChannel, Status: http.StatusInternalServerError, Sticky: true})
	if _, err := sl.SendSlashCommand(slacktest.SlashCommand{UserID: allowedUser, ChannelID: channel, Text: hashA + " scraper-eu"}); err != nil {
		t.Fatal(err)
	}
	announcement, approve, _ := approvalButtons(t, sl, channel)
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	sl.ClearFailures()
	env["HTTP_ADDR"] = freeAddr(t)
	_, after := startConnected(t, sl, env, 1)

	// Once the killed process would surely have finished (COMMAND_TIMEOUT
	// and 10 s), an approver clicks, and again when told to: until then,
	// each click waits for the entry a few seconds before it is told to.
	deadline := time.Now().Add(30 * time.Second)
	for ipr.Count("DELETE", "/sessions") == 0 && time.Now().Before(deadline) {
		id, err := sl.SendClick(approverUser, channel, approve)
		if err != nil {
			t.Fatal(err)
		}
		_ = sl.WaitFor(wait, func(s *slacktest.State) bool {
			for _, r := range s.Responses() {
				if r.EnvelopeID == id {
					return true
				}
			}
			return false
		})
	}
	if n := ipr.Count("DELETE", "/sessions"); n != 1 {
		t.Fatalf("%d resets after the approver's clicks\nlogs:\n%s", n, after)
	}
	if err := sl.WaitFor(wait, func(s *slacktest.State) bool {
		cur, _ := s.Current(channel, announcement.TS)
		return strings.Contains(cur.Content(), "reset the sessions of 2 residential users") && len(slacktest.Buttons(cur.Blocks)) == 0 &&
			len(threadReplies(s.Messages(), announcement, "Reset the sessions of 2 residential users")) == 1
	}); err != nil {
		cur, _ := sl.State().Current(channel, announcement.TS)
		t.Errorf("the sessions were reset, but the announcement reads %q (buttons: %d)\nlogs:\n%s", cur.Content(), len(slacktest.Buttons(cur.Blocks)), after)
	}
}

// The requester withdraws at the moment an approver approves, the two
// clicks on different replicas: one decides, the other is told what it
// decided, and the sessions are reset exactly when the entry says so.
func TestAWithdrawalRacingAnApprovalDecidesOnce(t *testing.T) {
	t.Parallel()
	h := startBot(t, approvalEnv)
	h.startReplica()
	for range 3 {
		w := h.ask(allowedUser, hashA+" scraper-eu")
		w.id = requestID(t, w.announcement) // ask reads only the first replica's logs
		before := h.ipr.Count("DELETE", "/sessions")
		done := make(chan string, 2)
		for _, c := range []struct {
			who string
			b   slacktest.Button
		}{{allowedUser, w.deny}, {approverUser, w.approve}} {
			go func() {
				id, err := h.slack.SendClick(c.who, channel, c.b)
				if err != nil {
					t.Error(err)
				}
				done <- id
			}()
		}
		var answers []string
		for range 2 {
			answers = append(answers, h.responses(<-done, 1)[0].Text)
		}
		var state string
		if err := h.slack.WaitFor(wait, func(s *slacktest.State) bool {
			for _, m := range s.Messages() {
				cur, _ := s.Current(m.Channel, m.TS)
				if e := entryOf(cur.Metadata); m.Channel == auditChannel && e != nil && e["request_id"] == w.id && (e["state"] == "reset" || e["state"] == "withdrawn") && e["trail"] == "done" {
					state = e["state"].(string)
					return true
				}
			}
			return false
		}); err != nil {
			t.Fatalf("the request never ended; answers %q", answers)
		}
		resets := h.ipr.Count("DELETE", "/sessions") - before
		if (state == "reset") != (resets == 1) || resets > 1 {
			t.Errorf("the entry says %s after %d resets; answers %q", state, resets, answers)
		}
		joined := strings.Join(answers, "\n")
		if strings.Contains(joined, "You approved") == strings.Contains(joined, "You withdrew") {
			t.Errorf("want exactly one click to decide: %q", answers)
		}
	}
}

// Slack adds the claim's reaction, and its answer is lost (a 502 from a
// proxy, a timeout): the click is told to click again. The claim does not
// say whose it is (every replica reacts as the same bot user), so no
// later click may decide: each is told so, and when the request closes;
// nothing is reset, and the sweep closes it as expired COMMAND_TIMEOUT and
// 10 s after its ttl (README: a limit of two-person approval).
func TestAnApprovalWhoseClaimAnswerWasLostClosesAsExpired(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(env map[string]string) {
		approvalEnv(env)
		env["APPROVAL_TTL"] = "8s" // long enough that the click, not the expiring sweep, meets the lost answer
		env["COMMAND_TIMEOUT"] = "3s"
	})
	w := h.ask(allowedUser, hashA+" scraper-eu")
	h.slack.Fail("reactions.add", slacktest.Failure{Channel: auditChannel, Lost: true, Status: http.StatusBadGateway})
	first := h.responses(h.click(approverUser, w.approve), 1)[0].Text
	assertContains(t, "the click whose answer was lost", first, "could not record your click")
	again := h.responses(h.click(approverUser, w.approve), 1)[0].Text
	assertContains(t, "the next click", again, "Another click on this request is being decided", "it closes as expired, with nothing reset, by")
	journalEntryWithin(t, h.slack, w.id, "expired", 30*time.Second) // its ttl, COMMAND_TIMEOUT and 10 s
	h.waitShows(w.announcement, "without approval: nothing was reset")
	if n := h.ipr.Count("DELETE", "/sessions"); n != 0 {
		t.Errorf("%d resets", n)
	}
}
