package main

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sessionbot/sessionbot/bot/slack/slacktest"
)

// Two-person approval, end to end through run() and the built binary:
// requests above APPROVAL_ABOVE (or under a policy grant's approval) wait
// in the channel for an approver's click, once, across replicas and
// restarts.

const (
	approverUser  = "U0APPROVER"
	approverTwo   = "U0APPROVER2"
	approverGroup = "S0APPROVERS"
	groupie       = "U0GROUPIE"
)

// approvalEnv asks for approval of every request of more than one target,
// by approverUser, approverTwo, or a member of approverGroup.
func approvalEnv(env map[string]string) {
	withAudit(env)
	env["APPROVAL_ABOVE"] = "1"
	env["APPROVERS"] = approverUser + "," + approverTwo + "," + approverGroup
}

// waiting is a request waiting for approval: its announcement, its buttons
// and its request ID.
type waiting struct {
	announcement slacktest.Message
	approve      slacktest.Button
	deny         slacktest.Button
	id           string
}

// ask sends text from user, which must wait for approval, and returns it.
func (h *harness) ask(user, text string) waiting {
	h.t.Helper()
	before := 0
	for _, m := range h.slack.State().Messages() {
		if m.Channel == channel && m.ThreadTS == "" {
			before++
		}
	}
	r := h.private(h.command(user, text))
	assertContains(h.t, "the requester's answer", r.Text, "Your request waits for approval by")
	w := waiting{announcement: h.announcement(channel, before)}
	for _, b := range slacktest.Buttons(w.announcement.Blocks) {
		switch b.Text {
		case "Approve":
			w.approve = b
		case "Deny":
			w.deny = b
		}
	}
	if w.approve.Value == "" || w.deny.Value == "" {
		h.t.Fatalf("the announcement has no Approve and Deny buttons: %s", w.announcement.Blocks)
	}
	for _, line := range strings.Split(h.logs.String(), "\n") {
		if strings.Contains(line, `"outcome":"approval_requested"`) {
			w.id = between(line, `"request_id":"`, `"`)
		}
	}
	if w.id == "" {
		h.t.Fatalf("no approval_requested log line:\n%s", h.logs)
	}
	return w
}

func between(s, from, to string) string {
	_, rest, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	out, _, _ := strings.Cut(rest, to)
	return out
}

// now is what the channel shows of m.
func (h *harness) now(m slacktest.Message) string {
	cur, _ := h.slack.State().Current(m.Channel, m.TS)
	return cur.Content()
}

// waitShows waits until the channel shows all of wants in m.
func (h *harness) waitShows(m slacktest.Message, wants ...string) {
	h.t.Helper()
	err := h.slack.WaitFor(wait, func(s *slacktest.State) bool {
		cur, _ := s.Current(m.Channel, m.TS)
		for _, w := range wants {
			if !strings.Contains(cur.Content(), w) {
				return false
			}
		}
		return len(slacktest.Buttons(cur.Blocks)) == 0
	})
	if err != nil {
		h.t.Fatalf("the announcement reads %q, want %q and no buttons\nlogs:\n%s", h.now(m), wants, h.logs)
	}
}

func TestApprovalRunsTheResetOnce(t *testing.T) {
	t.Parallel()
	h := startBot(t, approvalEnv)
	h.slack.SetUsergroup(approverGroup, groupie)
	w := h.ask(allowedUser, hashA+" scraper-eu")
	content := w.announcement.Content()
	assertContains(t, "the announcement", content, "<@"+allowedUser+"> asks to reset the sessions of 2 residential users: *waiting for approval*",
		"2 targets, more than 1 (APPROVAL_ABOVE)", "<@"+approverUser+">", "<!subteam^"+approverGroup+">", "sub-user `scraper-eu`")
	if n := h.ipr.Count("DELETE", "/sessions"); n != 0 {
		t.Fatalf("%d resets before any approval", n)
	}
	_, e := h.journalEntry(w.id, "awaiting_approval")
	if e["approvers"] == "" || e["thread_ts"] != w.announcement.TS {
		t.Errorf("the entry = %v", e)
	}
	// The gauge is what the sweep, woken by the request, reads in the journal.
	eventually(t, "sessionbot_approvals_pending is 1", func() bool { return h.metric("sessionbot_approvals_pending") == "1" })

	id := h.click(approverUser, w.approve)
	assertContains(t, "the approver's answer", h.responses(id, 1)[0].Text, "You approved <@"+allowedUser+">'s reset of 2 residential users")
	reply := h.threadReply(w.announcement)
	assertContains(t, "the outcome", reply.Text, "Reset the sessions of 2 residential users")
	h.waitShows(w.announcement, "<@"+allowedUser+"> reset the sessions of 2 residential users", "Approved by <@"+approverUser+"> at")
	_, e = h.journalEntry(w.id, "reset")
	if e["decider"] != approverUser {
		t.Errorf("the entry says %v decided", e["decider"])
	}
	audit, _ := h.journalEntry(w.id, "reset")
	assertContains(t, "the audit entry", audit.Content(), "Approved by <@"+approverUser+">")
	if r := h.ipr.Resets(); len(r) != 1 || len(r[0]) != 2 {
		t.Errorf("resets = %v", r)
	}
	line := h.auditLine("reset")
	if line["approver"] != approverUser || line["user"] != allowedUser {
		t.Errorf("the log line = %v", line)
	}
	eventually(t, "the metrics count it", func() bool {
		return h.metric(`sessionbot_approvals_total{result="approved"}`) == "1" && h.metric("sessionbot_approvals_pending") == "0"
	})
}

func TestDenyAndWithdrawResetNothing(t *testing.T) {
	t.Parallel()
	h := startBot(t, approvalEnv)
	w := h.ask(allowedUser, hashA+" scraper-eu")
	id := h.click(approverUser, w.deny)
	assertContains(t, "the approver's answer", h.responses(id, 1)[0].Text, "You denied <@"+allowedUser+">'s request: nothing was reset")
	h.waitShows(w.announcement, "<@"+approverUser+"> denied <@"+allowedUser+">'s request", "nothing was reset")
	assertContains(t, "the thread", h.threadReply(w.announcement).Text, "<@"+allowedUser+"> <@"+approverUser+"> denied your request")
	h.journalEntry(w.id, "denied")

	w = h.ask(allowedUser, hashA+" scraper-eu")
	id = h.click(allowedUser, w.deny)
	assertContains(t, "the requester's answer", h.responses(id, 1)[0].Text, "You withdrew your request: nothing was reset")
	h.waitShows(w.announcement, "<@"+allowedUser+"> withdrew the request")
	h.journalEntry(w.id, "withdrawn")

	if n := h.ipr.Count("DELETE", "/sessions"); n != 0 {
		t.Errorf("%d resets", n)
	}
	eventually(t, "the metrics count both", func() bool {
		return h.metric(`sessionbot_approvals_total{result="denied"}`) == "1" && h.metric(`sessionbot_approvals_total{result="withdrawn"}`) == "1"
	})
}

// Nobody approves their own request, not even an approver; anyone else
// who is not an approver is told who is, and the audit entry's thread
// records each try. Then an approver's click still decides.
func TestOnlyAnotherApproverDecides(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(env map[string]string) {
		approvalEnv(env)
		env["ALLOWED_USERS"] = allowedUser + "," + approverUser
	})
	h.slack.SetUsergroup(approverGroup, groupie)
	w := h.ask(approverUser, hashA+" scraper-eu") // an approver asks
	id := h.click(approverUser, w.approve)
	assertContains(t, "self-approval", h.responses(id, 1)[0].Text, "You cannot approve your own request: another approver must")
	id = h.click(otherUser, w.approve)
	assertContains(t, "a stranger's click", h.responses(id, 1)[0].Text, "Only an approver can decide this request", "<@"+approverTwo+">")
	id = h.click(otherUser, w.deny)
	assertContains(t, "a stranger's deny", h.responses(id, 1)[0].Text, "Only an approver can decide this request")
	if n := h.ipr.Count("DELETE", "/sessions"); n != 0 {
		t.Fatalf("%d resets", n)
	}
	audit, _ := h.journalEntry(w.id, "awaiting_approval")
	if err := h.slack.WaitFor(wait, func(s *slacktest.State) bool {
		return len(threadReplies(s.Messages(), audit, "")) == 3
	}); err != nil {
		t.Fatalf("the audit entry's thread records %d tries, want 3", len(threadReplies(h.slack.State().Messages(), audit, "")))
	}
	// Each try is written on its own, so they land in any order.
	msgs := h.slack.State().Messages()
	if own := threadReplies(msgs, audit, "<@"+approverUser+"> clicked Approve"); len(own) != 1 {
		t.Errorf("the requester's own Approve is recorded %d times, want once", len(own))
	} else {
		assertContains(t, "the requester's try", own[0].Content(), "it is their own request")
	}
	if stranger := threadReplies(msgs, audit, "<@"+otherUser+"> clicked Approve"); len(stranger) != 1 {
		t.Errorf("the stranger's Approve is recorded %d times, want once", len(stranger))
	} else {
		assertContains(t, "the stranger's try", stranger[0].Content(), "is not an approver")
	}

	h.click(approverTwo, w.approve)
	h.threadReply(w.announcement)
	h.journalEntry(w.id, "reset")
}

// Membership is looked up at the click: someone removed from the
// approvers' group since the request cannot approve it.
func TestApproverRemovedFromTheGroupCannotApprove(t *testing.T) {
	t.Parallel()
	h := startBot(t, approvalEnv)
	h.slack.SetUsergroup(approverGroup, groupie)
	w := h.ask(allowedUser, hashA+" scraper-eu")
	// The group was fine a moment ago, and might be cached: a click of
	// the groupie's now is approved...
	lookups := len(h.slack.State().Calls("usergroups.users.list"))
	h.slack.SetUsergroup(approverGroup, "U0SOMEONEELSE")
	id := h.click(groupie, w.approve)
	assertContains(t, "the removed approver's answer", h.responses(id, 1)[0].Text, "Only an approver can decide this request")
	if n := len(h.slack.State().Calls("usergroups.users.list")); n <= lookups {
		t.Errorf("the click did not look the group up (%d lookups before, %d after)", lookups, n)
	}
	if n := h.ipr.Count("DELETE", "/sessions"); n != 0 {
		t.Errorf("%d resets", n)
	}
	h.slack.SetUsergroup(approverGroup, groupie)
	h.click(groupie, w.approve)
	h.journalEntry(w.id, "reset")
}

// A policy changed to refuse the requester ends their waiting request at
// the approver's click: refused at approval, nothing reset.
func TestPolicyChangedBeforeTheClickRefuses(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "policy.yaml")
	grant := func(users string) string {
		return "grants:\n  - name: sre\n    users: [" + users + "]\n    subusers: [\"*\"]\n    approval:\n      above: 1\n      approvers:\n        users: [" + approverUser + "]\n"
	}
	if err := os.WriteFile(file, []byte(grant(allowedUser)), 0o600); err != nil {
		t.Fatal(err)
	}
	h := startBot(t, func(env map[string]string) {
		withAudit(env)
		env["ALLOWED_USERS"] = ""
		env["POLICY_FILE"] = file
	})
	w := h.ask(allowedUser, hashA+" scraper-eu")
	assertContains(t, "why", w.announcement.Content(), "2 targets under *sre*, more than 1")
	if err := os.WriteFile(file, []byte(grant(otherUser)), 0o600); err != nil {
		t.Fatal(err)
	}
	h.waitLog(`"msg":"the policy changed"`)
	id := h.click(approverUser, w.approve)
	assertContains(t, "the approver's answer", h.responses(id, 1)[0].Text, "Refused at approval: <@"+allowedUser+"> may no longer reset these sub-users here")
	h.waitShows(w.announcement, "was refused at approval")
	assertContains(t, "the thread", h.threadReply(w.announcement).Text, "<@"+allowedUser+"> your request was refused at approval")
	h.journalEntry(w.id, "refused")
	if n := h.ipr.Count("DELETE", "/sessions"); n != 0 {
		t.Errorf("%d resets", n)
	}
}

// One sensitive sub-user is enough to wait, whatever the count; a request
// without one runs at once. The dry run says which would wait, and for whom.
func TestASensitiveSubuserNeedsApproval(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "policy.yaml")
	policy := "grants:\n  - name: ops\n    users: [" + allowedUser + "]\n    subusers: [\"*\"]\n    approval:\n      above: 10\n      subusers: [\"scraper-eu\"]\n      approvers:\n        usergroups: [" + approverGroup + "]\n      ttl: 10m\n"
	if err := os.WriteFile(file, []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	h := startBot(t, func(env map[string]string) {
		withAudit(env)
		env["ALLOWED_USERS"] = ""
		env["POLICY_FILE"] = file
	})
	h.command(allowedUser, hashA)
	h.threadReply(h.announcement(channel, 0))
	if n := h.ipr.Count("DELETE", "/sessions"); n != 1 {
		t.Fatalf("%d resets of a sub-user that needs no approval", n)
	}
	r := h.private(h.command(allowedUser, "--dry-run "+hashA+" scraper-eu"))
	assertContains(t, "the dry run", r.Text, "It would wait for approval by a member of <!subteam^"+approverGroup+"> (`scraper-eu` under *ops* needs it)")
	w := h.ask(allowedUser, hashA+" scraper-eu")
	assertContains(t, "why", w.announcement.Content(), "`scraper-eu` under *ops* needs it", "(10 minutes)")
	r = h.private(h.command(allowedUser, "can"))
	assertContains(t, "can", r.Text, "a request of more than 10 or for `scraper-eu` waits for approval by a member of <!subteam^"+approverGroup+">")
	r = h.private(h.command(allowedUser, "help"))
	assertContains(t, "help", r.Text, "some requests wait for a second person to approve them")
}

// Two approvers clicking within 50 ms, one of them twice: one reset, and
// every other click is told what happened.
func TestSimultaneousApprovalsResetOnce(t *testing.T) {
	t.Parallel()
	h := startBot(t, approvalEnv)
	second := h.startReplica()
	w := h.ask(allowedUser, hashA+" scraper-eu")
	var ids []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, who := range []string{approverUser, approverTwo, approverUser} {
		wg.Go(func() {
			time.Sleep(time.Duration(i) * 20 * time.Millisecond)
			id, err := h.slack.SendClick(who, channel, w.approve)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			ids = append(ids, id)
			mu.Unlock()
		})
	}
	wg.Wait()
	var answers []string
	for _, id := range ids {
		answers = append(answers, h.responses(id, 1)[0].Text)
	}
	h.threadReply(w.announcement)
	h.journalEntry(w.id, "reset")
	approved, already := 0, 0
	for _, a := range answers {
		switch {
		case strings.Contains(a, "You approved"):
			approved++
		case strings.Contains(a, "Already approved by <@"), strings.Contains(a, "Another click on this request is being decided"):
			already++
		}
	}
	if approved != 1 || already != 2 {
		t.Errorf("answers %q: want one approval and two told it was already approved\nfirst:\n%s\nsecond:\n%s", answers, h.logs, second)
	}
	if n := h.ipr.Count("DELETE", "/sessions"); n != 1 {
		t.Errorf("%d resets for one approved request", n)
	}
}

// The click reaches the replica that did not take the request, and a click
// replayed after a restart is told what already happened.
func TestApprovalAcrossReplicasAndRestarts(t *testing.T) {
	t.Parallel()
	h := startBot(t, approvalEnv)
	second := h.startReplica()
	w := h.ask(allowedUser, hashA+" scraper-eu")
	h.click(approverUser, w.approve)
	h.threadReply(w.announcement)
	h.journalEntry(w.id, "reset")
	asked := strings.Contains(h.logs.String(), `"outcome":"approval_requested"`)
	ranHere := strings.Contains(h.logs.String(), `"approver":"`+approverUser+`"`)
	if asked == ranHere {
		t.Errorf("the request and the click were handled by the same process:\nfirst:\n%s\nsecond:\n%s", h.logs, second)
	}

	h.restart()
	id := h.click(approverTwo, w.approve)
	assertContains(t, "a replayed click", h.responses(id, 1)[0].Text, "Already approved by <@"+approverUser+"> at")
	if n := h.ipr.Count("DELETE", "/sessions"); n != 1 {
		t.Errorf("%d resets", n)
	}
}

// A request nobody decides expires within 15 s of its ttl: the buttons go,
// the requester is told in the thread, the entry says so; also when the
// process that took it was killed, by the one started after it.
func TestApprovalExpires(t *testing.T) {
	t.Parallel()
	t.Run("running", func(t *testing.T) {
		t.Parallel()
		h := startBot(t, func(env map[string]string) { approvalEnv(env); env["APPROVAL_TTL"] = "5s" }) // read as waiting before it expires
		w := h.ask(allowedUser, hashA+" scraper-eu")
		_, e := h.journalEntry(w.id, "awaiting_approval")
		expires := time.Unix(int64(e["expires"].(float64)), 0)
		h.journalEntry(w.id, "expired")
		if late := time.Since(expires); late > 15*time.Second {
			t.Errorf("expired %v after its ttl, want within 15 s", late)
		}
		h.waitShows(w.announcement, "expired at", "without approval: nothing was reset")
		assertContains(t, "the thread", h.threadReply(w.announcement).Text, "<@"+allowedUser+"> your request expired without approval")
		id := h.click(approverUser, w.approve)
		assertContains(t, "a late click", h.responses(id, 1)[0].Text, "Already expired without approval")
		if n := h.ipr.Count("DELETE", "/sessions"); n != 0 {
			t.Errorf("%d resets", n)
		}
		eventually(t, "the metric counts it", func() bool { return h.metric(`sessionbot_approvals_total{result="expired"}`) == "1" })
	})
	t.Run("across a SIGKILL", func(t *testing.T) {
		t.Parallel()
		sl, ipr := doubles(t)
		env := baseEnv(sl, ipr, freeAddr(t))
		approvalEnv(env)
		env["APPROVAL_TTL"] = "3s"
		killed, logs := startConnected(t, sl, env, 1)
		if _, err := sl.SendSlashCommand(slacktest.SlashCommand{UserID: allowedUser, ChannelID: channel, Text: hashA + " scraper-eu"}); err != nil {
			t.Fatal(err)
		}
		var parent slacktest.Message
		if err := sl.WaitFor(wait, func(s *slacktest.State) bool {
			for _, m := range s.Messages() {
				if m.Channel == channel && len(slacktest.Buttons(m.Blocks)) == 2 {
					parent = m
					return true
				}
			}
			return false
		}); err != nil {
			t.Fatalf("no waiting announcement:\n%s", logs)
		}
		if err := killed.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = killed.Wait()
		asked := time.Now()
		env["HTTP_ADDR"] = freeAddr(t)
		_, after := startMain(t, env)
		if err := sl.WaitFor(30*time.Second, func(s *slacktest.State) bool {
			cur, _ := s.Current(channel, parent.TS)
			return strings.Contains(cur.Content(), "without approval: nothing was reset") && len(slacktest.Buttons(cur.Blocks)) == 0
		}); err != nil {
			t.Fatalf("the request never expired after the restart:\n%s", after)
		}
		if took := time.Since(asked); took > 3*time.Second+15*time.Second {
			t.Errorf("expired %v after it was asked, want within 15 s of its 3 s ttl", took)
		}
		if n := ipr.Count("DELETE", "/sessions"); n != 0 {
			t.Errorf("%d resets", n)
		}
	})
}

// Approval needs AUDIT_CHANNEL, and its variables are checked like every
// other: each mistake exits 2 with what to do.
func TestApprovalConfigurationErrors(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(file, []byte("grants:\n  - name: sre\n    users: [U0A]\n    subusers: [\"*\"]\n    approval:\n      approvers:\n        users: [U0B]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no audit channel", map[string]string{"APPROVAL_ABOVE": "5", "APPROVERS": approverUser}, "two-person approval needs AUDIT_CHANNEL"},
		{"a policy's approval, no audit channel", map[string]string{"ALLOWED_USERS": "", "POLICY_FILE": file}, "two-person approval needs AUDIT_CHANNEL"},
		{"with a policy file", map[string]string{"ALLOWED_USERS": "", "POLICY_FILE": file, "AUDIT_CHANNEL": auditChannel, "APPROVAL_ABOVE": "5"}, "POLICY_FILE and APPROVAL_ABOVE or APPROVERS are both set"},
		{"no approvers", map[string]string{"APPROVAL_ABOVE": "5", "AUDIT_CHANNEL": auditChannel}, "APPROVAL_ABOVE is set but APPROVERS is not"},
		{"approvers alone", map[string]string{"APPROVERS": approverUser, "AUDIT_CHANNEL": auditChannel}, "APPROVERS is set but APPROVAL_ABOVE is not"},
		{"a name, not an ID", map[string]string{"APPROVAL_ABOVE": "5", "APPROVERS": "@ana", "AUDIT_CHANNEL": auditChannel}, `APPROVERS: \"@ana\" is not a user ID`},
		{"a bad number", map[string]string{"APPROVAL_ABOVE": "ten", "APPROVERS": approverUser, "AUDIT_CHANNEL": auditChannel}, `APPROVAL_ABOVE must be a whole number, 0 or more`},
		{"a ttl too long", map[string]string{"APPROVAL_ABOVE": "0", "APPROVERS": approverUser, "AUDIT_CHANNEL": auditChannel, "APPROVAL_TTL": "48h"}, "APPROVAL_TTL must be from 1s to 24h"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"SLACK_APP_TOKEN": appToken, "SLACK_BOT_TOKEN": botToken, "IPROYAL_API_TOKEN": iproyalToken, "ALLOWED_USERS": allowedUser}
			for k, v := range tt.env {
				env[k] = v
			}
			r := runWith(t, env, "")
			if code := exitCode(r.err); code != 2 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and %q", code, r.stderr, tt.want)
			}
		})
	}
}
