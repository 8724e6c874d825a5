package bot

import (
	"fmt"
	"strings"
	"time"
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
	case req.Via == ViaClick:
		return req, Result{}, false
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
	b.audit(r.id, r.start, r.Via, r.User, r.Channel, r.res, 0)
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
	return HelpMessage(r.prefix(b.cfg.Command), b.cfg.Command, r.Via != ViaShell, b.cfg.MaxTargets, b.cfg.ConfirmAbove)
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
func deniedReason(reason DenialReason, p Policy) string {
	switch reason {
	case DeniedChannel:
		return sayWhyChannel
	case DeniedGroupLookup:
		return sayWhyLookup
	}
	switch {
	case len(p.Users) > 0 && len(p.Groups) > 0:
		return sayWhyUsersOrGroups
	case len(p.Groups) > 0:
		return sayWhyGroups
	}
	return sayWhyUsers
}

// maxNamed bounds how many allowed people or groups a refusal names.
const maxNamed = 10

func deniedMessage(reason DenialReason, p Policy) Message {
	// named lists refs, those past maxNamed counted in others.
	named := func(refs []string, others, sep string) string {
		if len(refs) > maxNamed {
			refs = append(refs[:maxNamed], fmt.Sprintf(others, len(refs)-maxNamed))
		}
		return strings.Join(refs, sep)
	}
	switch reason {
	case DeniedChannel:
		chans := make([]string, 0, len(p.Channels))
		for _, c := range p.Channels {
			chans = append(chans, "<#"+c+">")
		}
		return message(fmt.Sprintf(sayDeniedChannel, named(chans, sayOtherChannels, ", ")), "")
	case DeniedGroupLookup:
		return message(sayDeniedLookup, "")
	}
	var who []string
	for _, u := range p.Users {
		who = append(who, "<@"+u+">")
	}
	for _, g := range p.Groups {
		who = append(who, fmt.Sprintf(sayGroupMember, g))
	}
	return message(fmt.Sprintf(sayDeniedUser, named(who, sayOneOfOthers, sayOr)), "")
}

func rateLimitedMessage(perMinute int, retryIn time.Duration) Message {
	return message(fmt.Sprintf(sayRateLimited, plural(perMinute, sayRequestOne, sayRequestMany), humanDuration(max(retryIn, time.Second))), "")
}

// BusyMessage refuses a request because too many are in flight.
func BusyMessage() Message { return message(sayBusy, "") }
