package bot

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// denialWindow is how often one user's refusals reach the audit channel:
// once, then a count, per window.
const denialWindow = time.Minute

// mirrorBudget bounds the audit channel posts refusals cause, everyone's
// together: a crowd of refused users, or one with many accounts, cannot
// flood the channel or Slack's rate limit for it. Past it, refusals are
// still logged and counted, not mirrored.
const (
	mirrorPerMinute = 20
	mirrorBurst     = 10
	mirrorTimeout   = 15 * time.Second // one post or update
	// maxWindows bounds the users whose refusals are being counted: the
	// budget posts a few a minute, so a crowd past this is only logged
	// (every refusal has its audit log line), and costs no memory.
	maxWindows = 1000
)

// denialMirror posts refusals in the audit channel, at most once per user
// per denialWindow: the first refusal at once, then, when the window
// closes, the same message updated with how many there were. Its posts
// and the timers that close windows belong to the Bot: Close flushes the
// open windows and waits for the posts.
type denialMirror struct {
	b      *Bot
	window time.Duration
	budget *rate.Limiter

	mu      sync.Mutex
	users   map[string]*denials
	overrun time.Time // when the budget last ran out: said once a window
}

type denials struct {
	channel string
	reason  DenialReason
	count   int
	ts      string        // the audit message, once posted
	posted  chan struct{} // closed when the first post is done
	timer   *time.Timer   // closes the window
}

func newDenialMirror(b *Bot) *denialMirror {
	return &denialMirror{
		b: b, window: denialWindow, users: map[string]*denials{},
		budget: rate.NewLimiter(rate.Every(time.Minute/mirrorPerMinute), mirrorBurst),
	}
}

// mirror records a refusal of user in channel (request id). It never waits: the post
// goes out on its own goroutine, within the budget, so a slow or rate
// limited audit channel holds no request up.
func (d *denialMirror) mirror(id, user, channel string, reason DenialReason) {
	b := d.b
	if b.cfg.AuditChannel == "" {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if w, ok := d.users[user]; ok {
		w.count++
		w.channel, w.reason = channel, reason
		return
	}
	if len(d.users) >= maxWindows {
		d.spent()
		return
	}
	w := &denials{channel: channel, reason: reason, count: 1, posted: make(chan struct{})}
	d.users[user] = w
	w.timer = time.AfterFunc(d.window, func() { d.close(user, w) })
	if !d.spend() || !b.goBehind(mirrorTimeout, func(ctx context.Context) {
		defer close(w.posted)
		m := auditDeniedMessage(user, channel, deniedReason(reason, b.auth.Policy()), 1)
		m.Tag = Tag{id, KindRefusal}
		ts, err := b.chat.Post(ctx, b.cfg.AuditChannel, "", m)
		if err != nil {
			b.log.ErrorContext(ctx, "could not mirror a refusal in the audit channel", "request_id", id, "channel", b.cfg.AuditChannel, "user", user, "error", err)
			return
		}
		d.mu.Lock()
		w.ts = ts
		d.mu.Unlock()
	}) {
		close(w.posted)
	}
}

// spend takes one post from the budget, or says, once a window, that it
// is spent. Call with mu held.
func (d *denialMirror) spend() bool {
	if d.budget.AllowN(d.b.cfg.Now(), 1) {
		return true
	}
	d.spent()
	return false
}

// spent says, once a window, that refusals are not mirrored for now. Call
// with mu held.
func (d *denialMirror) spent() {
	if now := d.b.cfg.Now(); now.Sub(d.overrun) >= d.window {
		d.overrun = now
		d.b.log.Warn("refusals are not mirrored in the audit channel for now: more than the budget", "per_minute", mirrorPerMinute, "users", len(d.users))
	}
}

// close ends user's window: when more refusals came after the first, its
// message is updated to count them all.
func (d *denialMirror) close(user string, w *denials) {
	b := d.b
	d.mu.Lock()
	if d.users[user] != w {
		d.mu.Unlock()
		return // flushed already
	}
	delete(d.users, user)
	count, channel, reason := w.count, w.channel, w.reason
	post := count > 1 && d.spend()
	d.mu.Unlock()
	if !post {
		return
	}
	b.goBehind(mirrorTimeout, func(ctx context.Context) {
		select {
		case <-w.posted:
		case <-ctx.Done():
			return
		}
		d.mu.Lock()
		ts := w.ts
		d.mu.Unlock()
		if ts == "" {
			return
		}
		m := auditDeniedMessage(user, channel, deniedReason(reason, b.auth.Policy()), count)
		if err := b.chat.Update(ctx, b.cfg.AuditChannel, ts, m); err != nil {
			b.log.ErrorContext(ctx, "could not count refusals in the audit channel", "channel", b.cfg.AuditChannel, "user", user, "refusals", count, "error", err)
		}
	})
}

// flush closes every open window now, so that its count is not lost to a
// shutdown.
func (d *denialMirror) flush() {
	d.mu.Lock()
	open := make(map[string]*denials, len(d.users))
	for user, w := range d.users {
		if w.timer.Stop() {
			open[user] = w
		}
	}
	d.mu.Unlock()
	for user, w := range open {
		d.close(user, w)
	}
}

// auditDeniedMessage mirrors one user's refusals in the audit channel.
func auditDeniedMessage(user, channel, reason string, count int) Message {
	if count > 1 {
		return message(fmt.Sprintf(sayAuditDeniedMany, user, count, channel, reason), "")
	}
	return message(fmt.Sprintf(sayAuditDenied, user, channel, reason), "")
}
