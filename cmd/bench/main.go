// Command bench measures sessionbot as a black box: it builds the real
// binary, runs it as a separate process against the Slack and IPRoyal test
// doubles on 127.0.0.1, drives slash commands through Socket Mode, and
// reports latency, throughput, CPU, memory, start-up and reconnect time
// against the goals in BENCHMARKS.md.
//
//	go run ./cmd/bench             # 3 runs of 2,000 commands, 50 outstanding
//	go run ./cmd/bench -naive      # also run the ack-after-work variant
//	go run ./cmd/bench -commands 100 -runs 1   # a smoke test
//
// It never fails on a missed goal; it fails only when the bot misbehaves
// (a command without an ack or a reply).
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

	"github.com/sessionbot/sessionbot/bot"
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

func main() {
	var (
		commands    = flag.Int("commands", 2000, "slash commands per load")
		outstanding = flag.Int("outstanding", 50, "commands in flight at once (until their thread reply)")
		runs        = flag.Int("runs", 3, "independent runs; the report gives the median and the spread")
		slow        = flag.Duration("iproyal-delay", 50*time.Millisecond, "IPRoyal's answer time in the slow load")
		naive       = flag.Bool("naive", false, "also measure the naive ack-after-work variant")
		naiveSlowN  = flag.Int("naive-slow-commands", 200, "commands for the naive variant's slow load (it handles one at a time)")
	)
	flag.Parse()
	if err := run(*commands, *outstanding, *runs, *slow, *naive, *naiveSlowN); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(commands, outstanding, runs int, slow time.Duration, naive bool, naiveSlowN int) error {
	dir, err := os.MkdirTemp("", "sessionbot-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "sessionbot")
	if err := build(bin, "./cmd/sessionbot"); err != nil {
		return err
	}
	st, err := os.Stat(bin)
	if err != nil {
		return err
	}
	fmt.Printf("# sessionbot benchmark\n\n%s, %d CPUs, %s; %d commands per load, %d outstanding, %d runs; binary %.1f MB (stripped)\n\n",
		runtime.GOOS+"/"+runtime.GOARCH, runtime.NumCPU(), cpuModel(), commands, outstanding, runs, float64(st.Size())/1e6)

	var results []result
	for i := range runs {
		fmt.Fprintf(os.Stderr, "run %d/%d...\n", i+1, runs)
		r, err := measure(bin, commands, outstanding, slow, true)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		r.binarySize = st.Size()
		results = append(results, r)
	}
	report(results, slow)

	if naive {
		nbin := filepath.Join(dir, "naivebot")
		if err := build(nbin, "./cmd/bench/naivebot"); err != nil {
			return err
		}
		fmt.Fprintln(os.Stderr, "naive variant...")
		fast, err := measureNaive(nbin, commands, outstanding, 0)
		if err != nil {
			return fmt.Errorf("naive: %w", err)
		}
		slowRes, err := measureNaive(nbin, naiveSlowN, outstanding, slow)
		if err != nil {
			return fmt.Errorf("naive, slow IPRoyal: %w", err)
		}
		reportNaive(results, fast, slowRes, slow)
	}
	return nil
}

// build compiles pkg as the Dockerfile does: static, trimmed, stripped.
func build(out, pkg string) error {
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

type result struct {
	startup, reconnect              time.Duration
	idleKiB, peakKiB, drainedKiB    int64
	goroutinesIdle, goroutinesAfter int
	goroutinesQuiet                 int // after idle keep-alive connections closed
	instant, slow                   load
	binarySize                      int64
}

type load struct {
	n        int
	ack, e2e []time.Duration
	elapsed  time.Duration
	cpu      time.Duration // the bot's
	harness  time.Duration // this process's: the doubles and the load generator
}

// rig is one bot process with its doubles.
type rig struct {
	slack  *slacktest.Server
	ipr    *iproyaltest.Server
	events <-chan slacktest.Event
	cmd    *exec.Cmd
	addr   string
	tr     *tracker
}

func startRig(bin string, withHTTP bool) (*rig, time.Duration, error) {
	r := &rig{slack: slacktest.NewServer(appToken, botToken), ipr: iproyaltest.NewServer(iproyalToken)}
	r.events = r.slack.Subscribe(4096)
	r.tr = newTracker()
	go r.tr.consume(r.events)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, 0, err
	}
	r.addr = ln.Addr().String()
	ln.Close()
	r.cmd = exec.Command(bin)
	r.cmd.Env = []string{
		"SLACK_APP_TOKEN=" + appToken, "SLACK_BOT_TOKEN=" + botToken, "IPROYAL_API_TOKEN=" + iproyalToken,
		"ALLOWED_USERS=" + user, "SLACK_API_URL=" + r.slack.URL, "IPROYAL_API_URL=" + r.ipr.URL,
		"HTTP_ADDR=" + r.addr, "LOG_LEVEL=info", "MAX_HASHES=100", "MAX_CONCURRENT=1000",
		"RATE_LIMIT_PER_MINUTE=0", // one user sends every command
	}
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

func measure(bin string, commands, outstanding int, slow time.Duration, withHTTP bool) (result, error) {
	var res result
	r, startup, err := startRig(bin, withHTTP)
	if err != nil {
		return res, err
	}
	defer r.stop()
	res.startup = startup
	time.Sleep(500 * time.Millisecond) // let start-up garbage settle
	res.idleKiB, _ = procStatus(r.cmd.Process.Pid, "VmRSS")
	res.goroutinesIdle = goroutines(r.addr)

	if res.instant, err = r.load(commands, outstanding, 0, 0); err != nil {
		return res, fmt.Errorf("instant IPRoyal: %w", err)
	}
	if res.slow, err = r.load(commands, outstanding, slow, commands); err != nil {
		return res, fmt.Errorf("slow IPRoyal: %w", err)
	}
	res.peakKiB, _ = procStatus(r.cmd.Process.Pid, "VmHWM")
	time.Sleep(2 * time.Second) // drained: every reply is in; let the GC return memory
	res.drainedKiB, _ = procStatus(r.cmd.Process.Pid, "VmRSS")
	res.goroutinesAfter = goroutines(r.addr)

	if res.reconnect, err = r.reconnect(); err != nil {
		return res, err
	}
	// Pooled keep-alive connections hold two goroutines each until they
	// have been idle for bot.IdleConnTimeout, and command workers one each
	// for a shorter while; after that, anything above the idle count would
	// be a leak.
	time.Sleep(bot.IdleConnTimeout + time.Second)
	res.goroutinesQuiet = goroutines(r.addr)
	return res, nil
}

func measureNaive(bin string, commands, outstanding int, delay time.Duration) (load, error) {
	r, _, err := startRig(bin, false)
	if err != nil {
		return load{}, err
	}
	defer r.stop()
	return r.load(commands, outstanding, delay, 0)
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

// load sends n commands, keeping at most outstanding of them waiting for
// their thread reply. base numbers the hashes so loads never share one.
func (r *rig) load(n, outstanding int, delay time.Duration, base int) (load, error) {
	r.ipr.SetDelay(delay)
	cpu0, harness0 := cpuTime(r.cmd.Process.Pid), cpuTime(os.Getpid())
	l := load{n: n}
	r.tr.reset(n)
	sem := make(chan struct{}, outstanding)
	responseBase := strings.TrimSuffix(r.slack.URL, "api/") + "response/"
	start := time.Now()
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-time.After(30 * time.Second):
			return l, fmt.Errorf("stalled: %d of %d commands got no thread reply within 30 s", outstanding, outstanding)
		}
		id := fmt.Sprintf("bench-%d", base+i)
		hash := hashFor(base + i)
		payload, _ := json.Marshal(map[string]string{
			"user_id": user, "channel_id": channel, "command": "/reset-sessions", "text": hash,
			"team_id": slacktest.TeamID, "api_app_id": slacktest.AppID, "response_url": responseBase + id,
		})
		r.tr.sent(id, hash, sem)
		if err := r.slack.SendEnvelope(id, "slash_commands", payload); err != nil {
			return l, err
		}
	}
	for range outstanding {
		select {
		case sem <- struct{}{}:
		case <-time.After(30 * time.Second):
			return l, errors.New("stalled waiting for the last replies")
		}
	}
	l.elapsed = time.Since(start)
	l.cpu = cpuTime(r.cmd.Process.Pid) - cpu0
	l.harness = cpuTime(os.Getpid()) - harness0
	// A bot that acknowledges after the work sends its last acks after its
	// last replies.
	for deadline := time.Now().Add(30 * time.Second); r.tr.acked() < n && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	var err error
	l.ack, l.e2e, err = r.tr.results()
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
	mu           sync.Mutex
	sentAt       map[string]time.Time // envelope ID
	byHash       map[string]string    // hash -> envelope ID
	byTS         map[string]string    // announcement ts -> envelope ID
	ack, e2e     map[string]time.Duration
	sem          chan struct{}
	hello        chan time.Time
	disconnectAt time.Time
}

func newTracker() *tracker { t := &tracker{}; t.reset(0); return t }

func (t *tracker) reset(n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sentAt = make(map[string]time.Time, n)
	t.byHash = make(map[string]string, n)
	t.byTS = make(map[string]string, n)
	t.ack = make(map[string]time.Duration, n)
	t.e2e = make(map[string]time.Duration, n)
}

func (t *tracker) sent(id, hash string, sem chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sem = sem
	t.sentAt[id] = time.Now()
	t.byHash[hash] = id
}

func (t *tracker) consume(events <-chan slacktest.Event) {
	for e := range events {
		t.mu.Lock()
		switch e.Kind {
		case slacktest.EventEnvelope:
			// "Envelope written" is when the double wrote it, not when the
			// generator asked: the double's lock can be busy under load.
			if _, ok := t.sentAt[e.EnvelopeID]; ok {
				t.sentAt[e.EnvelopeID] = e.At
			}
		case slacktest.EventAck:
			if at, ok := t.sentAt[e.EnvelopeID]; ok {
				t.ack[e.EnvelopeID] = e.At.Sub(at)
			}
		case slacktest.EventMessage:
			m := e.Message
			if m.ThreadTS == "" {
				if i := strings.Index(m.Text, hashPrefix); i >= 0 && len(m.Text) >= i+26 {
					if id, ok := t.byHash[m.Text[i:i+26]]; ok {
						t.byTS[m.TS] = id
					}
				}
			} else if id, ok := t.byTS[m.ThreadTS]; ok {
				if _, done := t.e2e[id]; !done {
					t.e2e[id] = e.At.Sub(t.sentAt[id])
					<-t.sem
				}
			}
		case slacktest.EventResponse:
			// A private reply means the command was refused: it will get no
			// thread reply, so free its slot and let results() report it.
			if _, ok := t.sentAt[e.EnvelopeID]; ok {
				<-t.sem
			}
		case slacktest.EventDisconnect:
			t.disconnectAt = e.At
		case slacktest.EventHello:
			if t.hello != nil && !t.disconnectAt.IsZero() {
				select {
				case t.hello <- e.At:
				default:
				}
			}
		}
		t.mu.Unlock()
	}
}

func (t *tracker) acked() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.ack)
}

func (t *tracker) results() (ack, e2e []time.Duration, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, d := range t.ack {
		ack = append(ack, d)
	}
	for _, d := range t.e2e {
		e2e = append(e2e, d)
	}
	if len(ack) != len(t.sentAt) || len(e2e) != len(t.sentAt) {
		return ack, e2e, fmt.Errorf("%d commands sent, %d acknowledged, %d replied in a thread", len(t.sentAt), len(ack), len(e2e))
	}
	slices.Sort(ack)
	slices.Sort(e2e)
	return ack, e2e, nil
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

// cpuTime is user+system CPU time from /proc/<pid>/stat.
func cpuTime(pid int) time.Duration {
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
