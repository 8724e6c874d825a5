package slacktest

import (
	"net/url"
	"time"
)

// ResponseURL is the name to script failures of response_url posts with,
// as if it were a Web API method: Fail(ResponseURL, Failure{Status: 500}).
const ResponseURL = "response_url"

// Failure scripts one answer of a Web API method (or of a response_url).
//
// Slack carries out a call whose client gave up, and a call whose answer
// was lost: a Failure says which of the two the client sees. Nothing set
// but Delay: the call is carried out, late, whether or not the client is
// still waiting. Error, RetryAfter or Status (without Lost): the call is
// refused, after Delay if set. Lost: the call is carried out, then the
// client gets no answer (or the 5xx in Status, from a proxy).
type Failure struct {
	// Error is Slack's error code, answered as HTTP 200 {"ok":false,"error":...}
	// (for a response_url, as a 404 with this text, or Status if set).
	Error string
	// RetryAfter, when set, answers HTTP 429 ratelimited with this header.
	RetryAfter int
	// Status, when set, answers with this HTTP status (a 5xx, say) and an
	// HTML body, as Slack's load balancers do.
	Status int
	// Lost carries the call out, then drops the connection without an
	// answer, or, with Status, answers that status as a proxy would: the
	// message is posted, the update applied, and the client cannot know.
	Lost bool
	// Channel limits the failure to calls for this channel.
	Channel string
	// InThread limits the failure to calls with a thread_ts (thread replies).
	InThread bool
	// Delay is waited before the call is carried out and answered; the
	// call is carried out even when the client gave up meanwhile.
	Delay time.Duration
	// Sticky failures answer every matching call, not just the next.
	Sticky bool
	// For, when set, makes the failure answer every matching call from when
	// it is scripted until For has passed (a window of 429s, say), and then
	// stop.
	For time.Duration
}

// refuses reports whether f answers without carrying the call out.
func (f Failure) refuses() bool {
	return !f.Lost && (f.Error != "" || f.RetryAfter > 0 || f.Status != 0)
}

// scripted is a Failure as the double keeps it.
type scripted struct {
	Failure
	until time.Time // when a For window ends
}

// Fail scripts failures of a Web API method, e.g. Fail("chat.postMessage", Failure{Error: "not_in_channel"}).
func (s *Server) Fail(method string, fs ...Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for _, f := range fs {
		sf := scripted{Failure: f}
		if f.For > 0 {
			sf.until = now.Add(f.For)
		}
		s.failures[method] = append(s.failures[method], sf)
	}
}

// ClearFailures removes every scripted failure.
func (s *Server) ClearFailures() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = map[string][]scripted{}
}

// takeFailure returns the next scripted failure for a call. Call with mu held.
func (s *Server) takeFailure(method string, params url.Values, now time.Time) (Failure, bool) {
	q := s.failures[method]
	for i := 0; i < len(q); i++ {
		f := q[i]
		if f.For > 0 && !now.Before(f.until) {
			q = append(q[:i:i], q[i+1:]...) // the window is over
			s.failures[method] = q
			i--
			continue
		}
		if f.Channel != "" && f.Channel != params.Get("channel") {
			continue
		}
		if f.InThread && params.Get("thread_ts") == "" {
			continue
		}
		if !f.Sticky && f.For == 0 {
			s.failures[method] = append(q[:i:i], q[i+1:]...)
		}
		return f.Failure, true
	}
	return Failure{}, false
}
