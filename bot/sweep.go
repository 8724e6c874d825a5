package bot

import (
	"context"
	"time"
)

// The sweep finishes what stopped processes left open in the journal: a
// reset whose process died while it was in flight, a confirmation nobody
// clicked.

// orphanMargin is how long after COMMAND_TIMEOUT a started entry waits
// before a replica calls it an orphan. A live request finishes its trail by
// its deadline plus interruptGrace; the rest covers clock skew between the
// chat and us.
const orphanMargin = 10 * time.Second

// journalWindow is how far back a sweep reads.
const journalWindow = 24 * time.Hour

// markTimeout bounds closing one entry. Once begun, it finishes even when
// the sweep is cancelled, so that a claimed entry is not left half marked.
const markTimeout = 15 * time.Second

// due is when an open entry is an orphan (started) or expired (awaiting).
func (b *Bot) due(e Entry) time.Time {
	switch e.State {
	case StateStarted:
		at := e.Announced
		if at.IsZero() || at.Before(e.Started) {
			at = e.Started // the command line has no announcement
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
	e.State, e.Reason = StateUnknown, sayStoppedInFlight
	b.log.WarnContext(ctx, "marking a reset left open by a stopped sessionbot: its outcome is unknown",
		"request_id", e.RequestID, "user", e.User, "channel", e.Channel, "announcement_ts", e.Thread)
	_ = b.finishPosts(ctx, time.Time{}, outcome{e: e, reply: orphanMessage(e.RequestID, e.User), emoji: "warning"})
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
