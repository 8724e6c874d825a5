package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sessionbot/sessionbot/iproyal"
)

// Via is the way a request came in; the audit log line names it (kind).
type Via string

// The ways in.
const (
	ViaSlash    Via = "slash"    // /reset-sessions
	ViaMention  Via = "mention"  // @sessionbot reset
	ViaShortcut Via = "shortcut" // a message's "Reset sessions" form
	ViaPicker   Via = "picker"   // the form that picks sub-users by name
	ViaClick    Via = "click"    // Confirm or Cancel on a confirmation
	ViaShell    Via = "shell"    // sessionbot shell
	ViaCLI      Via = "cli"      // sessionbot reset
)

// typed reports whether requests of v are typed text: a verb, flags and
// targets, parsed by Triage.
func (v Via) typed() bool { return v == ViaSlash || v == ViaMention || v == ViaShell || v == "" }

// form reports whether requests of v are forms, which confirm by listing
// their targets, counted, rather than with buttons.
func (v Via) form() bool { return v == ViaShortcut || v == ViaPicker }

// Request is one request, whatever the way in. An adapter builds it from
// what it received (a command's text, a form's fields, a click's token,
// the command line's words) and hands it to Triage, then Handle, which take
// it through one path to its end.
type Request struct {
	Via     Via
	User    string // who asks: a Slack user ID; for the command line, who ran it (user@host)
	Channel string // where it is announced; none for the command line
	// Thread, when set, is the thread the request was made in: the
	// announcement and the outcome go there (a mention in a thread, a
	// shortcut on a message), and so do private answers.
	Thread string
	// ReplyTo is the transport's handle for private answers (Slack's
	// response_url); when empty, the transport answers in Channel.
	ReplyTo string
	// Prefix is how the requester writes the command where they are
	// ("@sessionbot reset" for a mention), for the examples in answers.
	// Default: the slash command.
	Prefix string

	Text    string            // a typed command (slash, mention, shell; the command line's find and status)
	Targets []string          // a form's or the command line's targets as typed: each word is one
	Names   map[string]string // usernames a form showed for hashes, to name them without a lookup
	DryRun  bool              // show what would be reset, and reset nothing
	// Counted is how many targets the requester saw listed and counted
	// before asking (a form's list): a reset of more than CONFIRM_ABOVE and
	// more than this is confirmed first.
	Counted int

	Token   string // a click: the confirmation it was made on
	Confirm bool   // a click: Confirm, or else Cancel

	// ID continues a request (a form's confirmation); a new one when empty.
	ID string
	// AnswerBy, when set, is when the way in must answer (a form, within
	// Slack's 3 s): the checks give up then, and nothing runs after it.
	AnswerBy time.Time
	// Proceed, when set, is called once the request passed every check and
	// is about to run, before anything is announced, with what its
	// requester may be told now. A way in that must answer before the reset
	// runs (a form, in its ack; a click, replacing its buttons) answers
	// here; false stops the request, and nothing is done.
	Proceed func(Result) bool

	// What the core learnt on the way, carried forward so that nothing is
	// parsed, authorized or resolved twice.
	triaged   bool
	id        string
	start     time.Time
	cmd       command   // a typed command, parsed
	allowed   bool      // the requester is known to be allowed here
	resolved  []Target  // the targets, when known already (a confirmation's)
	ref       string    // the request's journal entry, if it has one
	confirmed bool      // the requester confirmed these targets
	grants    []string  // the policy's grants its targets are attributed to
	approval  *approval // what its approval needs, when it needs one
	approver  string    // who approved it, when it ran approved
}

// Result is how a request ended, and what its requester is told. The
// adapter renders it: Block Kit, a form's errors, terminal lines.
type Result struct {
	RequestID string
	Outcome   Outcome
	Targets   []Target    // what was, or would be, reset
	Bad       []BadTarget // words that are not targets: nothing was reset
	Err       error       // the failure behind the outcome, for the log and the command line
	// Answer is what the requester is told privately, if anything.
	Answer Message
	// Replaces says that Answer replaces the message a click came from.
	Replaces bool
	// Problem is Answer as a form shows it, beside one of its fields.
	Problem *FormProblem
	// Confirm says a form's targets wait for a counted confirmation: the
	// form lists them, and their submission confirms. Nothing was done.
	Confirm bool
	// What find and status learnt, for a way in that shows it its own
	// way (the command line: a table, or JSON).
	Found   []iproyal.Subuser // find: the sub-users shown
	More    int               // find: how many more matched
	Account *iproyal.Account  // status
}

// Outcome is how a request ended; it labels metrics and audit log lines.
type Outcome string

// The outcomes of a request.
const (
	OutcomeHelp         Outcome = "help"
	OutcomeDenied       Outcome = "denied"
	OutcomeInvalid      Outcome = "invalid"
	OutcomeTooMany      Outcome = "too_many"
	OutcomeLookupFailed Outcome = "lookup_failed"
	OutcomePostFailed   Outcome = "post_failed"
	OutcomeReset        Outcome = "reset"
	OutcomeFailed       Outcome = "failed"
	OutcomeUnknown      Outcome = "unknown" // stopped while the reset was in flight
	OutcomeNotRun       Outcome = "not_run" // stopped, or out of time, before IPRoyal was called
	OutcomeDryRun       Outcome = "dry_run"
	OutcomeBusy         Outcome = "busy"
	OutcomeStatus       Outcome = "status"
	OutcomeStatusFailed Outcome = "status_failed"
	OutcomeFound        Outcome = "found"
	OutcomeFindFailed   Outcome = "find_failed"
	OutcomeRateLimited  Outcome = "rate_limited"
	OutcomeConfirmAsked Outcome = "confirmation_requested"
	OutcomeCancelled    Outcome = "cancelled"
	OutcomeExpired      Outcome = "confirmation_expired"
	OutcomeNotYours     Outcome = "click_not_requester"
	OutcomeBadClick     Outcome = "click_invalid"
	OutcomeRepeatClick  Outcome = "click_repeated"
	OutcomeClickFailed  Outcome = "click_not_recorded"
	// Two-person approval.
	OutcomeApprovalAsked     Outcome = "approval_requested"
	OutcomeApprovalDenied    Outcome = "approval_denied"
	OutcomeWithdrawn         Outcome = "withdrawn"
	OutcomeRefusedAtApproval Outcome = "refused_at_approval"
	OutcomeNotApprover       Outcome = "click_not_approver"
	OutcomeSelfApproval      Outcome = "click_self_approval"
)

// Outcomes lists every outcome, for metrics that start at zero.
var Outcomes = []Outcome{
	OutcomeHelp, OutcomeDenied, OutcomeInvalid, OutcomeTooMany, OutcomeLookupFailed, OutcomePostFailed,
	OutcomeReset, OutcomeFailed, OutcomeUnknown, OutcomeNotRun, OutcomeDryRun, OutcomeBusy, OutcomeStatus,
	OutcomeStatusFailed, OutcomeFound, OutcomeFindFailed, OutcomeRateLimited, OutcomeConfirmAsked,
	OutcomeCancelled, OutcomeExpired, OutcomeNotYours, OutcomeBadClick, OutcomeRepeatClick, OutcomeClickFailed,
	OutcomeApprovalAsked, OutcomeApprovalDenied, OutcomeWithdrawn, OutcomeRefusedAtApproval, OutcomeNotApprover,
	OutcomeSelfApproval,
}

// Timing of a request's end.
const (
	// interruptGrace is how long a request may still post after its
	// context ended (a shutdown, or COMMAND_TIMEOUT): the trail's last words.
	interruptGrace = 4 * time.Second
	// finishRetry is how long the posts that complete the trail are retried.
	finishRetry = time.Minute
)

// request is a Request on its way through the core, with its contexts and
// what it will say.
type request struct {
	Request
	res  Result
	took time.Duration // the reset's own time, as the messages say it

	// work bounds what the request does: lookups, the announcement, the
	// journal, IPRoyal. It ends a little before COMMAND_TIMEOUT, so that
	// the trail can still be completed.
	work context.Context
	// talk carries what the request says: the trail. It outlives the
	// request's end (a shutdown, COMMAND_TIMEOUT) by interruptGrace, so
	// the last words are still posted.
	talk context.Context
	// check bounds the checks (authorization, lookups): work, or sooner
	// when the way in must answer by AnswerBy.
	check    context.Context
	deadline time.Time // the request's end, COMMAND_TIMEOUT after it began
	done     func()
}

// begin starts a request's clock and contexts, and gives it its ID, unless
// Triage did both.
func (b *Bot) begin(ctx context.Context, req Request) *request {
	if !req.triaged {
		req.id, req.start = b.requestID(req.ID), b.cfg.Now()
	}
	r := &request{Request: req}
	r.res.RequestID = req.id
	timeout := b.cfg.CommandTimeout
	cmdCtx, cancelCmd := context.WithTimeout(ctx, timeout)
	r.deadline, _ = cmdCtx.Deadline()
	work, cancelWork := context.WithTimeout(cmdCtx, timeout-min(finishRetry, timeout/4))
	talk, cancelTalk := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(cmdCtx, func() { time.AfterFunc(interruptGrace, cancelTalk) })
	r.work, r.talk, r.check = work, talk, work
	cancelCheck := func() {}
	if !req.AnswerBy.IsZero() {
		r.check, cancelCheck = context.WithDeadline(work, req.AnswerBy)
	}
	r.done = func() {
		stop()
		cancelCheck()
		cancelWork()
		cancelCmd()
		cancelTalk()
	}
	return r
}

// requestID is id when it is one of ours (a request continued), else a new one.
func (b *Bot) requestID(id string) string {
	if len(id) == 8 && isHex(id) {
		return id
	}
	return b.cfg.NewID()
}

func isHex(s string) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// end closes a request: its contexts, its audit log line, its count.
func (b *Bot) end(r *request) {
	r.done()
	b.audit(r)
}

// audit writes a request's one structured log line, and counts it.
func (b *Bot) audit(r *request) {
	id, start, via, user, channel, res, took, grants := r.id, r.start, r.Via, r.User, r.Channel, r.res, r.took, r.grants
	if b.cfg.Observe.Outcome != nil {
		b.cfg.Observe.Outcome(res.Outcome)
	}
	targets := make([]string, 0, len(res.Targets))
	for _, t := range res.Targets {
		targets = append(targets, t.String())
	}
	if via == "" {
		via = ViaSlash
	}
	attrs := []slog.Attr{
		slog.String("request_id", id),
		slog.String("kind", string(via)), // the way in: slash, mention, shortcut, picker, click, shell, cli
		slog.String("user", user),
		slog.String("channel", channel),
		slog.Any("targets", targets),
		slog.String("outcome", string(res.Outcome)),
		slog.Float64("duration_ms", float64(b.cfg.Now().Sub(start).Microseconds())/1000),
	}
	if took > 0 {
		attrs = append(attrs, slog.Float64("reset_ms", float64(took.Microseconds())/1000))
	}
	if len(grants) > 0 {
		attrs = append(attrs, slog.Any("grants", grants))
	}
	if r.approver != "" {
		attrs = append(attrs, slog.String("approver", r.approver))
	}
	level := slog.LevelInfo
	if res.Err != nil {
		attrs = append(attrs, slog.String("error", res.Err.Error()))
		switch res.Outcome {
		case OutcomeFailed, OutcomePostFailed, OutcomeLookupFailed, OutcomeUnknown, OutcomeNotRun, OutcomeClickFailed, OutcomeFindFailed:
			level = slog.LevelError
		}
	}
	b.log.LogAttrs(context.Background(), level, "command", attrs...)
}

// answer sets what the requester is told, and, for a form, how the form
// shows it.
func (r *request) answer(o Outcome, m Message, p *FormProblem) {
	r.res.Outcome, r.res.Answer, r.res.Problem = o, m, p
	if r.res.Answer.Footer == "" && r.res.Answer.Text != "" {
		r.res.Answer.Footer = requestContext(r.id)
	}
}

// formProblem is m as a form shows it beside field, for a form; nil for
// any other way in, which never shows it.
func (r *request) formProblem(field string, m Message) *FormProblem {
	if !r.Via.form() {
		return nil
	}
	return &FormProblem{field, clip(PlainText(m.Text))}
}

// fail is answer for a failure, which the log line also carries.
func (r *request) fail(o Outcome, err error, m Message, p *FormProblem) {
	r.res.Err = err
	r.answer(o, m, p)
}

// prefix is how the requester writes the command.
func (r *request) prefix(command string) string {
	if r.Prefix == "" {
		return command
	}
	return r.Prefix
}

// cause is err as describe should read it: a stop, when sessionbot is
// stopping, whatever the call that was cut short answered.
func (r *request) cause(err error) error {
	if stopping(r.work) && !errors.Is(err, ErrStopping) {
		return fmt.Errorf("%w: %w", ErrStopping, err)
	}
	return err
}

// entry is the request as its journal entry, in state.
func (r *request) entry(state State) Entry {
	source := SourceSlack
	if r.Via == ViaCLI {
		source = SourceCLI
	}
	return Entry{
		Ref: r.ref, RequestID: r.id, State: state, Source: source, User: r.User, Channel: r.Channel,
		Root: r.Thread, Targets: r.res.Targets, Started: r.start, Grants: r.grants,
	}
}

// answerTimeout bounds delivering a Result's answer.
const answerTimeout = 15 * time.Second

// AnswerContext is the context an adapter delivers a Result's answer in:
// it does not end with ctx, but interruptGrace after it (a shutdown: the
// request's last words), and answerTimeout at most.
func AnswerContext(ctx context.Context) (context.Context, context.CancelFunc) {
	answer, cancel := context.WithTimeout(context.WithoutCancel(ctx), answerTimeout)
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(interruptGrace, cancel) })
	return answer, func() { stop(); cancel() }
}
