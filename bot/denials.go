package bot

import (
	"context"
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
)

// denialMirror posts refusals in the audit channel, at most once per user
// per denialWindow: the first refusal at once, then, when the window
// closes, the same message updated with how many there were.
type denialMirror struct {
	b      *Bot
	window time.Duration
	budget *rate.Limiter

	mu      sync.Mutex
	users   map[string]*denials
	overrun bool // the budget ran out in this window: said once
}

type denials struct {
	channel string
	reason  DenialReason
	count   int
	ts      string // the audit message, once posted
}

func newDenialMirror(b *Bot) *denialMirror {
	return &denialMirror{
		b: b, window: denialWindow, users: map[string]*denials{},
		budget: rate.NewLimiter(rate.Every(time.Minute/mirrorPerMinute), mirrorBurst),
	}
}

// mirror records a refusal of user in channel. It never waits: the post
// goes out on its own goroutine, within the budget, so a slow or rate
// limited audit channel holds no command up.
func (d *denialMirror) mirror(user, channel string, reason DenialReason) {
	b := d.b
	if b.cfg.AuditChannel == "" {
		return
	}
	d.mu.Lock()
	if w, ok := d.users[user]; ok {
		w.count++
		w.channel, w.reason = channel, reason
		d.mu.Unlock()
		return
	}
	w := &denials{channel: channel, reason: reason, count: 1}
	d.users[user] = w
	d.mu.Unlock()
	time.AfterFunc(d.window, func() { d.close(user, w) })
	if !d.spend() {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		ts, err := b.chat.Post(ctx, b.cfg.AuditChannel, "", auditDeniedMessage(user, channel, deniedReason(reason, b.auth.Policy()), 1))
		if err != nil {
			b.log.ErrorContext(ctx, "could not mirror a refusal in the audit channel", "channel", b.cfg.AuditChannel, "user", user, "error", err)
			return
		}
		d.mu.Lock()
		w.ts = ts
		d.mu.Unlock()
	}()
}

// spend takes one post from the budget, or says, once a window, that it is
// spent.
func (d *denialMirror) spend() bool {
	if d.budget.Allow() {
		return true
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.overrun {
		d.overrun = true
		d.b.log.Warn("refusals are not mirrored in the audit channel for now: more than the budget", "per_minute", mirrorPerMinute)
		time.AfterFunc(d.window, func() {
			d.mu.Lock()
			d.overrun = false
			d.mu.Unlock()
		})
	}
	return false
}

// close ends user's window: when more refusals came after the first, its
// message is updated to count them all.
func (d *denialMirror) close(user string, w *denials) {
	b := d.b
	d.mu.Lock()
	delete(d.users, user)
	count, ts, channel, reason := w.count, w.ts, w.channel, w.reason
	d.mu.Unlock()
	if count < 2 || ts == "" || !d.spend() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	m := auditDeniedMessage(user, channel, deniedReason(reason, b.auth.Policy()), count)
	if err := b.chat.Update(ctx, b.cfg.AuditChannel, ts, m); err != nil {
		b.log.ErrorContext(ctx, "could not count refusals in the audit channel", "channel", b.cfg.AuditChannel, "user", user, "refusals", count, "error", err)
	}
}
