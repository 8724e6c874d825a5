package doubles

import (
	"fmt"
	"slices"
	"testing"
)

// EndedT is a testing.TB a double's Start can register with, for the
// double's own tests of what it reports when a test ends: End runs its
// cleanups as a test's end does and returns what they reported.
type EndedT struct {
	testing.TB
	cleanups []func()
	errors   []string
}

func (t *EndedT) Helper()           {}
func (t *EndedT) Cleanup(f func())  { t.cleanups = append(t.cleanups, f) }
func (t *EndedT) Error(args ...any) { t.errors = append(t.errors, fmt.Sprint(args...)) }

// End runs the cleanups, last registered first, and returns the errors.
func (t *EndedT) End() []string {
	for _, f := range slices.Backward(t.cleanups) {
		f()
	}
	return t.errors
}
