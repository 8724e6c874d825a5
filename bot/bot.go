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
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/sessionbot/sessionbot/iproyal"
)

// Command is one invocation of the slash command, whatever the transport.
type Command struct {
	User    string // requester's user ID
	Channel string // where it was typed
	Text    string // everything after the command name
	// ReplyTo is the transport's handle for private replies (Slack's response_url).
	ReplyTo string
}

// Chat is what the core needs from a chat transport.
type Chat interface {
	// Post posts in a channel and returns the message's timestamp. When the
	// bot cannot post there for a reason a user can fix, the error is a *ChannelError.
	Post(ctx context.Context, channel string, m Message) (ts string, err error)
	// Reply posts in the thread of ts; broadcast also shows it in the channel.
	Reply(ctx context.Context, channel, ts string, m Message, broadcast bool) error
	// React adds an emoji reaction to a message.
	React(ctx context.Context, channel, ts, emoji string) error
	// Private shows m to the requester of cmd only.
	Private(ctx context.Context, cmd Command, m Message) error
	// Replace replaces the private message a click came from (replyTo is
	// the click's handle, Slack's response_url).
	Replace(ctx context.Context, replyTo string, m Message) error
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
	OutcomeDryRun       Outcome = "dry_run"
	OutcomeBusy         Outcome = "busy"
	OutcomeStatus       Outcome = "status"
	OutcomeStatusFailed Outcome = "status_failed"
	OutcomeRateLimited  Outcome = "rate_limited"
	OutcomeConfirmAsked Outcome = "confirmation_requested"
	OutcomeCancelled    Outcome = "cancelled"
	OutcomeExpired      Outcome = "confirmation_expired"
	OutcomeNotYours     Outcome = "click_not_requester"
	OutcomeBadClick     Outcome = "click_invalid"
	OutcomeRepeatClick  Outcome = "click_repeated"
)

// Config is the core's behaviour; zero values get sensible defaults.
type Config struct {
	Command      string // the slash command, for help texts; default /reset-sessions
	MaxTargets   int    // most targets in one command; default 100
	AuditChannel string // if set, requests, denials and outcomes are mirrored here
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
	chat    Chat
	log     *slog.Logger
	limiter *userLimiter

	mu     sync.Mutex
	clicks map[string]time.Time // confirmations already acted on, until they expire
}

// New returns a Bot. ipr may be nil when cfg.DryRun is set.
func New(cfg Config, auth *Authorizer, ipr IPRoyal, chat Chat) *Bot {
	if cfg.Command == "" {
		cfg.Command = "/reset-sessions"
	}
	if cfg.MaxTargets <= 0 {
		cfg.MaxTargets = 100
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
	if len(cfg.ConfirmKey) == 0 {
		cfg.ConfirmKey = make([]byte, 32)
		_, _ = rand.Read(cfg.ConfirmKey)
	}
	return &Bot{
		cfg: cfg, auth: auth, iproyal: ipr, chat: chat, log: cfg.Log,
		limiter: newUserLimiter(cfg.RateLimitPerMinute, cfg.Now),
		clicks:  map[string]time.Time{},
	}
}

// Command returns the slash command the bot answers to.
func (b *Bot) Command() string { return b.cfg.Command }

func newRequestID() string {
	var buf [4]byte
	_, _ = rand.Read(buf[:])
	return hex.EncodeToString(buf[:])
}

// record is what one command leaves in the audit log.
type record struct {
	id      string
	kind    string // "command" or "click"
	cmd     Command
	targets []Target
	outcome Outcome
	start   time.Time
	err     error
}

// Handle runs one command to its end and returns how it ended. ctx bounds
// everything the command does, IPRoyal and the chat calls alike.
func (b *Bot) Handle(ctx context.Context, cmd Command) Outcome {
	rec := &record{id: b.cfg.NewID(), kind: "command", cmd: cmd, start: b.cfg.Now()}
	rec.outcome = b.handle(ctx, cmd, rec)
	b.audit(ctx, rec)
	return rec.outcome
}

func (b *Bot) handle(ctx context.Context, cmd Command, rec *record) Outcome {
	words, dryRun := takeDryRun(SplitTargets(cmd.Text))
	if len(words) == 0 && !dryRun || (len(words) == 1 && isHelp(words[0])) {
		b.private(ctx, cmd, HelpMessage(b.cfg.Command, b.cfg.MaxTargets, b.cfg.ConfirmAbove))
		return OutcomeHelp
	}

	reason, lookupErr := b.auth.Authorize(ctx, cmd.User, cmd.Channel)
	if reason != "" {
		rec.err = lookupErr
		b.private(ctx, cmd, deniedMessage(reason, b.auth.Policy()))
		b.mirror(ctx, auditDeniedMessage(rec.id, cmd.User, cmd.Channel, reason))
		return OutcomeDenied
	}
	if ok, retryIn := b.limiter.allow(cmd.User); !ok {
		b.private(ctx, cmd, rateLimitedMessage(b.cfg.RateLimitPerMinute, retryIn))
		return OutcomeRateLimited
	}

	if len(words) == 1 && strings.EqualFold(words[0], "status") && !dryRun {
		return b.status(ctx, cmd, rec)
	}
	if len(words) == 0 {
		b.private(ctx, cmd, noTargetsMessage(b.cfg.Command))
		return OutcomeInvalid
	}
	if len(words) > b.cfg.MaxTargets {
		b.private(ctx, cmd, tooManyMessage(len(words), b.cfg.MaxTargets))
		return OutcomeTooMany
	}
	var finder SubuserFinder
	if !b.cfg.DryRun {
		finder = b.iproyal
	}
	targets, bad, err := ResolveTargets(ctx, finder, words)
	if err != nil {
		rec.err = err
		b.private(ctx, cmd, lookupFailedMessage(rec.id, err))
		return OutcomeLookupFailed
	}
	if len(bad) > 0 {
		b.private(ctx, cmd, badTargetsMessage(bad))
		return OutcomeInvalid
	}
	if len(targets) == 0 {
		b.private(ctx, cmd, noTargetsMessage(b.cfg.Command))
		return OutcomeInvalid
	}
	rec.targets = targets

	if dryRun {
		b.private(ctx, cmd, dryRunPreviewMessage(rec.id, targets))
		return OutcomeDryRun
	}
	if b.cfg.ConfirmAbove > 0 && len(targets) > b.cfg.ConfirmAbove {
		return b.askConfirmation(ctx, cmd, rec, targets)
	}
	return b.execute(ctx, rec, cmd.User, cmd.Channel, targets, func(m Message) { b.private(ctx, cmd, m) })
}

// execute announces the reset in channel, runs it, and replies in the
// announcement's thread. tell reaches the requester privately.
func (b *Bot) execute(ctx context.Context, rec *record, user, channel string, targets []Target, tell func(Message)) Outcome {
	rec.targets = targets
	// The announcement comes first, so the trail exists even if the reset fails.
	announcement := AnnouncementMessage(rec.id, user, targets)
	ts, err := b.chat.Post(ctx, channel, announcement)
	if err != nil {
		rec.err = err
		var chErr *ChannelError
		if errors.As(err, &chErr) {
			tell(cannotPostMessage(chErr.Code))
		} else {
			tell(slackFailedMessage(err))
		}
		return OutcomePostFailed
	}
	if b.cfg.AuditChannel != channel {
		b.mirror(ctx, announcement)
	}

	if b.cfg.DryRun {
		b.reply(ctx, channel, ts, dryRunMessage(rec.id, len(targets)), false)
		return OutcomeDryRun
	}

	start := b.cfg.Now()
	err = b.iproyal.ResetSessions(ctx, Hashes(targets))
	took := b.cfg.Now().Sub(start)
	if err != nil {
		rec.err = err
		b.reply(ctx, channel, ts, failureMessage(rec.id, user, err), true)
		b.react(ctx, channel, ts, "x")
		return OutcomeFailed
	}
	b.reply(ctx, channel, ts, successMessage(rec.id, len(targets), took), false)
	b.react(ctx, channel, ts, "white_check_mark")
	return OutcomeReset
}

func (b *Bot) status(ctx context.Context, cmd Command, rec *record) Outcome {
	if b.cfg.DryRun {
		b.private(ctx, cmd, message(":information_source: Dry run: IPRoyal is not called, so there is no account status to show.", ""))
		return OutcomeDryRun
	}
	acct, err := b.iproyal.Me(ctx)
	if err != nil {
		rec.err = err
		b.private(ctx, cmd, statusFailedMessage(rec.id, err))
		return OutcomeStatusFailed
	}
	b.private(ctx, cmd, statusMessage(acct))
	return OutcomeStatus
}

// askConfirmation shows the requester what would happen, with Confirm and
// Cancel buttons that carry the signed request.
func (b *Bot) askConfirmation(ctx context.Context, cmd Command, rec *record, targets []Target) Outcome {
	tok, err := sealToken(b.cfg.ConfirmKey, pending{
		ID: rec.id, User: cmd.User, Channel: cmd.Channel, Targets: targets,
		Expires: b.cfg.Now().Add(b.cfg.ConfirmTTL),
	})
	if err != nil {
		rec.err = err
		b.private(ctx, cmd, tooManyToConfirmMessage(len(targets)))
		return OutcomeTooMany
	}
	b.private(ctx, cmd, confirmationMessage(rec.id, targets, b.cfg.ConfirmTTL, tok))
	return OutcomeConfirmAsked
}

// HandleClick acts on a press of Confirm or Cancel, on whichever replica
// receives it: everything needed travels, signed, in the click itself.
func (b *Bot) HandleClick(ctx context.Context, c Click) Outcome {
	rec := &record{id: b.cfg.NewID(), kind: "click", cmd: Command{User: c.User, Channel: c.Channel, ReplyTo: c.ReplyTo}, start: b.cfg.Now()}
	rec.outcome = b.handleClick(ctx, c, rec)
	b.audit(ctx, rec)
	return rec.outcome
}

func (b *Bot) handleClick(ctx context.Context, c Click, rec *record) Outcome {
	clicker := Command{User: c.User, Channel: c.Channel, ReplyTo: c.ReplyTo}
	tok, confirm := c.Token, c.Confirm
	p, err := openToken(b.cfg.ConfirmKey, tok)
	if err != nil {
		rec.err = errTokenInvalid
		b.private(ctx, clicker, message(":no_entry: This button is not valid, so nothing was reset. Run the command again.", ""))
		return OutcomeBadClick
	}
	if p.ID != "" {
		rec.id = p.ID // the click continues the command's request
	}
	rec.cmd.Channel = p.Channel
	rec.targets = p.Targets
	if c.User != p.User {
		b.private(ctx, clicker, message(fmt.Sprintf(":no_entry: Only <@%s>, who asked for this reset, can confirm or cancel it. Nothing was changed.", p.User), ""))
		return OutcomeNotYours
	}
	if confirm && !b.cfg.Now().Before(p.Expires) {
		b.replace(ctx, c.ReplyTo, message(fmt.Sprintf(":hourglass: This confirmation expired (they last %s). Nothing was reset; run the command again.", humanDuration(b.cfg.ConfirmTTL)), ""))
		return OutcomeExpired
	}
	// The first click decides: a Cancel after Confirm must not claim that
	// nothing was reset, and a Confirm after Cancel must not reset.
	if !b.firstClick(tok, p.Expires) {
		return OutcomeRepeatClick
	}
	if !confirm {
		b.replace(ctx, c.ReplyTo, message(fmt.Sprintf(":heavy_multiplication_x: Cancelled: the sessions of %s were not reset.", plural(len(p.Targets), "residential user", "residential users")), requestContext(rec.id)))
		return OutcomeCancelled
	}
	// Whoever was allowed five minutes ago may not be now.
	if reason, lookupErr := b.auth.Authorize(ctx, p.User, p.Channel); reason != "" {
		rec.err = lookupErr
		b.replace(ctx, c.ReplyTo, deniedMessage(reason, b.auth.Policy()))
		b.mirror(ctx, auditDeniedMessage(rec.id, p.User, p.Channel, reason))
		return OutcomeDenied
	}
	b.replace(ctx, c.ReplyTo, message(fmt.Sprintf(":arrows_counterclockwise: Confirmed: resetting the sessions of %s. The result follows in the channel.", plural(len(p.Targets), "residential user", "residential users")), requestContext(rec.id)))
	return b.execute(ctx, rec, p.User, p.Channel, p.Targets, func(m Message) { b.replace(ctx, c.ReplyTo, m) })
}

// firstClick reports whether tok has not been acted on yet by this
// process, and remembers it until it expires. Replicas share no state, so
// two clicks handed to two replicas are not caught here (see README.md).
func (b *Bot) firstClick(tok string, expires time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.cfg.Now()
	for k, exp := range b.clicks {
		if now.After(exp) {
			delete(b.clicks, k)
		}
	}
	if _, seen := b.clicks[tok]; seen {
		return false
	}
	b.clicks[tok] = expires
	return true
}

// takeDryRun removes the dry-run flag from words, wherever it is. Phones and
// Macs turn "--" into a dash, so those spellings count too.
func takeDryRun(words []string) ([]string, bool) {
	found := false
	out := words[:0]
	for _, w := range words {
		switch strings.ToLower(w) {
		case "--dry-run", "—dry-run", "–dry-run", "--dryrun", "-n":
			found = true
			continue
		}
		out = append(out, w)
	}
	return out, found
}

func isHelp(w string) bool {
	switch strings.ToLower(w) {
	case "help", "-h", "--help", "?":
		return true
	}
	return false
}

// The chat calls below are best effort: by the time they run, the decision
// is made, so a failure is logged and the command goes on.

func (b *Bot) private(ctx context.Context, cmd Command, m Message) {
	if err := b.chat.Private(ctx, cmd, m); err != nil {
		b.log.WarnContext(ctx, "private reply failed", "user", cmd.User, "error", err)
	}
}

func (b *Bot) reply(ctx context.Context, channel, ts string, m Message, broadcast bool) {
	if err := b.chat.Reply(ctx, channel, ts, m, broadcast); err != nil {
		b.log.ErrorContext(ctx, "thread reply failed", "channel", channel, "ts", ts, "error", err)
	}
}

func (b *Bot) react(ctx context.Context, channel, ts, emoji string) {
	if err := b.chat.React(ctx, channel, ts, emoji); err != nil {
		b.log.WarnContext(ctx, "reaction failed", "channel", channel, "ts", ts, "error", err)
	}
}

func (b *Bot) replace(ctx context.Context, replyTo string, m Message) {
	if err := b.chat.Replace(ctx, replyTo, m); err != nil {
		b.log.WarnContext(ctx, "replacing the confirmation failed", "error", err)
	}
}

func (b *Bot) mirror(ctx context.Context, m Message) {
	if b.cfg.AuditChannel == "" {
		return
	}
	if _, err := b.chat.Post(ctx, b.cfg.AuditChannel, m); err != nil {
		b.log.ErrorContext(ctx, "audit channel post failed", "channel", b.cfg.AuditChannel, "error", err)
	}
}

// audit writes the command's one structured log line, mirrors its outcome,
// and counts it.
func (b *Bot) audit(ctx context.Context, rec *record) {
	took := b.cfg.Now().Sub(rec.start)
	if b.cfg.AuditChannel != "" && (rec.outcome == OutcomeReset || rec.outcome == OutcomeFailed) {
		b.mirror(ctx, auditOutcomeMessage(rec.id, rec.cmd.User, rec.cmd.Channel, string(rec.outcome), took))
	}
	if b.cfg.Metrics != nil {
		b.cfg.Metrics.Commands.WithLabelValues(string(rec.outcome)).Inc()
	}
	targets := make([]string, 0, len(rec.targets))
	for _, t := range rec.targets {
		targets = append(targets, t.String())
	}
	attrs := []slog.Attr{
		slog.String("request_id", rec.id),
		slog.String("kind", rec.kind),
		slog.String("user", rec.cmd.User),
		slog.String("channel", rec.cmd.Channel),
		slog.Any("targets", targets),
		slog.String("outcome", string(rec.outcome)),
		slog.Float64("duration_ms", float64(took.Microseconds())/1000),
	}
	level := slog.LevelInfo
	if rec.err != nil {
		attrs = append(attrs, slog.String("error", rec.err.Error()))
		if rec.outcome == OutcomeFailed || rec.outcome == OutcomePostFailed || rec.outcome == OutcomeLookupFailed {
			level = slog.LevelError
		}
	}
	b.log.LogAttrs(ctx, level, "command", attrs...)
}
