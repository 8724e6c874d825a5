package bot

import (
	"context"
	"fmt"
	"time"
)

// A click on a confirmation's Confirm or Cancel, on whichever replica Slack
// hands it to: everything needed travels, signed, in the click itself, and
// the journal says whether another click decided first. A Confirm that
// wins continues the request on the one reset path, from its checks: the
// requester must still be allowed.

// maxRememberedClicks bounds the confirmations this process remembers
// deciding, each until it expires.
const maxRememberedClicks = 10000

func (b *Bot) click(r *request) {
	p, err := openToken(b.cfg.ConfirmKey, r.Token)
	if err != nil {
		r.fail(OutcomeBadClick, errTokenInvalid, badButtonMessage(), nil)
		return
	}
	if p.ID != "" {
		r.id, r.res.RequestID = p.ID, p.ID // the click continues the command's request
	}
	if p.Approval {
		b.approvalClick(r, p)
		return
	}
	r.Channel, r.res.Targets = p.Channel, p.Targets
	if b.auth == nil {
		r.Via = ViaCLI // a bot with no allow-list serves only the command line: its own confirmation
	}
	if r.User != p.User {
		r.answer(OutcomeNotYours, notYoursMessage(p.User), nil)
		return
	}
	r.res.Replaces = true // what follows answers on the confirmation itself

	// The first click decides, and a later one is answered with what was
	// decided, never with its own intent. The journal knows what any
	// process decided: a click claims the entry, which Slack lets exactly
	// one claimant do, and any other reads the decision there. Without a
	// journal, this process's own clicks are all there is.
	known := p.Ref != "" && b.cfg.Journal != nil
	if !known {
		if prev, seen := b.rememberClick(r.Token, p.Expires, r.Confirm); seen {
			var m Message
			if prev != r.Confirm {
				m = decidedHereMessage(r.id, prev, p.Channel, len(p.Targets))
			}
			r.answer(OutcomeRepeatClick, m, nil)
			return
		}
	} else {
		won, err := b.cfg.Journal.Claim(r.work, p.Ref, markDecided)
		if err != nil {
			r.fail(OutcomeClickFailed, err, clickNotRecordedMessage(r.id), nil)
			return
		}
		if !won {
			e, err := b.decided(r, p.Ref)
			r.fail(OutcomeRepeatClick, err, decidedElsewhereMessage(r.id, e, err, b.link(e.Channel, e.Thread)), nil)
			return
		}
	}
	r.Thread, r.ref = p.Thread, p.Ref
	e := r.entry("")
	e.Expires = p.Expires
	switch {
	case !b.cfg.Now().Before(p.Expires):
		e.State = StateExpired
		b.journal(r, &e)
		r.answer(OutcomeExpired, expiredMessage(r.id, b.cfg.ConfirmTTL, known), nil)
	case !r.Confirm:
		e.State = StateCancelled
		b.journal(r, &e)
		r.answer(OutcomeCancelled, cancelledMessage(r.id, len(p.Targets), known, p.Channel), nil)
	default:
		r.resolved, r.confirmed = p.Targets, true
		r.allowed = false                                     // whoever was allowed five minutes ago may not be now
		r.res.Answer = confirmedMessage(r.id, len(p.Targets)) // said as it proceeds
		b.reset(r)
	}
}

// decideWait bounds how long a click that lost waits for the winner's
// decision to reach the journal, and decidePoll how often it looks.
const (
	decideWait = 5 * time.Second
	decidePoll = 250 * time.Millisecond
)

// decided reads the decision on the entry at ref, waiting a little while
// the click that won is still recording it.
func (b *Bot) decided(r *request, ref string) (Entry, error) {
	ctx, cancel := context.WithTimeout(r.work, decideWait)
	defer cancel()
	for {
		e, err := b.cfg.Journal.Read(ctx, ref)
		if err != nil || (e.State != StateAwaiting && e.State != StateApproval) {
			return e, err
		}
		t := time.NewTimer(decidePoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return e, nil
		case <-t.C:
		}
	}
}

// rememberClick records this process's decision on tok until it expires,
// and returns the decision already recorded, if there was one.
func (b *Bot) rememberClick(tok string, expires time.Time, confirm bool) (prev, seen bool) {
	return b.clicks.PutIfAbsent(tok, confirm, expires)
}

// decidedHereMessage answers a click that contradicts the one this process
// acted on.
func decidedHereMessage(id string, confirmed bool, channel string, n int) Message {
	if confirmed {
		return message(fmt.Sprintf(sayAlreadyConfirmed, residentialUsers(n), channel), requestContext(id))
	}
	return message(fmt.Sprintf(sayAlreadyCancelled, residentialUsers(n)), requestContext(id))
}

// decidedElsewhereMessage answers a click that another one beat: it says
// what the journal holds.
func decidedElsewhereMessage(id string, e Entry, err error, link string) Message {
	see := fmt.Sprintf("<#%s>", e.Channel)
	if link != "" {
		see = fmt.Sprintf(sayTheAnnouncement, link)
	}
	text := fmt.Sprintf(sayAlreadyRan, residentialUsers(len(e.Targets)), stateWords(e.State), see)
	switch {
	case err != nil:
		text = sayAnotherClick
	case e.State == StateAwaiting:
		text = sayAnotherClickNow
	case e.State == StateCancelled:
		text = fmt.Sprintf(sayAlreadyCancelled, residentialUsers(len(e.Targets)))
	case e.State == StateExpired:
		text = sayAlreadyExpired
	case e.State == StateRefused:
		text = fmt.Sprintf(sayAlreadyRefused, e.Reason)
	}
	return message(text, requestContext(id))
}

func stateWords(s State) string {
	switch s {
	case StateAnnouncing, StateStarted:
		return sayStateStarted
	case StateReset:
		return sayStateReset
	case StateFailed:
		return sayStateFailed
	case StateUnknown:
		return sayStateUnknown
	}
	return string(s)
}

func badButtonMessage() Message { return message(sayBadButton, "") }

func notYoursMessage(requester string) Message {
	return message(fmt.Sprintf(sayNotYours, requester), "")
}

func clickNotRecordedMessage(id string) Message {
	return problem("warning", sayClickNotRecorded, sayClickAgain, id)
}

func confirmedMessage(id string, n int) Message {
	return message(fmt.Sprintf(sayConfirmed, residentialUsers(n)), requestContext(id))
}

// cancelledMessage answers the first Cancel. Only the journal can say that
// no Confirm came first on another replica, or before a restart (known).
func cancelledMessage(id string, n int, known bool, channel string) Message {
	if known {
		return message(fmt.Sprintf(sayCancelled, residentialUsers(n)), requestContext(id))
	}
	return message(fmt.Sprintf(sayCancelledHere, channel), requestContext(id))
}

func expiredMessage(id string, ttl time.Duration, known bool) Message {
	say := sayExpiredHere
	if known {
		say = sayExpired
	}
	return message(fmt.Sprintf(say, humanDuration(ttl)), requestContext(id))
}
