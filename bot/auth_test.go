package bot

import (
	"context"
	"errors"
	"github.com/sessionbot/sessionbot/bot/policy"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type fakeGroups struct {
	mu      sync.Mutex
	members map[string][]string
	err     error
	calls   int
}

func (f *fakeGroups) GroupMembers(_ context.Context, g string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	return f.members[g], nil
}

func TestAuthorize(t *testing.T) {
	groups := &fakeGroups{members: map[string][]string{"S0OPS": {"U0GROUPIE"}}}
	tests := []struct {
		name          string
		policy        *policy.Policy
		groupErr      error
		user, channel string
		want          DenialReason
	}{
		{"listed user", policy.Everything([]string{"U0A"}, nil, nil), nil, "U0A", "C1", ""},
		{"unlisted user", policy.Everything([]string{"U0A"}, nil, nil), nil, "U0B", "C1", DeniedUser},
		{"group member", policy.Everything(nil, []string{"S0OPS"}, nil), nil, "U0GROUPIE", "C1", ""},
		{"not a group member", policy.Everything(nil, []string{"S0OPS"}, nil), nil, "U0B", "C1", DeniedUser},
		{"lookup fails: deny", policy.Everything(nil, []string{"S0OPS"}, nil), errors.New("slack down"), "U0GROUPIE", "C1", DeniedGroupLookup},
		{"lookup fails but the user is listed", policy.Everything([]string{"U0A"}, []string{"S0OPS"}, nil), errors.New("slack down"), "U0A", "C1", ""},
		{"allowed channel", policy.Everything([]string{"U0A"}, nil, []string{"C1"}), nil, "U0A", "C1", ""},
		{"other channel", policy.Everything([]string{"U0A"}, nil, []string{"C1"}), nil, "U0A", "C2", DeniedChannel},
		{"empty policy allows nobody", policy.Everything(nil, nil, nil), nil, "U0A", "C1", DeniedUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			groups.err = tt.groupErr
			a := NewAuthorizer(tt.policy, groups, nil)
			got, lookupErr := a.Authorize(context.Background(), tt.user, tt.channel)
			if got != tt.want {
				t.Fatalf("Authorize = %q, want %q", got, tt.want)
			}
			if (got == DeniedGroupLookup) != (lookupErr != nil) {
				t.Errorf("lookup error %v with reason %q", lookupErr, got)
			}
		})
	}
}

func TestGroupMembershipIsCachedForAMinute(t *testing.T) {
	groups := &fakeGroups{members: map[string][]string{"S0OPS": {"U0A"}}}
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	a := NewAuthorizer(policy.Everything(nil, []string{"S0OPS"}, nil), groups, func() time.Time { return now })
	check := func(user string, want DenialReason, wantCalls int) {
		t.Helper()
		if got, _ := a.Authorize(context.Background(), user, "C1"); got != want {
			t.Fatalf("Authorize(%s) = %q, want %q", user, got, want)
		}
		if groups.calls != wantCalls {
			t.Fatalf("lookups = %d, want %d", groups.calls, wantCalls)
		}
	}
	check("U0A", "", 1)
	now = now.Add(59 * time.Second)
	check("U0A", "", 1)
	groups.members["S0OPS"] = nil // removed from the group
	now = now.Add(2 * time.Second)
	check("U0A", DeniedUser, 2)

	// A failed lookup is not cached: the next command asks again.
	groups.err = errors.New("down")
	now = now.Add(time.Minute)
	check("U0A", DeniedGroupLookup, 3)
	groups.err = nil
	groups.members["S0OPS"] = []string{"U0A"}
	check("U0A", "", 4)
}

func TestNoGroupListerDeniesGroupMembers(t *testing.T) {
	a := NewAuthorizer(policy.Everything(nil, []string{"S0OPS"}, nil), nil, nil)
	if got, _ := a.Authorize(context.Background(), "U0A", "C1"); got != DeniedGroupLookup {
		t.Fatalf("Authorize = %q", got)
	}
}

// Decided answers from memory, or says it cannot.
func TestDecidedNeedsNoLookup(t *testing.T) {
	groups := &fakeGroups{members: map[string][]string{"S0OPS": {"U0GROUPIE"}}}
	a := NewAuthorizer(policy.Everything([]string{"U0A"}, []string{"S0OPS"}, []string{"C1"}), groups, nil)
	for _, tt := range []struct {
		user, channel string
		reason        DenialReason
		known         bool
	}{
		{"U0A", "C1", "", true},
		{"U0A", "C2", DeniedChannel, true},
		{"U0GROUPIE", "C1", "", false}, // the group is not cached yet
		{"U0B", "C1", "", false},
	} {
		reason, known := a.Decided(tt.user, tt.channel)
		if reason != tt.reason || known != tt.known {
			t.Errorf("Decided(%s, %s) = %q, %v; want %q, %v", tt.user, tt.channel, reason, known, tt.reason, tt.known)
		}
	}
	if groups.calls != 0 {
		t.Fatalf("Decided looked up %d groups", groups.calls)
	}
	if r, _ := a.Authorize(context.Background(), "U0B", "C1"); r != DeniedUser {
		t.Fatal(r)
	}
	if reason, known := a.Decided("U0B", "C1"); reason != DeniedUser || !known {
		t.Errorf("once the group is cached, Decided = %q, %v", reason, known)
	}
}

// However many requests need a group at once, it is looked up once.
func TestConcurrentLookupsOfAGroupAreOne(t *testing.T) {
	release := make(chan struct{})
	groups := &slowGroups{release: release}
	a := NewAuthorizer(policy.Everything(nil, []string{"S0OPS"}, nil), groups, nil)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { _, _ = a.Authorize(context.Background(), "U0B", "C1") })
	}
	for groups.started.Load() == 0 {
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if n := groups.started.Load(); n != 1 {
		t.Errorf("%d lookups for 50 requests at once, want 1", n)
	}
}

type slowGroups struct {
	release chan struct{}
	started atomic.Int32
	ctxErr  atomic.Value // the lookup's context's error when it was released
}

func (g *slowGroups) GroupMembers(ctx context.Context, _ string) ([]string, error) {
	g.started.Add(1)
	select {
	case <-g.release:
	case <-ctx.Done():
	}
	if err := ctx.Err(); err != nil {
		g.ctxErr.Store(err)
		return nil, err
	}
	return []string{"U0A"}, nil
}

// A caller that gives up on a group's lookup stops waiting, but the lookup
// goes on for everyone else waiting on it: it runs under a context of its
// own, not the first caller's.
func TestAGroupLookupOutlivesItsFirstCaller(t *testing.T) {
	groups := &slowGroups{release: make(chan struct{})}
	a := NewAuthorizer(policy.Everything(nil, []string{"S0OPS"}, nil), groups, nil)
	first, giveUp := context.WithCancel(context.Background())
	firstDone := make(chan DenialReason, 1)
	go func() { r, _ := a.Authorize(first, "U0A", "C1"); firstDone <- r }()
	for groups.started.Load() == 0 {
		runtime.Gosched()
	}
	second := make(chan DenialReason, 1)
	go func() { r, _ := a.Authorize(context.Background(), "U0A", "C1"); second <- r }()
	giveUp()
	if r := <-firstDone; r != DeniedGroupLookup {
		t.Errorf("the caller that gave up got %q, want %q", r, DeniedGroupLookup)
	}
	close(groups.release)
	if r := <-second; r != "" {
		t.Errorf("a caller waiting on the same lookup was refused (%q) because the first gave up", r)
	}
	if err := groups.ctxErr.Load(); err != nil {
		t.Errorf("the shared lookup was cancelled with its first caller: %v", err)
	}
	if n := groups.started.Load(); n != 1 {
		t.Errorf("%d lookups, want 1", n)
	}
}
