package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/sessionbot/sessionbot/iproyal"
)

// Home is what a user's App Home tab shows: whether they may reset and
// where, the account, and how to use every way in, in words the transport
// lays out.
type Home struct {
	User         string
	Allowed      bool
	Access       string // mrkdwn: whether they may reset, and where, or why not
	Account      string // mrkdwn: the account's traffic and sub-users, or why it is missing; "" when not shown
	Ways         string // mrkdwn: every way in
	Button       string // the label of the button that opens the picker, when allowed
	Command      string
	MaxTargets   int
	ConfirmAbove int
}

// accountTTL is how long the home tab trusts IPRoyal's account status, and
// accountRetry how long it waits before asking again after a failure, so an
// IPRoyal outage costs one call a while, not one per tab opened.
const (
	accountTTL     = time.Minute
	accountRetry   = 15 * time.Second
	accountTimeout = 3 * time.Second // the home tab does not wait longer for it
)

// account caches GET /me for the home tab: one call at a time, however
// many tabs open, under a context of its own.
type account struct {
	ipr   IPRoyal
	last  *cache[struct{}, accountStatus]
	calls singleflight.Group
}

type accountStatus struct {
	a   iproyal.Account
	err error
}

func newAccount(ipr IPRoyal, now func() time.Time) *account {
	return &account{ipr: ipr, last: newCache[struct{}, accountStatus](1, now)}
}

// get is GET /me, from the cache when it is fresh; a failure is remembered
// for accountRetry.
func (c *account) get(ctx context.Context) (iproyal.Account, error) {
	if s, ok := c.last.Get(struct{}{}); ok {
		return s.a, s.err
	}
	call := c.calls.DoChan("me", func() (any, error) {
		if s, ok := c.last.Get(struct{}{}); ok {
			return s.a, s.err // a call that ended a moment ago
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), accountTimeout)
		defer cancel()
		a, err := c.ipr.Me(ctx)
		ttl := accountTTL
		if err != nil {
			ttl = accountRetry
		}
		c.last.Put(struct{}{}, accountStatus{a, err}, c.last.now().Add(ttl))
		return a, err
	})
	select {
	case res := <-call:
		a, _ := res.Val.(iproyal.Account)
		return a, res.Err
	case <-ctx.Done():
		return iproyal.Account{}, ctx.Err()
	}
}

// Home says what user's App Home tab shows. The account status is cached
// for a minute: everyone opening the tab does not cost a call each.
func (b *Bot) Home(ctx context.Context, user string) Home {
	h := Home{User: user, Command: b.cfg.Command, MaxTargets: b.cfg.MaxTargets, ConfirmAbove: b.cfg.ConfirmAbove}
	reason, known := b.auth.Decided(user, "") // no channel: the home tab is everywhere
	if !known {
		reason, _ = b.auth.Authorize(ctx, user, "")
	}
	h.Allowed = reason == ""
	p := b.auth.Policy()
	h.Ways, h.Button = homeWays(b.cfg.Command, b.cfg.MaxTargets, b.cfg.ConfirmAbove), sayHomeButton
	switch {
	case !h.Allowed:
		h.Access = fmt.Sprintf(sayHomeRefused, escape(deniedReason(reason, p)))
	case p.FromEnvironment():
		h.Access = homeAccess(p.Grants[0].Channels)
	default:
		h.Access = fmt.Sprintf(sayHomeGrants, grantsText(b.auth.Scope(ctx, user, "")))
	}
	if !h.Allowed || b.cfg.DryRun || b.acct == nil {
		return h
	}
	a, err := b.acct.get(ctx)
	if err != nil {
		what, _ := describe(err, OpStatus)
		h.Account = sayHomeNoAccount + escape(PlainText(what))
		return h
	}
	h.Account = accountLine(a)
	return h
}

// homeAccess says that a user may reset, and where (ALLOWED_CHANNELS).
func homeAccess(channels []string) string {
	where := ""
	if len(channels) > 0 {
		refs := make([]string, len(channels))
		for i, c := range channels {
			refs[i] = "<#" + c + ">"
		}
		where = fmt.Sprintf(sayHomeWhere, strings.Join(refs, ", "))
	}
	return fmt.Sprintf(sayHomeAllowed, where)
}

// homeWays lists every way in.
func homeWays(command string, maxTargets, confirmAbove int) string {
	confirm := ""
	if confirmAbove > 0 {
		confirm = fmt.Sprintf(sayHomeConfirm, confirmAbove)
	}
	return fmt.Sprintf(sayHomeWays, command, maxTargets, confirm)
}
