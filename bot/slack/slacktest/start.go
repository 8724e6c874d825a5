package slacktest

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sessionbot/sessionbot/internal/doubles"
)

// Start starts a double for the test t, as NewServer does. When t ends, it
// stops the double and fails t for what real Slack would have shown someone
// as an error: an envelope acknowledged after 3 s, or an ack payload Slack
// would refuse. It also fails t for a scripted Failure no call used (one
// neither Sticky nor For a while, which describe how Slack is rather than
// what the test expects): the test scripted something that never
// happened, and proves less than it says.
//
// Start before starting the app under test, so that the app's cleanups
// run first and it has stopped when the double checks.
func Start(t testing.TB, appToken, botToken string) *Server {
	t.Helper()
	s := NewServer(appToken, botToken)
	t.Cleanup(func() {
		s.Close()
		for _, problem := range s.problems() {
			t.Error(problem)
		}
	})
	return s
}

// problems is what Start fails a test for. Call after Close.
func (s *Server) problems() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, a := range s.rec.acks {
		if a.Late {
			out = append(out, fmt.Sprintf("slacktest: envelope %s was acknowledged after Slack's 3 s", a.EnvelopeID))
		}
		if a.Err != "" {
			out = append(out, fmt.Sprintf("slacktest: envelope %s was acknowledged with what Slack would refuse: %s", a.EnvelopeID, a.Err))
		}
	}
	for _, method := range slices.Sorted(maps.Keys(s.failures)) {
		var left []string
		for _, f := range s.failures[method] {
			if !f.Sticky && f.For == 0 {
				left = append(left, f.String())
			}
		}
		if left != nil {
			out = append(out, doubles.NeverUsed("slacktest", method, left))
		}
	}
	return out
}

// String shows the fields of f that are set, as a test would write them.
func (f Failure) String() string {
	var parts []string
	add := func(set bool, name string, v any) {
		if set {
			parts = append(parts, fmt.Sprintf("%s: %v", name, v))
		}
	}
	add(f.Error != "", "Error", strconv.Quote(f.Error))
	add(f.RetryAfter != 0, "RetryAfter", f.RetryAfter)
	add(f.Status != 0, "Status", f.Status)
	add(f.Lost, "Lost", true)
	add(f.Channel != "", "Channel", strconv.Quote(f.Channel))
	add(f.InThread, "InThread", true)
	add(f.Delay != 0, "Delay", f.Delay)
	add(f.Sticky, "Sticky", true)
	add(f.For != 0, "For", f.For)
	return "Failure{" + strings.Join(parts, ", ") + "}"
}
