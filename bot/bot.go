// Package bot is sessionbot's chat side: a transport-free core that parses
// /reset-sessions, authorizes the requester, announces the reset, calls
// IPRoyal and reports the outcome, plus the adapters that connect it to
// Slack's Socket Mode and to a terminal.
package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"time"
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
}

// IPRoyal is what the core needs from the IPRoyal client.
type IPRoyal interface {
	SubuserFinder
	ResetSessions(ctx context.Context, hashes []string) error
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
)

// Config is the core's behaviour; zero values get sensible defaults.
type Config struct {
	Command      string // the slash command, for help texts; default /reset-sessions
	MaxTargets   int    // most targets in one command; default 100
	AuditChannel string // if set, requests, denials and outcomes are mirrored here
	// DryRun resolves and validates without calling IPRoyal at all.
	DryRun  bool
	Now     func() time.Time
	NewID   func() string
	Log     *slog.Logger
	Metrics *Metrics
}

// Bot handles commands. It is safe for concurrent use.
type Bot struct {
	cfg     Config
	auth    *Authorizer
	iproyal IPRoyal
	chat    Chat
	log     *slog.Logger
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
	return &Bot{cfg: cfg, auth: auth, iproyal: ipr, chat: chat, log: cfg.Log}
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
	cmd     Command
	targets []Target
	outcome Outcome
	start   time.Time
	err     error
}

// Handle runs one command to its end and returns how it ended. ctx bounds
// everything the command does, IPRoyal and the chat calls alike.
func (b *Bot) Handle(ctx context.Context, cmd Command) Outcome {
	rec := &record{id: b.cfg.NewID(), cmd: cmd, start: b.cfg.Now()}
	rec.outcome = b.handle(ctx, cmd, rec)
	b.audit(ctx, rec)
	return rec.outcome
}

func (b *Bot) handle(ctx context.Context, cmd Command, rec *record) Outcome {
	words := SplitTargets(cmd.Text)
	if len(words) == 0 || (len(words) == 1 && isHelp(words[0])) {
		b.private(ctx, cmd, HelpMessage(b.cfg.Command, b.cfg.MaxTargets))
		return OutcomeHelp
	}

	reason, lookupErr := b.auth.Authorize(ctx, cmd.User, cmd.Channel)
	if reason != "" {
		rec.err = lookupErr
		b.private(ctx, cmd, deniedMessage(reason, b.auth.Policy()))
		b.mirror(ctx, auditDeniedMessage(rec.id, cmd.User, cmd.Channel, reason))
		return OutcomeDenied
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

	// The announcement comes first, so the trail exists even if the reset fails.
	announcement := AnnouncementMessage(rec.id, cmd.User, targets)
	ts, err := b.chat.Post(ctx, cmd.Channel, announcement)
	if err != nil {
		rec.err = err
		var chErr *ChannelError
		if errors.As(err, &chErr) {
			b.private(ctx, cmd, cannotPostMessage(chErr.Code))
		} else {
			b.private(ctx, cmd, slackFailedMessage(err))
		}
		return OutcomePostFailed
	}
	if b.cfg.AuditChannel != cmd.Channel {
		b.mirror(ctx, announcement)
	}

	if b.cfg.DryRun {
		b.reply(ctx, cmd.Channel, ts, dryRunMessage(rec.id, len(targets)), false)
		return OutcomeDryRun
	}

	start := b.cfg.Now()
	err = b.iproyal.ResetSessions(ctx, Hashes(targets))
	took := b.cfg.Now().Sub(start)
	if err != nil {
		rec.err = err
		b.reply(ctx, cmd.Channel, ts, failureMessage(rec.id, cmd.User, err), true)
		b.react(ctx, cmd.Channel, ts, "x")
		return OutcomeFailed
	}
	b.reply(ctx, cmd.Channel, ts, successMessage(rec.id, len(targets), took), false)
	b.react(ctx, cmd.Channel, ts, "white_check_mark")
	return OutcomeReset
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
	if rec.outcome == OutcomeReset || rec.outcome == OutcomeFailed {
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
