package bot

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sessionbot/sessionbot/bot/policy"
)

// Two-person approval (README: "Two-person approval"). A request whose
// targets fall under a grant that asks for approval is not run: it is
// journalled, then announced in its channel as waiting, with Approve and
// Deny buttons that carry the request sealed (confirm.go), and its
// requester is told for whom it waits. Nothing is reset until an approver
// clicks Approve (approve.go); Deny, the requester's withdrawal, or the
// end of its ttl (the sweep) close it, once, on whichever replica.
//
// Its state lives where the journal is: the entry, awaiting_approval, is
// the request, and the first click to claim it (Journal.Claim) decides.

// approval is what a request's approval needs.
type approval struct {
	approvers [][]string // for each grant that asks: user and user group IDs; an approver must be one of each
	why       string     // in words
	ttl       time.Duration
}

// approvalOf is what a request of targets (shown: as the requester named
// them), decided d under p, needs approved: nil when nothing does.
func approvalOf(p *policy.Policy, targets []policy.Target, shown []Target, d policy.Decision) *approval {
	gis := p.Approvals(targets, d)
	if len(gis) == 0 {
		return nil
	}
	a := &approval{}
	var why []string
	for _, gi := range gis {
		g := &p.Grants[gi]
		ap := g.Approval
		a.approvers = append(a.approvers, ap.Approvers())
		if a.ttl == 0 || ap.TTL < a.ttl {
			a.ttl = ap.TTL
		}
		name := escape(g.Name)
		n, sensitive := ap.Why(targets, d, gi)
		switch {
		case p.FromEnvironment() && ap.Above == 0:
			why = append(why, sayWhyEveryEnv)
		case p.FromEnvironment():
			why = append(why, fmt.Sprintf(sayWhyCountEnv, n, ap.Above))
		case len(sensitive) > 0:
			labels := make([]string, len(sensitive))
			for i, ti := range sensitive {
				labels[i] = targetLabel(shown[ti])
			}
			shown, more := fitLines(labels, maxWhy)
			if more > 0 {
				shown += fmt.Sprintf(sayMoreCounted, more)
			}
			why = append(why, fmt.Sprintf(sayWhySensitive, strings.ReplaceAll(shown, "\n", ", "), name))
		case ap.Above == 0:
			why = append(why, fmt.Sprintf(sayWhyEvery, name))
		default:
			why = append(why, fmt.Sprintf(sayWhyCount, n, name, ap.Above))
		}
	}
	a.why = strings.Join(why, sayWhyAnd)
	return a
}

// maxWhy bounds the sensitive targets named in why a request waits.
const maxWhy = 300

// targetLabel names a target briefly: its username, else its hash.
func targetLabel(t Target) string {
	if t.Username != "" {
		return "`" + escape(t.Username) + "`"
	}
	return "`" + t.Hash + "`"
}

// approversText names who may approve: for each set, its users or the
// members of its groups (mentioned, so that they are notified).
func approversText(approvers [][]string) string {
	sets := make([]string, len(approvers))
	for i, set := range approvers {
		names := make([]string, len(set))
		for j, id := range set {
			names[j] = "<@" + id + ">"
			if strings.HasPrefix(id, "S") {
				names[j] = fmt.Sprintf(sayApproverGroup, id)
			}
		}
		sets[i] = strings.Join(names, sayApproverOr)
	}
	return strings.Join(sets, sayApproverAnd)
}

// errNoJournal says approval was asked for where there is no journal to
// keep the request in: the configuration does not allow it.
var errNoJournal = errors.New("approval needs a journal (AUDIT_CHANNEL), and there is none")

// askApproval journals the request as waiting, announces it with its
// Approve and Deny buttons, and tells its requester for whom it waits:
//
//  1. the entry, awaiting_approval, before anything needs it;
//  2. the announcement, whose buttons carry the request sealed;
//  3. the entry naming its announcement.
//
// A process stopped after 1 leaves an entry that the sweep expires when
// its time is up, posting the announcement if it never appeared.
func (b *Bot) askApproval(r *request) {
	a := r.approval
	if b.cfg.Journal == nil {
		r.fail(OutcomeInvalid, errNoJournal, problem("warning", sayCannotConfirm, sayTellOperator, r.id), nil)
		return
	}
	if r.ref != "" {
		// A confirmation confirmed after the policy came to ask for
		// approval: its click claimed its entry (click.go) with the mark
		// an approval's decision claims it with, so that entry cannot wait
		// for an approver. The request ends here; asked again, it waits.
		e := r.entry(StateRefused)
		e.Reason = sayWhyApprovalNow
		b.journal(r, &e)
		r.answer(OutcomeNotRun, message(sayApprovalNow, requestContext(r.id)), nil)
		return
	}
	// To the second, as the journal keeps it, and never shorter than ttl.
	expires := b.cfg.Now().Add(a.ttl + time.Second - 1).Truncate(time.Second)
	p := pending{
		ID: r.id, User: r.User, Channel: r.Channel, Thread: r.Thread, Targets: r.res.Targets,
		Expires: expires, Ref: "0000000000.000000", Approval: true, // a journal reference's length, to see that it fits
	}
	if _, err := sealToken(b.cfg.ConfirmKey, p, b.cfg.TokenLimit); err != nil {
		r.fail(OutcomeTooMany, err, tooManyToConfirmMessage(len(p.Targets)), nil)
		return
	}
	if r.Via == ViaClick {
		r.res.Answer = Message{} // a confirmed click, without a journal entry, whose policy now asks for approval: the answer below replaces its buttons
	}
	if !b.proceed(r) {
		return
	}
	e := r.entry(StateApproval)
	e.Expires, e.Approvers, e.Why = expires, a.approvers, a.why
	if err := b.writeAhead(r, &e); err != nil {
		r.fail(OutcomeNotRun, err, journalFailedMessage(r.id), nil)
		return
	}
	p.Ref = e.Ref
	tok, err := sealToken(b.cfg.ConfirmKey, p, b.cfg.TokenLimit)
	if err == nil {
		var ts string
		ts, err = b.chat.Post(r.work, r.Channel, r.Thread, waitingMessage(e, a.ttl, tok))
		e.Thread = ts
	}
	if err != nil {
		b.notAnnounced(r, e, err)
		return
	}
	b.settle(r.talk, r.deadline, e)
	b.listInThread(r, e)
	b.wakeSweeper()
	r.answer(OutcomeApprovalAsked, waitingPrivately(r.id, a.approvers, expires), nil)
}

// waitingMessage is the announcement of a request waiting for approval,
// with its buttons.
func waitingMessage(e Entry, ttl time.Duration, token string) Message {
	m := message(fmt.Sprintf(sayWaiting, e.User, residentialUsers(len(e.Targets)), e.Why, approversText(e.Approvers),
		clock(e.Expires), humanDuration(ttl), targetList(e.Targets, sayListInThread)),
		requestContext(e.RequestID)+fmt.Sprintf(sayWaitingFooter, e.User))
	m.Approve, m.Tag = token, Tag{e.RequestID, KindAnnouncement}
	return m
}

// waitingPrivately tells the requester for whom their request waits.
func waitingPrivately(id string, approvers [][]string, expires time.Time) Message {
	return message(fmt.Sprintf(sayWaitingPrivately, approversText(approvers), clock(expires)), requestContext(id))
}

// dryRunApproval is what a dry run adds when a real run would wait for
// approval.
func dryRunApproval(a *approval) string {
	if a == nil {
		return ""
	}
	return fmt.Sprintf(sayDryRunApproval, approversText(a.approvers), a.why)
}
