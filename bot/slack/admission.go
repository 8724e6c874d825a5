package slack

import (
	"context"
	"sync"
	"time"

	"github.com/sessionbot/sessionbot/bot"
)

// admission bounds work in flight: at most capacity pieces at once, and at
// most share of them for any one key (a person), so that nobody crowds
// anybody out. Past either, work is refused at once, never queued unseen.
type admission struct {
	capacity, share int

	mu    sync.Mutex
	total int
	held  map[string]int
}

func newAdmission(capacity, share int) *admission {
	return &admission{capacity: capacity, share: share, held: map[string]int{}}
}

// take admits one piece of work for key, or reports false.
func (a *admission) take(key string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.total >= a.capacity || a.held[key] >= a.share {
		return false
	}
	a.total++
	a.held[key]++
	return true
}

// release ends one piece of work take admitted for key.
func (a *admission) release(key string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.total--
	if a.held[key]--; a.held[key] <= 0 {
		delete(a.held, key)
	}
}

// goHandle runs f on a worker, counted as in flight (the core bounds its
// time); the caller took a slot for user in s.commands, which f's end
// releases.
func (s *Slack) goHandle(work context.Context, user string, f func(context.Context)) {
	s.inFlight.Add(1)
	if s.metrics != nil {
		s.metrics.InFlight.Inc()
	}
	task := func() {
		defer func() {
			s.commands.release(user)
			if s.metrics != nil {
				s.metrics.InFlight.Dec()
			}
			s.inFlight.Done()
		}()
		f(work)
	}
	select {
	case s.tasks <- task: // an idle worker takes it
	default:
		go s.worker(task, s.quit)
	}
}

// workerIdle is how long a worker waits for another request before it exits.
const workerIdle = 10 * time.Second

// worker runs task, then each task handed to it, until it has waited
// workerIdle for one or quit is closed. Reusing goroutines saves about 5% of
// the CPU per command (BENCHMARKS.md): slack-go's JSON encoding grows a
// request's stack to tens of KiB, and a new goroutine per request paid for
// that growth every time.
func (s *Slack) worker(task func(), quit <-chan struct{}) {
	s.workers.Add(1)
	defer s.workers.Add(-1)
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		task()
		idle.Reset(workerIdle)
		select {
		case task = <-s.tasks:
		case <-idle.C:
			return
		case <-quit:
			return
		}
	}
}

// offLoopTimeout bounds one piece of work done off the event loop.
const offLoopTimeout = 15 * time.Second

// offLoop runs one Web API call's worth of work for user off the event
// loop, which must never wait on the Web API, if pool admits it; past
// that, under a flood, it is dropped and logged. It says whether f was
// started.
func (s *Slack) offLoop(pool *admission, work context.Context, user string, f func(context.Context)) bool {
	if !pool.take(user) {
		s.log.Warn("dropped an answer: too many in flight, or this user's share of them", "user", user)
		return false
	}
	go func() {
		defer pool.release(user)
		ctx, cancel := context.WithTimeout(work, offLoopTimeout)
		defer cancel()
		f(ctx)
	}()
	return true
}

// admitAside triages req and takes its place among the requests in
// flight, for the ways in whose answers go aside (a click, a mention):
// when triage settled it, or no place is free, it answers and ok is false.
func (s *Slack) admitAside(work context.Context, b *bot.Bot, req bot.Request) (_ bot.Request, ok bool) {
	req, res, done := b.Triage(req)
	if done {
		s.aside(work, req, res)
		return req, false
	}
	if !s.commands.take(req.User) {
		s.refusedBusy(req.User)
		s.aside(work, req, bot.Result{Answer: bot.BusyMessage()})
		return req, false
	}
	return req, true
}
