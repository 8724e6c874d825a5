package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sessionbot/sessionbot/bot/slack/slacktest"
	"github.com/sessionbot/sessionbot/internal/testaddr"
	"github.com/sessionbot/sessionbot/iproyal/iproyaltest"
)

// The secrets every test uses; no test output may ever contain them.
const (
	appToken     = "xapp-1-A0SESSION-1-appsecret0123456789"
	botToken     = "xoxb-1-botsecret0123456789"
	iproyalToken = "iproyal-secret-0123456789"
	subPassword  = "proxy-password-s3cr3t"
	// confirmSecret is set where a test needs it; a short one is in a config test.
	confirmSecret = "9c1089a7208892e9aaf02713ca61cd68d1bff136773fc8b5b79140e4158d7103"

	allowedUser = "U0ALLOWED"
	otherUser   = "U0OTHER"
	channel     = "C0GENERAL"

	hashA = "01H7YCG0R9GYY1YCPS2S4QA6WB"
	hashB = "01HQ5K3P97DY8EX9Y90YT1K6XA"
	hashC = "01HQ5K3P97DY8EX9Y90YT1K6XC"

	wait = 10 * time.Second
)

func TestMain(m *testing.M) {
	// The shutdown test runs this test binary as the real program.
	if os.Getenv("SESSIONBOT_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	// These tests spend their time waiting on timers (Slack's 3 s, the
	// bot's backoffs and sweeps, a 15 s idle timeout), not on the CPU, so
	// more of them run at once than go test's default of one per CPU,
	// unless -parallel says otherwise.
	flag.Parse()
	parallelSet := false
	flag.Visit(func(f *flag.Flag) { parallelSet = parallelSet || f.Name == "test.parallel" })
	if !parallelSet {
		_ = flag.Set("test.parallel", strconv.Itoa(max(8, runtime.GOMAXPROCS(0))))
	}
	os.Exit(m.Run())
}

// syncBuffer is a bytes.Buffer safe for the logger and the test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startMain runs this test binary as the program (see TestMain), a separate
// OS process, with env and nothing of the test's own environment but what
// a process needs (PATH, HOME, and GOCOVERDIR for coverage): a developer's
// exported CONFIRM_SECRET or ALLOWED_CHANNELS must not change a result. It
// is stopped with SIGTERM when the test ends.
func startMain(t *testing.T, env map[string]string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = []string{"SESSIONBOT_RUN_MAIN=1"}
	for _, name := range []string{"PATH", "HOME", "GOCOVERDIR"} {
		if v, ok := os.LookupEnv(name); ok {
			cmd.Env = append(cmd.Env, name+"="+v)
		}
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	logs := &syncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	return cmd, logs
}

// startConnected starts the built binary as startMain does, and waits
// until Slack counts n connections: the ones open before and its own.
func startConnected(t *testing.T, sl *slacktest.Server, env map[string]string, n int) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd, logs := startMain(t, env)
	if err := sl.WaitFor(wait, func(s *slacktest.State) bool { return s.Connections() == n }); err != nil {
		t.Fatalf("the bot never connected (Slack counts %d connections, want %d):\n%s", sl.State().Connections(), n, logs)
	}
	return cmd, logs
}

// freeAddr is an address for a bot's HTTP_ADDR, which no other socket of
// the test run takes before the bot binds it, nor while a restart binds it
// again.
func freeAddr(t *testing.T) string {
	t.Helper()
	return testaddr.Free(t)
}

// doubles starts the Slack and IPRoyal doubles with two sub-users. They
// fail the test for what Slack would have shown as an error (a late ack, an
// ack it refuses) and for scripted answers no call used.
func doubles(t *testing.T) (*slacktest.Server, *iproyaltest.Server) {
	t.Helper()
	sl := slacktest.Start(t, appToken, botToken)
	ipr := iproyaltest.Start(t, iproyalToken)
	ipr.SetSubusers(
		iproyaltest.Subuser{Hash: hashB, Username: "scraper-eu", Password: subPassword},
		iproyaltest.Subuser{Hash: hashC, Username: "scraper-eu-old", Password: subPassword},
	)
	return sl, ipr
}

func baseEnv(sl *slacktest.Server, ipr *iproyaltest.Server, addr string) map[string]string {
	return map[string]string{
		"SLACK_APP_TOKEN":   appToken,
		"SLACK_BOT_TOKEN":   botToken,
		"IPROYAL_API_TOKEN": iproyalToken,
		"ALLOWED_USERS":     allowedUser,
		"SLACK_API_URL":     sl.URL,
		"IPROYAL_API_URL":   ipr.URL,
		"HTTP_ADDR":         addr,
		"LOG_LEVEL":         "debug",
		"SHUTDOWN_TIMEOUT":  "5s",
	}
}

type harness struct {
	t      *testing.T
	slack  *slacktest.Server
	ipr    *iproyaltest.Server
	env    map[string]string
	logs   *syncBuffer
	addr   string
	cancel context.CancelFunc
	done   chan error
}

// startBot runs the bot through run(), as main does, against fresh doubles.
// edit may change the environment first.
func startBot(t *testing.T, edit func(env map[string]string)) *harness {
	t.Helper()
	sl, ipr := doubles(t)
	h := &harness{t: t, slack: sl, ipr: ipr, logs: &syncBuffer{}, addr: freeAddr(t)}
	h.env = baseEnv(sl, ipr, h.addr)
	if edit != nil {
		edit(h.env)
	}
	h.launch()
	t.Cleanup(func() {
		if err := h.stop(); err != nil {
			t.Errorf("bot stopped with %v", err)
		}
	})
	return h
}

// launch starts run() and waits until the bot is connected and ready.
func (h *harness) launch() {
	h.t.Helper()
	before := h.slack.State().Hellos()
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.done = make(chan error, 1)
	go func() {
		h.done <- run(ctx, []string{"sessionbot"}, h.getenv, strings.NewReader(""), io.Discard, h.logs)
	}()
	if err := h.slack.WaitFor(wait, func(s *slacktest.State) bool { return s.Hellos() > before && s.Connections() >= 1 }); err != nil {
		h.t.Fatalf("the bot never connected: %v\nlogs:\n%s", err, h.logs)
	}
	h.waitReady(true)
}

// restart stops the bot as SIGTERM would and starts it again on the same
// doubles, as a redeploy does.
func (h *harness) restart() {
	h.t.Helper()
	if err := h.stop(); err != nil {
		h.t.Fatalf("stopping for a restart: %v", err)
	}
	h.launch()
}

func (h *harness) getenv(k string) string { return h.env[k] }

// stop cancels the bot as SIGTERM would and waits for run to return.
func (h *harness) stop() error {
	h.cancel()
	select {
	case err := <-h.done:
		h.done <- err
		return err
	case <-time.After(wait):
		return fmt.Errorf("run did not return after cancel")
	}
}

func (h *harness) waitReady(want bool) {
	h.t.Helper()
	deadline := time.Now().Add(wait)
	for {
		code := h.get("/readyz")
		if (code == http.StatusOK) == want {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("/readyz = %d, want ready=%v", code, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (h *harness) get(path string) int {
	resp, err := http.Get("http://" + h.addr + path)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (h *harness) body(path string) string {
	h.t.Helper()
	resp, err := http.Get("http://" + h.addr + path)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// command sends a slash command and waits for its ack.
func (h *harness) command(user, text string) string {
	h.t.Helper()
	return h.commandIn(user, channel, text)
}

func (h *harness) commandIn(user, ch, text string) string {
	h.t.Helper()
	id, err := h.slack.SendSlashCommand(slacktest.SlashCommand{UserID: user, ChannelID: ch, Text: text, Command: h.commandName()})
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.slack.WaitFor(wait, func(s *slacktest.State) bool { return s.Acked(id) }); err != nil {
		h.t.Fatalf("envelope %s was never acknowledged", id)
	}
	return id
}

func (h *harness) commandName() string {
	if c := h.env["SLASH_COMMAND"]; c != "" {
		return c
	}
	return "/reset-sessions"
}

// private waits for the response_url post of envelope id.
// private waits for the first private answer to envelope id: a
// response_url post, or an ack that carries the answer itself.
func (h *harness) private(id string) slacktest.Response {
	h.t.Helper()
	var got slacktest.Response
	err := h.slack.WaitFor(wait, func(s *slacktest.State) bool {
		for _, r := range s.Responses() {
			if r.EnvelopeID == id {
				got = r
				return true
			}
		}
		for _, a := range s.Acks() {
			if a.EnvelopeID == id && len(a.Payload) > 0 {
				got = slacktest.Response{EnvelopeID: id}
				if err := json.Unmarshal(a.Payload, &got); err != nil {
					got.ResponseType = "invalid: " + err.Error()
				}
				return true
			}
		}
		return false
	})
	if err != nil {
		h.t.Fatalf("no private reply for %s; logs:\n%s", id, h.logs)
	}
	if got.ResponseType != "ephemeral" {
		h.t.Errorf("private reply has response_type %q, want ephemeral", got.ResponseType)
	}
	return got
}

// threadReply waits for the first reply in the thread of parent.
func (h *harness) threadReply(parent slacktest.Message) slacktest.Message {
	h.t.Helper()
	var got slacktest.Message
	err := h.slack.WaitFor(wait, func(s *slacktest.State) bool {
		for _, m := range s.Messages() {
			if m.ThreadTS == parent.TS && m.Channel == parent.Channel {
				got = m
				return true
			}
		}
		return false
	})
	if err != nil {
		h.t.Fatalf("no thread reply to %s; logs:\n%s", parent.TS, h.logs)
	}
	return got
}

// announcement waits for the n-th (0-based) top-level message in ch.
func (h *harness) announcement(ch string, n int) slacktest.Message {
	h.t.Helper()
	var got slacktest.Message
	err := h.slack.WaitFor(wait, func(s *slacktest.State) bool {
		i := 0
		for _, m := range s.Messages() {
			if m.Channel == ch && m.ThreadTS == "" {
				if i == n {
					got = m
					return true
				}
				i++
			}
		}
		return false
	})
	if err != nil {
		h.t.Fatalf("no message %d in %s; logs:\n%s", n, ch, h.logs)
	}
	return got
}

// resetCalls is how many calls IPRoyal had for resets and their username
// lookups: what a refused or invalid command must never cause. (Each bot
// also asks GET /me once at start, to check its token.)
func resetCalls(ipr *iproyaltest.Server) int {
	return ipr.Count("DELETE", "/sessions") + ipr.Count("GET", "/residential-subusers")
}

// assertContains fails the test for each of wants that got lacks.
func assertContains(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, got)
		}
	}
}

// eventually polls cond until it holds, for state the Slack double does not
// announce (IPRoyal's, the logs').
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	eventuallyWithin(t, wait, what, cond)
}

// eventuallyWithin polls cond until it holds, for at most d: for what the
// doubles are not told of (logs, metrics), which Slack's WaitFor, woken
// only by calls to the double, may not see change.
func eventuallyWithin(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitLog waits until the logs contain s.
func (h *harness) waitLog(s string) {
	h.t.Helper()
	eventually(h.t, "the logs contain "+s, func() bool { return strings.Contains(h.logs.String(), s) })
}

// auditLine returns the structured log line of the command with outcome.
func (h *harness) auditLine(outcome string) map[string]any {
	h.t.Helper()
	h.waitLog(`"outcome":"` + outcome + `"`)
	for _, line := range strings.Split(h.logs.String(), "\n") {
		if !strings.Contains(line, `"msg":"command"`) || !strings.Contains(line, `"outcome":"`+outcome+`"`) {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			h.t.Fatalf("log line is not JSON: %s", line)
		}
		return m
	}
	h.t.Fatalf("no audit line with outcome %s", outcome)
	return nil
}

// waitReadyWithin is waitReady with its own deadline.
func (h *harness) waitReadyWithin(want bool, within time.Duration) {
	h.t.Helper()
	deadline := time.Now().Add(within)
	for (h.get("/readyz") == http.StatusOK) != want {
		if time.Now().After(deadline) {
			h.t.Fatalf("/readyz never became ready=%v within %v", want, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
