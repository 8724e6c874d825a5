package bot

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// userLimiter allows each user perMinute requests a minute, with bursts up
// to perMinute, independently of everyone else. It is per process: with N
// replicas a user gets up to N times the limit.
type userLimiter struct {
	perMinute int
	now       func() time.Time

	mu    sync.Mutex // makes finding or making a user's bucket one step
	users *cache[string, *rate.Limiter]
}

// maxTrackedUsers bounds the buckets kept. A bucket is full again a minute
// after its last use, so forgetting it then changes nothing; past the
// bound, the bucket used longest ago is forgotten first, at a cost that
// does not grow with the crowd.
const maxTrackedUsers = 10000

func newUserLimiter(perMinute int, now func() time.Time) *userLimiter {
	return &userLimiter{perMinute: perMinute, now: now, users: newCache[string, *rate.Limiter](maxTrackedUsers, now)}
}

// allow takes one request from user's budget, or says how long until one is free.
func (l *userLimiter) allow(user string) (ok bool, retryIn time.Duration) {
	if l == nil || l.perMinute <= 0 {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, found := l.users.Get(user)
	if !found {
		lim = rate.NewLimiter(rate.Every(time.Minute/time.Duration(l.perMinute)), l.perMinute)
	}
	l.users.Put(user, lim, now.Add(time.Minute))
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}
