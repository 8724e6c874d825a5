package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sessionbot/sessionbot/bot/policy"
)

// A click on Approve or Deny of a request waiting for approval, on
// whichever replica Slack hands it to. The journal entry is the request:
// the click is checked against it (the sealed targets must be its
// targets), and everything is decided at the click: who clicked, whether
// they are an approver now (their groups looked up now, never from a
// cache), whether the requester is still allowed by the policy in force.
// Only then does the click claim the entry, which Slack lets exactly one
// claimant do; a click that loses is told what the winner decided.

// The results of an approval, for the metric.
const (
	ApprovalApproved  = "approved"
	ApprovalDenied    = "denied"
	ApprovalWithdrawn = "withdrawn"
	ApprovalExpired   = "expired"
	ApprovalRefused   = "refused"
)

// ApprovalResults lists them, for metrics that start at zero.
var ApprovalResults = []string{ApprovalApproved, ApprovalDenied, ApprovalWithdrawn, ApprovalExpired, ApprovalRefused}

func (b *Bot) approvalClick(r *request, p pending) {
	clicker := r.User
	r.res.Targets = p.Targets
	if b.cfg.Journal == nil || p.Ref == "" || b.auth == nil {
		r.fail(OutcomeBadClick, errNoJournal, badButtonMessage(), nil)
		return
	}
	e, err := b.cfg.Journal.Read(r.work, p.Ref)
	if err == nil && e.State == StateApproval && e.Thread == "" {
		e, err = b.announced(r, e)
	}
	switch {
	case err != nil:
		r.fail(OutcomeClickFailed, err, clickNotRecordedMessage(r.id), nil)
		return
	case e.RequestID != p.ID || e.User != p.User || !slices.Equal(Hashes(e.Targets), Hashes(p.Targets)):
		r.fail(OutcomeBadClick, errTokenInvalid, message(fmt.Sprintf(sayChangedSince, p.User), requestContext(r.id)), nil)
		return
	case e.State != StateApproval:
		r.answer(OutcomeRepeatClick, alreadyDecidedMessage(r.id, e), nil)
		return
	}
	r.Channel, r.Thread, r.ref = e.Channel, e.Root, e.Ref
	now := b.cfg.Now()
	switch {
	case !now.Before(e.Expires):
		if b.claimDecision(r, e) {
			b.closeApproval(r.talk, e, StateExpired, "", "")
			r.answer(OutcomeExpired, expiredPrivately(r.id, e.Expires), nil)
		}
	case clicker == e.User && r.Confirm:
		b.tried(e, clicker, sayTriedOwn, r.Confirm)
		r.answer(OutcomeSelfApproval, selfApprovalMessage(r.id, e.Approvers), nil)
	case clicker == e.User:
		if b.claimDecision(r, e) {
			b.closeApproval(r.talk, e, StateWithdrawn, clicker, "")
			r.answer(OutcomeWithdrawn, withdrawnPrivately(r.id), nil)
		}
	default:
		b.approverClick(r, e, clicker)
	}
}

// errStillAnnouncing says the process that asked for approval has not yet
// recorded its announcement in the entry, and may still be writing it.
var errStillAnnouncing = errors.New("the request's entry does not name its announcement yet")

// announced is e once it names its announcement, which the click came
// from. The process that asked records the announcement after posting it
// (askApproval's step 3), and until then may still write the entry, over
// whatever this click would decide: the click waits a little for it, and
// is asked to come again while that process may still be at it. Past that,
// the process stopped in between, and the announcement is looked for, as
// a sweep would.
func (b *Bot) announced(r *request, e Entry) (Entry, error) {
	ctx, cancel := context.WithTimeout(r.work, decideWait)
	defer cancel()
	settled := e.Started.Add(b.cfg.CommandTimeout + orphanMargin)
	for e.State == StateApproval && e.Thread == "" && b.cfg.Now().Before(settled) {
		t := time.NewTimer(decidePoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return e, errStillAnnouncing
		case <-t.C:
		}
		var err error
		if e, err = b.cfg.Journal.Read(ctx, e.Ref); err != nil {
			return e, err
		}
	}
	if e.State != StateApproval || e.Thread != "" {
		return e, nil
	}
	ts, err := b.chat.Find(r.work, e.Channel, e.Root, Tag{e.RequestID, KindAnnouncement}, e.Started.Add(-orphanMargin))
	if err == nil && ts == "" {
		err = errStillAnnouncing
	}
	e.Thread = ts
	return e, err
}

// approverClick decides a click by someone other than the requester.
func (b *Bot) approverClick(r *request, e Entry, clicker string) {
	now, refusal, err := b.reconsider(r.check, e)
	if err != nil {
		r.fail(OutcomeClickFailed, err, approversUnknownMessage(r.id), nil)
		return
	}
	approvers := e.Approvers
	if now != nil {
		approvers = now.approvers // the policy in force says who may approve
	}
	ok, err := b.auth.Approves(r.check, clicker, approvers)
	switch {
	case err != nil && !ok:
		r.fail(OutcomeClickFailed, err, approversUnknownMessage(r.id), nil)
		return
	case !ok:
		b.tried(e, clicker, sayTriedNotOne, r.Confirm)
		r.answer(OutcomeNotApprover, notApproverMessage(r.id, approvers), nil)
		return
	}
	if !b.claimDecision(r, e) {
		return
	}
	switch {
	case refusal != "":
		b.closeApproval(r.talk, e, StateRefused, clicker, refusal)
		r.answer(OutcomeRefusedAtApproval, refusedAtClickMessage(r.id, refusal), nil)
	case !r.Confirm:
		b.closeApproval(r.talk, e, StateDenied, clicker, "")
		r.answer(OutcomeApprovalDenied, deniedPrivately(r.id, e.User), nil)
	default:
		b.approve(r, e, clicker)
	}
}

// reconsider decides the journalled request again under the policy in
// force: refusal says why its requester may no longer make it (""
// when they may), and a is what its approval needs now. err is a lookup
// that failed, which decides nothing.
func (b *Bot) reconsider(ctx context.Context, e Entry) (a *approval, refusal string, err error) {
	p := b.auth.Policy()
	reason, lookupErr := b.auth.Authorize(ctx, e.User, e.Channel)
	switch {
	case reason == DeniedGroupLookup:
		return nil, "", lookupErr
	case reason != "":
		return nil, fmt.Sprintf(sayRequesterGone, e.User), nil
	}
	targets := make([]policy.Target, len(e.Targets))
	member, _ := b.auth.member(ctx, e.User)
	needNames := p.NeedsNames(policy.Requester{User: e.User, Channel: e.Channel, Member: member})
	for i, t := range e.Targets {
		targets[i] = policy.Target{Hash: t.Hash, Username: t.Username}
		if needNames && t.Username == "" && t.Hash != "" {
			if targets[i].Username, err = b.username(ctx, t.Hash); err != nil {
				return nil, "", err
			}
		}
	}
	d, err := b.auth.Decide(ctx, e.User, e.Channel, targets)
	if !d.Allowed() {
		if err != nil {
			return nil, "", err
		}
		return nil, fmt.Sprintf(sayRequesterGone, e.User), nil
	}
	return approvalOf(p, targets, e.Targets, d), "", nil
}

// claimDecision claims the entry for this click. A click that loses is
// answered with what the winner decided.
func (b *Bot) claimDecision(r *request, e Entry) bool {
	won, err := b.cfg.Journal.Claim(r.work, e.Ref, markDecided)
	if err != nil {
		r.fail(OutcomeClickFailed, err, clickNotRecordedMessage(r.id), nil)
		return false
	}
	if !won {
		decided, err := b.decided(r, e.Ref)
		if err != nil || decided.State == StateApproval {
			// Another click is deciding it, or one whose answer Slack lost
			// claimed it and never will: a claim does not say whose it is,
			// so nobody else may decide, and it closes as expired.
			closes := e.Expires.Add(b.cfg.CommandTimeout + orphanMargin)
			r.fail(OutcomeRepeatClick, err, message(fmt.Sprintf(sayBeingDecided, clock(closes)), requestContext(r.id)), nil)
			return false
		}
		r.answer(OutcomeRepeatClick, alreadyDecidedMessage(r.id, decided), nil)
	}
	return won
}

// approve runs an approved request: the entry says who approved, before
// the DELETE (trail.go's step 3), the announcement loses its buttons, and
// the reset runs as any other, its outcome in the thread.
func (b *Bot) approve(r *request, e Entry, approver string) {
	b.observeApproval(ApprovalApproved)
	r.User, r.approver = e.User, approver // the reset is the requester's
	r.res.Targets = e.Targets
	r.res.Answer = approvedPrivately(r.id, e.User, len(e.Targets))
	e.State, e.Decider, e.Decided, e.Reason = StateStarted, approver, b.cfg.Now(), ""
	if err := b.chat.Update(r.work, e.Channel, e.Thread, approvedAnnouncement(e)); err != nil {
		b.log.WarnContext(r.work, "could not show the approval on the announcement", "request_id", e.RequestID, "error", err)
	}
	b.run(r, e)
	b.wakeSweeper()
}

// closeApproval ends a request that waited for approval without a reset:
// denied, withdrawn, expired, or refused at approval. The entry first,
// then the announcement without its buttons, the thread (which tells the
// requester), and the entry's trail done.
func (b *Bot) closeApproval(ctx context.Context, e Entry, state State, decider, reason string) {
	e.State, e.Decider, e.Decided, e.Reason = state, decider, b.cfg.Now(), reason
	o := outcome{e: e, reply: closedReply(e)}
	switch state {
	case StateDenied:
		o.emoji = "no_entry"
		b.observeApproval(ApprovalDenied)
	case StateWithdrawn:
		o.emoji = "leftwards_arrow_with_hook"
		b.observeApproval(ApprovalWithdrawn)
	case StateExpired:
		o.emoji = "hourglass"
		b.observeApproval(ApprovalExpired)
	case StateRefused:
		o.emoji = "no_entry_sign"
		b.observeApproval(ApprovalRefused)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
	defer cancel()
	b.close(ctx, o)
	b.wakeSweeper()
}

// expireApproval closes a request whose wait ran out: once, by whichever
// replica claims it. One that a click claimed and whose process stopped
// before it recorded its decision is closed by a sweep once that process
// is surely gone: nothing was reset, since a reset's entry says "started"
// before its DELETE.
func (b *Bot) expireApproval(ctx context.Context, e Entry) {
	if b.claim(ctx, e, markDecided) {
		b.closeApproval(ctx, e, StateExpired, "", "")
		return
	}
	if b.cfg.Now().Before(e.Expires.Add(b.cfg.CommandTimeout + orphanMargin)) {
		return
	}
	// The click that claimed it has had its time: what the entry says now,
	// not this sweep's read, which may be older than the click's writes,
	// says whether its process stopped before recording the decision.
	now, err := b.cfg.Journal.Read(ctx, e.Ref)
	if err != nil {
		b.log.ErrorContext(ctx, "could not read a request an approval click claimed", "request_id", e.RequestID, "error", err)
		return
	}
	if now.State != StateApproval || !b.claim(ctx, now, markSwept) {
		return
	}
	e = now
	b.log.WarnContext(ctx, "closing a request whose approval click was claimed by a process that stopped", "request_id", e.RequestID)
	b.closeApproval(ctx, e, StateExpired, "", "")
}

// tried records, in the audit entry's thread, a click that could not
// decide the request: the entry itself is the decision's, and only a
// claimant writes it.
func (b *Bot) tried(e Entry, clicker, why string, approve bool) {
	button := ButtonDeny
	if approve {
		button = ButtonApprove
	}
	m := triedMessage(e.RequestID, clicker, button, b.cfg.Now(), why)
	b.behindWrite(func(ctx context.Context) {
		if err := b.chat.Reply(ctx, b.cfg.AuditChannel, e.Ref, m, false); err != nil {
			b.log.ErrorContext(ctx, "could not record a click in the audit entry's thread", "request_id", e.RequestID, "error", err)
		}
	})
}

// alreadyDecidedMessage answers a click on a request decided already,
// with what the journal says was decided.
func alreadyDecidedMessage(id string, e Entry) Message {
	var text string
	switch {
	case e.State == StateDenied:
		text = fmt.Sprintf(sayAlreadyDenied, e.Decider, clock(e.Decided))
	case e.State == StateWithdrawn:
		text = fmt.Sprintf(sayAlreadyWithdrawn, e.Decider, clock(e.Decided))
	case e.State == StateExpired:
		text = sayAlreadyTimedOut
	case e.approved():
		text = fmt.Sprintf(sayAlreadyApproved, e.Decider, clock(e.Decided), stateWords(e.State))
	default:
		text = fmt.Sprintf(sayAlreadyDecided, finalHead(e))
	}
	return message(text, requestContext(id))
}

// closedReply is what the thread tells the requester of a request closed
// without a reset; nothing for a withdrawal, which is the requester's own.
func closedReply(e Entry) Message {
	var text string
	switch e.State {
	case StateDenied:
		text = fmt.Sprintf(sayDeniedReply, e.User, e.Decider)
	case StateExpired:
		text = fmt.Sprintf(sayTimedOutReply, e.User, approversText(e.Approvers))
	case StateRefused:
		text = fmt.Sprintf(sayRefusedAtReply, e.User, e.Reason)
	default:
		return Message{}
	}
	return message(text, requestContext(e.RequestID))
}

func approvedPrivately(id, requester string, n int) Message {
	return message(fmt.Sprintf(sayApprovedPrivate, requester, residentialUsers(n)), requestContext(id))
}

func deniedPrivately(id, requester string) Message {
	return message(fmt.Sprintf(sayDeniedPrivate, requester), requestContext(id))
}

func withdrawnPrivately(id string) Message { return message(sayWithdrawnPrivate, requestContext(id)) }

func expiredPrivately(id string, expires time.Time) Message {
	return message(fmt.Sprintf(sayExpiredPrivate, clock(expires)), requestContext(id))
}

func selfApprovalMessage(id string, approvers [][]string) Message {
	return message(fmt.Sprintf(saySelfApproval, approversText(approvers)), requestContext(id))
}

func notApproverMessage(id string, approvers [][]string) Message {
	return message(fmt.Sprintf(sayNotApprover, approversText(approvers)), requestContext(id))
}

func refusedAtClickMessage(id, refusal string) Message {
	return message(fmt.Sprintf(sayRefusedAtClick, refusal), requestContext(id))
}

func approversUnknownMessage(id string) Message {
	return problem("warning", sayApproverUnknown, sayClickAgain, id)
}

// triedMessage records a click that could not decide a request.
func triedMessage(id, clicker, button string, at time.Time, why string) Message {
	return message(fmt.Sprintf(sayAuditTried, clicker, button, clock(at), why), requestContext(id))
}

// approvedAnnouncement is the announcement of an approved request while it
// runs.
func approvedAnnouncement(e Entry) Message {
	m := AnnouncementMessage(e.RequestID, e.User, e.Targets)
	m.Text += fmt.Sprintf(sayApprovedLine, e.Decider, clock(e.Decided))
	return m
}

// observeApproval counts an approval's result.
func (b *Bot) observeApproval(result string) {
	if b.cfg.Observe.Approval != nil {
		b.cfg.Observe.Approval(result)
	}
}

// approvalWait bounds how long after its ttl a waiting request is closed:
// the sweep runs at least this often while any grant asks for approval.
const approvalWait = 10 * time.Second
