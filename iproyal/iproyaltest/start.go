package iproyaltest

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
// stops the double and fails t for every scripted Response no call used
// (one neither Sticky nor For a while, which describe how IPRoyal is rather
// than what the test expects): the test scripted something that never
// happened, and proves less than it says.
//
// Start before starting the client under test, so that its cleanups run
// first and it has stopped when the double checks.
func Start(t testing.TB, token string) *Server {
	t.Helper()
	s := NewServer(token)
	t.Cleanup(func() {
		s.Close()
		for _, problem := range s.unused() {
			t.Error(problem)
		}
	})
	return s
}

// unused lists the scripted answers no call used.
func (s *Server) unused() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, key := range slices.Sorted(maps.Keys(s.script)) {
		var left []string
		for _, r := range s.script[key] {
			if !r.Sticky && r.For == 0 {
				left = append(left, r.String())
			}
		}
		if left != nil {
			out = append(out, doubles.NeverUsed("iproyaltest", key, left))
		}
	}
	return out
}

// String shows the fields of r that are set, as a test would write them.
func (r Response) String() string {
	var parts []string
	add := func(set bool, name string, v any) {
		if set {
			parts = append(parts, fmt.Sprintf("%s: %v", name, v))
		}
	}
	add(r.Status != 0, "Status", r.Status)
	add(r.Body != "", "Body", strconv.Quote(r.Body))
	add(len(r.Header) > 0, "Header", r.Header)
	add(r.Delay != 0, "Delay", r.Delay)
	add(r.Lost, "Lost", true)
	add(r.Sticky, "Sticky", true)
	add(r.For != 0, "For", r.For)
	return "Response{" + strings.Join(parts, ", ") + "}"
}
