package slacktest

import (
	"time"
)

// Slack's rate limit tiers: about this many calls a minute, per method and
// workspace, with short bursts allowed. conversations.history is Tier 3
// for internal apps, as are chat.update and reactions.add.
const (
	Tier2 = 20
	Tier3 = 50
	Tier4 = 100
)

// throttle is a method's limit and the calls it let through in the last
// minute.
type throttle struct {
	perMinute int
	passed    []time.Time
}

// Throttle limits method to perMinute calls in any minute, as Slack's tiers
// do: past it, a call answers HTTP 429 ratelimited, with a Retry-After of
// the seconds until the oldest call of that minute leaves it. Zero lifts
// the limit.
func (s *Server) Throttle(method string, perMinute int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if perMinute <= 0 {
		delete(s.throttles, method)
		return
	}
	s.throttles[method] = &throttle{perMinute: perMinute}
}

// throttled reports whether a call to method now must wait, and how many
// seconds; a call it lets through counts. Call with mu held.
func (s *Server) throttled(method string, now time.Time) (retryAfter int, limited bool) {
	t := s.throttles[method]
	if t == nil {
		return 0, false
	}
	minuteAgo := now.Add(-time.Minute)
	for len(t.passed) > 0 && !t.passed[0].After(minuteAgo) {
		t.passed = t.passed[1:]
	}
	if len(t.passed) < t.perMinute {
		t.passed = append(t.passed, now)
		return 0, false
	}
	wait := t.passed[0].Sub(minuteAgo)
	return max(1, int((wait+time.Second-1)/time.Second)), true
}
