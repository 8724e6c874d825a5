package main

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
)

// defaultGOGC replaces Go's GOGC=100 when GOGC is not set. The bot's live
// heap is a few MiB, so at 100 the collector ran every few hundred commands
// and took about a quarter of the CPU; at 400 the benchmark spends 0.20 ms of
// CPU per command instead of 0.27 and peaks at about 33 MiB instead of 21
// (BENCHMARKS.md).
const defaultGOGC = 400

// defaultGOMAXPROCS replaces Go's default (every CPU the container may
// use, or the node's when it has no CPU limit) when GOMAXPROCS is not set.
// The bot waits on the network almost all the time; with more than one P,
// each wake-up tends to wake a second thread that finds nothing to do and
// sleeps again. At the loads people run (10 to 300 commands a second) one
// P spends 15 to 28% less CPU per command, with the same
// latency; it caps the bot at one core, over 2,000 commands a second here
// (BENCHMARKS.md).
const defaultGOMAXPROCS = 1

// cgroupMemoryFiles hold the container's memory limit: cgroup v2, then v1.
var cgroupMemoryFiles = []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}

// gcSettings is what tuneGC sets; a zero field is left as the runtime has it.
type gcSettings struct {
	percent int   // GOGC
	limit   int64 // GOMEMLIMIT, bytes
	procs   int   // GOMAXPROCS
}

// gcDefaults decides the collector's settings. GOGC and GOMEMLIMIT from the
// environment always win. Without GOGC the collector runs at defaultGOGC;
// without GOMEMLIMIT, a container's memory limit gives a soft limit of 80%
// of it, so a larger heap goal never walks the process into the OOM killer:
// near the limit the collector runs more often instead.
func gcDefaults(getenv func(string) string, readFile func(string) ([]byte, error)) gcSettings {
	var s gcSettings
	if getenv("GOGC") == "" {
		s.percent = defaultGOGC
	}
	if getenv("GOMAXPROCS") == "" {
		s.procs = defaultGOMAXPROCS
	}
	if getenv("GOMEMLIMIT") == "" {
		for _, f := range cgroupMemoryFiles {
			b, err := readFile(f)
			if err != nil {
				continue
			}
			// "max" (v2) or a near-2^63 number (v1) means no limit.
			n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
			if err == nil && n > 0 && n < 1<<50 {
				s.limit = n / 5 * 4
			}
			break
		}
	}
	return s
}

// tuneGC applies gcDefaults to this process.
func tuneGC(getenv func(string) string) {
	s := gcDefaults(getenv, os.ReadFile)
	if s.procs != 0 {
		runtime.GOMAXPROCS(s.procs)
	}
	if s.percent != 0 {
		debug.SetGCPercent(s.percent)
	}
	if s.limit != 0 {
		debug.SetMemoryLimit(s.limit)
	}
}

// gcPercent is the GOGC the runtime uses; -1 means off.
func gcPercent() int64 { return readGCMetric("/gc/gogc:percent") }

// gcMemoryLimit is the soft memory limit the runtime uses, or "none".
func gcMemoryLimit() string {
	n := readGCMetric("/gc/gomemlimit:bytes")
	if n == math.MaxInt64 {
		return "none"
	}
	return strconv.FormatInt(n>>20, 10) + "MiB"
}

func readGCMetric(name string) int64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}
