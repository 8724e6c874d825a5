package bot

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// userLimiter allows each user perMinute commands a minute, with bursts up
// to perMinute, independently of everyone else. It is per process: with N
// replicas a user gets up to N times the limit.
type userLimiter struct {
	perMinute int
	now       func() time.Time

	mu    sync.Mutex
	users map[string]*rate.Limiter
}

// maxTrackedUsers bounds the limiter map; full buckets are forgotten first.
const maxTrackedUsers = 10000

func newUserLimiter(perMinute int, now func() time.Time) *userLimiter {
	return &userLimiter{perMinute: perMinute, now: now, users: map[string]*rate.Limiter{}}
}

// allow takes one command from user's budget, or says how long until one is free.
func (l *userLimiter) allow(user string) (ok bool, retryIn time.Duration) {
	if l == nil || l.perMinute <= 0 {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, found := l.users[user]
	if !found {
		if len(l.users) >= maxTrackedUsers {
			l.forgetIdle(now)
		}
		lim = rate.NewLimiter(rate.Every(time.Minute/time.Duration(l.perMinute)), l.perMinute)
		l.users[user] = lim
	}
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// forgetIdle drops users whose budget is full again: forgetting them
// changes nothing. Call with mu held.
func (l *userLimiter) forgetIdle(now time.Time) {
	for u, lim := range l.users {
		if lim.TokensAt(now) >= float64(l.perMinute) {
			delete(l.users, u)
		}
	}
}
