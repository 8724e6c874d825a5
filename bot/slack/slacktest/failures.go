package slacktest

import (
	"net/url"
	"time"
)

// Failure scripts one answer of a Web API method.
type Failure struct {
	// Error is Slack's error code, answered as HTTP 200 {"ok":false,"error":...}.
	Error string
	// RetryAfter, when set, answers HTTP 429 ratelimited with this header.
	RetryAfter int
	// Status, when set, answers with this HTTP status (a 5xx, say) and an
	// HTML body, as Slack's load balancers do.
	Status int
	// Channel limits the failure to calls for this channel.
	Channel string
	// InThread limits the failure to calls with a thread_ts (thread replies).
	InThread bool
	// Delay is waited before answering.
	Delay time.Duration
	// Sticky failures answer every matching call, not just the next.
	Sticky bool
}

// Fail scripts failures of a Web API method, e.g. Fail("chat.postMessage", Failure{Error: "not_in_channel"}).
func (s *Server) Fail(method string, fs ...Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[method] = append(s.failures[method], fs...)
}

// ClearFailures removes every scripted failure.
func (s *Server) ClearFailures() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = map[string][]Failure{}
}

// takeFailure returns the next scripted failure for a call. Call with mu held.
func (s *Server) takeFailure(method string, params url.Values) (Failure, bool) {
	q := s.failures[method]
	for i, f := range q {
		if f.Channel != "" && f.Channel != params.Get("channel") {
			continue
		}
		if f.InThread && params.Get("thread_ts") == "" {
			continue
		}
		if !f.Sticky {
			s.failures[method] = append(q[:i:i], q[i+1:]...)
		}
		return f, true
	}
	return Failure{}, false
}
