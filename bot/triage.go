package bot

import (
	"fmt"
	"strings"
	"time"

	"github.com/sessionbot/sessionbot/bot/policy"
)

// Triage answers at once what memory alone can answer: a requester past
// the rate limit, a request for help, a refusal the allow-list decides
// without a lookup. Every way in calls it first, before the request takes a
// slot or costs a call, and it counts against the requester's rate limit.
// When it answers (done), that answer is all that happens, besides the
// audit log line and, for a refusal, the budgeted audit mirror. Otherwise
// the Request it returns carries forward what triage learnt (its ID, its
// parse, whether the requester is known to be allowed) to Handle.
//
// A form is triaged when it opens (it has no targets yet) and again when
// it is submitted; a click only against the rate limit.
func (b *Bot) Triage(req Request) (next Request, res Result, done bool) {
	req.triaged, req.id, req.start = true, b.requestID(req.ID), b.cfg.Now()
	if req.Via.typed() {
		req.cmd = parseCommand(req.Text)
	}
	r := &request{Request: req}
	r.res.RequestID = req.id
	switch {
	case !b.admit(r):
	case req.Via.typed() && req.cmd.verb == verbHelp:
		r.answer(OutcomeHelp, b.help(r), nil)
	case req.Via == ViaClick, req.Via.typed() && req.cmd.verb == verbCan:
		return req, Result{}, false // a click is decided by its token; anyone may ask what they can do
	default:
		reason, known := b.auth.Decided(req.User, req.Channel)
		if !known {
			return req, Result{}, false
		}
		if reason == "" {
			req.allowed = true
			return req, Result{}, false
		}
		b.refuse(r, reason, nil)
	}
	b.audit(r)
	return req, r.res, true
}

// admit takes one request from the requester's rate limit, or answers it.
func (b *Bot) admit(r *request) bool {
	ok, retryIn := b.limiter.allow(r.User)
	if !ok {
		m := rateLimitedMessage(b.cfg.RateLimitPerMinute, retryIn)
		r.answer(OutcomeRateLimited, m, r.formProblem(FieldTargets, m))
	}
	return ok
}

// help is the help for whoever asked, in the way they asked; in Slack it
// names every way in.
func (b *Bot) help(r *request) Message {
	approval := b.auth != nil && b.auth.Policy().HasApprovals()
	return HelpMessage(r.prefix(b.cfg.Command), b.cfg.Command, r.Via != ViaShell, b.cfg.MaxTargets, b.cfg.ConfirmAbove, approval)
}

// authorize decides whether the requester may reset here, unless that is
// known already, and answers a refusal. The command line is the token
// holder's own tool: it has no allow-list.
func (b *Bot) authorize(r *request) bool {
	if r.allowed || r.Via == ViaCLI {
		return true
	}
	reason, lookupErr := b.auth.Authorize(r.check, r.User, r.Channel)
	if reason == "" {
		r.allowed = true
		return true
	}
	b.refuse(r, reason, lookupErr)
	return false
}

// refuse answers a requester the allow-list refused, mirrors the refusal
// in the audit channel, and closes the request's journal entry if it has
// one (a confirmation, refused at its click).
func (b *Bot) refuse(r *request, reason DenialReason, lookupErr error) {
	policy := b.auth.Policy()
	m := deniedMessage(reason, policy)
	field := FieldTargets
	if reason == DeniedChannel {
		field = FieldChannel
	}
	r.fail(OutcomeDenied, lookupErr, m, r.formProblem(field, m))
	b.denials.mirror(r.id, r.User, r.Channel, reason)
	if r.ref != "" {
		e := r.entry(StateRefused)
		e.Reason = deniedReason(reason, policy)
		b.journal(r, &e)
	}
}

// deniedReason says in words why a requester was refused, for the audit
// channel and the journal.
func deniedReason(reason DenialReason, p *policy.Policy) string {
	switch reason {
	case DeniedGroupLookup:
		return sayWhyLookup
	case DeniedTargets:
		return sayWhyTargets
	}
	if !p.FromEnvironment() {
		if reason == DeniedChannel {
			return sayWhyGrantChannel
		}
		return sayWhyNoGrant
	}
	g := p.Grants[0]
	switch {
	case reason == DeniedChannel:
		return sayWhyChannel
	case len(g.Users) > 0 && len(g.Usergroups) > 0:
		return sayWhyUsersOrGroups
	case len(g.Usergroups) > 0:
		return sayWhyGroups
	}
	return sayWhyUsers
}

// maxNamed bounds how many allowed people or groups a refusal names.
const maxNamed = 10

// deniedMessage refuses a requester the policy does not let reset here.
// With the ALLOWED_* variables it names who may; with a policy file it
// names no one else's grant, and says whom to ask (its contact).
func deniedMessage(reason DenialReason, p *policy.Policy) Message {
	if reason == DeniedGroupLookup {
		return message(sayDeniedLookup, "")
	}
	if !p.FromEnvironment() {
		say := sayDeniedNoGrant
		if reason == DeniedChannel {
			say = sayDeniedGrantChannel
		}
		return message(say+contact(p), "")
	}
	// named lists refs, those past maxNamed counted in others.
	named := func(refs []string, others, sep string) string {
		if len(refs) > maxNamed {
			refs = append(refs[:maxNamed], fmt.Sprintf(others, len(refs)-maxNamed))
		}
		return strings.Join(refs, sep)
	}
	g := p.Grants[0]
	if reason == DeniedChannel {
		chans := make([]string, 0, len(g.Channels))
		for _, c := range g.Channels {
			chans = append(chans, "<#"+c+">")
		}
		return message(fmt.Sprintf(sayDeniedChannel, named(chans, sayOtherChannels, ", ")), "")
	}
	var who []string
	for _, u := range g.Users {
		who = append(who, "<@"+u+">")
	}
	for _, s := range g.Usergroups {
		who = append(who, fmt.Sprintf(sayGroupMember, s))
	}
	return message(fmt.Sprintf(sayDeniedUser, named(who, sayOneOfOthers, sayOr)), "")
}

// contact is the policy's contact, as a refusal ends with it.
func contact(p *policy.Policy) string {
	if p.Contact == "" {
		return "\n" + sayAskOperator
	}
	return "\n" + fmt.Sprintf(sayAskContact, escape(p.Contact))
}

func rateLimitedMessage(perMinute int, retryIn time.Duration) Message {
	return message(fmt.Sprintf(sayRateLimited, plural(perMinute, sayRequestOne, sayRequestMany), humanDuration(max(retryIn, time.Second))), "")
}

// BusyMessage refuses a request because too many are in flight.
func BusyMessage() Message { return message(sayBusy, "") }
