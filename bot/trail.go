package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// The trail of a reset: its journal entry, its announcement in the
// channel, the DELETE, and its outcome, in the thread, on the announcement
// and in the journal. The order is what keeps it true when the process
// stops at any point (README: "The order of a reset").

const (
	// listTimeout bounds posting a long target list in the thread.
	listTimeout = 15 * time.Second
)

// outcome is how a reset ended, and what the trail says of it.
type outcome struct {
	e         Entry   // the request in its final state
	reply     Message // the thread's reply
	broadcast bool    // the reply also goes to the channel
	emoji     string  // the announcement's reaction
}

// execute runs a reset that passed every check:
//
//  1. its journal entry, "announcing", before anything needs it;
//  2. its announcement in the channel;
//  3. the entry, "started", naming the announcement: only now may the
//     DELETE be sent;
//  4. the DELETE;
//  5. the entry in its final state, its trail still to come;
//  6. the trail: the outcome in the thread, a reaction, the announcement
//     in its final state;
//  7. the entry marked with its trail done.
//
// A step that cannot be done ends the request there, and says so: a
// sweep (sweep.go) finishes what a stopped process left at any step. The
// command line has no channel: nothing is announced, and the journal and
// the log line are its trail. Without a journal, steps 1, 3, 5 and 7 are
// not there.
func (b *Bot) execute(r *request) {
	targets := r.res.Targets
	e := r.entry(StateAnnouncing)
	if b.cfg.DryRun {
		// The shell's offline mode: the announcement, and what a real run would do.
		if ts, err := b.chat.Post(r.work, r.Channel, r.Thread, AnnouncementMessage(r.id, r.User, targets)); err == nil {
			e.Thread = ts
			b.reply(r.talk, r.id, r.Channel, e.replyTS(), dryRunMessage(r.id, len(targets)), false)
		}
		r.res.Outcome = OutcomeDryRun
		return
	}
	if err := b.writeAhead(r, &e); err != nil {
		r.fail(OutcomeNotRun, err, journalFailedMessage(r.id), nil)
		return
	}
	if r.Channel != "" {
		ts, err := b.chat.Post(r.work, r.Channel, r.Thread, AnnouncementMessage(r.id, r.User, targets))
		if err != nil {
			b.notAnnounced(r, e, err)
			return
		}
		e.Thread = ts
	}
	e.State = StateStarted
	b.run(r, e)
}

// notAnnounced ends a request whose announcement could not be posted:
// nothing was reset, the requester is told why, and its entry says so.
func (b *Bot) notAnnounced(r *request, e Entry, err error) {
	r.fail(OutcomePostFailed, err, announceFailedMessage(r.id, r.cause(err)), nil)
	what, _ := describe(r.cause(err), OpAnnounce)
	e.State, e.Reason = StateFailed, strings.TrimSuffix(what, ".")+sayNothingResetReason
	var chErr *ChannelError
	if errors.As(err, &chErr) {
		e.State, e.Reason = StateRefused, cannotPostReason(chErr.Problem)
	}
	e.Trail = TrailDone // nothing was posted in the channel
	b.settle(r.talk, r.deadline, e)
}

// run is a reset's steps 3 to 7, once it is announced: an approved
// request's too, whose list is in its thread already.
func (b *Bot) run(r *request, e Entry) {
	targets := r.res.Targets
	if err := b.writeAhead(r, &e); err != nil {
		// Announced, but the DELETE is not sent without its entry.
		r.res.Err, r.res.Outcome = err, OutcomeNotRun
		e.State, e.Reason = StateFailed, sayNotRunJournal
		b.finish(r, outcome{e: e, reply: notRunMessage(r.id, r.User, sayNotRunJournal), emoji: "x"})
		return
	}
	if e.Decider == "" {
		b.listInThread(r, e) // an approved request's list went out with its announcement
	}

	o := outcome{}
	if r.work.Err() != nil {
		// Stopped, or out of time, before IPRoyal was called: nothing was sent.
		r.res.Err = context.Cause(r.work)
		e.State, e.Reason = StateFailed, notRunReason(stopping(r.work))
		o.reply, o.emoji = notRunMessage(r.id, r.User, e.Reason), "x"
		r.res.Outcome = OutcomeNotRun
	} else {
		start := b.cfg.Now()
		err := b.iproyal.ResetSessions(r.work, Hashes(targets))
		r.took = b.cfg.Now().Sub(start)
		e.Took = r.took
		switch {
		case err == nil:
			e.State = StateReset
			o.reply, o.emoji, r.res.Outcome = successMessage(r.id, len(targets), r.took), "white_check_mark", OutcomeReset
		case stopping(r.work):
			r.res.Err = err
			e.State, e.Reason = StateUnknown, sayStoppedInFlight
			o.reply, o.emoji = interruptedMessage(r.id, r.User), "warning"
			r.res.Outcome = OutcomeUnknown
		default:
			r.res.Err = err
			e.State, e.Reason = StateFailed, failureReason(err)
			o.reply, o.broadcast, o.emoji = failureMessage(r.id, r.User, err), true, "x"
			r.res.Outcome = OutcomeFailed
		}
	}
	o.e = e
	b.finish(r, o)
}

// finish records an outcome, then shows it: the journal first (step 5), so
// that a trail the channel shows is never contradicted by a sweep; then the
// trail (step 6); then the trail marked done (step 7), behind the request.
// If the thread cannot be reached, the requester is told privately.
func (b *Bot) finish(r *request, o outcome) {
	o.e.Trail = TrailPending
	if o.e.Thread == "" {
		o.e.Trail = TrailDone // nothing to show in a channel
	}
	b.settle(r.talk, r.deadline, o.e)
	if o.e.Thread == "" {
		return
	}
	if err := b.finishPosts(r.talk, r.deadline, o); err != nil {
		r.res.Answer = o.reply
	}
	o.e.Trail = TrailDone
	b.settleBehind(o.e)
}

func notRunReason(stopped bool) string {
	if stopped {
		return sayNotRunStopped
	}
	return sayNotRunTimeout
}

// finishPosts shows an outcome in its channel: the thread reply, the
// reaction and the announcement's final state go out at once, each
// retried (by the transport) for up to finishRetry, and not past deadline
// (when set). It returns the thread reply's failure, after logging it with
// the whole outcome, so that the requester can be told.
func (b *Bot) finishPosts(talk context.Context, deadline time.Time, o outcome) error {
	if end := b.cfg.Now().Add(finishRetry); deadline.IsZero() || end.Before(deadline) {
		deadline = end
	}
	ctx, cancel := context.WithDeadline(talk, deadline)
	defer cancel()
	e := o.e
	o.reply.Tag = Tag{e.RequestID, KindOutcome}
	var wg sync.WaitGroup
	var replyErr error
	if o.reply.Text != "" {
		wg.Go(func() { replyErr = b.chat.Reply(ctx, e.Channel, e.replyTS(), o.reply, o.broadcast) })
	}
	wg.Go(func() { b.react(ctx, e.RequestID, e.Channel, e.Thread, o.emoji) })
	wg.Go(func() {
		if err := b.chat.Update(ctx, e.Channel, e.Thread, finalAnnouncement(e)); err != nil {
			b.log.WarnContext(ctx, "could not update the announcement to its outcome", "request_id", e.RequestID, "channel", e.Channel, "ts", e.Thread, "error", err)
		}
	})
	wg.Wait()
	if replyErr != nil {
		b.log.ErrorContext(ctx, "could not post the outcome in the announcement's thread",
			"request_id", e.RequestID, "user", e.User, "channel", e.Channel, "ts", e.Thread,
			"state", string(e.State), "reason", e.Reason, "outcome", o.reply.Text, "error", replyErr)
	}
	return replyErr
}

// listInThread posts the whole target list in the announcement's thread
// when the announcement could not show all of it.
func (b *Bot) listInThread(r *request, e Entry) {
	parts := targetListReplies(r.id, e.Targets)
	if len(parts) == 0 || e.Thread == "" {
		return
	}
	ctx, cancel := context.WithTimeout(r.talk, listTimeout)
	defer cancel()
	for _, m := range parts {
		if err := b.chat.Reply(ctx, e.Channel, e.replyTS(), m, false); err != nil {
			b.log.ErrorContext(ctx, "could not post the target list in the thread", "request_id", r.id, "channel", e.Channel, "ts", e.replyTS(), "error", err)
			return
		}
	}
}

// The chat calls below are best effort: by the time they run, the decision
// is made, so a failure is logged and the request goes on.

func (b *Bot) reply(ctx context.Context, id, channel, ts string, m Message, broadcast bool) {
	if err := b.chat.Reply(ctx, channel, ts, m, broadcast); err != nil {
		b.log.ErrorContext(ctx, "thread reply failed", "request_id", id, "channel", channel, "ts", ts, "error", err)
	}
}

func (b *Bot) react(ctx context.Context, id, channel, ts, emoji string) {
	if err := b.chat.React(ctx, channel, ts, emoji); err != nil {
		b.log.WarnContext(ctx, "reaction failed", "request_id", id, "channel", channel, "ts", ts, "emoji", emoji, "error", err)
	}
}

// AnnouncementMessage is posted in the channel before IPRoyal is called.
func AnnouncementMessage(id, user string, targets []Target) Message {
	m := message(fmt.Sprintf(sayAnnouncement, user, residentialUsers(len(targets)), targetList(targets, sayListInThread)), requestContext(id))
	m.Tag = Tag{id, KindAnnouncement}
	return m
}

// finalAnnouncement is what the announcement becomes once the outcome is
// known, so the channel shows it without opening the thread.
func finalAnnouncement(e Entry) Message {
	text := finalHead(e) + "\n" + targetList(e.Targets, sayListInThread)
	if e.approved() {
		text += fmt.Sprintf(sayApprovedLine, e.Decider, clock(e.Decided))
	}
	return message(text, requestContext(e.RequestID))
}

// finalHead is the first line of a final announcement.
func finalHead(e Entry) string {
	n := residentialUsers(len(e.Targets))
	head := fmt.Sprintf(sayFinalFailed, e.User, n, strings.TrimSuffix(e.Reason, "."))
	switch {
	case e.State == StateReset:
		head = fmt.Sprintf(sayFinalReset, e.User, n, formatDuration(e.Took))
	case e.State == StateUnknown:
		head = fmt.Sprintf(sayFinalUnknown, e.User, n, e.Reason)
	case e.State == StateDenied:
		return fmt.Sprintf(sayFinalDenied, e.Decider, e.User, n, clock(e.Decided))
	case e.State == StateWithdrawn:
		return fmt.Sprintf(sayFinalWithdrawn, e.User, n, clock(e.Decided))
	case e.State == StateExpired && len(e.Approvers) > 0:
		return fmt.Sprintf(sayFinalTimedOut, e.User, n, clock(e.Expires))
	case e.State == StateRefused && len(e.Approvers) > 0:
		return fmt.Sprintf(sayFinalRefusedAt, e.User, n, e.Reason)
	}
	return head
}

// targetListReplies are the thread replies that list every target, when
// the announcement could not show them all; none otherwise.
func targetListReplies(id string, targets []Target) []Message {
	parts := splitLines(targetLines(targets), listBudget)
	if len(parts) < 2 {
		return nil
	}
	out := make([]Message, len(parts))
	for i, p := range parts {
		out[i] = message(fmt.Sprintf(sayListPart, residentialUsers(len(targets)), i+1, len(parts), p), requestContext(id))
		out[i].Tag = Tag{id, KindList}
	}
	return out
}

// dryRunPreviewMessage shows privately what a reset would do.
func dryRunPreviewMessage(id string, targets []Target) Message {
	return message(fmt.Sprintf(sayDryRunPreview, residentialUsers(len(targets)), targetList(targets, "")), requestContext(id))
}

// announceFailedMessage says why a reset was not announced, and so not run.
func announceFailedMessage(id string, err error) Message {
	what, todo := describe(err, OpAnnounce)
	return problem("warning", sayNothingReset+what, todo, id)
}

func dryRunMessage(id string, n int) Message {
	return message(fmt.Sprintf(sayDryRunRan, residentialUsers(n)), requestContext(id))
}

func successMessage(id string, n int, took time.Duration) Message {
	return message(fmt.Sprintf(saySuccess, residentialUsers(n), formatDuration(took)), requestContext(id))
}

// failureReason is what the journal and the announcement say of a failed reset.
func failureReason(err error) string {
	what, _ := describe(err, OpReset)
	return what
}

func failureMessage(id, user string, err error) Message {
	what, todo := describe(err, OpReset)
	return problem("x", fmt.Sprintf(sayResetFailed, user, what), todo, id)
}

// interruptedMessage is the outcome of a reset that sessionbot stopped
// while IPRoyal had it.
func interruptedMessage(id, user string) Message {
	return problem("warning", fmt.Sprintf(sayInterrupted, user), sayRunAgainHarmless, id)
}

// orphanMessage is posted by another process, or after a restart, in the
// thread of a reset whose process stopped without a word.
func orphanMessage(id, user string) Message {
	return problem("warning", fmt.Sprintf(sayOrphan, user), sayRunAgainHarmless, id)
}

func notRunMessage(id, user, reason string) Message {
	return problem("x", fmt.Sprintf(sayNotRun, user, upperFirst(reason)), sayRunAgain, id)
}

// journalFailedMessage says a reset was not run because its journal entry
// could not be written first.
func journalFailedMessage(id string) Message {
	return problem("warning", sayNothingReset+sayJournalFailed, sayTryThenTell, id)
}
