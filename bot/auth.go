package bot

import (
	"context"
	"slices"
	"time"

	"golang.org/x/sync/singleflight"
)

// GroupCacheTTL is how long a user group's member list is trusted.
const GroupCacheTTL = time.Minute

// groupLookupTimeout bounds one lookup of a group's members, which every
// request waiting on it shares.
const groupLookupTimeout = 10 * time.Second

// maxCachedGroups bounds the groups whose members are kept.
const maxCachedGroups = 1000

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
	policy  Policy
	groups  GroupLister
	members *cache[string, map[string]bool]
	lookups singleflight.Group // one lookup per group at a time, however many ask
}

// NewAuthorizer returns an Authorizer; groups may be nil when no lister exists.
func NewAuthorizer(p Policy, groups GroupLister, now func() time.Time) *Authorizer {
	if now == nil {
		now = time.Now
	}
	return &Authorizer{policy: p, groups: groups, members: newCache[string, map[string]bool](maxCachedGroups, now)}
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
		members, err := a.groupMembers(ctx, g)
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
		members, ok := a.members.Get(g)
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

// groupMembers is a group's members, from the cache or from one lookup
// that every caller asking meanwhile shares. The lookup runs under a
// context of its own, with its own timeout: a caller that gives up stops
// waiting, and does not fail the lookup for the others.
func (a *Authorizer) groupMembers(ctx context.Context, group string) (map[string]bool, error) {
	if members, ok := a.members.Get(group); ok {
		return members, nil
	}
	if a.groups == nil {
		return nil, errNoGroupLister
	}
	lookup := a.lookups.DoChan(group, func() (any, error) {
		if members, ok := a.members.Get(group); ok {
			return members, nil // a lookup that ended a moment ago
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), groupLookupTimeout)
		defer cancel()
		ids, err := a.groups.GroupMembers(ctx, group)
		if err != nil {
			return nil, err
		}
		members := make(map[string]bool, len(ids))
		for _, id := range ids {
			members[id] = true
		}
		a.members.Put(group, members, a.members.now().Add(GroupCacheTTL))
		return members, nil
	})
	select {
	case res := <-lookup:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(map[string]bool), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
