package main

import (
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sessionbot/sessionbot/bot/slack/slacktest"
	"github.com/sessionbot/sessionbot/iproyal/iproyaltest"
)

// The trail must never lie: a process killed at any step of a reset's
// order (README: "The order of a reset") leaves Slack in a state that a
// sweep turns into the truth. Each case holds the process at one step,
// kills it there with SIGKILL, and lets another replica sweep.

// hang makes a Slack call wait an hour and then fail: it is never carried
// out, like a call still on its way when the process dies.
func hang(ch string, inThread bool) slacktest.Failure {
	return slacktest.Failure{Delay: time.Hour, Status: 500, Channel: ch, InThread: inThread}
}

// calls counts the calls of method made for channel, in a thread or not.
func calls(s *slacktest.State, method, channel string, inThread bool) int {
	n := 0
	for _, c := range s.Calls(method) {
		if c.Params.Get("channel") == channel && (c.Params.Get("thread_ts") != "") == inThread {
			n++
		}
	}
	return n
}

// step is where a case holds the process: once after holds (nil: at
// once), hold scripts the call that will hang, and reached says the
// process is hanging there.
type step struct {
	after   func(s *slacktest.State) bool
	hold    func(sl *slacktest.Server, ipr *iproyaltest.Server)
	reached func(s *slacktest.State, ipr *iproyaltest.Server) bool
}

func TestAKillAtEveryStepLeavesATrueTrail(t *testing.T) {
	t.Parallel()
	auditUpdates := func(n int) func(*slacktest.State) bool {
		return func(s *slacktest.State) bool { return calls(s, "chat.update", auditChannel, false) >= n }
	}
	const interrupted = "stopped before it called IPRoyal, so nothing was reset"
	for _, tt := range []struct {
		name string
		step step
		slow bool // IPRoyal answers in a second, so a step after the DELETE can be held
		// What Slack shows once a replica has swept.
		announcements int    // in the channel
		reply         string // the outcome in its thread ("": none)
		final         string // what the announcement became
		state         string // the journal entry's final state ("": no entry)
		deletes       int
	}{
		{
			name: "before its journal entry",
			step: step{hold: func(sl *slacktest.Server, _ *iproyaltest.Server) {
				sl.Fail("chat.postMessage", hang(auditChannel, false))
			},
				reached: func(s *slacktest.State, _ *iproyaltest.Server) bool {
					return calls(s, "chat.postMessage", auditChannel, false) >= 1
				}},
		},
		{
			name: "before its announcement",
			step: step{hold: func(sl *slacktest.Server, _ *iproyaltest.Server) { sl.Fail("chat.postMessage", hang(channel, false)) },
				reached: func(s *slacktest.State, _ *iproyaltest.Server) bool {
					return calls(s, "chat.postMessage", channel, false) >= 1
				}},
			announcements: 1, reply: interrupted, final: "failed: sessionbot " + interrupted, state: "failed",
		},
		{
			name: "after its announcement, before its entry names it",
			step: step{hold: func(sl *slacktest.Server, _ *iproyaltest.Server) { sl.Fail("chat.update", hang(auditChannel, false)) },
				reached: func(s *slacktest.State, _ *iproyaltest.Server) bool {
					return calls(s, "chat.update", auditChannel, false) >= 1
				}},
			announcements: 1, reply: interrupted, final: "failed: sessionbot " + interrupted, state: "failed",
		},
		{
			name: "while IPRoyal has the reset",
			step: step{hold: func(_ *slacktest.Server, ipr *iproyaltest.Server) {
				ipr.Script("DELETE", "/sessions", iproyaltest.Response{Delay: time.Hour, Status: 500})
			}, reached: func(_ *slacktest.State, ipr *iproyaltest.Server) bool { return ipr.Count("DELETE", "/sessions") >= 1 }},
			announcements: 1, reply: "the outcome of this reset is unknown", final: "outcome unknown", state: "unknown", deletes: 1,
		},
		{
			name: "after the reset, before its entry records it",
			slow: true,
			step: step{after: auditUpdates(1), // started
				hold: func(sl *slacktest.Server, _ *iproyaltest.Server) { sl.Fail("chat.update", hang(auditChannel, false)) },
				reached: func(s *slacktest.State, _ *iproyaltest.Server) bool {
					return calls(s, "chat.update", auditChannel, false) >= 2
				}},
			announcements: 1, reply: "the outcome of this reset is unknown", final: "outcome unknown", state: "unknown", deletes: 1,
		},
		{
			name: "after its entry records it, before the thread shows it",
			step: step{hold: func(sl *slacktest.Server, _ *iproyaltest.Server) { sl.Fail("chat.postMessage", hang(channel, true)) },
				reached: func(s *slacktest.State, _ *iproyaltest.Server) bool {
					return calls(s, "chat.postMessage", channel, true) >= 1
				}},
			announcements: 1, reply: "Reset the sessions of 1 residential user", final: "reset the sessions of 1 residential user", state: "reset", deletes: 1,
		},
		{
			name: "after the thread shows it, before its entry says so",
			step: step{after: auditUpdates(2), // the outcome, recorded; the thread answers in a second
				hold: func(sl *slacktest.Server, _ *iproyaltest.Server) { sl.Fail("chat.update", hang(auditChannel, false)) },
				reached: func(s *slacktest.State, _ *iproyaltest.Server) bool {
					return calls(s, "chat.update", auditChannel, false) >= 3
				}},
			announcements: 1, reply: "Reset the sessions of 1 residential user", final: "reset the sessions of 1 residential user", state: "reset", deletes: 1,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sl, ipr := doubles(t)
			env := baseEnv(sl, ipr, freeAddr(t))
			withAudit(env)
			env["COMMAND_TIMEOUT"] = "4s"
			env["IPROYAL_TIMEOUT"] = "1m"
			if tt.slow {
				ipr.SetDelay(time.Second)
			}
			if tt.name == "after the thread shows it, before its entry says so" {
				// The outcome reply takes a second (and lands), so the
				// entry's last update can be held before it is made.
				sl.Fail("chat.postMessage", slacktest.Failure{Channel: channel, InThread: true, Delay: time.Second})
			}
			killed, killedLogs := startConnected(t, sl, env, 1)
			if tt.step.after == nil {
				tt.step.hold(sl, ipr)
			}
			if _, err := sl.SendSlashCommand(slacktest.SlashCommand{UserID: allowedUser, ChannelID: channel, Text: hashA}); err != nil {
				t.Fatal(err)
			}
			if tt.step.after != nil {
				if err := sl.WaitFor(wait, tt.step.after); err != nil {
					t.Fatalf("the reset never got there:\n%s", killedLogs)
				}
				tt.step.hold(sl, ipr)
			}
			eventually(t, "the process is held at the step", func() bool { return tt.step.reached(sl.State(), ipr) })
			if err := killed.Process.Kill(); err != nil { // SIGKILL: no last words
				t.Fatal(err)
			}
			_ = killed.Wait()

			e := maps.Clone(env)
			e["HTTP_ADDR"] = freeAddr(t)
			_, logs := startMain(t, e)
			if tt.state != "" {
				if err := sl.WaitFor(40*time.Second, func(s *slacktest.State) bool {
					for _, m := range s.Messages() {
						cur, _ := s.Current(m.Channel, m.TS)
						if e := entryOf(cur.Metadata); m.Channel == auditChannel && e["state"] == tt.state && e["trail"] == "done" {
							return true
						}
					}
					return false
				}); err != nil {
					t.Fatalf("no journal entry reached %s with its trail done: %+v\n%s", tt.state, auditMessages(sl), logs)
				}
				if n := len(auditMessages(sl)); n != 1 {
					t.Errorf("%d journal entries, want 1", n)
				}
			} else {
				// Nothing was journalled, so nothing is owed: two sweeps
				// of the new replica find nothing to do.
				eventually(t, "two sweeps", func() bool { return strings.Count(logs.String(), "swept the journal") >= 2 })
			}
			st := sl.State()
			var parents []slacktest.Message
			for _, m := range st.Messages() {
				if m.Channel == channel && m.ThreadTS == "" {
					parents = append(parents, m)
				}
			}
			if len(parents) != tt.announcements {
				t.Fatalf("%d announcements, want %d:\n%s", len(parents), tt.announcements, logs)
			}
			if n := ipr.Count("DELETE", "/sessions"); n != tt.deletes {
				t.Errorf("%d DELETEs, want %d", n, tt.deletes)
			}
			if tt.announcements == 0 {
				return
			}
			parent := parents[0]
			if err := sl.WaitFor(wait, func(s *slacktest.State) bool {
				cur, _ := s.Current(channel, parent.TS)
				return strings.Contains(cur.Text, tt.final)
			}); err != nil {
				cur, _ := st.Current(channel, parent.TS)
				t.Errorf("the announcement reads %q, want %q", cur.Text, tt.final)
			}
			if n := len(threadReplies(st.Messages(), parent, tt.reply)); n != 1 {
				t.Errorf("%d replies %q in the thread, want exactly 1:\n%s", n, tt.reply, logs)
			}
			if n := len(threadReplies(st.Messages(), parent, "")); n != 1 {
				t.Errorf("%d replies in the thread, want 1 (no contradiction, no double)", n)
			}
		})
	}
}

// A journal write whose answer was lost (Slack posted it; the answer never
// came) is found by its request ID and adopted, not posted twice, and the
// entry ends true: no sweep takes it for an orphan.
func TestALostJournalWriteIsAdoptedNotDoubled(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(env map[string]string) { withAudit(env); env["COMMAND_TIMEOUT"] = "3s" })
	h.slack.Fail("chat.postMessage", slacktest.Failure{Channel: auditChannel, Lost: true})
	h.command(allowedUser, hashA)
	parent := h.announcement(channel, 0)
	h.threadReply(parent)
	id := h.auditLine("reset")["request_id"].(string)
	h.journalEntry(id, "reset")
	h.waitLog("Slack's answer was lost; looking for what it may have done")
	// Past the entry's due time, two sweeps later: still one entry, reset.
	swept := strings.Count(h.logs.String(), "swept the journal")
	for strings.Count(h.logs.String(), "swept the journal") < swept+2 || tsAge(t, parent.TS) < 14*time.Second {
		if tsAge(t, parent.TS) > time.Minute {
			t.Fatalf("no two sweeps past the due time:\n%s", h.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := len(auditMessages(h.slack)); n != 1 {
		t.Errorf("%d journal entries for one request, want 1", n)
	}
	if n := len(threadReplies(h.slack.State().Messages(), parent, "")); n != 1 {
		t.Errorf("%d replies in the thread, want the one outcome", n)
	}
}

// An announcement and an outcome reply whose answers were lost are found
// and adopted, never posted twice.
func TestLostPostsAreAdoptedNotDoubled(t *testing.T) {
	t.Parallel()
	h := startBot(t, withAudit)
	h.slack.Fail("chat.postMessage", slacktest.Failure{Channel: channel, Lost: true}, slacktest.Failure{Channel: channel, InThread: true, Lost: true, Status: 502})
	h.command(allowedUser, hashA)
	parent := h.announcement(channel, 0)
	h.threadReply(parent)
	id := h.auditLine("reset")["request_id"].(string)
	h.journalEntry(id, "reset")
	st := h.slack.State()
	n := 0
	for _, m := range st.Messages() {
		if m.Channel == channel && m.ThreadTS == "" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d announcements, want 1", n)
	}
	if n := len(threadReplies(st.Messages(), parent, "")); n != 1 {
		t.Errorf("%d outcome replies, want 1", n)
	}
	if cur, _ := st.Current(channel, parent.TS); !strings.Contains(cur.Text, "reset the sessions of 1 residential user") {
		t.Errorf("the announcement reads %q", cur.Text)
	}
}

// A burst of resets while Slack answers every post and update with 429 and
// Retry-After: 3 for 10 s: every request gets exactly one entry in the
// audit channel, in its final state, whatever its outcome.
func TestAThrottledBurstLeavesOneEntryPerRequest(t *testing.T) {
	t.Parallel()
	users := []string{allowedUser, "U0SECOND", "U0THIRD"}
	h := startBot(t, func(env map[string]string) {
		withAudit(env)
		env["RATE_LIMIT_PER_MINUTE"] = "0"
		env["ALLOWED_USERS"] = strings.Join(users, ",")
	})
	h.slack.Fail("chat.postMessage", slacktest.Failure{RetryAfter: 3, For: 10 * time.Second})
	h.slack.Fail("chat.update", slacktest.Failure{RetryAfter: 3, For: 10 * time.Second})
	const burst = 30 // each user's share of the requests in flight is 10
	for i := range burst {
		if _, err := h.slack.SendSlashCommand(slacktest.SlashCommand{UserID: users[i%len(users)], ChannelID: channel, Text: fmt.Sprintf("01H7YCG0R9GYY1YCPS2S4Q%04d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		if t.Failed() {
			t.Log(h.logs)
		}
	}()
	// The logs, polled: a request's log line may follow its last call to Slack.
	eventuallyWithin(t, 40*time.Second, fmt.Sprintf("all %d requests ended", burst), func() bool {
		return strings.Count(h.logs.String(), `"msg":"command"`) == burst
	})
	if err := h.slack.WaitFor(40*time.Second, func(s *slacktest.State) bool {
		final := 0
		for _, m := range s.Messages() {
			cur, _ := s.Current(m.Channel, m.TS)
			if e := entryOf(cur.Metadata); m.Channel == auditChannel && e != nil && e["state"] != "announcing" && e["state"] != "started" && e["trail"] == "done" {
				final++
			}
		}
		return final == burst
	}); err != nil {
		t.Fatalf("not every request has a final entry: %d entries\n%s", len(auditMessages(h.slack)), h.logs)
	}
	ids := map[string]int{}
	for _, m := range auditMessages(h.slack) {
		ids[entryOf(m.Metadata)["request_id"].(string)]++
	}
	if len(ids) != burst {
		t.Errorf("%d requests have entries, want %d", len(ids), burst)
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("request %s has %d entries", id, n)
		}
	}
}

// A click on the other replica is answered with what the journal says was
// decided, never with that replica's own earlier click.
func TestClicksAreAnsweredWithWhatWasDecided(t *testing.T) {
	t.Parallel()
	// The double hands envelopes to its two connections in turn: the
	// command and the third and fifth envelopes reach one process, the
	// second and the fourth the other.
	t.Run("confirm won elsewhere", func(t *testing.T) {
		t.Parallel()
		h := startBot(t, func(env map[string]string) { confirmEnv(env); withAudit(env) })
		h.startReplica()
		buttons := h.confirmation(allowedUser, fourTargets) // 1: A
		h.confirmAndWait(buttons, 0)                        // 2: B decides
		cancel := h.responses(h.click(allowedUser, buttons["Cancel"]), 1)[0]
		h.private(h.command(allowedUser, "help"))
		confirm := h.responses(h.click(allowedUser, buttons["Confirm"]), 1)[0]
		for _, r := range []slacktest.Response{cancel, confirm} {
			assertContains(t, "a later click", r.Text, "already confirmed", "ran")
			if strings.Contains(r.Text, "cancelled") || strings.Contains(r.Text, "nothing was reset") {
				t.Errorf("a click after Confirm won says %q", r.Text)
			}
		}
		if n := h.ipr.Count("DELETE", "/sessions"); n != 1 {
			t.Errorf("%d resets", n)
		}
	})
	t.Run("cancel won elsewhere", func(t *testing.T) {
		t.Parallel()
		h := startBot(t, func(env map[string]string) { confirmEnv(env); withAudit(env) })
		h.startReplica()
		buttons := h.confirmation(allowedUser, fourTargets)                    // 1: A
		h.responses(h.click(allowedUser, buttons["Cancel"]), 1)                // 2: B decides
		confirm := h.responses(h.click(allowedUser, buttons["Confirm"]), 1)[0] // 3: A
		h.private(h.command(allowedUser, "help"))                              // 4: B
		cancel := h.responses(h.click(allowedUser, buttons["Cancel"]), 1)[0]   // 5: A
		for _, r := range []slacktest.Response{confirm, cancel} {
			assertContains(t, "a later click", r.Text, "already cancelled, so nothing was reset")
			if strings.Contains(r.Text, "ran") {
				t.Errorf("a click after Cancel won says %q", r.Text)
			}
		}
		h.assertNothingReset()
	})
}

// The sweep reads the journal by time, as far back as an entry can be
// open, whatever else the channel holds: an orphan under 20,000 older
// messages is found, and every sweep after the first costs one call.
func TestTheSweepReadsByTimeNotByCount(t *testing.T) {
	t.Parallel()
	sl, ipr := doubles(t)
	old := make([]slacktest.Message, 20000)
	start := time.Now().Add(-20 * time.Hour)
	for i := range old {
		old[i] = slacktest.Message{TS: slacktest.TSAt(start.Add(time.Duration(i) * 3 * time.Second)), Text: "an alert", User: slacktest.BotUser, BotID: slacktest.BotID}
	}
	sl.AddHistory(auditChannel, old...)
	ipr.Script("DELETE", "/sessions", iproyaltest.Response{Delay: time.Hour, Status: 500})
	env := baseEnv(sl, ipr, freeAddr(t))
	withAudit(env)
	env["COMMAND_TIMEOUT"] = "4s"
	env["IPROYAL_TIMEOUT"] = "1m"
	killed, _ := startConnected(t, sl, env, 1)
	if _, err := sl.SendSlashCommand(slacktest.SlashCommand{UserID: allowedUser, ChannelID: channel, Text: hashA}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the reset reaches IPRoyal", func() bool { return ipr.Count("DELETE", "/sessions") == 1 })
	_ = killed.Process.Kill()
	_ = killed.Wait()
	before := len(sl.State().Calls("conversations.history"))
	e := maps.Clone(env)
	e["HTTP_ADDR"] = freeAddr(t)
	_, replica := startMain(t, e)
	if err := sl.WaitFor(40*time.Second, func(s *slacktest.State) bool {
		for _, m := range s.Messages() {
			if m.Channel == channel && strings.Contains(m.Text, "the outcome of this reset is unknown") {
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatalf("the orphan under 20,000 messages was never found:\n%s", replica)
	}
	sweeps := strings.Count(replica.String(), "swept the journal")
	reads := 0
	for _, c := range sl.State().Calls("conversations.history")[before:] {
		if c.Params.Get("channel") == auditChannel && c.Params.Get("latest") == "" {
			reads++
		}
	}
	// The first sweep reads back as far as a request can wait for approval
	// (24 hours), at most 10 pages; each later one, one page: the marking's
	// sweep may not have logged yet.
	if reads > sweeps+1+9 {
		t.Errorf("%d reads of the journal for %d sweeps, want 10 at most for the first, and one for each other", reads, sweeps)
	}
}

// A private answer always arrives: a response_url that fails is tried
// again, then an ephemeral message stands in, then a direct message.
func TestPrivateAnswersAlwaysArrive(t *testing.T) {
	t.Parallel()
	bad := hashA + " ghost" // a bad target: answered privately, after a lookup
	t.Run("one 500", func(t *testing.T) {
		t.Parallel()
		h := startBot(t, nil)
		h.slack.Fail(slacktest.ResponseURL, slacktest.Failure{Status: 500})
		id := h.command(allowedUser, bad)
		assertContains(t, "answer", h.responses(id, 1)[0].Text, "not valid")
	})
	t.Run("expired: an ephemeral message instead", func(t *testing.T) {
		t.Parallel()
		h := startBot(t, nil)
		h.slack.ExpireResponseURLs()
		h.slack.Fail(slacktest.ResponseURL, slacktest.Failure{Status: 404, Error: "expired_url", Sticky: true})
		h.command(allowedUser, bad)
		if err := h.slack.WaitFor(wait, func(s *slacktest.State) bool {
			for _, e := range s.Ephemerals() {
				if e.User == allowedUser && strings.Contains(e.Text, "not valid") {
					return true
				}
			}
			return false
		}); err != nil {
			t.Fatalf("no ephemeral answer:\n%s", h.logs)
		}
	})
	t.Run("nowhere in the channel either: a direct message", func(t *testing.T) {
		t.Parallel()
		h := startBot(t, nil)
		h.slack.Fail(slacktest.ResponseURL, slacktest.Failure{Status: 404, Error: "used_url", Sticky: true})
		h.slack.Fail("chat.postEphemeral", slacktest.Failure{Error: "user_not_in_channel", Sticky: true})
		h.command(allowedUser, bad)
		dm := slacktest.DM(allowedUser)
		if err := h.slack.WaitFor(wait, func(s *slacktest.State) bool {
			for _, m := range s.Messages() {
				if m.Channel == dm && strings.Contains(m.Text, "not valid") {
					return true
				}
			}
			return false
		}); err != nil {
			t.Fatalf("no direct message:\n%s", h.logs)
		}
	})
}

// What a user typed is shown inert: a bidi control is shown by its code
// point, a hash with an invisible character says so, and a long list of
// bad targets says how many and lists all that fit.
func TestEchoedInputIsShownAsTyped(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	r := h.private(h.command(allowedUser, "find scraper\u202eue-repracs"))
	assertContains(t, "find", r.Text, "[U+202E]")
	if strings.ContainsRune(r.Text, '\u202e') {
		t.Errorf("the answer carries the RLO itself: %q", r.Text)
	}
	r = h.private(h.command(allowedUser, hashA[:4]+"\u200b"+hashA[4:]))
	assertContains(t, "hash with a zero-width space", r.Text, "has an invisible character, [U+200B], at position 5")
	var many []string
	for i := range 100 {
		many = append(many, fmt.Sprintf("nosuch-%02d", i))
	}
	r = h.private(h.command(allowedUser, strings.Join(many, " ")))
	assertContains(t, "100 bad targets", r.Text, "100 targets are not valid")
	if n := strings.Count(r.Text, "nosuch-"); n != 100 {
		t.Errorf("%d of 100 bad targets listed", n)
	}
}

// A connection that goes silent (no ping, no pong) is not ready within
// 15 s, and is reopened.
func TestASilentConnectionIsDroppedAndReopened(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	hellos := h.slack.State().Hellos()
	// The first reopening fails, so the bot stays not ready long enough
	// to be seen.
	h.slack.Fail("apps.connections.open", slacktest.Failure{Error: "internal_error"})
	h.slack.Silence()
	silent := time.Now()
	h.waitReadyWithin(false, 20*time.Second)
	if took := time.Since(silent); took > 15*time.Second+500*time.Millisecond {
		t.Errorf("/readyz answered 200 for %v of silence, want at most 15 s", took)
	}
	if err := h.slack.WaitFor(wait, func(s *slacktest.State) bool { return s.Hellos() > hellos }); err != nil {
		t.Fatalf("the bot never reconnected:\n%s", h.logs)
	}
	h.waitReady(true)
	h.waitLog("went silent")
}

// A Slack that answers pings but never sends its own keeps the connection:
// the bot pings it when it has heard nothing for a while, and its pongs
// are a word from Slack.
func TestAQuietSlackThatAnswersPingsStaysConnected(t *testing.T) {
	t.Parallel()
	sl, ipr := doubles(t)
	sl.SetPingInterval(time.Hour)
	h := &harness{t: t, slack: sl, ipr: ipr, logs: &syncBuffer{}, addr: freeAddr(t)}
	h.env = baseEnv(sl, ipr, h.addr)
	h.launch()
	t.Cleanup(func() { _ = h.stop() })
	hellos := sl.State().Hellos()
	deadline := time.Now().Add(25 * time.Second) // past the 14 s of silence that ends a connection, twice
	for time.Now().Before(deadline) {
		if h.get("/readyz") != http.StatusOK {
			t.Fatalf("/readyz went 503 on a quiet connection that answers pings:\n%s", h.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := sl.State().Hellos(); n != hellos || strings.Contains(h.logs.String(), "went silent") {
		t.Errorf("the quiet connection was dropped (%d hellos, then %d):\n%s", hellos, n, h.logs)
	}
}
