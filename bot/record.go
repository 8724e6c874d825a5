package bot

import (
	"context"
	"time"
)

// Recording a request in the journal. A write a request waits on (its
// entry before the announcement, before the DELETE, before its outcome is
// shown) is retried by the journal until it lands or the request's time is
// up; a write nothing waits on (the trail marked done, a refusal's
// mirror) goes behind the request, retried until it lands, in a bounded
// backlog. A process remembers the requests it runs and has run until
// their entries are final and their trails done, so that its sweep never
// takes one of them for an orphan, and gives a late copy of an entry the
// true outcome.

// maxBehind bounds the writes waiting behind requests: each holds an entry
// and its message, at most about 12 KB, so the backlog stays under 12 MB.
// Past it a write is dropped, with an ERROR and a count: never silently.
const maxBehind = 1000

// behindTimeout bounds one write behind a request, its retries included.
const behindTimeout = 10 * time.Minute

// writeAhead writes e before what needs it (the announcement, the DELETE):
// a new entry, or the next state of one, and keeps its reference. It
// fails when the journal cannot take it within the request's time.
func (b *Bot) writeAhead(r *request, e *Entry) error {
	if b.cfg.Journal == nil {
		return nil
	}
	b.remember(*e)
	m := auditMessage(*e, b.link(e.Channel, e.Thread))
	if e.Ref != "" {
		if err := b.cfg.Journal.Rewrite(r.work, *e, m); err != nil {
			b.log.ErrorContext(r.work, "could not update the journal, so the request stops here", "request_id", r.id, "state", string(e.State), "error", err)
			return err
		}
		return nil
	}
	ref, err := b.cfg.Journal.Write(r.work, *e, m)
	if err != nil {
		b.log.ErrorContext(r.work, "could not write the journal, so nothing was done", "request_id", r.id, "state", string(e.State), "error", err)
		return err
	}
	e.Ref, r.ref = ref, ref
	b.remember(*e)
	return nil
}

// settle records e's state while the request still talks (its outcome, or
// a click's decision), within finishRetry and deadline (when set).
func (b *Bot) settle(talk context.Context, deadline time.Time, e Entry) {
	if b.cfg.Journal == nil || e.Ref == "" {
		return
	}
	b.remember(e)
	if end := b.cfg.Now().Add(finishRetry); deadline.IsZero() || end.Before(deadline) {
		deadline = end
	}
	ctx, cancel := context.WithDeadline(talk, deadline)
	defer cancel()
	b.rewrite(ctx, e)
}

// settleBehind records e's state behind the request, in the backlog.
func (b *Bot) settleBehind(e Entry) {
	if b.cfg.Journal == nil || e.Ref == "" {
		return
	}
	b.remember(e)
	if !b.behindWrite(func(ctx context.Context) { b.rewrite(ctx, e) }) {
		b.log.Error("dropped a journal update: too many are waiting for the audit channel", "request_id", e.RequestID, "state", string(e.State), "backlog", maxBehind)
	}
}

// behindWrite runs write behind the request, counted in the backlog, or
// reports false when the backlog is full (or the Bot closed).
func (b *Bot) behindWrite(write func(ctx context.Context)) bool {
	b.mu.Lock()
	if b.backlog >= maxBehind {
		b.mu.Unlock()
		if b.cfg.Observe.Dropped != nil {
			b.cfg.Observe.Dropped()
		}
		return false
	}
	b.backlog++
	b.observeBacklog(b.backlog)
	b.mu.Unlock()
	started := b.goBehind(behindTimeout, func(ctx context.Context) {
		defer b.wroteBehind()
		write(ctx)
	})
	if !started {
		b.wroteBehind()
	}
	return started
}

func (b *Bot) wroteBehind() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.backlog--
	b.observeBacklog(b.backlog)
}

// observeBacklog reports the backlog. Call with mu held.
func (b *Bot) observeBacklog(n int) {
	if b.cfg.Observe.Backlog != nil {
		b.cfg.Observe.Backlog(n)
	}
}

// rewrite updates an entry and its audit message, logging a failure.
func (b *Bot) rewrite(ctx context.Context, e Entry) {
	if err := b.cfg.Journal.Rewrite(ctx, e, auditMessage(e, b.link(e.Channel, e.Thread))); err != nil {
		b.log.ErrorContext(ctx, "could not update the journal", "request_id", e.RequestID, "state", e.State, "error", err)
	}
}

// maxMine bounds the requests a process remembers running: a few hundred
// bytes each, so under 10 MB.
const maxMine = 20000

// remember keeps what this process knows of a request it runs or ran (its
// entry, without the targets, which the journal has), for as long as it
// could be taken for an orphan.
func (b *Bot) remember(e Entry) {
	if e.State == StateAwaiting || e.State == StateApproval {
		return // a confirmation or an approval waits for a click anywhere, and expires by any sweep
	}
	e.Targets = nil
	b.mine.Put(e.RequestID, e, b.cfg.Now().Add(b.cfg.CommandTimeout+behindTimeout))
}

// journal writes a request's entry (or its next state) where the request
// waits on nothing after it (a click's decision, a refusal at a click).
func (b *Bot) journal(r *request, e *Entry) {
	if e.Ref == "" {
		_ = b.writeAhead(r, e)
		return
	}
	b.settle(r.talk, r.deadline, *e)
}
