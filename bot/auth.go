package bot

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/sessionbot/sessionbot/bot/policy"
)

// GroupCacheTTL is how long a user group's member list is trusted.
const GroupCacheTTL = time.Minute

// groupLookupTimeout bounds one lookup of a group's members, which every
// request waiting on it shares.
const groupLookupTimeout = 10 * time.Second

// maxCachedGroups bounds the groups whose members are kept.
const maxCachedGroups = 1000

// DenialReason says why a requester was refused.
type DenialReason string

// The reasons a request is denied.
const (
	DeniedChannel     DenialReason = "channel_not_allowed"
	DeniedUser        DenialReason = "user_not_allowed"
	DeniedGroupLookup DenialReason = "group_lookup_failed"
	DeniedTargets     DenialReason = "targets_not_allowed" // allowed here, but not every target
)

// Authorizer decides, by its policy, whether a requester may reset, and
// which sub-users. It fails closed: when a group's members cannot be
// listed, that group allows nobody. Its policy can be replaced while it
// runs (a policy file reloaded), atomically, between requests.
type Authorizer struct {
	policy  atomic.Pointer[policy.Policy]
	groups  GroupLister
	members *cache[string, map[string]bool]
	lookups singleflight.Group // one lookup per group at a time, however many ask
}

// NewAuthorizer returns an Authorizer of p; groups may be nil when no
// lister exists (the shell), and then groups allow nobody.
func NewAuthorizer(p *policy.Policy, groups GroupLister, now func() time.Time) *Authorizer {
	if now == nil {
		now = time.Now
	}
	a := &Authorizer{groups: groups, members: newCache[string, map[string]bool](maxCachedGroups, now)}
	a.policy.Store(p)
	return a
}

// Policy returns the policy the Authorizer enforces now.
func (a *Authorizer) Policy() *policy.Policy { return a.policy.Load() }

// SetPolicy replaces the policy, for every request from now on.
func (a *Authorizer) SetPolicy(p *policy.Policy) { a.policy.Store(p) }

// Authorize returns "" when user may reset some sub-user from channel, and
// the reason for refusing otherwise. lookupErr is the group lookup failure,
// if one decided the answer; it is for the log, not for the user. An empty
// channel is a request with no channel yet (the App Home, a form before
// its channel is picked): any channel will do.
func (a *Authorizer) Authorize(ctx context.Context, user, channel string) (reason DenialReason, lookupErr error) {
	member, failed := a.member(ctx, user)
	return a.decide(a.Policy(), user, channel, member, failed)
}

// Decided is Authorize from memory alone: known is false when the answer
// needs a group's members that are not cached. It lets a refusal be given
// before the request costs anything.
func (a *Authorizer) Decided(user, channel string) (reason DenialReason, known bool) {
	known = true
	member := func(g string) bool {
		members, ok := a.members.Get(g)
		known = known && ok
		return members[user]
	}
	reason, _ = a.decide(a.Policy(), user, channel, member, func() error { return nil })
	if reason != "" && !known {
		return "", false // a group not cached may allow them
	}
	return reason, true
}

func (a *Authorizer) decide(p *policy.Policy, user, channel string, member func(string) bool, failed func() error) (DenialReason, error) {
	if p.FromEnvironment() {
		// ALLOWED_CHANNELS holds for everyone, allowed or not.
		if g := p.Grants[0]; channel != "" && len(g.Channels) > 0 && !slices.Contains(g.Channels, channel) {
			return DeniedChannel, nil
		}
	}
	req := policy.Requester{User: user, Channel: channel, Member: member}
	if !p.Scope(req).Empty() {
		return "", nil
	}
	if channel != "" {
		req.Channel = ""
		if !p.Scope(req).Empty() {
			return DeniedChannel, nil // they may, but not here
		}
	}
	if err := failed(); err != nil {
		return DeniedGroupLookup, err
	}
	return DeniedUser, nil
}

// Scope is what user may reset in channel (anywhere, when it is empty).
func (a *Authorizer) Scope(ctx context.Context, user, channel string) policy.Scope {
	member, _ := a.member(ctx, user)
	return a.Policy().Scope(policy.Requester{User: user, Channel: channel, Member: member})
}

// Decide is the policy's decision on user's targets in channel.
func (a *Authorizer) Decide(ctx context.Context, user, channel string, targets []policy.Target) (policy.Decision, error) {
	member, failed := a.member(ctx, user)
	d := a.Policy().Decide(policy.Requester{User: user, Channel: channel, Member: member}, targets)
	return d, failed()
}

// member is user's membership test, for one decision: each group looked
// up once, from the cache when it can be. failed returns a lookup that
// failed, if one did.
func (a *Authorizer) member(ctx context.Context, user string) (member func(group string) bool, failed func() error) {
	var lookupErr error
	known := map[string]bool{}
	return func(group string) bool {
			if in, ok := known[group]; ok {
				return in
			}
			members, err := a.groupMembers(ctx, group)
			if err != nil {
				lookupErr = err
			}
			known[group] = members[user]
			return known[group]
		}, func() error {
			return lookupErr
		}
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

// Approves reports whether user is an approver of every set in approvers
// (each of user and user group IDs): listed, or a member of a listed group
// now. Membership is looked up at the call, never answered from the
// cache, so that someone who left a group no longer approves; the answer
// refreshes the cache. err is a lookup that failed: its group counts as
// not theirs.
func (a *Authorizer) Approves(ctx context.Context, user string, approvers [][]string) (bool, error) {
	if len(approvers) == 0 {
		return false, nil
	}
	var lookupErr error
	member := func(group string) bool {
		if a.groups == nil {
			lookupErr = errNoGroupLister
			return false
		}
		ids, err := a.groups.GroupMembers(ctx, group)
		if err != nil {
			lookupErr = err
			return false
		}
		members := make(map[string]bool, len(ids))
		for _, id := range ids {
			members[id] = true
		}
		a.members.Put(group, members, a.members.now().Add(GroupCacheTTL))
		return members[user]
	}
	for _, set := range approvers {
		var ap policy.Approval
		for _, id := range set {
			if strings.HasPrefix(id, "S") {
				ap.Usergroups = append(ap.Usergroups, id)
			} else {
				ap.Users = append(ap.Users, id)
			}
		}
		if !ap.Approves(user, member) {
			return false, lookupErr
		}
	}
	return true, nil
}
