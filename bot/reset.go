package bot

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// reset is the one path every reset takes, whatever the way in: a typed
// command, a form, a confirmed click, the shell, the command line.
//
//	authorize → resolve → [decide] → confirm when needed → proceed →
//	announce → journal → DELETE → outcome → audit (Handle's end)
//
// Each step answers the requester and stops the request when it fails, so
// what a person is told, and how the request ends, is decided in one
// place whichever way it came.
func (b *Bot) reset(r *request) {
	if r.Via.form() && r.Channel == "" {
		r.answer(OutcomeInvalid, Message{}, &FormProblem{FieldChannel, sayPickChannel})
		return
	}
	if !b.authorize(r) || !b.resolveTargets(r) || !b.decide(r) {
		return
	}
	// The decision: per-team access (decide, above: the policy over the
	// resolved targets, in access.go), which also says whether the request
	// needs a second person. One that does is announced as waiting for
	// approval instead of run (approval.go): the announcement's buttons are
	// its confirmation.
	if r.approval != nil && !r.DryRun {
		b.askApproval(r)
		return
	}
	if !r.DryRun && b.mustConfirm(r) {
		b.askConfirmation(r)
		return
	}
	if !b.proceed(r) {
		return
	}
	if r.DryRun {
		m := dryRunPreviewMessage(r.id, r.res.Targets)
		m.Text += dryRunApproval(r.approval)
		r.answer(OutcomeDryRun, m, nil)
		return
	}
	b.execute(r)
}

// resolveTargets turns the request's words into targets: hashes checked
// here, usernames looked up with IPRoyal (one search for all), unless a
// confirmation carries them resolved already.
func (b *Bot) resolveTargets(r *request) bool {
	if r.resolved != nil {
		r.res.Targets = r.resolved
		return true
	}
	command, form := r.prefix(b.cfg.Command), r.Via.form()
	words := r.cmd.targets
	if !r.Via.typed() {
		words = nil // a form or the command line: every word is a target
		for _, t := range r.Targets {
			words = append(words, splitWords(t)...)
		}
		words = dedupe(words)
	}
	switch {
	case len(words) == 0:
		r.answer(OutcomeInvalid, noTargetsMessage(command), &FormProblem{FieldTargets, sayPickTargets})
		return false
	case len(words) > b.cfg.MaxTargets:
		r.answer(OutcomeTooMany, tooManyMessage(len(words), b.cfg.MaxTargets),
			&FormProblem{FieldTargets, fmt.Sprintf(sayFormTooMany, len(words), b.cfg.MaxTargets)})
		return false
	}
	var finder SubuserFinder
	if !b.cfg.DryRun {
		finder = b.scopedFinder(r) // under a policy, suggests only the requester's
	}
	targets, bad, err := resolve(r.check, finder, words)
	if err != nil {
		op := OpLookup
		if form {
			op = OpSubmit
		}
		what, todo := describe(r.cause(err), op)
		r.fail(OutcomeLookupFailed, err, lookupFailedMessage(r.id, r.cause(err)),
			&FormProblem{FieldTargets, clip(PlainText(sayNothingReset + what + " " + upperFirst(todo)))})
		return false
	}
	if len(bad) > 0 {
		parts := make([]string, len(bad))
		for i, t := range bad {
			parts[i] = fmt.Sprintf("%q: %s", unescaper.Replace(t.Input), PlainText(t.Reason))
		}
		r.answer(OutcomeInvalid, badTargetsMessage(bad), &FormProblem{FieldTargets, clip(fmt.Sprintf(sayFormNotValid, plural(len(bad), sayTargetIs, sayTargetsAre)) + strings.Join(parts, "; "))})
		r.res.Bad = bad
		return false
	}
	for i, t := range targets {
		if name := r.Names[t.Hash]; t.Username == "" && validUsername(name) { // shown verbatim: only what could be typed
			targets[i].Username = name
		}
	}
	r.res.Targets = targets
	return true
}

// badTargetsMessage lists every target that is not one, with why. Targets
// refused for the same reason share a line, so that as many as Slack can
// show are listed; the rest are counted.
func badTargetsMessage(bad []BadTarget) Message {
	var reasons []string
	inputs := map[string][]string{}
	for _, t := range bad {
		if _, ok := inputs[t.Reason]; !ok {
			reasons = append(reasons, t.Reason)
		}
		inputs[t.Reason] = append(inputs[t.Reason], showInput(t.Input))
	}
	var lines []string
	shown, budget := 0, badBudget
	for _, reason := range reasons {
		var fit []string
		for _, in := range inputs[reason] {
			cost := utf8.RuneCountInString(in) + 2
			if budget-cost-utf8.RuneCountInString(reason) < 4 {
				break
			}
			fit, budget = append(fit, in), budget-cost
		}
		if len(fit) == 0 {
			break
		}
		lines = append(lines, fmt.Sprintf(sayBadTargetLine, strings.Join(fit, ", "), reason))
		budget -= utf8.RuneCountInString(reason) + 4
		shown += len(fit)
	}
	list := strings.Join(lines, "\n")
	if more := len(bad) - shown; more > 0 {
		list += fmt.Sprintf(sayMoreCounted, more)
	}
	return message(fmt.Sprintf(sayBadTargets, plural(len(bad), sayTargetIs, sayTargetsAre), list), "")
}

// badBudget bounds the list of bad targets: all of a message but its
// first and last lines.
const badBudget = MaxText - 300

// mustConfirm says whether the requester must confirm these targets first:
// more than CONFIRM_ABOVE, and more than they saw counted.
func (b *Bot) mustConfirm(r *request) bool {
	n := len(r.res.Targets)
	return !r.confirmed && b.cfg.ConfirmAbove > 0 && n > b.cfg.ConfirmAbove && n > r.Counted
}

// askConfirmation asks the requester to confirm. A form lists the targets
// again, counted, and its submission confirms. Anywhere else, the answer
// has Confirm and Cancel buttons that carry the signed request; with a
// journal, the request is journalled first, so that its first click
// decides on every replica.
func (b *Bot) askConfirmation(r *request) {
	if r.Via.form() {
		r.answer(OutcomeConfirmAsked, Message{}, nil)
		r.res.Confirm = true
		return
	}
	targets := r.res.Targets
	p := pending{
		ID: r.id, User: r.User, Channel: r.Channel, Thread: r.Thread, Targets: targets,
		Expires: b.cfg.Now().Add(b.cfg.ConfirmTTL),
	}
	if b.cfg.Journal != nil {
		e := r.entry(StateAwaiting)
		e.Expires = p.Expires
		b.journal(r, &e)
		p.Ref = e.Ref
	}
	tok, err := sealToken(b.cfg.ConfirmKey, p, b.cfg.TokenLimit)
	switch {
	case errors.Is(err, errTokenTooBig):
		r.fail(OutcomeTooMany, err, tooManyToConfirmMessage(len(targets)), nil)
	case err != nil:
		b.log.ErrorContext(r.work, "could not make a confirmation", "request_id", r.id, "error", err)
		r.fail(OutcomeInvalid, err, problem("warning", sayCannotConfirm, sayTellOperator, ""), nil)
	default:
		r.answer(OutcomeConfirmAsked, confirmationMessage(r.id, targets, b.cfg.ConfirmTTL, tok), nil)
	}
}

// proceed lets the way in answer before the reset runs (Request.Proceed),
// with what the requester may be told now, unless it is too late to.
func (b *Bot) proceed(r *request) bool {
	if r.Proceed == nil {
		return true
	}
	if !r.AnswerBy.IsZero() && r.check.Err() != nil {
		r.fail(OutcomeNotRun, errTooLate, Message{}, &FormProblem{FieldTargets, sayTooSlow})
		return false
	}
	now := r.res
	r.res.Answer = Message{} // said now, not again at the end
	if !r.Proceed(now) {
		r.fail(OutcomeNotRun, errTooLate, Message{}, &FormProblem{FieldTargets, sayTooSlow})
		return false
	}
	return true
}

// errTooLate says the checks ended after the way in had to answer.
var errTooLate = errors.New("the checks took longer than the way in could wait, so nothing was run")

func noTargetsMessage(command string) Message {
	return message(fmt.Sprintf(sayNoTargets, command), "")
}

func tooManyMessage(n, limit int) Message {
	return message(fmt.Sprintf(sayTooMany, n, limit), "")
}

func lookupFailedMessage(id string, err error) Message {
	what, todo := describe(err, OpLookup)
	return problem("warning", sayLookupFailed+what, todo, id)
}

func tooManyToConfirmMessage(n int) Message {
	return problem("warning", fmt.Sprintf(sayTooManyToConfirm, n), saySplitThem, "")
}

// confirmationMessage asks the requester to confirm a large reset. The
// buttons carry the signed request (see confirm.go).
func confirmationMessage(id string, targets []Target, ttl time.Duration, token string) Message {
	m := message(fmt.Sprintf(sayConfirmation, residentialUsers(len(targets)), targetList(targets, ""), humanDuration(ttl)), requestContext(id))
	m.Confirm = token
	return m
}
