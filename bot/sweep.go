package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sessionbot/sessionbot/bot/policy"
)

// The sweep finishes what stopped processes left open in the journal,
// whichever step of a reset they stopped at (trail.go): a request
// journalled but not sent to IPRoyal was interrupted, and nothing was
// reset; one that may have been sent has an unknown outcome; one whose
// outcome is recorded but not shown is shown; a confirmation nobody
// clicked expired. Each is done once, by whichever replica claims it.

// orphanMargin is how long after COMMAND_TIMEOUT an open entry waits
// before a replica takes it for an orphan. A live request finishes its
// trail by its deadline plus interruptGrace; the rest covers clock skew
// between the chat and us.
const orphanMargin = 10 * time.Second

// sweepMargin widens the window a sweep reads beyond the longest a request
// can stay open: the time between two sweeps, and a late write.
const sweepMargin = 2 * time.Minute

// markTimeout bounds closing one entry. Once begun, it finishes even when
// the sweep is cancelled, so that a claimed entry is not left half marked.
const markTimeout = 15 * time.Second

// The marks replicas claim entries with.
const (
	markDecided = "ballot_box_with_check" // a confirmation's first click, or its expiry
	markSwept   = "warning"               // an entry a stopped process left open, being closed by a sweep
)

// window is how far back a sweep reads: as far as an entry can still be
// open, and no further, whatever else the channel holds. A request waiting
// for approval that a click claimed, and whose process stopped, is closed
// COMMAND_TIMEOUT after its ttl (expireApproval). A process's first sweep
// reads back as far as any approval can wait (policy.MaxTTL), since
// requests asked before it started may have waited longer than its policy
// says; each waiting request a sweep finds keeps the window over it.
func (b *Bot) window() time.Duration {
	longest := b.longestApproval()
	if !b.swept.Load() && b.cfg.Journal != nil {
		longest = policy.MaxTTL
	}
	if longest > 0 {
		longest += b.cfg.CommandTimeout
	}
	return max(b.cfg.CommandTimeout, b.cfg.ConfirmTTL, longest) + orphanMargin + sweepMargin
}

// longestApproval is the longest a request can wait for approval under
// any policy this process enforced, or that a waiting request it saw was
// asked under: a policy reloaded, or a replica started, with shorter waits
// still leaves the older requests to close.
func (b *Bot) longestApproval() time.Duration {
	if b.auth == nil {
		return 0
	}
	return b.waitAtLeast(b.auth.Policy().LongestTTL())
}

// waitAtLeast widens the longest wait for approval to d, and returns it.
func (b *Bot) waitAtLeast(d time.Duration) time.Duration {
	for {
		old := b.longest.Load()
		if int64(d) <= old || b.longest.CompareAndSwap(old, int64(d)) {
			return time.Duration(max(int64(d), old))
		}
	}
}

// wakeSweeper asks the sweeper to read the journal again now: a request
// began or stopped waiting for approval, whose expiry it must schedule.
func (b *Bot) wakeSweeper() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// due is when an open entry is an orphan (announcing or started), expired
// (awaiting), or a recorded outcome whose trail is owed (pending).
func (b *Bot) due(e Entry) time.Time {
	switch {
	case e.State == StateAwaiting:
		return e.Expires.Add(orphanMargin)
	case e.State == StateApproval:
		return e.Expires // a click after it finds it expired, and claims it as the sweep would
	case e.State.Open() || e.Trail == TrailPending:
		at := e.Announced
		if at.IsZero() || at.Before(e.Started) {
			at = e.Started // not announced yet, or the command line
		}
		if e.Decided.After(at) {
			at = e.Decided // approved long after it was announced: it runs from then
		}
		return at.Add(b.cfg.CommandTimeout + orphanMargin)
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
		if b.longestApproval() > 0 {
			wait = min(wait, approvalWait) // another replica's new requests, whose expiry is ours too
		}
		if !next.IsZero() {
			wait = min(wait, max(next.Sub(b.cfg.Now()), time.Second))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-b.wake:
			t.Stop()
		}
	}
}

// Sweep reads the journal once, as far back as an entry can be open, and
// closes every open entry that is due. It returns when the next open entry
// comes due (zero if none is open).
func (b *Bot) Sweep(ctx context.Context) (next time.Time) {
	read, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	entries, err := b.cfg.Journal.Since(read, b.cfg.Now().Add(-b.window()))
	if err != nil {
		b.log.ErrorContext(ctx, "could not read the journal for requests left open; is the bot a member of AUDIT_CHANNEL, with the channels:history (or groups:history) scope?", "channel", b.cfg.AuditChannel, "error", err)
		return time.Time{}
	}
	b.swept.Store(true) // the first read went as far back as any request can wait
	open, waiting := 0, 0
	defer func() { b.log.DebugContext(ctx, "swept the journal", "entries", len(entries), "open", open) }()
	defer func() {
		if b.cfg.Observe.Pending != nil && ctx.Err() == nil {
			b.cfg.Observe.Pending(waiting)
		}
	}()
	for _, e := range entries {
		if ctx.Err() != nil {
			break
		}
		if mine, ok := b.mine.Get(e.RequestID); ok {
			b.correct(ctx, e, mine)
			continue
		}
		if !e.State.Open() && e.Trail != TrailPending {
			continue
		}
		open++
		if e.State == StateApproval {
			waiting++
			b.waitAtLeast(e.Expires.Sub(e.Started)) // the wait it was asked with
		}
		due := b.due(e)
		if b.cfg.Now().Before(due) {
			if next.IsZero() || due.Before(next) {
				next = due
			}
			continue
		}
		mark, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
		switch {
		case e.State == StateAwaiting:
			b.expire(mark, e)
		case e.State == StateApproval:
			b.expireApproval(mark, e)
		case e.State.Open():
			b.markOrphan(mark, e)
		default:
			b.showTrail(mark, e)
		}
		cancel()
	}
	return next
}

// correct gives a copy of one of this process's entries that landed late
// (a write whose answer was lost, made again) the request's true state, so
// that no sweep takes it for an orphan.
func (b *Bot) correct(ctx context.Context, late, mine Entry) {
	if late.Ref == mine.Ref || mine.Ref == "" || (late.State == mine.State && late.Trail == mine.Trail) {
		return
	}
	truth := mine
	truth.Ref, truth.Targets = late.Ref, late.Targets
	b.log.WarnContext(ctx, "a journal entry of this process landed late: giving it the request's true state",
		"request_id", mine.RequestID, "ref", late.Ref, "entry", mine.Ref, "state", string(mine.State))
	b.rewrite(ctx, truth)
}

// markOrphan closes an entry a stopped process left open, once, whichever
// replica gets there first: a request not yet sent to IPRoyal was
// interrupted, and nothing was reset (its announcement is posted if it
// never appeared); one that may have been sent has an unknown outcome.
func (b *Bot) markOrphan(ctx context.Context, e Entry) {
	if !b.claim(ctx, e, markSwept) {
		return
	}
	o := outcome{emoji: "warning"}
	if e.State == StateAnnouncing {
		e.State, e.Reason = StateFailed, sayNotRunStopped
		o.emoji = "x"
		o.reply = notRunMessage(e.RequestID, e.User, e.Reason)
	} else {
		e.State, e.Reason = StateUnknown, sayStoppedInFlight
		o.reply = orphanMessage(e.RequestID, e.User)
	}
	what := "marking a reset left open by a stopped sessionbot: its outcome is unknown"
	if e.State == StateFailed {
		what = "marking a reset left open by a stopped sessionbot: it was interrupted before it was sent, and nothing was reset"
	}
	b.log.WarnContext(ctx, what, "request_id", e.RequestID, "user", e.User, "channel", e.Channel, "announcement_ts", e.Thread)
	o.e = e
	b.close(ctx, o)
}

// showTrail shows a recorded outcome whose process stopped before its
// channel showed it.
func (b *Bot) showTrail(ctx context.Context, e Entry) {
	if !b.claim(ctx, e, markSwept) {
		return
	}
	o := outcome{e: e, reply: orphanMessage(e.RequestID, e.User), emoji: "warning"}
	switch e.State {
	case StateReset:
		o.reply, o.emoji = successMessage(e.RequestID, len(e.Targets), e.Took), "white_check_mark"
	case StateFailed, StateRefused:
		o.reply, o.emoji = failedEntryMessage(e), "x"
	}
	b.log.InfoContext(ctx, "showing the outcome of a request whose process stopped before its channel did", "request_id", e.RequestID, "state", string(e.State))
	b.close(ctx, o)
}

// close records an outcome a sweep decided, then shows it, like finish: the
// journal first, then the channel (looking for what is there already),
// then the trail marked done.
func (b *Bot) close(ctx context.Context, o outcome) {
	e := &o.e
	if e.Channel != "" && e.Thread == "" {
		// Announced, maybe: the announcement is looked for before it is
		// posted, as it should have been, in its final state.
		ts, err := b.chat.Find(ctx, e.Channel, e.Root, Tag{e.RequestID, KindAnnouncement}, e.Started.Add(-orphanMargin))
		if err != nil {
			b.log.WarnContext(ctx, "could not look for an announcement; posting it", "request_id", e.RequestID, "error", err)
		}
		if ts == "" {
			m := finalAnnouncement(*e)
			m.Tag = Tag{e.RequestID, KindAnnouncement}
			if ts, err = b.chat.Post(ctx, e.Channel, e.Root, m); err != nil {
				b.log.ErrorContext(ctx, "could not post the announcement of an interrupted request", "request_id", e.RequestID, "error", err)
			}
		}
		e.Thread = ts
	}
	e.Trail = TrailPending
	if e.Thread == "" {
		e.Trail = TrailDone
	}
	b.rewrite(ctx, *e)
	if e.Thread == "" {
		return
	}
	if ts, _ := b.chat.Find(ctx, e.Channel, e.replyTS(), Tag{e.RequestID, KindOutcome}, e.Started.Add(-orphanMargin)); ts == "" {
		_ = b.finishPosts(ctx, time.Time{}, o)
	} else {
		b.react(ctx, e.RequestID, e.Channel, e.Thread, o.emoji)
		if err := b.chat.Update(ctx, e.Channel, e.Thread, finalAnnouncement(*e)); err != nil {
			b.log.WarnContext(ctx, "could not update the announcement to its outcome", "request_id", e.RequestID, "error", err)
		}
	}
	e.Trail = TrailDone
	b.rewrite(ctx, *e)
}

// claim takes e for this replica with mark; false when another has it.
func (b *Bot) claim(ctx context.Context, e Entry, mark string) bool {
	won, err := b.cfg.Journal.Claim(ctx, e.Ref, mark)
	if err != nil {
		b.log.ErrorContext(ctx, "could not claim a request left open", "request_id", e.RequestID, "error", err)
	}
	return err == nil && won
}

// expire closes a confirmation nobody clicked in time.
func (b *Bot) expire(ctx context.Context, e Entry) {
	if !b.claim(ctx, e, markDecided) {
		return
	}
	e.State = StateExpired
	b.rewrite(ctx, e)
}

// failedEntryMessage is the outcome of a failed reset, as its entry says it.
func failedEntryMessage(e Entry) Message {
	return problem("x", fmt.Sprintf(sayResetFailed, e.User, upperFirst(strings.TrimSuffix(e.Reason, "."))+"."), sayRunAgain, e.RequestID)
}
