package main

import (
	"errors"
	"net"
	"strconv"
	"testing"
)

// A usage error says what was wrong and keeps its cause: errors.Is and
// errors.As see through it, and it still exits with 2.
func TestUsageErrorsWrapTheirCause(t *testing.T) {
	_, cause := strconv.Atoi("x")
	err := usagef("MAX_HASHES: %w", cause)
	if !errors.Is(err, strconv.ErrSyntax) {
		t.Errorf("errors.Is does not see the cause through %v", err)
	}
	var numErr *strconv.NumError
	if !errors.As(err, &numErr) {
		t.Errorf("errors.As does not see the cause through %v", err)
	}
	if exitCode(err) != 2 {
		t.Errorf("exit code %d, want 2", exitCode(err))
	}
	var addrErr *net.AddrError
	if errors.As(usagef("plain words"), &addrErr) {
		t.Error("a usage error without a cause claims one")
	}
}
