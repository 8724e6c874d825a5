package bot

import (
	"context"
	"errors"
	"fmt"
	"github.com/sessionbot/sessionbot/bot/policy"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionbot/sessionbot/iproyal"
)

// fakeChat is the core's Chat in memory: it records the trail, and can be
// told to fail a call or to run something when a call is made.
type fakeChat struct {
	mu       sync.Mutex
	posts    []string // channel: text
	replies  []string // ts: text (+ " [broadcast]")
	updates  []string // ts: text
	reacts   []string // ts: emoji
	postErr  error    // the announcement's
	replyErr error
	onPost   func() // called as the announcement is posted
}

func (c *fakeChat) Post(_ context.Context, channel, _ string, m Message) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.onPost != nil {
		c.onPost()
	}
	if c.postErr != nil && channel != "C0AUDIT" {
		return "", c.postErr
	}
	c.posts = append(c.posts, channel+": "+m.Text)
	return fmt.Sprintf("1764158400.%06d", len(c.posts)), nil
}

func (c *fakeChat) Reply(_ context.Context, _, ts string, m Message, broadcast bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.replyErr != nil {
		return c.replyErr
	}
	if broadcast {
		ts += " [broadcast]"
	}
	c.replies = append(c.replies, ts+": "+m.Text)
	return nil
}

func (c *fakeChat) Update(_ context.Context, _, ts string, m Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.updates = append(c.updates, ts+": "+m.Text)
	return nil
}

func (c *fakeChat) React(_ context.Context, _, ts, emoji string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reacts = append(c.reacts, ts+": "+emoji)
	return nil
}

func (c *fakeChat) Link(string, string) string { return "" }

func (c *fakeChat) Find(context.Context, string, string, Tag, time.Time) (string, error) {
	return "", nil
}

// fakeIPRoyal knows one sub-user, scraper-eu (hashB), and answers the
// reset as told.
type fakeIPRoyal struct {
	nopIPRoyal
	resetErr  error
	lookupErr error
	onReset   func(ctx context.Context)
	resets    int
}

func (f *fakeIPRoyal) FindSubusers(_ context.Context, names []string) (iproyal.Lookup, error) {
	if f.lookupErr != nil {
		return iproyal.Lookup{}, f.lookupErr
	}
	l := iproyal.Lookup{Found: map[string]iproyal.Subuser{}}
	for _, n := range names {
		if n == "scraper-eu" {
			l.Found[n] = iproyal.Subuser{Hash: hashB, Username: n}
		}
	}
	return l, nil
}

func (f *fakeIPRoyal) ResetSessions(ctx context.Context, _ []string) error {
	f.resets++
	if f.onReset != nil {
		f.onReset(ctx)
	}
	if f.resetErr != nil {
		return f.resetErr
	}
	return ctx.Err()
}

// TestEveryWayAResetEnds runs the one reset path in memory to each of its
// ends: what the requester is told, what the trail shows, what the journal
// keeps. The end-to-end tests keep the wiring and the real processes.
func TestEveryWayAResetEnds(t *testing.T) {
	typed := func(text string) Request {
		return Request{Via: ViaSlash, User: "U0ALICE", Channel: "C0GENERAL", Text: text}
	}
	form := func(targets ...string) Request {
		return Request{Via: ViaShortcut, User: "U0ALICE", Channel: "C0GENERAL", Targets: targets}
	}
	tests := []struct {
		name    string
		req     Request
		setup   func(*fakeChat, *fakeIPRoyal, context.CancelCauseFunc)
		outcome Outcome
		answer  string // in what the requester is told; "" for nothing
		problem string // in a form's problem
		replies string // in the thread
		state   State  // the journal's final state; "" for no entry
		resets  int
	}{
		{name: "reset", req: typed(hashA), outcome: OutcomeReset,
			replies: "Reset the sessions of 1 residential user", state: StateReset, resets: 1},
		{name: "reset by username", req: typed("scraper-eu"), outcome: OutcomeReset,
			replies: "Reset the sessions of 1 residential user", state: StateReset, resets: 1},
		{name: "IPRoyal refuses the token", req: typed(hashA), outcome: OutcomeFailed, state: StateFailed, resets: 1,
			setup: func(_ *fakeChat, f *fakeIPRoyal, _ context.CancelCauseFunc) {
				f.resetErr = &iproyal.APIError{StatusCode: 401}
			},
			replies: "[broadcast]: :x: <@U0ALICE> the reset failed. IPRoyal refused sessionbot's API token"},
		{name: "IPRoyal is down", req: typed(hashA), outcome: OutcomeFailed, state: StateFailed, resets: 1,
			setup: func(_ *fakeChat, f *fakeIPRoyal, _ context.CancelCauseFunc) {
				f.resetErr = &iproyal.APIError{StatusCode: 503}
			},
			replies: "IPRoyal had a server error (`503 Service Unavailable`)"},
		{name: "IPRoyal does not answer in time", req: typed(hashA), outcome: OutcomeFailed, state: StateFailed, resets: 1,
			setup: func(_ *fakeChat, f *fakeIPRoyal, _ context.CancelCauseFunc) {
				f.resetErr = fmt.Errorf("iproyal: %w", context.DeadlineExceeded)
			},
			replies: "the sessions may or may not have been reset"},
		{name: "stopped while IPRoyal has it", req: typed(hashA), outcome: OutcomeUnknown, state: StateUnknown, resets: 1,
			setup: func(_ *fakeChat, f *fakeIPRoyal, stop context.CancelCauseFunc) {
				f.onReset = func(context.Context) { stop(ErrStopping) }
			},
			replies: "sessionbot stopped (it is restarting) while IPRoyal had this reset"},
		{name: "stopped before IPRoyal is called", req: typed(hashA), outcome: OutcomeNotRun, state: StateFailed,
			setup: func(c *fakeChat, _ *fakeIPRoyal, stop context.CancelCauseFunc) {
				c.onPost = func() { stop(ErrStopping) }
			},
			replies: "Sessionbot stopped before it called IPRoyal, so nothing was reset"},
		{name: "not in the channel", req: typed(hashA), outcome: OutcomePostFailed, state: StateRefused,
			setup: func(c *fakeChat, _ *fakeIPRoyal, _ context.CancelCauseFunc) {
				c.postErr = &ChannelError{Problem: ChannelNotMember}
			},
			answer: "invite the bot with `/invite @sessionbot`"},
		{name: "Slack rate limits the announcement", req: typed(hashA), outcome: OutcomePostFailed, state: StateFailed,
			setup: func(c *fakeChat, _ *fakeIPRoyal, _ context.CancelCauseFunc) {
				c.postErr = &RateLimitedError{Err: errors.New("429")}
			},
			answer: "Slack is rate limiting sessionbot, so it could not announce the reset."},
		{name: "the thread cannot be reached", req: typed(hashA), outcome: OutcomeReset, state: StateReset, resets: 1,
			setup:  func(c *fakeChat, _ *fakeIPRoyal, _ context.CancelCauseFunc) { c.replyErr = errors.New("thread gone") },
			answer: "Reset the sessions of 1 residential user"},
		{name: "IPRoyal cannot look usernames up", req: typed("scraper-eu"), outcome: OutcomeLookupFailed,
			setup: func(_ *fakeChat, f *fakeIPRoyal, _ context.CancelCauseFunc) {
				f.lookupErr = &iproyal.APIError{StatusCode: 500}
			},
			answer: "could not look up the sub-user usernames. IPRoyal had a server error"},
		{name: "a bad target", req: typed(hashA + " ghost <!here>"), outcome: OutcomeInvalid,
			answer: "Nothing was reset: 2 targets are not valid."},
		{name: "a mistyped hash", req: typed(hashA[:25]), outcome: OutcomeInvalid, answer: "probably a mistyped residential user hash"},
		{name: "too many", req: typed("a b c d"), outcome: OutcomeTooMany, answer: "4 targets is more than the limit of 3"},
		{name: "no targets", req: typed("--dry-run"), outcome: OutcomeInvalid, answer: "no targets given"},
		{name: "a form without targets", req: form(), outcome: OutcomeInvalid, problem: "Pick or type at least one residential user."},
		{name: "a form without a channel", req: Request{Via: ViaPicker, User: "U0ALICE", Targets: []string{hashA}}, outcome: OutcomeInvalid,
			problem: "Pick the channel where the reset is announced."},
		{name: "not allowed", req: Request{Via: ViaSlash, User: "U0BOB", Channel: "C0GENERAL", Text: hashA}, outcome: OutcomeDenied,
			answer: "You are not allowed to reset IPRoyal sessions."},
		{name: "a dry run", req: typed("--dry-run " + hashA), outcome: OutcomeDryRun, answer: "Dry run: nothing was reset and nothing was posted."},
		{name: "a form's dry run", req: Request{Via: ViaPicker, User: "U0ALICE", Channel: "C0GENERAL", Targets: []string{hashA}, DryRun: true},
			outcome: OutcomeDryRun, answer: "Dry run"},
		{name: "more than CONFIRM_ABOVE", req: typed(hashA + " " + hashB + " " + hashC), outcome: OutcomeConfirmAsked,
			answer: "This resets the sessions of *3 residential users*", state: StateAwaiting},
		{name: "a form of more than CONFIRM_ABOVE", req: form(hashA, hashB, hashC), outcome: OutcomeConfirmAsked},
		{name: "a form's counted targets", req: Request{Via: ViaShortcut, User: "U0ALICE", Channel: "C0GENERAL", Targets: []string{hashA, hashB, hashC}, Counted: 3},
			outcome: OutcomeReset, state: StateReset, resets: 1, replies: "Reset the sessions of 3 residential users"},
		{name: "the command line", req: Request{Via: ViaCLI, User: "ops@bastion", Targets: []string{hashA}}, outcome: OutcomeReset,
			state: StateReset, resets: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chat, ipr, j := &fakeChat{}, &fakeIPRoyal{}, newMemJournal()
			ctx, stop := context.WithCancelCause(context.Background())
			defer stop(nil)
			if tt.setup != nil {
				tt.setup(chat, ipr, stop)
			}
			b := New(Config{Journal: j, ConfirmAbove: 2, MaxTargets: 3, AuditChannel: "C0AUDIT"},
				NewAuthorizer(policy.Everything([]string{"U0ALICE"}, nil, nil), nil, nil), ipr, chat)
			res := b.Handle(ctx, tt.req)
			if res.Outcome != tt.outcome {
				t.Fatalf("outcome %q, want %q (%+v)", res.Outcome, tt.outcome, res)
			}
			if tt.answer == "" && tt.problem == "" && tt.outcome != OutcomeConfirmAsked && res.Answer.Text != "" {
				t.Errorf("told %q, want nothing", res.Answer.Text)
			}
			if !strings.Contains(res.Answer.Text, tt.answer) {
				t.Errorf("told %q, want %q", res.Answer.Text, tt.answer)
			}
			if res.Answer.Text != "" && res.Answer.Footer != requestContext(res.RequestID) {
				t.Errorf("the answer's footer %q does not name its request %s", res.Answer.Footer, res.RequestID)
			}
			if tt.problem != "" && (res.Problem == nil || res.Problem.Text != tt.problem) {
				t.Errorf("problem %+v, want %q", res.Problem, tt.problem)
			}
			if replies := strings.Join(chat.replies, "\n"); !strings.Contains(replies, tt.replies) {
				t.Errorf("thread replies %q, want %q", replies, tt.replies)
			}
			b.Close(context.Background()) // the journal's last writes are behind the request
			var states []State
			for _, e := range j.entries {
				states = append(states, e.State)
			}
			switch {
			case tt.state == "" && len(states) > 0:
				t.Errorf("journal %v, want no entry", states)
			case tt.state != "" && (len(states) != 1 || states[0] != tt.state):
				t.Errorf("journal %v, want one entry, %s", states, tt.state)
			}
			if ipr.resets != tt.resets {
				t.Errorf("%d DELETEs, want %d", ipr.resets, tt.resets)
			}
		})
	}
}

// TestClicksEnd runs a confirmation's clicks to each of their ends.
func TestClicksEnd(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	chat, ipr, j := &fakeChat{}, &fakeIPRoyal{}, newMemJournal()
	b := New(Config{Journal: j, ConfirmAbove: 1, Now: func() time.Time { return now }},
		NewAuthorizer(policy.Everything([]string{"U0ALICE"}, nil, nil), nil, nil), ipr, chat)
	ask := func() string {
		res := b.Handle(context.Background(), Request{Via: ViaSlash, User: "U0ALICE", Channel: "C0GENERAL", Text: hashA + " " + hashB})
		if res.Answer.Confirm == "" {
			t.Fatalf("no confirmation: %+v", res)
		}
		return res.Answer.Confirm
	}
	click := func(user, tok string, confirm bool) Result {
		var said []string
		res := b.Handle(context.Background(), Request{Via: ViaClick, User: user, Channel: "C0GENERAL", Token: tok, Confirm: confirm,
			Proceed: func(now Result) bool { said = append(said, now.Answer.Text); return true }})
		if len(said) > 0 {
			res.Answer.Text = strings.Join(said, "\n") + "\n" + res.Answer.Text
		}
		return res
	}
	tok := ask()
	for _, tt := range []struct {
		name     string
		user     string
		tok      string
		confirm  bool
		outcome  Outcome
		answer   string
		replaces bool
	}{
		{"someone else's click", "U0BOB", tok, true, OutcomeNotYours, "Only <@U0ALICE>, who asked for this reset", false},
		{"a forged button", "U0ALICE", tok + "x", true, OutcomeBadClick, "This button is not valid", false},
		{"Confirm", "U0ALICE", tok, true, OutcomeReset, "Confirmed: resetting the sessions of 2 residential users", true},
		{"Confirm again", "U0ALICE", tok, true, OutcomeRepeatClick, "", true},
		{"Cancel after Confirm", "U0ALICE", tok, false, OutcomeRepeatClick, "already confirmed", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := click(tt.user, tt.tok, tt.confirm)
			if res.Outcome != tt.outcome || !strings.Contains(res.Answer.Text, tt.answer) || res.Replaces != tt.replaces {
				t.Errorf("%s: %q, %q (replaces %v); want %s, %q (replaces %v)", tt.name, res.Outcome, res.Answer.Text, res.Replaces, tt.outcome, tt.answer, tt.replaces)
			}
		})
	}
	if ipr.resets != 1 {
		t.Errorf("%d DELETEs for one confirmation, want 1", ipr.resets)
	}
	t.Run("Cancel", func(t *testing.T) {
		res := click("U0ALICE", ask(), false)
		if res.Outcome != OutcomeCancelled || !strings.Contains(res.Answer.Text, "Cancelled: the sessions of 2 residential users were not reset.") {
			t.Errorf("%q, %q", res.Outcome, res.Answer.Text)
		}
	})
	t.Run("too late", func(t *testing.T) {
		tok := ask()
		now = now.Add(b.cfg.ConfirmTTL)
		res := click("U0ALICE", tok, true)
		if res.Outcome != OutcomeExpired || !strings.Contains(res.Answer.Text, "This confirmation expired") {
			t.Errorf("%q, %q", res.Outcome, res.Answer.Text)
		}
	})
	t.Run("no longer allowed", func(t *testing.T) {
		tok := ask()
		b.auth = NewAuthorizer(policy.Everything([]string{"U0BOB"}, nil, nil), nil, nil)
		res := click("U0ALICE", tok, true)
		if res.Outcome != OutcomeDenied || !res.Replaces || !strings.Contains(res.Answer.Text, "You are not allowed") {
			t.Errorf("%q, %q", res.Outcome, res.Answer.Text)
		}
	})
	if ipr.resets != 1 {
		t.Errorf("%d DELETEs, want 1", ipr.resets)
	}
	final := map[State]int{}
	for _, e := range j.entries {
		final[e.State]++
	}
	if want := map[State]int{StateReset: 1, StateCancelled: 1, StateExpired: 1, StateRefused: 1}; fmt.Sprint(final) != fmt.Sprint(want) {
		t.Errorf("journal %v, want %v", final, want)
	}
}

// A form whose checks end after Slack stopped waiting runs nothing.
func TestALateFormRunsNothing(t *testing.T) {
	ipr := &fakeIPRoyal{}
	b := New(Config{}, NewAuthorizer(policy.Everything([]string{"U0ALICE"}, nil, nil), nil, nil), ipr, &fakeChat{})
	proceeded := false
	res := b.Handle(context.Background(), Request{Via: ViaPicker, User: "U0ALICE", Channel: "C0GENERAL", Targets: []string{hashA},
		AnswerBy: time.Now().Add(-time.Second), Proceed: func(Result) bool { proceeded = true; return true }})
	if res.Outcome != OutcomeNotRun || res.Problem == nil || res.Problem.Text != sayTooSlow || proceeded || ipr.resets != 0 {
		t.Errorf("%+v, proceeded %v, %d DELETEs", res, proceeded, ipr.resets)
	}
}
