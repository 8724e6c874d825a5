package bot

import (
	"context"
	"errors"
	"sync"
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
		policy        Policy
		groupErr      error
		user, channel string
		want          DenialReason
	}{
		{"listed user", Policy{Users: []string{"U0A"}}, nil, "U0A", "C1", ""},
		{"unlisted user", Policy{Users: []string{"U0A"}}, nil, "U0B", "C1", DeniedUser},
		{"group member", Policy{Groups: []string{"S0OPS"}}, nil, "U0GROUPIE", "C1", ""},
		{"not a group member", Policy{Groups: []string{"S0OPS"}}, nil, "U0B", "C1", DeniedUser},
		{"lookup fails: deny", Policy{Groups: []string{"S0OPS"}}, errors.New("slack down"), "U0GROUPIE", "C1", DeniedGroupLookup},
		{"lookup fails but the user is listed", Policy{Users: []string{"U0A"}, Groups: []string{"S0OPS"}}, errors.New("slack down"), "U0A", "C1", ""},
		{"allowed channel", Policy{Users: []string{"U0A"}, Channels: []string{"C1"}}, nil, "U0A", "C1", ""},
		{"other channel", Policy{Users: []string{"U0A"}, Channels: []string{"C1"}}, nil, "U0A", "C2", DeniedChannel},
		{"empty policy allows nobody", Policy{}, nil, "U0A", "C1", DeniedUser},
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
	a := NewAuthorizer(Policy{Groups: []string{"S0OPS"}}, groups, func() time.Time { return now })
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
	a := NewAuthorizer(Policy{Groups: []string{"S0OPS"}}, nil, nil)
	if got, _ := a.Authorize(context.Background(), "U0A", "C1"); got != DeniedGroupLookup {
		t.Fatalf("Authorize = %q", got)
	}
}
