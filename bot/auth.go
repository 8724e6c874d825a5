package bot

import (
	"context"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// GroupCacheTTL is how long a user group's member list is trusted.
const GroupCacheTTL = time.Minute

// GroupLister returns the member IDs of a Slack user group.
type GroupLister interface {
	GroupMembers(ctx context.Context, groupID string) ([]string, error)
}

// Policy says who may reset sessions, and where.
type Policy struct {
	Users    []string // Slack user IDs
	Groups   []string // user group IDs whose members are allowed
	Channels []string // if set, the only channels the command works in
}

// DenialReason says why a requester was refused.
type DenialReason string

// The reasons a request is denied.
const (
	DeniedChannel     DenialReason = "channel_not_allowed"
	DeniedUser        DenialReason = "user_not_allowed"
	DeniedGroupLookup DenialReason = "group_lookup_failed"
)

// Authorizer decides whether a requester may reset sessions. It fails
// closed: when a group's members cannot be listed, that group allows nobody.
type Authorizer struct {
	policy Policy
	groups GroupLister
	now    func() time.Time

	mu      sync.Mutex
	cache   map[string]groupEntry
	lookups singleflight.Group // one lookup per group at a time, however many ask
}

type groupEntry struct {
	members map[string]bool
	fetched time.Time
}

// NewAuthorizer returns an Authorizer; groups may be nil when no lister exists.
func NewAuthorizer(p Policy, groups GroupLister, now func() time.Time) *Authorizer {
	if now == nil {
		now = time.Now
	}
	return &Authorizer{policy: p, groups: groups, now: now, cache: map[string]groupEntry{}}
}

// Policy returns the rules the Authorizer enforces.
func (a *Authorizer) Policy() Policy { return a.policy }

// Authorize returns "" when user may reset sessions from channel, and the
// reason for refusing otherwise. lookupErr is the group lookup failure, if
// one decided the answer; it is for the log, not for the user. An empty
// channel is a request with no channel yet (the App Home, a form before its
// channel is picked): only the user is checked, and the channel is when
// one is chosen.
func (a *Authorizer) Authorize(ctx context.Context, user, channel string) (reason DenialReason, lookupErr error) {
	if !a.channelAllowed(channel) {
		return DeniedChannel, nil
	}
	if slices.Contains(a.policy.Users, user) {
		return "", nil
	}
	for _, g := range a.policy.Groups {
		members, err := a.members(ctx, g)
		if err != nil {
			lookupErr = err
			continue
		}
		if members[user] {
			return "", nil
		}
	}
	if lookupErr != nil {
		return DeniedGroupLookup, lookupErr
	}
	return DeniedUser, nil
}

// Decided is Authorize from memory alone: known is false when the answer
// needs a group's members that are not cached. It lets a refusal be given
// before the request costs anything.
func (a *Authorizer) Decided(user, channel string) (reason DenialReason, known bool) {
	if !a.channelAllowed(channel) {
		return DeniedChannel, true
	}
	if slices.Contains(a.policy.Users, user) {
		return "", true
	}
	for _, g := range a.policy.Groups {
		members, ok := a.cached(g)
		if !ok {
			return "", false
		}
		if members[user] {
			return "", true
		}
	}
	return DeniedUser, true
}

// channelAllowed says whether the policy allows channel; no channel is not
// refused here.
func (a *Authorizer) channelAllowed(channel string) bool {
	return channel == "" || len(a.policy.Channels) == 0 || slices.Contains(a.policy.Channels, channel)
}

func (a *Authorizer) cached(group string) (map[string]bool, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.cache[group]
	if !ok || a.now().Sub(e.fetched) >= GroupCacheTTL {
		return nil, false
	}
	return e.members, true
}

func (a *Authorizer) members(ctx context.Context, group string) (map[string]bool, error) {
	if members, ok := a.cached(group); ok {
		return members, nil
	}
	if a.groups == nil {
		return nil, errNoGroupLister
	}
	v, err, _ := a.lookups.Do(group, func() (any, error) {
		ids, err := a.groups.GroupMembers(ctx, group)
		if err != nil {
			return nil, err
		}
		e := groupEntry{members: make(map[string]bool, len(ids)), fetched: a.now()}
		for _, id := range ids {
			e.members[id] = true
		}
		a.mu.Lock()
		a.cache[group] = e
		a.mu.Unlock()
		return e.members, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(map[string]bool), nil
}
