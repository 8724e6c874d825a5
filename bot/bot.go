// Package bot is sessionbot's core: it parses /reset-sessions, authorizes
// the requester, announces the reset, calls IPRoyal and reports the
// outcome, in plain types of its own. It knows nothing of Slack: the
// adapters in bot/slack (Socket Mode) and bot/shell (a terminal) translate.
package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/sessionbot/sessionbot/iproyal"
)

// Command is one command, whatever the way in: a slash command, a
// mention, a line in the shell.
type Command struct {
	User    string // requester's user ID
	Channel string // where it was typed
	Text    string // everything after the command name (or the mention)
	// Thread, when set, is the thread the command was made in: the
	// announcement and the outcome go there (a mention in a thread, or a
	// shortcut on a message), and so do private answers.
	Thread string
	// Via names the way in, for the audit log line: "slash", "mention",
	// "shortcut", "picker", "shell". Default "slash".
	Via string
	// ReplyTo is the transport's handle for private replies (Slack's
	// response_url); when empty, the transport answers privately in Channel
	// (and Thread).
	ReplyTo string
	// Prefix is how the requester writes the command where they are
	// ("@sessionbot reset" for a mention), for the examples in answers.
	// Default: the slash command.
	Prefix string
}

// Chat is what the core needs from a chat transport. Reply, Update and
// React complete the trail of a decision already made, so transports retry
// them hard (Slack's adapter: on 5xx, 429 and connection errors), until ctx
// ends.
type Chat interface {
	// Post posts in a channel, or in the thread of thread when it is set,
	// and returns the message's timestamp. When the bot cannot post there
	// for a reason a user can fix, the error is a *ChannelError.
	Post(ctx context.Context, channel, thread string, m Message) (ts string, err error)
	// Reply posts in the thread whose first message is ts; broadcast also
	// shows it in the channel.
	Reply(ctx context.Context, channel, ts string, m Message, broadcast bool) error
	// Update replaces the bot's message at ts.
	Update(ctx context.Context, channel, ts string, m Message) error
	// React adds an emoji reaction to a message.
	React(ctx context.Context, channel, ts, emoji string) error
	// Private shows m to the requester of cmd only.
	Private(ctx context.Context, cmd Command, m Message) error
	// Replace replaces the private message a click came from (replyTo is
	// the click's handle, Slack's response_url).
	Replace(ctx context.Context, replyTo string, m Message) error
	// Link is an address people can follow to the message at ts, or "".
	Link(channel, ts string) string
}

// Click is a decision on a confirmation: Confirm or Cancel.
type Click struct {
	User    string // who clicked
	Channel string
	Token   string // what the confirmation carried (Message.Confirm)
	Confirm bool   // Confirm, or else Cancel
	// ReplyTo is the transport's handle for answering the click (response_url).
	ReplyTo string
}

// IPRoyal is what the core needs from the IPRoyal client.
type IPRoyal interface {
	SubuserFinder
	// SearchSubusers returns the first limit sub-users whose username
	// contains search, and how many there are.
	SearchSubusers(ctx context.Context, search string, limit int) ([]iproyal.Subuser, int, error)
	ResetSessions(ctx context.Context, hashes []string) error
	Me(ctx context.Context) (iproyal.Account, error)
}

// Outcome is how a command ended; it labels metrics and audit log lines.
type Outcome string

// The outcomes of a command.
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
)

// ErrStopping is the cause a transport cancels commands with when
// sessionbot shuts down before they finished: they tell their threads so.
var ErrStopping = errors.New("sessionbot is shutting down")

// DefaultCommandTimeout bounds one command when Config does not say.
const DefaultCommandTimeout = 2 * time.Minute

// Timing of a command's end.
const (
	// interruptGrace is how long a command may still post after its
	// context ended (a shutdown, or COMMAND_TIMEOUT): the trail's last words.
	interruptGrace = 4 * time.Second
	// finishRetry is how long the posts that complete the trail are retried.
	finishRetry = time.Minute
	// listTimeout bounds posting a long target list in the thread.
	listTimeout = 15 * time.Second
	// journalTimeout bounds a journal call a request waits on: writing its
	// entry before the reset, claiming or reading it for a click. A
	// journal Slack is throttling must not hold a reset up for long: past
	// this, the reset goes on without the entry, and says so in the log.
	journalTimeout = 3 * time.Second
)

// Config is the core's behaviour; zero values get sensible defaults.
type Config struct {
	Command      string // the slash command, for help texts; default /reset-sessions
	MaxTargets   int    // most targets in one command; default 100
	AuditChannel string // if set, denials are mirrored here
	// Journal, if set, keeps every accepted request where it outlives this
	// process (Slack: in AuditChannel). Without it a crash can leave an
	// announcement without an outcome, and a click cannot be checked against
	// the other replicas'.
	Journal Journal
	// CommandTimeout bounds everything one command does; default 2m.
	CommandTimeout time.Duration
	// DryRun makes every command a dry run that does not call IPRoyal at
	// all (the shell's offline mode); usernames are then not looked up.
	DryRun bool
	// ConfirmAbove: commands with more targets wait for the requester to
	// click Confirm. Zero or less: never ask.
	ConfirmAbove int
	// ConfirmTTL is how long a confirmation can be clicked; default 5m.
	ConfirmTTL time.Duration
	// ConfirmKey signs confirmations. Every replica must have the same key;
	// when it is empty a random one is made, which suits a single process.
	ConfirmKey []byte
	// TokenLimit bounds a confirmation's token, what the transport's
	// buttons carry; default MaxTokenLen (Slack's). The shell holds tokens
	// in memory and takes any length.
	TokenLimit int
	// RateLimitPerMinute bounds each user's commands; zero or less: no limit.
	RateLimitPerMinute int
	Now                func() time.Time
	NewID              func() string
	Log                *slog.Logger
	Metrics            *Metrics
}

// Bot handles commands. It is safe for concurrent use.
type Bot struct {
	cfg     Config
	auth    *Authorizer
	iproyal IPRoyal
	finder  SubuserFinder // iproyal, behind a minute's cache of usernames
	chat    Chat
	log     *slog.Logger
	limiter *userLimiter
	denials *denialMirror
	acct    account // the home tab's cache of GET /me

	mu     sync.Mutex
	clicks map[string]clickSeen // confirmations this process acted on, until they expire
}

type clickSeen struct {
	expires time.Time
	confirm bool
}

// New returns a Bot. ipr may be nil when cfg.DryRun is set.
func New(cfg Config, auth *Authorizer, ipr IPRoyal, chat Chat) *Bot {
	if cfg.Command == "" {
		cfg.Command = "/reset-sessions"
	}
	if cfg.MaxTargets <= 0 {
		cfg.MaxTargets = 100
	}
	if cfg.CommandTimeout <= 0 {
		cfg.CommandTimeout = DefaultCommandTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NewID == nil {
		cfg.NewID = newRequestID
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.ConfirmTTL <= 0 {
		cfg.ConfirmTTL = 5 * time.Minute
	}
	if cfg.TokenLimit <= 0 {
		cfg.TokenLimit = MaxTokenLen
	}
	if len(cfg.ConfirmKey) == 0 {
		cfg.ConfirmKey = make([]byte, 32)
		_, _ = rand.Read(cfg.ConfirmKey)
	}
	b := &Bot{
		cfg: cfg, auth: auth, iproyal: ipr, chat: chat, log: cfg.Log,
		limiter: newUserLimiter(cfg.RateLimitPerMinute, cfg.Now),
		clicks:  map[string]clickSeen{},
	}
	b.denials = newDenialMirror(b)
	if ipr != nil {
		b.finder = newCachedFinder(ipr, cfg.Now)
	}
	return b
}

// Command returns the slash command the bot answers to.
func (b *Bot) Command() string { return b.cfg.Command }

func newRequestID() string {
	var buf [4]byte
	_, _ = rand.Read(buf[:])
	return hex.EncodeToString(buf[:])
}

// request is one command or click on its way through the core, and what it
// leaves in the audit log.
type request struct {
	id      string
	kind    string // "command", "click" or "cli"
	cmd     Command
	targets []Target
	outcome Outcome
	start   time.Time
	took    time.Duration // the reset's own time, as the messages say it
	retryIn time.Duration // rate limited: when the requester may try again
	err     error

	// work bounds what the request does: lookups, the announcement, the
	// journal, IPRoyal. It ends a little before COMMAND_TIMEOUT, so that
	// the trail can still be completed.
	work context.Context
	// talk carries what the request says: answers and the trail. It
	// outlives the command's end (a shutdown, COMMAND_TIMEOUT) by
	// interruptGrace, so the last words are still posted.
	talk     context.Context
	deadline time.Time // the command's end, COMMAND_TIMEOUT after it began
	done     func()
}

func (b *Bot) newRequest(ctx context.Context, kind string, cmd Command) *request {
	r := &request{id: b.cfg.NewID(), kind: kind, cmd: cmd, start: b.cfg.Now()}
	timeout := b.cfg.CommandTimeout
	cmdCtx, cancelCmd := context.WithTimeout(ctx, timeout)
	r.deadline, _ = cmdCtx.Deadline()
	work, cancelWork := context.WithTimeout(cmdCtx, timeout-min(finishRetry, timeout/4))
	talk, cancelTalk := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(cmdCtx, func() { time.AfterFunc(interruptGrace, cancelTalk) })
	r.work, r.talk = work, talk
	r.done = func() {
		stop()
		cancelWork()
		cancelCmd()
		cancelTalk()
	}
	return r
}

// stopping reports whether sessionbot is shutting down under ctx.
func stopping(ctx context.Context) bool {
	return errors.Is(context.Cause(ctx), ErrStopping)
}

// Handle runs one command to its end and returns how it ended. It is
// bounded by Config.CommandTimeout; when ctx is cancelled with ErrStopping,
// the command says what that means for it before it returns. The caller
// has triaged it (Triage) first.
func (b *Bot) Handle(ctx context.Context, cmd Command) Outcome {
	r := b.newRequest(ctx, via(cmd), cmd)
	defer r.done()
	r.outcome = b.handle(r)
	b.audit(r)
	return r.outcome
}

// Triage answers at once what memory alone can answer: a requester past
// the rate limit, a request for help, a refusal the allow-list decides
// without a lookup. Every way in calls it first, before the request takes a
// slot or costs a Web API call, and counts against the requester's rate
// limit; when it answers (done), the answer is all that happens, besides
// the audit log line and, for a refusal, the budgeted audit mirror.
func (b *Bot) Triage(cmd Command) (answer Message, done bool) {
	return b.triage(cmd, true)
}

// TriageForm is Triage for a form about to open (a shortcut, the picker):
// the rate limit, and a refusal from memory. A form has no help to ask for.
func (b *Bot) TriageForm(user, channel, via string) (answer Message, done bool) {
	return b.triage(Command{User: user, Channel: channel, Via: via}, false)
}

func (b *Bot) triage(cmd Command, help bool) (answer Message, done bool) {
	r := &request{id: b.cfg.NewID(), kind: via(cmd), cmd: cmd, start: b.cfg.Now()}
	switch {
	case !b.admit(r):
	case help && isHelpText(cmd.Text):
		r.outcome = OutcomeHelp
		answer = b.help(cmd)
	default:
		reason, known := b.auth.Decided(cmd.User, cmd.Channel)
		if !known || reason == "" {
			return Message{}, false
		}
		r.outcome = OutcomeDenied
		answer = deniedMessage(reason, b.auth.Policy())
		b.denials.mirror(cmd.User, cmd.Channel, reason)
	}
	if r.outcome == OutcomeRateLimited {
		answer = rateLimitedMessage(b.cfg.RateLimitPerMinute, r.retryIn)
	}
	answer.Footer = requestContext(r.id)
	b.audit(r)
	return answer, true
}

// TriageClick is Triage for a click: it counts against the rate limit, and
// answers when the clicker is past it.
func (b *Bot) TriageClick(c Click) (answer Message, done bool) {
	r := &request{id: b.cfg.NewID(), kind: "click", cmd: Command{User: c.User, Channel: c.Channel}, start: b.cfg.Now()}
	if b.admit(r) {
		return Message{}, false
	}
	answer = rateLimitedMessage(b.cfg.RateLimitPerMinute, r.retryIn)
	answer.Footer = requestContext(r.id)
	b.audit(r)
	return answer, true
}

// admit takes one request from the requester's rate limit, or marks r as
// refused for it.
func (b *Bot) admit(r *request) bool {
	ok, retryIn := b.limiter.allow(r.cmd.User)
	if !ok {
		r.outcome, r.retryIn = OutcomeRateLimited, retryIn
	}
	return ok
}

func isHelpText(text string) bool { return parseCommand(text).verb == verbHelp }

// help is the help for whoever asked, in the way they asked; in Slack it
// names every way in.
func (b *Bot) help(cmd Command) Message {
	return HelpMessage(prefix(cmd, b.cfg.Command), b.cfg.Command, via(cmd) != "shell", b.cfg.MaxTargets, b.cfg.ConfirmAbove)
}

// prefix is how cmd's requester writes the command.
func prefix(cmd Command, command string) string {
	if cmd.Prefix == "" {
		return command
	}
	return cmd.Prefix
}

// via is the way in a command came, for its audit line.
func via(cmd Command) string {
	if cmd.Via == "" {
		return "slash"
	}
	return cmd.Via
}

func (b *Bot) handle(r *request) Outcome {
	cmd := r.cmd
	c := parseCommand(cmd.Text)
	if c.verb == verbHelp {
		b.private(r, b.help(cmd))
		return OutcomeHelp
	}

	reason, lookupErr := b.auth.Authorize(r.work, cmd.User, cmd.Channel)
	if reason != "" {
		r.err = lookupErr
		b.private(r, deniedMessage(reason, b.auth.Policy()))
		b.denials.mirror(cmd.User, cmd.Channel, reason)
		return OutcomeDenied
	}

	switch c.verb {
	case verbStatus:
		if len(c.extra) > 0 {
			b.private(r, keywordAloneMessage(prefix(cmd, b.cfg.Command), "status", c.extra))
			return OutcomeInvalid
		}
		return b.status(r)
	case verbFind:
		if c.search == "" || len(c.extra) > 0 {
			b.private(r, findUsageMessage(prefix(cmd, b.cfg.Command)))
			return OutcomeInvalid
		}
		return b.find(r, c.search)
	}
	if len(c.targets) == 0 {
		b.private(r, noTargetsMessage(prefix(cmd, b.cfg.Command)))
		return OutcomeInvalid
	}
	if len(c.targets) > b.cfg.MaxTargets {
		b.private(r, tooManyMessage(len(c.targets), b.cfg.MaxTargets))
		return OutcomeTooMany
	}
	var finder SubuserFinder
	if !b.cfg.DryRun {
		finder = b.finder
	}
	targets, bad, err := resolve(r.work, finder, c.targets)
	if err != nil {
		r.err = err
		b.private(r, lookupFailedMessage(r.id, err, stopping(r.work)))
		return OutcomeLookupFailed
	}
	if len(bad) > 0 {
		b.private(r, badTargetsMessage(bad))
		return OutcomeInvalid
	}
	r.targets = targets

	if c.dryRun {
		b.private(r, dryRunPreviewMessage(r.id, targets))
		return OutcomeDryRun
	}
	if b.cfg.ConfirmAbove > 0 && len(targets) > b.cfg.ConfirmAbove {
		return b.askConfirmation(r, targets)
	}
	tell := func(ctx context.Context, m Message) error { return b.chat.Private(ctx, cmd, m) }
	return b.execute(r, cmd.User, cmd.Channel, cmd.Thread, targets, tell, "")
}

// maxFound bounds the sub-users find shows.
const maxFound = 20

// find shows the requester the sub-users whose username contains text.
func (b *Bot) find(r *request, text string) Outcome {
	if b.cfg.DryRun {
		b.private(r, message(":information_source: Dry run: IPRoyal is not called, so sub-users cannot be searched.", ""))
		return OutcomeDryRun
	}
	subs, total, err := b.iproyal.SearchSubusers(r.work, text, maxFound)
	if err != nil {
		r.err = err
		b.private(r, findFailedMessage(r.id, err, stopping(r.work)))
		return OutcomeFindFailed
	}
	b.private(r, findMessage(prefix(r.cmd, b.cfg.Command), text, subs, total))
	return OutcomeFound
}

// outcome is how a reset ended, and what the trail says of it.
type outcome struct {
	e         Entry   // the request in its final state
	reply     Message // the thread's reply
	broadcast bool    // the reply also goes to the channel
	emoji     string  // the announcement's reaction
	// tell reaches the requester privately, if the thread reply fails.
	tell func(context.Context, Message) error
}

// execute announces the reset in channel (in thread, when set), journals
// it, runs it, and completes the trail: the outcome in the announcement's
// thread, a reaction, the announcement and the journal in their final
// state. tell reaches the requester privately. ref is the request's journal
// entry when it has one already (a confirmed request).
func (b *Bot) execute(r *request, user, channel, thread string, targets []Target, tell func(context.Context, Message) error, ref string) Outcome {
	r.targets = targets
	e := Entry{
		Ref: ref, RequestID: r.id, State: StateStarted, Source: SourceSlack,
		User: user, Channel: channel, Root: thread, Targets: targets, Started: r.start,
	}
	// The announcement comes first, so the trail exists even if the reset fails.
	ts, err := b.chat.Post(r.work, channel, thread, AnnouncementMessage(r.id, user, targets))
	if err != nil {
		r.err = err
		var chErr *ChannelError
		switch {
		case errors.As(err, &chErr):
			_ = tell(r.talk, cannotPostMessage(r.id, chErr.Code))
			e.State, e.Reason = StateRefused, cannotPostReason(chErr.Code)
			b.journal(r, &e)
		case stopping(r.work):
			_ = tell(r.talk, stoppedBeforeAnnouncingMessage(r.id))
		default:
			_ = tell(r.talk, slackFailedMessage(r.id, err))
		}
		return OutcomePostFailed
	}
	e.Thread = ts

	if b.cfg.DryRun {
		b.reply(r.talk, channel, e.replyTS(), dryRunMessage(r.id, len(targets)), false)
		return OutcomeDryRun
	}
	b.journal(r, &e)
	b.listInThread(r, channel, e.replyTS(), targets)

	o := outcome{tell: tell}
	if r.work.Err() != nil {
		// Stopped, or out of time, before IPRoyal was called: nothing was sent.
		r.err = context.Cause(r.work)
		e.State, e.Reason = StateFailed, notRunReason(stopping(r.work))
		o.reply, o.emoji = notRunMessage(r.id, user, stopping(r.work)), "x"
		r.outcome = OutcomeNotRun
	} else {
		start := b.cfg.Now()
		err = b.iproyal.ResetSessions(r.work, Hashes(targets))
		r.took = b.cfg.Now().Sub(start)
		e.Took = r.took
		switch {
		case err == nil:
			e.State = StateReset
			o.reply, o.emoji = successMessage(r.id, len(targets), r.took), "white_check_mark"
			r.outcome = OutcomeReset
		case stopping(r.work):
			r.err = err
			e.State, e.Reason = StateUnknown, "sessionbot stopped while the reset was in flight"
			o.reply, o.emoji = interruptedMessage(r.id, user), "warning"
			r.outcome = OutcomeUnknown
		default:
			r.err = err
			what, _ := describeFailure(err, OpReset)
			e.State, e.Reason = StateFailed, what
			o.reply, o.broadcast, o.emoji = failureMessage(r.id, user, err), true, "x"
			r.outcome = OutcomeFailed
		}
	}
	o.e = e
	b.finishPosts(r.talk, r.deadline, o)
	return r.outcome
}

// finishPosts completes the trail of an outcome: the thread reply, the
// reaction, the announcement's final state and the journal's go out at
// once, each retried (by the transport) for up to finishRetry, and not
// past deadline (when set). If the reply cannot be posted, the requester is
// told privately, within talk, and the log line carries the whole outcome.
func (b *Bot) finishPosts(talk context.Context, deadline time.Time, o outcome) {
	if end := b.cfg.Now().Add(finishRetry); deadline.IsZero() || end.Before(deadline) {
		deadline = end
	}
	ctx, cancel := context.WithDeadline(talk, deadline)
	defer cancel()
	e := o.e
	var wg sync.WaitGroup
	var replyErr error
	wg.Go(func() { replyErr = b.chat.Reply(ctx, e.Channel, e.replyTS(), o.reply, o.broadcast) })
	wg.Go(func() { b.react(ctx, e.Channel, e.Thread, o.emoji) })
	wg.Go(func() {
		if err := b.chat.Update(ctx, e.Channel, e.Thread, finalAnnouncement(e)); err != nil {
			b.log.WarnContext(ctx, "could not update the announcement to its outcome", "request_id", e.RequestID, "channel", e.Channel, "ts", e.Thread, "error", err)
		}
	})
	if b.cfg.Journal != nil && e.Ref != "" {
		wg.Go(func() { b.rewrite(ctx, e) })
	}
	wg.Wait()
	if replyErr == nil {
		return
	}
	b.log.ErrorContext(ctx, "could not post the outcome in the announcement's thread",
		"request_id", e.RequestID, "user", e.User, "channel", e.Channel, "ts", e.Thread,
		"state", string(e.State), "reason", e.Reason, "outcome", o.reply.Text, "error", replyErr)
	if o.tell != nil {
		if err := o.tell(talk, o.reply); err != nil {
			b.log.ErrorContext(ctx, "could not tell the requester the outcome privately either", "request_id", e.RequestID, "error", err)
		}
	}
}

// journal writes e (or rewrites it, when it has a Ref), and keeps its
// reference. Without a journal it does nothing. A failure is logged and the
// request goes on: the channel's trail still holds.
func (b *Bot) journal(r *request, e *Entry) {
	if b.cfg.Journal == nil {
		return
	}
	m := b.auditMessage(*e)
	ctx, cancel := context.WithTimeout(r.work, journalTimeout)
	defer cancel()
	if e.Ref != "" {
		if err := b.cfg.Journal.Rewrite(ctx, *e, m); err != nil {
			b.log.ErrorContext(r.work, "could not update the journal: a crash now would leave this request open", "request_id", r.id, "state", string(e.State), "error", err)
		}
		return
	}
	ref, err := b.cfg.Journal.Write(ctx, *e, m)
	if err != nil {
		b.log.ErrorContext(r.work, "could not write the journal: a crash now would leave this request unmarked", "request_id", r.id, "state", string(e.State), "error", err)
		return
	}
	e.Ref = ref
}

// listInThread posts the whole target list in the announcement's thread
// when the announcement could not show all of it.
func (b *Bot) listInThread(r *request, channel, ts string, targets []Target) {
	parts := targetListReplies(r.id, targets)
	if len(parts) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(r.talk, listTimeout)
	defer cancel()
	for _, m := range parts {
		if err := b.chat.Reply(ctx, channel, ts, m, false); err != nil {
			b.log.ErrorContext(ctx, "could not post the target list in the thread", "request_id", r.id, "channel", channel, "ts", ts, "error", err)
			return
		}
	}
}

func (b *Bot) status(r *request) Outcome {
	if b.cfg.DryRun {
		b.private(r, message(":information_source: Dry run: IPRoyal is not called, so there is no account status to show.", ""))
		return OutcomeDryRun
	}
	acct, err := b.iproyal.Me(r.work)
	if err != nil {
		r.err = err
		b.private(r, statusFailedMessage(r.id, err, stopping(r.work)))
		return OutcomeStatusFailed
	}
	b.private(r, statusMessage(acct))
	return OutcomeStatus
}

// askConfirmation shows the requester what would happen, with Confirm and
// Cancel buttons that carry the signed request. With a journal, the request
// is journalled first, so that its first click decides on every replica.
func (b *Bot) askConfirmation(r *request, targets []Target) Outcome {
	cmd := r.cmd
	p := pending{
		ID: r.id, User: cmd.User, Channel: cmd.Channel, Thread: cmd.Thread, Targets: targets,
		Expires: b.cfg.Now().Add(b.cfg.ConfirmTTL),
	}
	if b.cfg.Journal != nil {
		e := Entry{
			RequestID: r.id, State: StateAwaiting, Source: SourceSlack, User: cmd.User,
			Channel: cmd.Channel, Root: cmd.Thread, Targets: targets, Started: r.start, Expires: p.Expires,
		}
		b.journal(r, &e)
		p.Ref = e.Ref
	}
	tok, err := sealToken(b.cfg.ConfirmKey, p, b.cfg.TokenLimit)
	if err != nil {
		r.err = err
		if errors.Is(err, errTokenTooBig) {
			b.private(r, tooManyToConfirmMessage(len(targets)))
			return OutcomeTooMany
		}
		b.log.ErrorContext(r.work, "could not make a confirmation", "request_id", r.id, "error", err)
		b.private(r, message(":warning: Nothing was reset: sessionbot could not make the confirmation for this command.\n*What to do:* tell whoever runs sessionbot.", ""))
		return OutcomeInvalid
	}
	b.private(r, confirmationMessage(r.id, targets, b.cfg.ConfirmTTL, tok))
	return OutcomeConfirmAsked
}

// HandleClick acts on a press of Confirm or Cancel, on whichever replica
// receives it: everything needed travels, signed, in the click itself, and
// the journal says whether another click decided first.
func (b *Bot) HandleClick(ctx context.Context, c Click) Outcome {
	r := b.newRequest(ctx, "click", Command{User: c.User, Channel: c.Channel, ReplyTo: c.ReplyTo})
	defer r.done()
	r.outcome = b.handleClick(r, c)
	b.audit(r)
	return r.outcome
}

func (b *Bot) handleClick(r *request, c Click) Outcome {
	p, err := openToken(b.cfg.ConfirmKey, c.Token)
	if err != nil {
		r.err = errTokenInvalid
		b.private(r, message(":no_entry: This button is not valid, so nothing was reset. Run the command again.", ""))
		return OutcomeBadClick
	}
	if p.ID != "" {
		r.id = p.ID // the click continues the command's request
	}
	r.cmd.Channel = p.Channel
	r.targets = p.Targets
	if c.User != p.User {
		b.private(r, notYoursMessage(p.User))
		return OutcomeNotYours
	}
	replace := func(ctx context.Context, m Message) error { return b.chat.Replace(ctx, c.ReplyTo, m) }

	// The first click decides, and a later one never contradicts it. This
	// process remembers what it decided; the journal knows what any process
	// decided, and arbitrates between two clicks on two replicas.
	if prev, seen := b.rememberClick(c.Token, p.Expires, c.Confirm); seen {
		if prev != c.Confirm {
			b.replace(r, c.ReplyTo, decidedHereMessage(r.id, prev, p))
		}
		return OutcomeRepeatClick
	}
	if p.Ref != "" && b.cfg.Journal != nil {
		ctx, cancel := context.WithTimeout(r.work, journalTimeout)
		defer cancel()
		won, err := b.cfg.Journal.Claim(ctx, p.Ref, markDecided)
		if err != nil {
			b.forgetClick(c.Token)
			r.err = err
			b.replace(r, c.ReplyTo, clickNotRecordedMessage(r.id))
			return OutcomeClickFailed
		}
		if !won {
			e, err := b.cfg.Journal.Read(ctx, p.Ref)
			if err != nil {
				r.err = err
			}
			b.replace(r, c.ReplyTo, decidedElsewhereMessage(r.id, e, err, b.link(e.Channel, e.Thread)))
			return OutcomeRepeatClick
		}
	}
	e := Entry{
		Ref: p.Ref, RequestID: r.id, Source: SourceSlack, User: p.User, Channel: p.Channel,
		Root: p.Thread, Targets: p.Targets, Started: r.start, Expires: p.Expires,
	}
	known := p.Ref != "" && b.cfg.Journal != nil // this click is known to be the first

	if !b.cfg.Now().Before(p.Expires) {
		e.State = StateExpired
		b.journal(r, &e)
		b.replace(r, c.ReplyTo, expiredMessage(r.id, b.cfg.ConfirmTTL, known))
		return OutcomeExpired
	}
	if !c.Confirm {
		e.State = StateCancelled
		b.journal(r, &e)
		b.replace(r, c.ReplyTo, cancelledMessage(r.id, len(p.Targets), known, p.Channel))
		return OutcomeCancelled
	}
	// Whoever was allowed five minutes ago may not be now.
	if reason, lookupErr := b.auth.Authorize(r.work, p.User, p.Channel); reason != "" {
		r.err = lookupErr
		e.State, e.Reason = StateRefused, deniedReason(reason, b.auth.Policy())
		b.journal(r, &e)
		b.replace(r, c.ReplyTo, deniedMessage(reason, b.auth.Policy()))
		b.denials.mirror(p.User, p.Channel, reason)
		return OutcomeDenied
	}
	b.replace(r, c.ReplyTo, confirmedMessage(r.id, len(p.Targets)))
	return b.execute(r, p.User, p.Channel, p.Thread, p.Targets, replace, p.Ref)
}

// rememberClick records this process's decision on tok until it expires,
// and returns the decision already recorded, if there was one.
func (b *Bot) rememberClick(tok string, expires time.Time, confirm bool) (prev, seen bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.cfg.Now()
	for k, c := range b.clicks {
		if now.After(c.expires) {
			delete(b.clicks, k)
		}
	}
	if c, ok := b.clicks[tok]; ok {
		return c.confirm, true
	}
	b.clicks[tok] = clickSeen{expires: expires, confirm: confirm}
	return false, false
}

// forgetClick undoes rememberClick for a click that decided nothing.
func (b *Bot) forgetClick(tok string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.clicks, tok)
}

// The chat calls below are best effort: by the time they run, the decision
// is made, so a failure is logged and the command goes on.

// private answers the requester. Every private answer carries the request
// ID, so that a screenshot can be matched to its log line.
func (b *Bot) private(r *request, m Message) {
	if m.Footer == "" {
		m.Footer = requestContext(r.id)
	}
	if err := b.chat.Private(r.talk, r.cmd, m); err != nil {
		b.log.WarnContext(r.talk, "private reply failed", "request_id", r.id, "user", r.cmd.User, "error", err)
	}
}

func (b *Bot) reply(ctx context.Context, channel, ts string, m Message, broadcast bool) {
	if err := b.chat.Reply(ctx, channel, ts, m, broadcast); err != nil {
		b.log.ErrorContext(ctx, "thread reply failed", "channel", channel, "ts", ts, "error", err)
	}
}

func (b *Bot) react(ctx context.Context, channel, ts, emoji string) {
	if err := b.chat.React(ctx, channel, ts, emoji); err != nil {
		b.log.WarnContext(ctx, "reaction failed", "channel", channel, "ts", ts, "emoji", emoji, "error", err)
	}
}

// link is the address of a message, if the transport has one. The command
// line has no chat at all.
func (b *Bot) link(channel, ts string) string {
	if b.chat == nil || channel == "" || ts == "" {
		return ""
	}
	return b.chat.Link(channel, ts)
}

func (b *Bot) replace(r *request, replyTo string, m Message) {
	if m.Footer == "" {
		m.Footer = requestContext(r.id)
	}
	if err := b.chat.Replace(r.talk, replyTo, m); err != nil {
		b.log.WarnContext(r.talk, "replacing the confirmation failed", "request_id", r.id, "error", err)
	}
}

// audit writes the command's one structured log line, and counts it.
func (b *Bot) audit(r *request) {
	took := b.cfg.Now().Sub(r.start)
	if b.cfg.Metrics != nil {
		b.cfg.Metrics.Commands.WithLabelValues(string(r.outcome)).Inc()
	}
	targets := make([]string, 0, len(r.targets))
	for _, t := range r.targets {
		targets = append(targets, t.String())
	}
	attrs := []slog.Attr{
		slog.String("request_id", r.id),
		slog.String("kind", r.kind),
		slog.String("user", r.cmd.User),
		slog.String("channel", r.cmd.Channel),
		slog.Any("targets", targets),
		slog.String("outcome", string(r.outcome)),
		slog.Float64("duration_ms", float64(took.Microseconds())/1000),
	}
	if r.took > 0 {
		attrs = append(attrs, slog.Float64("reset_ms", float64(r.took.Microseconds())/1000))
	}
	level := slog.LevelInfo
	if r.err != nil {
		attrs = append(attrs, slog.String("error", r.err.Error()))
		switch r.outcome {
		case OutcomeFailed, OutcomePostFailed, OutcomeLookupFailed, OutcomeUnknown, OutcomeNotRun, OutcomeClickFailed, OutcomeFindFailed:
			level = slog.LevelError
		}
	}
	b.log.LogAttrs(context.Background(), level, "command", attrs...)
}
