package bot

import (
	"context"
	"fmt"
	"github.com/sessionbot/sessionbot/bot/policy"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// memJournal is a Journal in memory, whose Claim is atomic like Slack's
// reactions.add.
type memJournal struct {
	mu       sync.Mutex
	entries  map[string]Entry
	marks    map[string]bool
	rewrites []Entry
}

func newMemJournal(es ...Entry) *memJournal {
	j := &memJournal{entries: map[string]Entry{}, marks: map[string]bool{}}
	for _, e := range es {
		j.entries[e.Ref] = e
	}
	return j
}

func (j *memJournal) Write(_ context.Context, e Entry, _ Message) (string, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	e.Ref = fmt.Sprintf("%d.000000", len(j.entries)+1)
	j.entries[e.Ref] = e
	return e.Ref, nil
}

func (j *memJournal) Rewrite(_ context.Context, e Entry, _ Message) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.entries[e.Ref] = e
	j.rewrites = append(j.rewrites, e)
	return nil
}

func (j *memJournal) Claim(_ context.Context, ref, mark string) (bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.marks[ref+mark] {
		return false, nil
	}
	j.marks[ref+mark] = true
	return true, nil
}

func (j *memJournal) Read(_ context.Context, ref string) (Entry, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	e, ok := j.entries[ref]
	if !ok {
		return e, ErrNotFound
	}
	return e, nil
}

func (j *memJournal) Since(context.Context, time.Time) ([]Entry, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []Entry
	for _, e := range j.entries {
		out = append(out, e)
	}
	return out, nil
}

// recChat records what the core posts.
type recChat struct {
	nopChat
	mu      sync.Mutex
	replies []string
	reacts  []string
	updates []string
	posts   []string
}

func (c *recChat) Post(_ context.Context, ch, _ string, m Message) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.posts = append(c.posts, m.Text)
	return fmt.Sprintf("%d.000001", len(c.posts)), nil
}

func (c *recChat) Reply(_ context.Context, _, ts string, m Message, _ bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.replies = append(c.replies, ts+" "+m.Text)
	return nil
}

func (c *recChat) React(_ context.Context, _, ts, emoji string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reacts = append(c.reacts, ts+" "+emoji)
	return nil
}

func (c *recChat) Update(_ context.Context, _, ts string, m Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.updates = append(c.updates, ts+" "+m.Text)
	return nil
}

func slackTS(t time.Time) string { return fmt.Sprintf("%d.%06d", t.Unix(), t.Nanosecond()/1000) }

func TestSweepMarksOrphansOnceAndExpiresConfirmations(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	timeout := 5 * time.Second
	started := func(ref, id string, ago time.Duration) Entry {
		at := now.Add(-ago)
		return Entry{Ref: ref, RequestID: id, State: StateStarted, User: "U1", Channel: "C1", Thread: slackTS(at), Announced: at, Started: at, Targets: []Target{{Hash: hashA}}}
	}
	done := started("3", "done", time.Hour)
	done.State = StateReset
	approved := started("6", "approved", time.Hour) // announced an hour ago, approved just now: running
	approved.Decider, approved.Decided = "U2", now.Add(-time.Second)
	j := newMemJournal(
		started("1", "orphan", timeout+orphanMargin+time.Second),
		started("2", "young", 3*time.Second),
		done,
		Entry{Ref: "4", RequestID: "unclicked", State: StateAwaiting, User: "U1", Channel: "C1", Expires: now.Add(-orphanMargin - time.Second)},
		Entry{Ref: "5", RequestID: "cli", State: StateStarted, Source: SourceCLI, User: "ops@host", Started: now.Add(-time.Minute)},
		approved,
	)
	var chats []*recChat
	var bots []*Bot
	for range 2 { // two replicas sweep the same journal at once
		c := &recChat{}
		chats = append(chats, c)
		bots = append(bots, New(Config{Journal: j, CommandTimeout: timeout, Now: func() time.Time { return now }}, NewAuthorizer(policy.Everything(nil, nil, nil), nil, nil), nil, c))
	}
	var wg sync.WaitGroup
	nexts := make([]time.Time, 2)
	for i, b := range bots {
		wg.Go(func() { nexts[i] = b.Sweep(context.Background()) })
	}
	wg.Wait()

	var replies, reacts []string
	for _, c := range chats {
		replies = append(replies, c.replies...)
		reacts = append(reacts, c.reacts...)
	}
	if len(replies) != 1 || !strings.Contains(replies[0], "the outcome of this reset is unknown") || !strings.HasPrefix(replies[0], j.entries["1"].Thread) {
		t.Errorf("orphan replies = %q, want one in the orphan's thread", replies)
	}
	if len(reacts) != 1 || !strings.HasSuffix(reacts[0], "warning") {
		t.Errorf("reactions = %q", reacts)
	}
	for ref, want := range map[string]State{"1": StateUnknown, "2": StateStarted, "3": StateReset, "4": StateExpired, "5": StateUnknown, "6": StateStarted} {
		if got := j.entries[ref].State; got != want {
			t.Errorf("entry %s (%s) is %s, want %s", ref, j.entries[ref].RequestID, got, want)
		}
	}
	// The orphans: a pending then a done rewrite when a thread shows it, one
	// when none does (the command line); the expiry, one.
	if n := len(j.rewrites); n != 4 {
		t.Errorf("%d rewrites, want 4 (each entry closed once)", n)
	}
	due := now.Add(-3 * time.Second).Add(timeout + orphanMargin) // the young reset's; the approved one's comes later
	for i, next := range nexts {
		if !next.Equal(due) {
			t.Errorf("replica %d: next sweep at %v, want %v, when the young reset comes due", i, next, due)
		}
	}
}

func TestDenialsAreMirroredOncePerWindow(t *testing.T) {
	c := &recChat{}
	b := New(Config{AuditChannel: "C0AUDIT"}, NewAuthorizer(policy.Everything([]string{"U0ALICE"}, nil, nil), nil, nil), nil, c)
	b.denials.window = 50 * time.Millisecond
	for range 12 {
		b.denials.mirror("a1b2c3d4", "U0BOB", "C1", DeniedUser)
	}
	b.denials.mirror("a1b2c3d5", "U0EVE", "C1", DeniedUser)
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		n := len(c.updates)
		c.mu.Unlock()
		if n == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.posts) != 2 {
		t.Errorf("%d audit posts for two refused users, want 2: %q", len(c.posts), c.posts)
	}
	if len(c.updates) != 1 || !strings.Contains(c.updates[0], "<@U0BOB> was refused 12 times in the last minute, last in <#C1>: not in ALLOWED_USERS.") {
		t.Errorf("updates = %q, want Bob's count", c.updates)
	}
}

// barrierChat holds each of the trail's calls (the thread reply, the
// reaction, the announcement's update) until all of them have been made.
// Made one after another, the first would wait for the others forever;
// made together, each is one round trip after the outcome is journalled.
type barrierChat struct {
	nopChat
	arrived chan string
	release chan struct{}
	once    sync.Once
	want    int
	j       *memJournal
}

func (c *barrierChat) wait(ctx context.Context, what string) error {
	c.j.mu.Lock()
	recorded := len(c.j.rewrites) > 0 && !c.j.rewrites[len(c.j.rewrites)-1].State.Open()
	c.j.mu.Unlock()
	if !recorded {
		what += " before the outcome was journalled"
	}
	c.arrived <- what
	if len(c.arrived) == c.want {
		c.once.Do(func() { close(c.release) })
	}
	select {
	case <-c.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *barrierChat) Reply(ctx context.Context, _, _ string, m Message, _ bool) error {
	return c.wait(ctx, "reply")
}
func (c *barrierChat) React(ctx context.Context, _, _, _ string) error { return c.wait(ctx, "react") }
func (c *barrierChat) Update(ctx context.Context, _, _ string, _ Message) error {
	return c.wait(ctx, "update")
}

func TestTheOutcomeIsJournalledThenShownInOneRoundTrip(t *testing.T) {
	j := newMemJournal()
	c := &barrierChat{arrived: make(chan string, 3), release: make(chan struct{}), want: 3, j: j}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b := New(Config{Journal: j}, NewAuthorizer(policy.Everything([]string{"U1"}, nil, nil), nil, nil), nopIPRoyal{}, c)
	b.Handle(ctx, Request{Via: ViaSlash, User: "U1", Channel: "C1", Text: hashA})
	if ctx.Err() != nil {
		t.Fatalf("the trail's calls were made one after another: only %d of 3 before the first gave up", len(c.arrived))
	}
	close(c.arrived)
	var got []string
	for what := range c.arrived {
		got = append(got, what)
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"react", "reply", "update"}) {
		t.Errorf("calls = %v", got)
	}
	b.Close(ctx) // the trail marked done, behind the request
	j.mu.Lock()
	defer j.mu.Unlock()
	var states []string
	for _, e := range j.rewrites {
		states = append(states, string(e.State)+"/"+string(e.Trail))
	}
	if want := []string{"started/", "reset/pending", "reset/done"}; !slices.Equal(states, want) {
		t.Errorf("journal rewrites %v, want %v", states, want)
	}
}
