package bot

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
)

// A journal keeps one entry per request where it outlives sessionbot's
// processes: the Slack adapter keeps it in AUDIT_CHANNEL, as message
// metadata on each request's audit message, so any replica, or the same one
// after a restart, can read what was decided and finish what a crash left
// open.

// State is where a journalled request stands.
type State string

// The states of a journal entry. Awaiting and started are open; the others
// are final.
const (
	StateAwaiting  State = "awaiting_confirmation" // asked the requester to confirm
	StateStarted   State = "started"               // announced; the reset is being sent
	StateReset     State = "reset"
	StateFailed    State = "failed"
	StateUnknown   State = "unknown" // sessionbot stopped while the reset was in flight
	StateCancelled State = "cancelled"
	StateExpired   State = "expired"
	StateRefused   State = "refused" // accepted, but the bot cannot post in the channel
)

// Open reports whether the request may still change.
func (s State) Open() bool { return s == StateAwaiting || s == StateStarted }

// Sources of a request.
const (
	SourceSlack = "slack"
	SourceCLI   = "cli"
)

// Entry is what the journal keeps of one request.
type Entry struct {
	Ref       string // where the entry is (Slack: its audit message's ts); set by the journal
	RequestID string
	State     State
	Source    string // SourceSlack or SourceCLI
	User      string // the requester's Slack ID; for the CLI, who ran it
	Channel   string // where it was asked; empty for the CLI
	Thread    string // the announcement's ts: what is updated and reacted to
	Root      string // when the announcement is itself in a thread, that thread's first message
	Targets   []Target
	Started   time.Time     // when the request was accepted
	Expires   time.Time     // awaiting: the end of the confirmation
	Took      time.Duration // the reset's own time, as the thread says it
	Reason    string        // failures and refusals, in words
}

// Journal stores entries. Transports retry Rewrite hard: it completes the
// trail after the decision is made.
type Journal interface {
	// Write adds e, shown to people as m, and returns its reference.
	Write(ctx context.Context, e Entry, m Message) (ref string, err error)
	// Rewrite replaces the entry at e.Ref, and what it shows.
	Rewrite(ctx context.Context, e Entry, m Message) error
	// Claim marks the entry at ref with mark. It reports false when the
	// entry bore the mark already, whichever process put it there: the
	// journal arbitrates, so exactly one claimant wins.
	Claim(ctx context.Context, ref, mark string) (won bool, err error)
	// Read returns the entry at ref.
	Read(ctx context.Context, ref string) (Entry, error)
	// Since returns the entries written since t.
	Since(ctx context.Context, t time.Time) ([]Entry, error)
}

// The marks replicas claim entries with.
const (
	markDecided = "ballot_box_with_check" // a confirmation's first click, or its expiry
	markOrphan  = "warning"               // an orphan, found and being marked
)

// ErrNotFound says a journal entry does not exist (any more).
var ErrNotFound = errors.New("journal entry not found")

// orphanMargin is how long after COMMAND_TIMEOUT a started entry waits
// before a replica calls it an orphan. A live command finishes its trail by
// its deadline plus interruptGrace; the rest covers clock skew between Slack
// and us.
const orphanMargin = 10 * time.Second

// journalWindow is how far back a sweep reads.
const journalWindow = 24 * time.Hour

// tsTime reads a Slack-style timestamp ("1764158400.000100") as a time.
// It is how old an announcement is, by Slack's clock.
func tsTime(ts string) (time.Time, bool) {
	secs, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(secs, 10, 64)
	if err != nil || s <= 0 {
		return time.Time{}, false
	}
	var ns int64
	if frac != "" {
		frac = (frac + "000000000")[:9]
		if ns, err = strconv.ParseInt(frac, 10, 64); err != nil {
			return time.Time{}, false
		}
	}
	return time.Unix(s, ns), true
}

// replyTS is the thread the outcome goes into: the announcement's own, or
// the one it was posted in.
func (e Entry) replyTS() string {
	if e.Root != "" {
		return e.Root
	}
	return e.Thread
}

// due is when an open entry is an orphan (started) or expired (awaiting).
func (b *Bot) due(e Entry) time.Time {
	switch e.State {
	case StateStarted:
		at, ok := tsTime(e.Thread)
		if !ok || at.Before(e.Started) {
			at = e.Started // the CLI has no announcement
		}
		return at.Add(b.cfg.CommandTimeout + orphanMargin)
	case StateAwaiting:
		return e.Expires.Add(orphanMargin)
	}
	return time.Time{}
}

// RunSweeper finishes what stopped processes left open in the journal,
// until ctx ends: at once, then at least every COMMAND_TIMEOUT, and as soon
// as an open entry comes due. Without a journal it only says so.
func (b *Bot) RunSweeper(ctx context.Context) {
	if b.cfg.Journal == nil {
		b.log.Warn("no journal: AUDIT_CHANNEL is not set, so a reset in flight when sessionbot is killed keeps its announcement without an outcome")
		return
	}
	for {
		next := b.Sweep(ctx)
		wait := b.cfg.CommandTimeout
		if !next.IsZero() {
			wait = min(wait, max(next.Sub(b.cfg.Now()), time.Second))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// markTimeout bounds closing one entry. Once begun, it finishes even when
// the sweep is cancelled, so that a claimed entry is not left half marked.
const markTimeout = 15 * time.Second

// Sweep reads the journal once and closes every open entry that is due: a
// started one is an orphan of a stopped process, whose outcome is unknown;
// an awaiting one expired. It returns when the next open entry comes due
// (zero if none is open).
func (b *Bot) Sweep(ctx context.Context) (next time.Time) {
	read, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	entries, err := b.cfg.Journal.Since(read, b.cfg.Now().Add(-journalWindow))
	if err != nil {
		b.log.ErrorContext(ctx, "could not read the journal for requests left open; is the bot a member of AUDIT_CHANNEL, with the channels:history (or groups:history) scope?", "channel", b.cfg.AuditChannel, "error", err)
		return time.Time{}
	}
	open := 0
	defer func() { b.log.DebugContext(ctx, "swept the journal", "entries", len(entries), "open", open) }()
	for _, e := range entries {
		if !e.State.Open() || ctx.Err() != nil {
			continue
		}
		open++
		due := b.due(e)
		if b.cfg.Now().Before(due) {
			if next.IsZero() || due.Before(next) {
				next = due
			}
			continue
		}
		mark, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
		switch e.State {
		case StateStarted:
			b.markOrphan(mark, e)
		case StateAwaiting:
			b.expire(mark, e)
		}
		cancel()
	}
	return next
}

// markOrphan tells an orphan's thread that its outcome is unknown, once,
// whichever replica gets there first.
func (b *Bot) markOrphan(ctx context.Context, e Entry) {
	won, err := b.cfg.Journal.Claim(ctx, e.Ref, markOrphan)
	if err != nil {
		b.log.ErrorContext(ctx, "could not claim a request left open", "request_id", e.RequestID, "error", err)
		return
	}
	if !won {
		return // another replica is marking it
	}
	e.State = StateUnknown
	e.Reason = "sessionbot stopped while the reset was in flight"
	b.log.WarnContext(ctx, "marking a reset left open by a stopped sessionbot: its outcome is unknown",
		"request_id", e.RequestID, "user", e.User, "channel", e.Channel, "announcement_ts", e.Thread)
	if e.Channel != "" && e.Thread != "" {
		b.finishPosts(ctx, time.Time{}, outcome{e: e, reply: orphanMessage(e.RequestID, e.User), emoji: "warning"})
		return
	}
	b.rewrite(ctx, e)
}

// expire closes a confirmation nobody clicked in time.
func (b *Bot) expire(ctx context.Context, e Entry) {
	won, err := b.cfg.Journal.Claim(ctx, e.Ref, markDecided)
	if err != nil || !won {
		return
	}
	e.State = StateExpired
	b.rewrite(ctx, e)
}

// rewrite updates an entry and its audit message, logging a failure.
func (b *Bot) rewrite(ctx context.Context, e Entry) {
	if err := b.cfg.Journal.Rewrite(ctx, e, b.auditMessage(e)); err != nil {
		b.log.ErrorContext(ctx, "could not update the journal", "request_id", e.RequestID, "state", e.State, "error", err)
	}
}
