package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sessionbot/sessionbot/bot/slack/slacktest"
	"github.com/sessionbot/sessionbot/iproyal/iproyaltest"
)

const auditChannel = "C0AUDIT"

func withAudit(env map[string]string) { env["AUDIT_CHANNEL"] = auditChannel }

// entryOf decodes a message's journal entry (its metadata payload), or nil.
func entryOf(raw json.RawMessage) map[string]any {
	var md struct {
		EventType    string         `json:"event_type"`
		EventPayload map[string]any `json:"event_payload"`
	}
	if json.Unmarshal(raw, &md) != nil || md.EventType != "sessionbot_reset" {
		return nil
	}
	return md.EventPayload
}

// journalEntry waits until the journal entry of request id reaches state,
// and returns its audit message as it is now, with the entry.
func (h *harness) journalEntry(id, state string) (slacktest.Message, map[string]any) {
	h.t.Helper()
	return journalEntryIn(h.t, h.slack, id, state)
}

func journalEntryIn(t *testing.T, sl *slacktest.Server, id, state string) (slacktest.Message, map[string]any) {
	t.Helper()
	return journalEntryWithin(t, sl, id, state, wait)
}

func journalEntryWithin(t *testing.T, sl *slacktest.Server, id, state string, timeout time.Duration) (slacktest.Message, map[string]any) {
	t.Helper()
	var msg slacktest.Message
	var entry map[string]any
	err := sl.WaitFor(timeout, func(s *slacktest.State) bool {
		for _, m := range s.Messages() {
			if m.Channel != auditChannel || m.ThreadTS != "" {
				continue
			}
			cur, _ := s.Current(m.Channel, m.TS)
			if e := entryOf(cur.Metadata); e != nil && e["request_id"] == id && e["state"] == state {
				msg, entry = cur, e
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("the journal entry of request %s never reached %s; audit channel: %+v", id, state, auditMessages(sl))
	}
	return msg, entry
}

// auditMessages is every top-level message in the audit channel, as it is now.
func auditMessages(sl *slacktest.Server) []slacktest.Message {
	var out []slacktest.Message
	st := sl.State()
	for _, m := range st.Messages() {
		if m.Channel == auditChannel && m.ThreadTS == "" {
			cur, _ := st.Current(m.Channel, m.TS)
			out = append(out, cur)
		}
	}
	return out
}

// threadReplies is every reply in parent's thread, among messages, that
// contains text.
func threadReplies(messages []slacktest.Message, parent slacktest.Message, text string) []slacktest.Message {
	var out []slacktest.Message
	for _, m := range messages {
		if m.Channel == parent.Channel && m.ThreadTS == parent.TS && strings.Contains(m.Text, text) {
			out = append(out, m)
		}
	}
	return out
}

func waitReaction(t *testing.T, sl *slacktest.Server, channel, ts, name string) {
	t.Helper()
	if err := sl.WaitFor(wait, func(s *slacktest.State) bool {
		for _, r := range s.Reactions() {
			if r.Channel == channel && r.TS == ts && r.Name == name {
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatalf("no :%s: on %s/%s: %+v", name, channel, ts, sl.State().Reactions())
	}
}

func reactionsOn(sl *slacktest.Server, channel, ts, name string) int {
	n := 0
	for _, r := range sl.State().Reactions() {
		if r.Channel == channel && r.TS == ts && r.Name == name {
			n++
		}
	}
	return n
}

// tsAge says how old a Slack timestamp is.
func tsAge(t *testing.T, ts string) time.Duration {
	t.Helper()
	secs, frac, _ := strings.Cut(ts, ".")
	s, err1 := strconv.ParseInt(secs, 10, 64)
	us, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("bad ts %q", ts)
	}
	return time.Since(time.Unix(s, us*1000))
}

func TestAuditTrailIsOneMessagePerRequest(t *testing.T) {
	t.Parallel()
	h := startBot(t, withAudit)
	h.command(allowedUser, hashA+" scraper-eu")
	parent := h.announcement(channel, 0)
	reply := h.threadReply(parent)
	id := h.auditLine("reset")["request_id"].(string)
	audit, entry := h.journalEntry(id, "reset")

	// The journal was written, as started, before the outcome was known.
	var posted []slacktest.Message
	for _, m := range h.slack.State().Messages() {
		if m.Channel == auditChannel {
			posted = append(posted, m)
		}
	}
	if len(posted) != 1 {
		t.Fatalf("%d messages in the audit channel for one request, want 1: %+v", len(posted), posted)
	}
	// Written ahead: before the announcement, which it then names.
	if first := entryOf(posted[0].Metadata); first["state"] != "announcing" || first["thread_ts"] != "" || !tsBefore(posted[0].TS, parent.TS) {
		t.Errorf("the journal entry was first written as %v, at %s, with the announcement at %s", first, posted[0].TS, parent.TS)
	}

	took := regexp.MustCompile(`in (\d+ ms)\.`).FindStringSubmatch(reply.Text)
	if took == nil {
		t.Fatalf("no duration in the thread reply %q", reply.Text)
	}
	assertContains(t, "audit message", audit.Text+string(audit.Blocks),
		"<@"+allowedUser+"> reset the sessions of 2 residential users in <#"+channel+"> ("+took[1]+")",
		hashA, "`"+hashB+"` (sub-user `scraper-eu`)", "request `"+id+"`",
		"<https://sessionbot-tests.slack.com/archives/"+channel+"/p"+strings.ReplaceAll(parent.TS, ".", "")+"|announcement>")
	if entry["user"] != allowedUser || entry["channel"] != channel || entry["thread_ts"] != parent.TS || entry["source"] != "slack" ||
		!strings.Contains(fmt.Sprint(entry["targets"]), hashB+":scraper-eu") {
		t.Errorf("journal entry = %v", entry)
	}

	// The announcement shows the outcome without opening the thread, and
	// keeps its reaction.
	if err := h.slack.WaitFor(wait, func(s *slacktest.State) bool {
		cur, _ := s.Current(channel, parent.TS)
		return strings.Contains(cur.Text, ":white_check_mark: <@"+allowedUser+"> reset the sessions of 2 residential users ("+took[1]+")")
	}); err != nil {
		cur, _ := h.slack.State().Current(channel, parent.TS)
		t.Errorf("the announcement was not updated to its outcome: %q", cur.Text)
	}
	waitReaction(t, h.slack, channel, parent.TS, "white_check_mark")
}

// Slack carries out a post whose client gave up: a journal entry the bot
// stopped waiting for (after journalTimeout, 3 s) still lands, as
// started. The bot must not leave it so, or the sweep calls a reset that
// succeeded an orphan whose outcome is unknown, in its thread.
func TestJournalEntryThatLandsLateIsClosed(t *testing.T) {
	t.Parallel()
	h := startBot(t, withAudit)
	h.slack.Fail("chat.postMessage", slacktest.Failure{Channel: auditChannel, Delay: 4 * time.Second})
	h.command(allowedUser, hashA)
	h.threadReply(h.announcement(channel, 0))
	id := h.auditLine("reset")["request_id"].(string)
	h.journalEntry(id, "reset")
	var entries int
	for _, m := range auditMessages(h.slack) {
		if entryOf(m.Metadata)["request_id"] == id {
			entries++
		}
	}
	if entries != 1 {
		t.Errorf("%d journal entries for one request, want 1", entries)
	}
}

func TestAuditChannelRecordsWhatCannotBePosted(t *testing.T) {
	t.Parallel()
	h := startBot(t, withAudit)
	h.slack.Fail("chat.postMessage", slacktest.Failure{Error: "not_in_channel", Channel: channel})
	got := h.private(h.command(allowedUser, hashA))
	assertContains(t, "private reply", got.Text, "Nothing was reset", "/invite @sessionbot")
	id := h.auditLine("post_failed")["request_id"].(string)
	audit, _ := h.journalEntry(id, "refused")
	assertContains(t, "audit message", audit.Text, "<@"+allowedUser+"> asked to reset the sessions of 1 residential user in <#"+channel+">, but sessionbot is not a member of the channel; nothing was reset.")
}

func TestNoJournalWithoutAnAuditChannel(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	h.waitLog("no journal: AUDIT_CHANNEL is not set")
}

// A SIGTERM while IPRoyal hangs: when SHUTDOWN_TIMEOUT runs out, the
// command tells its thread that the outcome is unknown, then the process
// exits, all within SHUTDOWN_TIMEOUT and the 5 s the deploy files leave.
func TestShutdownTellsTheThreadOfACommandStillInFlight(t *testing.T) {
	t.Parallel()
	sl, ipr := doubles(t)
	ipr.SetDelay(time.Hour)
	env := baseEnv(sl, ipr, freeAddr(t))
	withAudit(env)
	env["SHUTDOWN_TIMEOUT"] = "1s"
	env["IPROYAL_TIMEOUT"] = "1m"
	cmd, logs := startConnected(t, sl, env, 1)
	if _, err := sl.SendSlashCommand(slacktest.SlashCommand{UserID: allowedUser, ChannelID: channel, Text: hashA}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the reset reaches IPRoyal", func() bool { return ipr.Count("DELETE", "/sessions") == 1 })
	var parent slacktest.Message
	if err := sl.WaitFor(wait, func(s *slacktest.State) bool {
		for _, m := range s.Messages() {
			if m.Channel == channel && m.ThreadTS == "" {
				parent = m
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatal("no announcement")
	}

	stopped := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, logs)
		}
	case <-time.After(wait):
		t.Fatalf("the bot did not exit after SIGTERM:\n%s", logs)
	}
	if took := time.Since(stopped); took > 6*time.Second {
		t.Errorf("the bot took %v to exit, more than SHUTDOWN_TIMEOUT (1s) and the 5 s after it", took)
	}

	replies := threadReplies(sl.State().Messages(), parent, "stopped (it is restarting) while IPRoyal had this reset")
	if len(replies) != 1 {
		t.Fatalf("%d interrupt replies in the thread, want 1; messages: %+v\nlogs:\n%s", len(replies), sl.State().Messages(), logs)
	}
	assertContains(t, "interrupt reply", replies[0].Text, "may or may not have been reset", "run the command again; resetting the same sessions twice is harmless")
	if reactionsOn(sl, channel, parent.TS, "warning") != 1 {
		t.Errorf("no :warning: on the announcement: %+v", sl.State().Reactions())
	}
	if cur, _ := sl.State().Current(channel, parent.TS); !strings.Contains(cur.Text, "outcome unknown") {
		t.Errorf("the announcement was not updated: %q", cur.Text)
	}
	id := ""
	for _, m := range auditMessages(sl) {
		if e := entryOf(m.Metadata); e != nil {
			id, _ = e["request_id"].(string)
		}
	}
	journalEntryIn(t, sl, id, "unknown")
	assertContains(t, "logs", logs.String(), "stopping the commands still in flight", `"outcome":"unknown"`)
}

// A replica killed after its announcement leaves the reset open in the
// journal; the next replica to sweep, and only one of two, marks its
// thread: within 40 s of the announcement with COMMAND_TIMEOUT=5s.
func TestKilledReplicasResetIsMarkedOnce(t *testing.T) {
	t.Parallel()
	sl, ipr := doubles(t)
	ipr.Script("DELETE", "/sessions", iproyaltest.Response{Delay: time.Hour})
	env := baseEnv(sl, ipr, freeAddr(t))
	withAudit(env)
	env["COMMAND_TIMEOUT"] = "5s"
	env["IPROYAL_TIMEOUT"] = "1m"
	killed, _ := startConnected(t, sl, env, 1)
	if _, err := sl.SendSlashCommand(slacktest.SlashCommand{UserID: allowedUser, ChannelID: channel, Text: hashA}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the reset reaches IPRoyal", func() bool { return ipr.Count("DELETE", "/sessions") == 1 })
	var parent slacktest.Message
	for _, m := range sl.State().Messages() {
		if m.Channel == channel && m.ThreadTS == "" {
			parent = m
		}
	}
	var id string
	for _, m := range auditMessages(sl) {
		if e := entryOf(m.Metadata); e["state"] == "started" {
			id, _ = e["request_id"].(string)
		}
	}
	if parent.TS == "" || id == "" {
		t.Fatalf("no announcement or journal entry before the DELETE: %+v", sl.State().Messages())
	}
	if err := killed.Process.Kill(); err != nil { // SIGKILL: no last words
		t.Fatal(err)
	}
	_ = killed.Wait()

	// The restarted replica and another one both sweep the journal.
	var replicas []*syncBuffer
	for range 2 {
		e := maps.Clone(env)
		e["HTTP_ADDR"] = freeAddr(t)
		_, logs := startMain(t, e)
		replicas = append(replicas, logs)
	}
	if err := sl.WaitFor(wait, func(s *slacktest.State) bool { return s.Connections() == 2 }); err != nil {
		t.Fatalf("the replicas never connected:\n%s\n%s", replicas[0], replicas[1])
	}
	if err := sl.WaitFor(40*time.Second, func(s *slacktest.State) bool {
		for _, m := range s.Messages() {
			if m.ThreadTS == parent.TS && strings.Contains(m.Text, "the outcome of this reset is unknown") {
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatalf("the orphan was never marked:\n%s\n%s", replicas[0], replicas[1])
	}
	if age := tsAge(t, parent.TS); age > 40*time.Second {
		t.Errorf("marked %v after the announcement, want within 40 s", age)
	}
	journalEntryIn(t, sl, id, "unknown")
	waitReaction(t, sl, channel, parent.TS, "warning")

	// Both replicas sweep again (every COMMAND_TIMEOUT): the mark stays the
	// only one.
	swept := func(logs *syncBuffer) int { return strings.Count(logs.String(), "swept the journal") }
	before := []int{swept(replicas[0]), swept(replicas[1])}
	eventually(t, "both replicas sweep again", func() bool {
		return swept(replicas[0]) > before[0] && swept(replicas[1]) > before[1]
	})
	if n := len(threadReplies(sl.State().Messages(), parent, "the outcome of this reset is unknown")); n != 1 {
		t.Errorf("%d orphan replies, want exactly 1", n)
	}
	if n := reactionsOn(sl, channel, parent.TS, "warning"); n != 1 {
		t.Errorf("%d :warning: reactions on the announcement, want 1", n)
	}
	marks := strings.Count(replicas[0].String(), "marking a reset left open") + strings.Count(replicas[1].String(), "marking a reset left open")
	if marks != 1 {
		t.Errorf("%d replicas marked the orphan, want 1:\n%s\n%s", marks, replicas[0], replicas[1])
	}
	if cur, _ := sl.State().Current(channel, parent.TS); !strings.Contains(cur.Text, "outcome unknown") {
		t.Errorf("the announcement was not updated: %q", cur.Text)
	}
}

func TestOutcomeReplySurvivesA500(t *testing.T) {
	t.Parallel()
	h := startBot(t, withAudit)
	h.slack.Fail("chat.postMessage", slacktest.Failure{Status: 500, InThread: true})
	h.command(allowedUser, hashA)
	parent := h.announcement(channel, 0)
	reply := h.threadReply(parent)
	assertContains(t, "thread reply", reply.Text, "Reset the sessions of 1 residential user")
	var attempts int
	for _, c := range h.slack.State().Calls("chat.postMessage") {
		if c.Params.Get("thread_ts") == parent.TS {
			attempts++
		}
	}
	if attempts != 2 {
		t.Errorf("%d thread reply attempts, want the 500 and its retry", attempts)
	}
	h.journalEntry(h.auditLine("reset")["request_id"].(string), "reset")
}

func TestOutcomeIsToldPrivatelyWhenTheThreadStaysDown(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(env map[string]string) {
		withAudit(env)
		env["COMMAND_TIMEOUT"] = "4s" // bounds the retries
	})
	h.slack.Fail("chat.postMessage", slacktest.Failure{Status: 503, InThread: true, Sticky: true})
	got := h.private(h.command(allowedUser, hashA))
	assertContains(t, "private reply", got.Text, "Reset the sessions of 1 residential user")
	h.waitLog("could not post the outcome in the announcement's thread")
	for _, line := range strings.Split(h.logs.String(), "\n") {
		if strings.Contains(line, "could not post the outcome") {
			assertContains(t, "error line", line, `"level":"ERROR"`, `"state":"reset"`, "Reset the sessions of 1 residential user")
		}
	}
	id := h.auditLine("reset")["request_id"].(string)
	h.journalEntry(id, "reset")
}

// confirmAndWait confirms and waits for the reset's thread reply.
func (h *harness) confirmAndWait(buttons map[string]slacktest.Button, n int) {
	h.t.Helper()
	h.click(allowedUser, buttons["Confirm"])
	h.threadReply(h.announcement(channel, n))
}

func TestClicksAgreeAcrossReplicasAndRestarts(t *testing.T) {
	t.Parallel()
	t.Run("cancel after confirm on the other replica", func(t *testing.T) {
		t.Parallel()
		h := startBot(t, func(env map[string]string) { confirmEnv(env); withAudit(env) })
		h.startReplica()
		// The double hands envelopes to its connections in turn: the command
		// and the Cancel reach one process, the Confirm the other.
		buttons := h.confirmation(allowedUser, fourTargets)
		h.confirmAndWait(buttons, 0)
		r := h.responses(h.click(allowedUser, buttons["Cancel"]), 1)[0]
		assertContains(t, "cancel after confirm", r.Text, "already confirmed, so this click changed nothing", "the reset of 4 residential users ran")
		if strings.Contains(r.Text, "not reset") {
			t.Errorf("a Cancel after Confirm says nothing was reset: %q", r.Text)
		}
		if n := h.ipr.Count("DELETE", "/sessions"); n != 1 {
			t.Errorf("%d resets", n)
		}
	})
	t.Run("confirm after cancel on the other replica", func(t *testing.T) {
		t.Parallel()
		h := startBot(t, func(env map[string]string) { confirmEnv(env); withAudit(env) })
		h.startReplica()
		buttons := h.confirmation(allowedUser, fourTargets)
		cancel := h.responses(h.click(allowedUser, buttons["Cancel"]), 1)[0]
		assertContains(t, "cancel", cancel.Text, "Cancelled: the sessions of 4 residential users were not reset.")
		r := h.responses(h.click(allowedUser, buttons["Confirm"]), 1)[0]
		assertContains(t, "confirm after cancel", r.Text, "already cancelled, so nothing was reset")
		h.assertNothingReset()
	})
	t.Run("confirm replayed after a restart", func(t *testing.T) {
		t.Parallel()
		h := startBot(t, func(env map[string]string) { confirmEnv(env); withAudit(env) })
		buttons := h.confirmation(allowedUser, fourTargets)
		h.confirmAndWait(buttons, 0)
		h.restart()
		r := h.responses(h.click(allowedUser, buttons["Confirm"]), 1)[0]
		assertContains(t, "replayed confirm", r.Text, "already confirmed, so this click changed nothing")
		if n := h.ipr.Count("DELETE", "/sessions"); n != 1 {
			t.Errorf("%d resets for one confirmation", n)
		}
		var announcements int
		for _, m := range h.slack.State().Messages() {
			if m.Channel == channel && m.ThreadTS == "" {
				announcements++
			}
		}
		if announcements != 1 {
			t.Errorf("%d announcements for one confirmation", announcements)
		}
	})
	t.Run("cancel after a restart", func(t *testing.T) {
		t.Parallel()
		h := startBot(t, func(env map[string]string) { confirmEnv(env); withAudit(env) })
		buttons := h.confirmation(allowedUser, fourTargets)
		h.confirmAndWait(buttons, 0)
		h.restart()
		r := h.responses(h.click(allowedUser, buttons["Cancel"]), 1)[0]
		assertContains(t, "cancel after restart", r.Text, "already confirmed", "ran")
	})
	t.Run("cancel after expiry", func(t *testing.T) {
		t.Parallel()
		h := startBot(t, func(env map[string]string) {
			confirmEnv(env)
			withAudit(env)
			env["CONFIRM_TTL"] = "2s"
		})
		buttons := h.confirmation(allowedUser, fourTargets)
		h.confirmAndWait(buttons, 0)
		time.Sleep(2 * time.Second) // CONFIRM_TTL passes: time itself is what this test waits for
		r := h.responses(h.click(allowedUser, buttons["Cancel"]), 1)[0]
		assertContains(t, "cancel after expiry", r.Text, "already confirmed, so this click changed nothing")
		if strings.Contains(r.Text, "nothing was reset") {
			t.Errorf("a Cancel after the reset ran says nothing was reset: %q", r.Text)
		}
	})
}

// A confirmation nobody clicks is closed in the journal once it expired,
// and a late click is told so.
func TestUnclickedConfirmationExpiresInTheJournal(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(env map[string]string) {
		confirmEnv(env)
		withAudit(env)
		env["CONFIRM_TTL"] = "1s"
		env["COMMAND_TIMEOUT"] = "2s"
	})
	buttons := h.confirmation(allowedUser, fourTargets)
	id := h.auditLine("confirmation_requested")["request_id"].(string)
	h.journalEntry(id, "awaiting_confirmation")
	msg, _ := journalEntryWithin(t, h.slack, id, "expired", 20*time.Second) // CONFIRM_TTL, the 10 s margin, a sweep
	assertContains(t, "audit message", msg.Text, "did not confirm a reset of 4 residential users in <#"+channel+"> in time; nothing was reset")
	r := h.responses(h.click(allowedUser, buttons["Confirm"]), 1)[0]
	assertContains(t, "late confirm", r.Text, "already expired")
	h.assertNothingReset()
}

// 100 targets given as 64-character usernames: the announcement shows what
// fits, the thread holds the whole list, and every message passes the
// double's limits, which are real Slack's.
func TestHundredLongUsernamesFitSlack(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(env map[string]string) {
		withAudit(env)
		env["CONFIRM_ABOVE"] = "100"
	})
	var subs []iproyaltest.Subuser
	var names []string
	for i := range 100 {
		name := fmt.Sprintf("%03d-%s", i, strings.Repeat("u", 60))
		subs = append(subs, iproyaltest.Subuser{Hash: fmt.Sprintf("01H7YCG0R9GYY1YCPS2S4Q%04d", i), Username: name, Password: subPassword})
		names = append(names, name)
	}
	h.ipr.SetSubusers(subs...)
	h.command(allowedUser, strings.Join(names, " "))
	parent := h.announcement(channel, 0)
	assertContains(t, "announcement", parent.Content(), "100 residential users", "more: the full list is in the thread")
	if err := h.slack.WaitFor(wait, func(s *slacktest.State) bool {
		return len(threadReplies(s.Messages(), parent, "Reset the sessions of 100 residential users")) == 1
	}); err != nil {
		t.Fatalf("no outcome; logs:\n%s", h.logs)
	}
	listed := ""
	for _, m := range threadReplies(h.slack.State().Messages(), parent, "The 100 residential users of this reset") {
		listed += m.Content()
	}
	for _, name := range names {
		if !strings.Contains(listed, name) {
			t.Fatalf("the thread does not list %s", name[:8])
		}
	}
	if r := h.ipr.Resets(); len(r) != 1 || len(r[0]) != 100 {
		t.Errorf("resets = %d", len(r))
	}
	h.journalEntry(h.auditLine("reset")["request_id"].(string), "reset")
	for _, c := range h.slack.State().Calls("") {
		if text := c.Params.Get("text"); utf8.RuneCountInString(text) >= 4000 {
			t.Errorf("%s sent a text of %d characters, over 4,000", c.Method, utf8.RuneCountInString(text))
		}
	}
}

// A long IPRoyal error, full of entities and multibyte characters, is
// clipped before it is escaped, and cut nowhere that breaks it.
func TestLongIPRoyalErrorIsClippedWhole(t *testing.T) {
	t.Parallel()
	h := startBot(t, withAudit)
	long := strings.Repeat("Zugriff verweigert: <!subteam^S0ALL> &amp; “Ärger” ", 60)
	h.ipr.Script("DELETE", "/sessions", iproyaltest.Response{Status: 422, Body: `{"message":` + strconv.Quote(long) + `}`})
	h.command(allowedUser, hashA)
	reply := h.threadReply(h.announcement(channel, 0))
	var sections []string
	var blocks []struct {
		Text struct{ Text string } `json:"text"`
	}
	_ = json.Unmarshal(reply.Blocks, &blocks)
	for _, b := range blocks {
		sections = append(sections, b.Text.Text)
	}
	for _, text := range append(sections, reply.Text) {
		if !utf8.ValidString(text) || strings.ContainsRune(text, utf8.RuneError) {
			t.Errorf("broken UTF-8 in %q", text)
		}
		if strings.Contains(text, "<!su") {
			t.Errorf("live markup from IPRoyal in %q", text)
		}
		for i := strings.IndexByte(text, '&'); i >= 0; i = nextIndex(text, '&', i) {
			if !strings.HasPrefix(text[i:], "&amp;") && !strings.HasPrefix(text[i:], "&lt;") && !strings.HasPrefix(text[i:], "&gt;") {
				t.Errorf("a broken entity at %q", text[i:min(len(text), i+8)])
			}
		}
	}
	assertContains(t, "reply", reply.Text, "422 Unprocessable Entity", "Zugriff verweigert: &lt;!subteam^S0ALL&gt; &amp;amp; “Ärger”", "…")
	if n := utf8.RuneCountInString(reply.Text); n > 1000 {
		t.Errorf("the reply is %d characters: IPRoyal's text was not clipped", n)
	}
}

func nextIndex(s string, c byte, after int) int {
	i := strings.IndexByte(s[after+1:], c)
	if i < 0 {
		return -1
	}
	return after + 1 + i
}

// tsBefore compares two Slack timestamps, "seconds.micros" of the same width.
func tsBefore(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}
