package testaddr

import (
	"net"
	"strconv"
	"testing"
)

// Each address is new, below the ephemeral range, and can be bound, also
// again after it was closed (a restart).
func TestFreeAddressesAreDistinctBindableAndBelowTheEphemeralRange(t *testing.T) {
	low := ephemeralLow()
	seen := map[string]bool{}
	for range 200 {
		addr := Free(t)
		if seen[addr] {
			t.Fatalf("%s handed out twice", addr)
		}
		seen[addr] = true
		_, p, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatal(err)
		}
		if port, _ := strconv.Atoi(p); port < lowest || (low-lowest >= 1000 && port >= low) {
			t.Errorf("port %d, want from %d to %d", port, lowest, low-1)
		}
		for range 2 {
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				t.Fatalf("%s cannot be bound: %v", addr, err)
			}
			ln.Close()
		}
	}
}
