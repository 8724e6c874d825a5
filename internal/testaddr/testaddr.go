// Package testaddr gives tests addresses for the listeners of the
// processes they start (a bot's HTTP_ADDR) that nothing else takes
// before the process binds them.
package testaddr

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// lowest is the lowest port handed out: above the well-known and most
// registered services' ports.
const lowest = 10000

var ports struct {
	sync.Mutex
	next, end int
}

// Free returns a 127.0.0.1 address free now, for a listener bound later,
// maybe more than once (a restart binds it again). A port the kernel picks
// for port 0 cannot be that: it comes from the ephemeral range
// (net.ipv4.ip_local_port_range), which also gives every other listener on
// port 0 (each test's doubles) and every outgoing connection its port, so
// one of the many a test run opens can take it in the moment it is free.
// Free's ports are below that range, where only explicit binds go, and
// none is handed out twice in a process. The first is random, so that test
// processes running at once start apart.
func Free(t testing.TB) string {
	t.Helper()
	ports.Lock()
	defer ports.Unlock()
	if ports.end == 0 {
		ports.end = ephemeralLow()
		if ports.end-lowest < 1000 {
			return kernelPicked(t) // no room below the range: as good as it gets
		}
		ports.next = lowest + rand.IntN(ports.end-lowest)
	}
	for range ports.end - lowest {
		port := ports.next
		ports.next++
		if ports.next == ports.end {
			ports.next = lowest
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if ln, err := net.Listen("tcp", addr); err == nil {
			ln.Close()
			return addr
		}
	}
	t.Fatalf("testaddr: no free port from %d to %d", lowest, ports.end-1)
	return ""
}

// ephemeralLow is the first port of the kernel's ephemeral range, or
// Linux's default when it cannot be read.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				return n
			}
		}
	}
	return 32768
}

func kernelPicked(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(fmt.Errorf("testaddr: %w", err))
	}
	defer ln.Close()
	return ln.Addr().String()
}
