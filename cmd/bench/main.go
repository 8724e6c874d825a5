// Command bench measures sessionbot as a black box: it builds the real
// binary, runs it as a separate process against the Slack and IPRoyal test
// doubles on 127.0.0.1, drives slash commands through Socket Mode, and
// reports against the goals in BENCHMARKS.md:
//
//   - equal offered load: commands sent at a fixed rate whatever the bot's
//     progress (an open loop), latency counted from each command's
//     scheduled send time, so queueing is not hidden;
//
//   - idle: the bot's CPU and memory while it is connected and waiting;
//
//   - saturation: a closed loop with a fixed number of commands in flight.
//
//     go run ./cmd/bench          # 3 runs of the three kinds of load
//     go run ./cmd/bench -naive   # also the ack-after-work variant
//     go run ./cmd/bench -floor   # what one bare HTTP round trip costs here
//     go run ./cmd/bench -rate 300 -idle 0 -saturation=false -runs 1
//     go run ./cmd/bench -flood 20000   # a crowd of refused users
//
// It never fails on a missed goal; it fails only when the bot misbehaves
// (a command without an ack or a complete trail).
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// options is what the flags ask for.
type options struct {
	rates       []float64     // open-loop offered loads, commands per second
	rateFor     time.Duration // how long each open-loop load lasts
	commands    int           // at most this many commands per load
	outstanding int           // the closed loop's commands in flight
	runs        int
	slow        time.Duration // IPRoyal's answer time in the slow loads
	idle        time.Duration // each idle phase
	ping        time.Duration // the Slack double's ping interval
	saturation  bool
	naive       bool
	naiveMax    int      // commands per naive load with a slow IPRoyal: it handles one at a time
	pprof       string   // when set, a directory for CPU profiles and traces of each open-loop load
	env         []string // more of the bot's environment, KEY=VALUE
}

func main() {
	if spec := os.Getenv(floorClientEnv); spec != "" {
		floorClient(spec)
		return
	}
	var o options
	rates := flag.String("rate", "10,100,300", "open-loop offered loads in commands per second, comma-separated (\"\" for none)")
	flag.DurationVar(&o.rateFor, "rate-duration", 20*time.Second, "how long each open-loop load lasts (at most -commands commands)")
	flag.IntVar(&o.commands, "commands", 2000, "commands per load, at most")
	flag.IntVar(&o.outstanding, "outstanding", 50, "commands in flight at once in the saturation (closed-loop) load")
	flag.IntVar(&o.runs, "runs", 3, "independent runs; the report gives the median and the spread")
	flag.DurationVar(&o.slow, "iproyal-delay", 50*time.Millisecond, "IPRoyal's answer time in the slow loads")
	flag.DurationVar(&o.idle, "idle", time.Minute, "how long each idle phase measures the connected, waiting bot (0: none)")
	flag.DurationVar(&o.ping, "ping", 10*time.Second, "how often the Slack double pings the bot's connection")
	flag.BoolVar(&o.saturation, "saturation", true, "also run the closed loop that saturates the machine")
	flag.BoolVar(&o.naive, "naive", false, "also measure the naive ack-after-work variant, once, at the same loads")
	flag.IntVar(&o.naiveMax, "naive-slow-commands", 200, "at most this many commands per naive load with a slow IPRoyal")
	flag.StringVar(&o.pprof, "pprof", "", "build the bot with -tags pprof and write a CPU profile, a 2 s trace and the allocations (before and after) of each open-loop load into this directory")
	flag.Func("env", "KEY=VALUE to add to the bot's environment (repeatable), e.g. -env GOMAXPROCS=1", func(kv string) error {
		if !strings.Contains(kv, "=") {
			return errors.New("want KEY=VALUE")
		}
		o.env = append(o.env, kv)
		return nil
	})
	prebuilt := flag.String("bin", "", "with -flood: measure this sessionbot binary instead of building one (to compare builds)")
	floodN := flag.Int("flood", 0, "measure only a crowd of this many refused users, each a different one (see flood.go)")
	floorOnly := flag.Bool("floor", false, "measure only what one bare HTTP round trip costs a client process here (see floor.go)")
	floorTrips := flag.Int("floor-trips", 0, "rounds of round trips per case of -floor (0: 10 s of them, and at least 200)")
	flag.Parse()
	if *floorOnly {
		if err := floor(*floorTrips); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	switch {
	case o.runs < 1, o.commands < 1, o.outstanding < 1, o.naiveMax < 1:
		fmt.Fprintln(os.Stderr, "bench: -runs, -commands, -outstanding and -naive-slow-commands must be at least 1")
		os.Exit(2)
	case o.slow <= 0:
		fmt.Fprintln(os.Stderr, "bench: -iproyal-delay must be more than 0: the instant loads are the 0")
		os.Exit(2)
	}
	if *floodN > 0 {
		if err := floodRun(o, *floodN, *prebuilt); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	for _, f := range strings.Split(*rates, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		r, err := strconv.ParseFloat(f, 64)
		if err != nil || r <= 0 {
			fmt.Fprintf(os.Stderr, "bench: -rate %q: want positive numbers of commands per second\n", *rates)
			os.Exit(2)
		}
		o.rates = append(o.rates, r)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	dir, err := os.MkdirTemp("", "sessionbot-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "sessionbot")
	var tags []string
	if o.pprof != "" {
		if err := os.MkdirAll(o.pprof, 0o755); err != nil {
			return err
		}
		tags = []string{"-tags", "pprof"}
	}
	if err := build(bin, "./cmd/sessionbot", tags...); err != nil {
		return err
	}
	st, err := os.Stat(bin)
	if err != nil {
		return err
	}
	fmt.Printf("# sessionbot benchmark\n\n%s, %d CPUs, %s, %s; %d runs; binary %.1f MB (stripped)\n\n",
		runtime.GOOS+"/"+runtime.GOARCH, runtime.NumCPU(), cpuModel(), runtime.Version(), o.runs, float64(st.Size())/1e6)

	var results []result
	for i := range o.runs {
		fmt.Fprintf(os.Stderr, "run %d/%d...\n", i+1, o.runs)
		r, err := measure(bin, o)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		r.binarySize = st.Size()
		results = append(results, r)
	}
	var naive *result
	if o.naive {
		nbin := filepath.Join(dir, "naivebot")
		if err := build(nbin, "./cmd/bench/naivebot"); err != nil {
			return err
		}
		fmt.Fprintln(os.Stderr, "naive variant...")
		n, err := measureNaive(nbin, o)
		if err != nil {
			return fmt.Errorf("naive: %w", err)
		}
		naive = &n
	}
	report(results, naive, o)
	return nil
}

// floodRun builds the bot and measures a crowd of n refused users.
func floodRun(o options, n int, bin string) error {
	if bin != "" {
		return flood(bin, o, n)
	}
	dir, err := os.MkdirTemp("", "sessionbot-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin = filepath.Join(dir, "sessionbot")
	if err := build(bin, "./cmd/sessionbot"); err != nil {
		return err
	}
	return flood(bin, o, n)
}

// build compiles pkg as the Dockerfile does: static, trimmed, stripped.
func build(out, pkg string, flags ...string) error {
	cmd := exec.Command("go", append(append([]string{"build", "-trimpath", "-ldflags=-s -w"}, flags...), "-o", out, pkg)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}
