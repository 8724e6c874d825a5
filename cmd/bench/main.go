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
//
// It never fails on a missed goal; it fails only when the bot misbehaves
// (a command without an ack or a complete trail).
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sessionbot/sessionbot/bot/slack/slacktest"
	"github.com/sessionbot/sessionbot/iproyal"
	"github.com/sessionbot/sessionbot/iproyal/iproyaltest"
)

const (
	appToken     = "xapp-1-bench-0123456789"
	botToken     = "xoxb-1-bench-0123456789"
	iproyalToken = "iproyal-bench-0123456789"
	user         = "U0BENCH"
	channel      = "C0BENCH"
	hashPrefix   = "01H7YCG0R9GYY1YCPS2S"
	clockTicks   = 100 // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on Linux
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

// build compiles pkg as the Dockerfile does: static, trimmed, stripped.
func build(out, pkg string, flags ...string) error {
	cmd := exec.Command("go", append(append([]string{"build", "-trimpath", "-ldflags=-s -w"}, flags...), "-o", out, pkg)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

type result struct {
	startup, reconnect  time.Duration
	idle, idleProbed    idleCost
	peakKiB, drainedKiB int64
	goroutinesAfter     int
	goroutinesQuiet     int // after idle keep-alive connections closed
	open                map[loadKey]load
	instant, slow       load // the saturation loads
	binarySize          int64
}

// loadKey names one open-loop load.
type loadKey struct {
	rate  float64
	delay time.Duration
}

// idleCost is what the bot spent while connected and waiting.
type idleCost struct {
	cpu, over  time.Duration
	rssKiB     int64
	goroutines int
}

func (c idleCost) perHour() time.Duration {
	if c.over == 0 {
		return 0
	}
	return time.Duration(float64(c.cpu) * float64(time.Hour) / float64(c.over))
}

type load struct {
	n          int
	lag        []time.Duration // open loop: the generator's, from the scheduled time to the envelope's write
	ack, e2e   []time.Duration // e2e: to the thread reply
	overhead   []time.Duration // e2e less the time IPRoyal's double took to answer that command's DELETE
	trail      []time.Duration // to the last of the reply, the reaction and the update
	elapsed    time.Duration
	cpu        time.Duration // the bot's
	harness    time.Duration // this process's: the doubles and the load generator
	lateSends  int           // open loop: sends more than 1 ms behind schedule
	offered    float64       // open loop: commands per second
	overDeadln int           // acks after Slack's 3 s
}

// rig is one bot process with its doubles.
type rig struct {
	slack  *slacktest.Server
	ipr    *iproyaltest.Server
	events <-chan slacktest.Event
	cmd    *exec.Cmd
	addr   string
	tr     *tracker
	pprof  string // the bot's profiling address, and where profiles go
	dir    string
}

func startRig(bin string, o options, withHTTP bool) (*rig, time.Duration, error) {
	r := &rig{slack: slacktest.NewServer(appToken, botToken), ipr: iproyaltest.NewServer(iproyalToken)}
	r.slack.SetPingInterval(o.ping)
	r.events = r.slack.Subscribe(1 << 14)
	r.tr = newTracker()
	go r.tr.consume(r.events)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, 0, err
	}
	r.addr = ln.Addr().String()
	ln.Close()
	r.cmd = exec.Command(bin)
	if o.pprof != "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, 0, err
		}
		r.pprof, r.dir = ln.Addr().String(), o.pprof
		ln.Close()
	}
	r.cmd.Env = []string{
		"SLACK_APP_TOKEN=" + appToken, "SLACK_BOT_TOKEN=" + botToken, "IPROYAL_API_TOKEN=" + iproyalToken,
		"ALLOWED_USERS=" + user, "SLACK_API_URL=" + r.slack.URL, "IPROYAL_API_URL=" + r.ipr.URL,
		"HTTP_ADDR=" + r.addr, "LOG_LEVEL=info", "MAX_HASHES=100", "MAX_CONCURRENT=1000",
		"RATE_LIMIT_PER_MINUTE=0", // one user sends every command
		"PPROF_ADDR=" + r.pprof,
	}
	r.cmd.Env = append(r.cmd.Env, o.env...)
	start := time.Now()
	if err := r.cmd.Start(); err != nil {
		return nil, 0, err
	}
	var startup time.Duration
	if withHTTP {
		for {
			if resp, err := http.Get("http://" + r.addr + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Since(start) > 10*time.Second {
				r.stop()
				return nil, 0, errors.New("the bot did not become ready in 10 s")
			}
			time.Sleep(time.Millisecond)
		}
		startup = time.Since(start)
	} else if err := r.slack.WaitFor(10*time.Second, func(s *slacktest.State) bool { return s.Connections() == 1 }); err != nil {
		r.stop()
		return nil, 0, err
	}
	return r, startup, nil
}

func (r *rig) stop() {
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = r.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = r.cmd.Process.Kill()
		<-done
	}
	r.slack.Close()
	r.ipr.Close()
}

// perLoad is how many commands an open-loop load at rate sends.
func perLoad(o options, rate float64) int {
	return max(1, min(o.commands, int(rate*o.rateFor.Seconds())))
}

func measure(bin string, o options) (result, error) {
	res := result{open: map[loadKey]load{}}
	r, startup, err := startRig(bin, o, true)
	if err != nil {
		return res, err
	}
	defer r.stop()
	res.startup = startup
	time.Sleep(time.Second) // let start-up settle: the first pings, the IPRoyal token check
	pid := r.cmd.Process.Pid
	if o.idle > 0 {
		res.idle = r.idlePhase(o.idle, false)
		res.idleProbed = r.idlePhase(o.idle, true)
	}
	if err := r.loads(o, &res, o.commands); err != nil {
		return res, err
	}
	res.peakKiB, _ = procStatus(pid, "VmHWM")
	time.Sleep(2 * time.Second) // drained: every reply is in; let the GC return memory
	res.drainedKiB, _ = procStatus(pid, "VmRSS")
	res.goroutinesAfter = goroutines(r.addr)

	if res.reconnect, err = r.reconnect(); err != nil {
		return res, err
	}
	// Pooled keep-alive connections hold two goroutines each until they
	// have been idle for sessionbot's 15 s idle connection timeout, and command workers one each
	// for a shorter while; after that, anything above the idle count would
	// be a leak.
	time.Sleep(16 * time.Second)
	res.goroutinesQuiet = goroutines(r.addr)
	return res, nil
}

// idlePhase measures the bot connected and waiting for d: pinged by the
// double and, with probes, probed as the Kubernetes manifest does (/readyz
// every 5 s, /healthz every 10 s).
func (r *rig) idlePhase(d time.Duration, probes bool) idleCost {
	pid := r.cmd.Process.Pid
	cpu0, start := cpuTime(pid), time.Now()
	ready, live := time.NewTicker(5*time.Second), time.NewTicker(10*time.Second)
	defer ready.Stop()
	defer live.Stop()
	end := time.After(d)
	for done := false; !done; {
		select {
		case <-ready.C:
			if probes {
				probe(r.addr, "/readyz")
			}
		case <-live.C:
			if probes {
				probe(r.addr, "/healthz")
			}
		case <-end:
			done = true
		}
	}
	c := idleCost{cpu: cpuTime(pid) - cpu0, over: time.Since(start)}
	c.rssKiB, _ = procStatus(pid, "VmRSS")
	c.goroutines = goroutines(r.addr) // after the CPU is read: this is a request too
	return c
}

// probe makes a request the way a kubelet does: a new connection each time.
func probe(addr, path string) {
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("http://" + addr + path)
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

func measureNaive(bin string, o options) (result, error) {
	o.pprof = "" // the naive bot is not built with pprof
	res := result{open: map[loadKey]load{}}
	r, _, err := startRig(bin, o, false)
	if err != nil {
		return res, err
	}
	defer r.stop()
	time.Sleep(time.Second)
	if err := r.loads(o, &res, o.naiveMax); err != nil {
		return res, err
	}
	return res, nil
}

// loads runs the open-loop loads, then the saturation loads, into res.
// slowMax bounds the commands of each load with a slow IPRoyal.
func (r *rig) loads(o options, res *result, slowMax int) error {
	base := 0
	for _, rate := range o.rates {
		for _, delay := range []time.Duration{0, o.slow} {
			n := perLoad(o, rate)
			if delay > 0 {
				n = min(n, slowMax)
			}
			l, err := r.openLoad(rate, n, delay, base)
			if err != nil {
				return fmt.Errorf("%g/s, %v IPRoyal: %w", rate, delay, err)
			}
			res.open[loadKey{rate, delay}] = l
			base += n
		}
	}
	if !o.saturation {
		return nil
	}
	var err error
	if res.instant, err = r.closedLoad(o.commands, o.outstanding, 0, base); err != nil {
		return fmt.Errorf("saturation, instant IPRoyal: %w", err)
	}
	if res.slow, err = r.closedLoad(min(o.commands, slowMax), o.outstanding, o.slow, base+o.commands); err != nil {
		return fmt.Errorf("saturation, slow IPRoyal: %w", err)
	}
	return nil
}

// reconnect asks the bot to reconnect and times the disconnect message to
// the next hello.
func (r *rig) reconnect() (time.Duration, error) {
	r.tr.mu.Lock()
	r.tr.hello = make(chan time.Time, 1)
	r.tr.disconnectAt = time.Time{}
	r.tr.mu.Unlock()
	r.slack.Disconnect("refresh_requested")
	select {
	case at := <-r.tr.hello:
		r.tr.mu.Lock()
		defer r.tr.mu.Unlock()
		return at.Sub(r.tr.disconnectAt), nil
	case <-time.After(10 * time.Second):
		return 0, errors.New("no hello within 10 s of a disconnect")
	}
}

// command is the envelope of the i-th command, and its hash.
func (r *rig) command(i int) (id, hash string, payload []byte) {
	id = fmt.Sprintf("bench-%d", i)
	hash = hashFor(i)
	payload, _ = json.Marshal(map[string]string{
		"user_id": user, "channel_id": channel, "command": "/reset-sessions", "text": hash,
		"team_id": slacktest.TeamID, "api_app_id": slacktest.AppID,
		"response_url": strings.TrimSuffix(r.slack.URL, "api/") + "response/" + id,
	})
	return id, hash, payload
}

// spin is how long before each scheduled send the generator stops
// sleeping and waits on the clock.
const spin = 2 * time.Millisecond

// openLoad sends n commands at rate per second, on schedule whatever the
// bot does, and waits for every trail. Latencies count from each command's
// scheduled time: a late send, or a queue anywhere, shows in them.
func (r *rig) openLoad(rate float64, n int, delay time.Duration, base int) (load, error) {
	r.ipr.SetDelay(delay)
	l := load{n: n, offered: rate}
	done := r.tr.reset(n, true)
	interval := time.Duration(float64(time.Second) / rate)
	var profiling sync.WaitGroup
	if r.pprof != "" {
		seconds := max(1, int(time.Duration(n)*interval/time.Second))
		name := fmt.Sprintf("%g-per-s-%s", rate, delayName(delay))
		r.profile("allocs", name+".allocs-before") // compare with -base
		profiling.Go(func() { r.profile(fmt.Sprintf("profile?seconds=%d", seconds), name+".pprof") })
		profiling.Go(func() { r.profile("trace?seconds=2", name+".trace") })
		defer func() { r.profile("allocs", name+".allocs") }()
	}
	defer profiling.Wait()
	pid := r.cmd.Process.Pid
	cpu0, harness0 := cpuTime(pid), cpuTime(os.Getpid())
	start := time.Now().Add(5 * time.Millisecond)
	for i := range n {
		at := start.Add(time.Duration(i) * interval)
		// Sleep, then spin the last stretch: a sleeping thread wakes late
		// by up to a millisecond here, which would count against the bot.
		if d := time.Until(at) - spin; d > 0 {
			time.Sleep(d)
		}
		for time.Now().Before(at) {
		}
		if time.Since(at) > time.Millisecond {
			l.lateSends++
		}
		id, hash, payload := r.command(base + i)
		r.tr.sent(id, hash, at)
		if err := r.slack.SendEnvelope(id, "slash_commands", payload); err != nil {
			return l, err
		}
	}
	select {
	case <-done:
	case <-time.After(30*time.Second + delay):
		return l, fmt.Errorf("%d of %d commands have no complete trail 30 s after the last was sent", n-r.tr.completed(), n)
	}
	l.elapsed = time.Since(start)
	l.cpu = cpuTime(pid) - cpu0
	l.harness = cpuTime(os.Getpid()) - harness0
	return r.finish(l, n)
}

// profile saves one of the bot's /debug/pprof endpoints into the profile
// directory.
func (r *rig) profile(what, file string) {
	resp, err := http.Get("http://" + r.pprof + "/debug/pprof/" + what)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: profile:", err)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(os.Stderr, "bench: profile:", what, resp.Status)
		return
	}
	f, err := os.Create(filepath.Join(r.dir, file))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: profile:", err)
		return
	}
	defer f.Close()
	_, _ = io.Copy(f, resp.Body)
}

// closedLoad sends n commands, keeping at most outstanding of them waiting
// for their trail. base numbers the hashes so loads never share one.
func (r *rig) closedLoad(n, outstanding int, delay time.Duration, base int) (load, error) {
	r.ipr.SetDelay(delay)
	l := load{n: n}
	done := r.tr.reset(n, false)
	sem := make(chan struct{}, outstanding)
	r.tr.mu.Lock()
	r.tr.sem = sem
	r.tr.mu.Unlock()
	pid := r.cmd.Process.Pid
	cpu0, harness0 := cpuTime(pid), cpuTime(os.Getpid())
	start := time.Now()
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-time.After(30 * time.Second):
			return l, fmt.Errorf("stalled: %d commands without a complete trail for 30 s", outstanding)
		}
		id, hash, payload := r.command(base + i)
		r.tr.sent(id, hash, time.Time{})
		if err := r.slack.SendEnvelope(id, "slash_commands", payload); err != nil {
			return l, err
		}
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		return l, errors.New("stalled waiting for the last trails")
	}
	l.elapsed = time.Since(start)
	l.cpu = cpuTime(pid) - cpu0
	l.harness = cpuTime(os.Getpid()) - harness0
	return r.finish(l, n)
}

// finish waits for the last acks (a bot that acknowledges after the work
// sends its last acks after its last replies) and collects the latencies.
func (r *rig) finish(l load, n int) (load, error) {
	for deadline := time.Now().Add(30 * time.Second); r.tr.acked() < n && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	// What IPRoyal's double took for each command's DELETE, its delay and
	// its own timer's lateness included: the rest of end to end is the bot's.
	took := map[string]time.Duration{}
	for _, q := range r.ipr.Requests() {
		var body struct {
			Hashes []string `json:"residential_user_hashes"`
		}
		if q.Method == http.MethodDelete && json.Unmarshal(q.Body, &body) == nil && len(body.Hashes) == 1 {
			took[body.Hashes[0]] = q.Took
		}
	}
	var err error
	l.ack, l.e2e, l.trail, l.overhead, err = r.tr.results(took)
	r.tr.mu.Lock()
	l.lag = slices.Sorted(slices.Values(r.tr.lag))
	r.tr.mu.Unlock()
	l.overDeadln = over(l.ack, 3*time.Second)
	return l, err
}

// hashFor returns the i-th of up to 2^24 distinct hashes that all start
// with hashPrefix: i fills the last 3 of the 16 bytes, which only the last
// 5 characters write.
func hashFor(i int) string {
	b, err := iproyal.HashBytes(hashPrefix + "000000")
	if err != nil {
		panic(err)
	}
	b[13], b[14], b[15] = byte(i>>16), byte(i>>8), byte(i)
	return iproyal.HashFromBytes(b)
}

// tracker turns the double's events into per-command latencies.
type tracker struct {
	mu        sync.Mutex
	scheduled bool                 // latencies from the scheduled send time (open loop)
	sentAt    map[string]time.Time // envelope ID
	lag       []time.Duration      // open loop: from the scheduled time to the envelope's write
	byHash    map[string]string    // hash -> envelope ID
	byTS      map[string]string    // announcement ts -> envelope ID
	ackAt     map[string]time.Time // when the double read each ack; timed in results, once sentAt is final
	progress  map[string]*trail    // commands on their way
	finished  map[string]*trail    // commands with a complete trail
	want      int
	complete  int
	done      chan struct{} // closed when every command's trail is complete
	sem       chan struct{} // closed loop: a slot per command in flight

	hello        chan time.Time
	disconnectAt time.Time
}

// trail is what the double has seen of one command's outcome.
type trail struct {
	reply, reaction, update time.Time
	refused                 bool
}

func (t *trail) complete() bool {
	return t.refused || !t.reply.IsZero() && !t.reaction.IsZero() && !t.update.IsZero()
}

func newTracker() *tracker { t := &tracker{}; t.reset(0, false); return t }

// reset starts counting n commands, and returns a channel closed when all
// of them have a complete trail.
func (t *tracker) reset(n int, scheduled bool) <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.scheduled = scheduled
	t.sentAt = make(map[string]time.Time, n)
	t.lag = make([]time.Duration, 0, n)
	t.byHash = make(map[string]string, n)
	t.byTS = make(map[string]string, n)
	t.ackAt = make(map[string]time.Time, n)
	t.progress = make(map[string]*trail, n)
	t.finished = make(map[string]*trail, n)
	t.want, t.complete = n, 0
	t.done = make(chan struct{})
	t.sem = nil
	if n == 0 {
		close(t.done)
	}
	return t.done
}

// sent records a command about to be sent; at is its scheduled time (open
// loop), or zero to time it from when the double writes it.
func (t *tracker) sent(id, hash string, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if at.IsZero() {
		at = time.Now()
	}
	t.sentAt[id] = at
	t.byHash[hash] = id
	t.progress[id] = &trail{}
}

func (t *tracker) consume(events <-chan slacktest.Event) {
	for e := range events {
		t.mu.Lock()
		t.handle(e)
		t.mu.Unlock()
	}
}

func (t *tracker) handle(e slacktest.Event) {
	var id string
	switch e.Kind {
	case slacktest.EventEnvelope:
		// In a closed loop, "sent" is when the double wrote the envelope,
		// not when the generator asked: the double's lock can be busy.
		if at, ok := t.sentAt[e.EnvelopeID]; ok {
			if t.scheduled {
				t.lag = append(t.lag, e.At.Sub(at))
			} else {
				t.sentAt[e.EnvelopeID] = e.At
			}
		}
		return
	case slacktest.EventAck:
		// The double's reader may see the ack before its writer reports
		// the envelope written, so the ack is timed in results.
		if _, ok := t.sentAt[e.EnvelopeID]; ok {
			t.ackAt[e.EnvelopeID] = e.At
		}
		return
	case slacktest.EventMessage:
		m := e.Message
		if m.ThreadTS == "" {
			if i := strings.Index(m.Text, hashPrefix); i >= 0 && len(m.Text) >= i+26 {
				if id, ok := t.byHash[m.Text[i:i+26]]; ok {
					t.byTS[m.TS] = id
				}
			}
			return
		}
		id = t.byTS[m.ThreadTS]
		if p := t.progress[id]; p != nil && p.reply.IsZero() {
			p.reply = e.At
		}
	case slacktest.EventReaction:
		id = t.byTS[e.Message.TS]
		if p := t.progress[id]; p != nil && p.reaction.IsZero() {
			p.reaction = e.At
		}
	case slacktest.EventUpdate:
		id = t.byTS[e.Message.TS]
		if p := t.progress[id]; p != nil && p.update.IsZero() {
			p.update = e.At
		}
	case slacktest.EventResponse:
		// A private reply means the command was refused: it will get no
		// trail, so count it done and let results() report it.
		id = e.EnvelopeID
		if p := t.progress[id]; p != nil {
			p.refused = true
		}
	case slacktest.EventDisconnect:
		t.disconnectAt = e.At
		return
	case slacktest.EventHello:
		if t.hello != nil && !t.disconnectAt.IsZero() {
			select {
			case t.hello <- e.At:
			default:
			}
		}
		return
	default:
		return
	}
	p := t.progress[id]
	if p == nil || !p.complete() {
		return
	}
	delete(t.progress, id) // counted once
	t.finished[id] = p
	if t.sem != nil {
		<-t.sem
	}
	if t.complete++; t.complete == t.want {
		close(t.done)
	}
}

func (t *tracker) completed() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.complete
}

func (t *tracker) acked() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.ackAt)
}

func (t *tracker) results(took map[string]time.Duration) (ack, e2e, trails, overhead []time.Duration, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, at := range t.ackAt {
		ack = append(ack, at.Sub(t.sentAt[id]))
	}
	hashOf := make(map[string]string, len(t.byHash))
	for h, id := range t.byHash {
		hashOf[id] = h
	}
	refused, untimed := 0, 0
	for id, p := range t.finished {
		if p.refused {
			refused++
			continue
		}
		at := t.sentAt[id]
		e2e = append(e2e, p.reply.Sub(at))
		if d, ok := took[hashOf[id]]; ok {
			overhead = append(overhead, p.reply.Sub(at)-d)
		} else {
			untimed++
		}
		last := max(p.reply.UnixNano(), p.reaction.UnixNano(), p.update.UnixNano())
		trails = append(trails, time.Unix(0, last).Sub(at))
	}
	if len(ack) != len(t.sentAt) || len(e2e) != len(t.sentAt) {
		return ack, e2e, trails, overhead, fmt.Errorf("%d commands sent, %d acknowledged, %d with a complete trail, %d refused",
			len(t.sentAt), len(ack), len(e2e), refused)
	}
	if untimed > 0 {
		return ack, e2e, trails, overhead, fmt.Errorf("%d commands with a trail but no DELETE at IPRoyal's double", untimed)
	}
	slices.Sort(ack)
	slices.Sort(e2e)
	slices.Sort(trails)
	slices.Sort(overhead)
	return ack, e2e, trails, overhead, nil
}

func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}

// procStatus reads a kB field of /proc/<pid>/status.
func procStatus(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			return strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// cpuTime is the CPU time pid has used: the sum of its threads' time on a
// CPU from /proc/<pid>/task/*/schedstat, in nanoseconds (Go's threads
// never exit while the process runs), or, where the kernel keeps no
// schedstat, user+system time from /proc/<pid>/stat in 10 ms ticks.
func cpuTime(pid int) time.Duration {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	var sum int64
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		fields := strings.Fields(string(b))
		if len(fields) == 0 {
			continue
		}
		ns, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			continue
		}
		sum += ns
	}
	if sum > 0 {
		return time.Duration(sum)
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / clockTicks
}

func goroutines(addr string) int {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "go_goroutines "); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return -1
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return "unknown CPU"
}
