package bot

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sessionbot/sessionbot/bot/policy"
)

// staleJournal is a memJournal whose Since gives what a sweep read a while
// ago: the entries as they were then, whatever was written since.
type staleJournal struct {
	*memJournal
	then []Entry
}

func (j *staleJournal) Since(context.Context, time.Time) ([]Entry, error) { return j.then, nil }

// A sweep closes "a request whose approval click was claimed by a process
// that stopped" (expireApproval) from the entry as its read of the journal
// found it. A sweep that read the journal, then spent longer than
// COMMAND_TIMEOUT and 10 s on the entries before this one (each close may
// take markTimeout, 15 s, under a slow Slack), reaches an entry whose
// approver's click has since written "started", reset the sessions, and
// recorded "reset". It must not write "expired: nothing was reset" over
// that.
func TestASweepDoesNotExpireAnApprovalFromAStaleRead(t *testing.T) {
	asked := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	timeout := 2 * time.Minute
	waiting := Entry{
		Ref: "1.000000", RequestID: "req1", State: StateApproval, Source: SourceSlack, User: "U0ASKER", Channel: "C1",
		Thread: slackTS(asked), Announced: asked, Started: asked, Expires: asked.Add(30 * time.Minute),
		Targets: []Target{{Hash: hashA}}, Approvers: [][]string{{"U0APPROVER"}},
	}
	approved := waiting // what the click recorded, after the sweep's read
	approved.State, approved.Decider, approved.Decided, approved.Trail = StateReset, "U0APPROVER", asked.Add(29*time.Minute), TrailDone
	j := &staleJournal{memJournal: newMemJournal(approved), then: []Entry{waiting}}
	j.marks[waiting.Ref+markDecided] = true // the click's claim

	now := waiting.Expires.Add(timeout + orphanMargin + time.Second)
	c := &recChat{}
	b := New(Config{Journal: j, CommandTimeout: timeout, Now: func() time.Time { return now }},
		NewAuthorizer(policy.Everything([]string{"U0ASKER"}, nil, nil), nil, nil), nopIPRoyal{}, c)
	b.Sweep(context.Background())

	if got := j.entries[waiting.Ref]; got.State != StateReset {
		t.Errorf("the entry of a request approved and reset is now %q (reason %q)", got.State, got.Reason)
	}
	for _, said := range append(append([]string{}, c.replies...), c.updates...) {
		if strings.Contains(said, "nothing was reset") {
			t.Errorf("the channel was told %q, after a reset", said)
		}
	}
}

// approveChat keeps the approval token of each announcement it is given.
type approveChat struct {
	fakeChat
	tokens []string
}

func (c *approveChat) Post(ctx context.Context, channel, thread string, m Message) (string, error) {
	c.mu.Lock()
	if m.Approve != "" {
		c.tokens = append(c.tokens, m.Approve)
	}
	c.mu.Unlock()
	return c.fakeChat.Post(ctx, channel, thread, m)
}

// A click whose token is signed but does not match the journal entry it
// names (other targets, another request's entry) changes nothing: no
// claim, no reset. (Signed tokens cannot be made without the key; this is
// the second line, should one be.)
func TestAnApprovalTokenThatIsNotTheEntryChangesNothing(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	key := []byte("0123456789abcdef0123456789abcdef")
	a, err := policy.EnvApproval(1, []string{"U0APPROVER"}, 30*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	chat, ipr, j := &approveChat{}, &fakeIPRoyal{}, newMemJournal()
	b := New(Config{Journal: j, ConfirmKey: key, Now: func() time.Time { return now }},
		NewAuthorizer(policy.Everything([]string{"U0ALICE"}, nil, nil).WithApproval(*a), nil, nil), ipr, chat)
	res := b.Handle(context.Background(), Request{Via: ViaSlash, User: "U0ALICE", Channel: "C0GENERAL", Text: hashA + " " + hashB})
	if res.Outcome != OutcomeApprovalAsked || len(chat.tokens) != 1 {
		t.Fatalf("not asked for approval: %q %q", res.Outcome, res.Answer.Text)
	}
	p, err := openToken(key, chat.tokens[0])
	if err != nil || !p.Approval {
		t.Fatalf("the announcement's token: %+v, %v", p, err)
	}
	other := p
	other.Targets = []Target{{Hash: hashA}, {Hash: hashC}}
	elsewhere := p
	elsewhere.Ref = "9.000000" // no entry there
	for name, forged := range map[string]pending{"other targets": other, "another entry": elsewhere} {
		tok, err := sealToken(key, forged, MaxTokenLen)
		if err != nil {
			t.Fatal(err)
		}
		res := b.Handle(context.Background(), Request{Via: ViaClick, User: "U0APPROVER", Channel: "C0GENERAL", Token: tok, Confirm: true})
		if res.Outcome != OutcomeBadClick && res.Outcome != OutcomeClickFailed {
			t.Errorf("%s: %q %q, want it refused", name, res.Outcome, res.Answer.Text)
		}
	}
	if ipr.resets != 0 || len(j.marks) != 0 {
		t.Errorf("%d resets and claims %v after forged clicks", ipr.resets, j.marks)
	}
	// The genuine one still decides.
	if res := b.Handle(context.Background(), Request{Via: ViaClick, User: "U0APPROVER", Channel: "C0GENERAL", Token: chat.tokens[0], Confirm: true}); res.Outcome != OutcomeReset || ipr.resets != 1 {
		t.Errorf("the genuine Approve: %q %q, %d resets", res.Outcome, res.Answer.Text, ipr.resets)
	}
}
