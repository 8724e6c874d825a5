package main

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sessionbot/sessionbot/bot/slack/slacktest"
)

// gate stands between sessionbot and a double, like an egress that is not
// open yet: while shut, every connection is dropped unanswered.
type gate struct {
	open atomic.Bool
	srv  *httptest.Server
}

// newGate starts a shut gate in front of target (a double's URL) and
// returns it with the URL to give sessionbot instead.
func newGate(t *testing.T, target string) (*gate, string) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host})
	g := &gate{}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.open.Load() {
			if c, _, err := w.(http.Hijacker).Hijack(); err == nil {
				_ = c.Close()
			}
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(g.srv.Close)
	return g, g.srv.URL + u.Path
}

// status is the HTTP status of GET path on addr, or 0 without an answer.
func status(addr, path string) int {
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func get(t *testing.T, addr, path string) string {
	t.Helper()
	h := &harness{t: t, addr: addr}
	return h.body(path)
}

// When Slack and IPRoyal cannot be reached at start, the bot waits for
// them, alive but not ready, and logs each failure in words; then it
// connects as soon as they answer.
func TestStartupRidesOutAnOutage(t *testing.T) {
	sl, ipr := doubles(t)
	slackGate, slackURL := newGate(t, sl.URL)
	iprGate, iprURL := newGate(t, ipr.URL)
	addr := freeAddr(t)
	env := baseEnv(sl, ipr, addr)
	env["SLACK_API_URL"], env["IPROYAL_API_URL"] = slackURL, iprURL
	cmd, logs := startMain(t, env)

	eventually(t, "the bot says Slack does not answer, twice", func() bool {
		return strings.Count(logs.String(), "could not check SLACK_BOT_TOKEN with Slack; trying again") >= 2
	})
	if got := status(addr, "/healthz"); got != http.StatusOK {
		t.Errorf("/healthz = %d while waiting for Slack, want 200", got)
	}
	if got := status(addr, "/readyz"); got != http.StatusServiceUnavailable {
		t.Errorf("/readyz = %d while waiting for Slack, want 503", got)
	}
	// Metrics exist from the start, at 0.
	metrics := get(t, addr, "/metrics")
	assertContains(t, "/metrics while waiting", metrics,
		`sessionbot_commands_total{outcome="reset"} 0`, `sessionbot_commands_total{outcome="unknown"} 0`,
		`sessionbot_slack_disconnects_total{reason="connection_lost"} 0`, "sessionbot_slack_connected 0",
		"sessionbot_iproyal_token_valid -1", "sessionbot_journal_readable -1")
	assertContains(t, "the logs", logs.String(), `"attempt":2`, `"retry_in":`, "Slack did not answer at SLACK_API_URL "+slackURL+": the connection was closed before an answer (Post ")
	if cmd.ProcessState != nil {
		t.Fatalf("the bot exited while waiting:\n%s", logs)
	}

	slackGate.open.Store(true)
	if err := sl.WaitFor(wait, func(s *slacktest.State) bool { return s.Connections() == 1 }); err != nil {
		t.Fatalf("the bot did not connect once Slack answered:\n%s", logs)
	}
	eventually(t, "/readyz answers 200", func() bool { return status(addr, "/readyz") == http.StatusOK })
	eventually(t, "the bot says IPRoyal does not answer", func() bool {
		return strings.Contains(logs.String(), "could not check IPROYAL_API_TOKEN with IPRoyal; trying again")
	})
	iprGate.open.Store(true)
	eventually(t, "IPRoyal accepts the token", func() bool { return strings.Contains(logs.String(), "IPRoyal accepts IPROYAL_API_TOKEN") })
	if strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Errorf("an outage at start is not an ERROR:\n%s", logs)
	}
	assertNoSecrets(t, logs.String())
}

// A SIGTERM while the bot waits for Slack is a clean stop: exit 0, no ERROR.
func TestSIGTERMDuringStartupIsClean(t *testing.T) {
	sl, ipr := doubles(t)
	_, slackURL := newGate(t, sl.URL)
	addr := freeAddr(t)
	env := baseEnv(sl, ipr, addr)
	env["SLACK_API_URL"] = slackURL
	cmd, logs := startMain(t, env)
	eventually(t, "the bot waits for Slack", func() bool { return strings.Contains(logs.String(), "could not check SLACK_BOT_TOKEN") })
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := waitExit(cmd); err != nil {
		t.Fatalf("exit after SIGTERM during start-up: %v\n%s", err, logs)
	}
	if strings.Contains(logs.String(), `"level":"ERROR"`) || !strings.Contains(logs.String(), "sessionbot stopped before it had connected to Slack") {
		t.Errorf("logs:\n%s", logs)
	}
	if status(addr, "/healthz") != 0 {
		t.Error("the listener outlived the process")
	}
}

// waitExit waits for cmd to end, at most wait.
func waitExit(cmd *exec.Cmd) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(wait):
		return errors.New("still running")
	}
}

// A token Slack refuses is a configuration problem: exit 2 at once, not a
// retry loop.
func TestRefusedTokensExitTwoAtOnce(t *testing.T) {
	for _, variable := range []string{"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"} {
		t.Run(variable, func(t *testing.T) {
			sl, ipr := doubles(t)
			env := baseEnv(sl, ipr, freeAddr(t))
			env[variable] = strings.SplitN(env[variable], "-", 2)[0] + "-revoked-0123456789"
			start := time.Now()
			r := runWith(t, env, "")
			if exitCode(r.err) != 2 || !strings.Contains(r.stderr, variable+" was refused by Slack (invalid_auth): check the token") {
				t.Errorf("exit %d, stderr %q", exitCode(r.err), r.stderr)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("took %v", took)
			}
			if strings.Contains(r.stderr, "revoked-0123456789") {
				t.Error("the token is in the message")
			}
		})
	}
}

// HTTP_ADDR is bound before anything connects: a port in use is exit 2,
// in words, and Slack never hears of it.
func TestHTTPAddrInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	sl, ipr := doubles(t)
	r := runWith(t, baseEnv(sl, ipr, ln.Addr().String()), "")
	if exitCode(r.err) != 2 || !strings.Contains(r.stderr, `HTTP_ADDR \"`+ln.Addr().String()+`\" is already in use`) {
		t.Errorf("exit %d, stderr %q", exitCode(r.err), r.stderr)
	}
	if n := len(sl.State().Calls("")); n != 0 {
		t.Errorf("Slack was called %d times", n)
	}
}

// Shutting down is not a disconnect to recover from: no reconnect wait is
// logged after it.
func TestNoReconnectAfterShutdown(t *testing.T) {
	h := startBot(t, nil)
	h.slack.Disconnect("refresh_requested") // a short-lived connection: the next wait is not zero
	eventually(t, "the bot reconnects", func() bool { return h.slack.State().Hellos() >= 2 })
	h.waitReady(true)
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	logs := h.logs.String()
	i := strings.Index(logs, "closed the Slack connection: shutting down")
	if i < 0 {
		t.Fatalf("no shutdown in the logs:\n%s", logs)
	}
	if strings.Contains(logs[i:], "waiting before reconnecting") {
		t.Errorf("a reconnect wait after shutting down:\n%s", logs[i:])
	}
}

// outcomesDeclared parses package bot for its Outcome constants.
func outcomesDeclared(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	var out []string
	files, err := os.ReadDir("../../bot")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), ".go") || strings.HasSuffix(f.Name(), "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, "../../bot/"+f.Name(), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "Outcome" {
				for _, v := range vs.Values {
					if lit, ok := v.(*ast.BasicLit); ok {
						out = append(out, strings.Trim(lit.Value, `"`))
					}
				}
			}
			return true
		})
	}
	if len(out) == 0 {
		t.Fatal("found no Outcome constants in package bot")
	}
	return out
}

// Every labelled series is exported at 0 from start-up, with every label
// value sessionbot knows, so absent()-style alerts and increase() work.
func TestMetricsExistAtZeroFromStart(t *testing.T) {
	// With a policy file, as the Kubernetes base runs it: the policy's
	// series exist only then.
	h := startBot(t, func(env map[string]string) {
		env["AUDIT_CHANNEL"] = "C0AUDIT"
		delete(env, "ALLOWED_USERS")
		env["POLICY_FILE"] = "testdata/policy/teams.yaml"
	})
	metrics := h.body("/metrics")
	for _, o := range outcomesDeclared(t) {
		if !strings.Contains(metrics, `sessionbot_commands_total{outcome="`+o+`"} 0`) {
			t.Errorf("no sessionbot_commands_total{outcome=%q} 0: add it to bot.Outcomes", o)
		}
	}
	for _, r := range disconnectReasons {
		if !regexp.MustCompile(`sessionbot_slack_disconnects_total\{reason="` + r + `"\} \d`).MatchString(metrics) {
			t.Errorf("no sessionbot_slack_disconnects_total{reason=%q}", r)
		}
	}
	assertContains(t, "/metrics", metrics, `sessionbot_iproyal_requests_total{code="429",method="delete"} 0`,
		`sessionbot_iproyal_requests_total{code="401",method="get"} 0`)

	// Every metric the README lists is there once IPRoyal has answered the
	// start-up's GET /me: the latency histogram has no series before an
	// answer to time, and it is timed before that answer is logged.
	h.waitLog("IPRoyal accepts IPROYAL_API_TOKEN")
	metrics = h.body("/metrics")
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile("`(sessionbot_[a-z_]+)").FindAllStringSubmatch(string(readme), -1) {
		if !strings.Contains(metrics, "\n"+m[1]) {
			t.Errorf("the README lists %s, /metrics has no such series", m[1])
		}
	}
	// The journal was read at start.
	eventually(t, "sessionbot_journal_readable is 1", func() bool { return strings.Contains(h.body("/metrics"), "sessionbot_journal_readable 1") })
}

// A journal the bot cannot read shows in a metric, for an alert.
func TestUnreadableJournalShowsInMetrics(t *testing.T) {
	sl, ipr := doubles(t)
	sl.Fail("conversations.history", slacktest.Failure{Error: "not_in_channel", Sticky: true})
	addr := freeAddr(t)
	env := baseEnv(sl, ipr, addr)
	env["AUDIT_CHANNEL"] = "C0AUDIT"
	_, logs := startMain(t, env)
	eventually(t, "sessionbot_journal_readable is 0", func() bool {
		return status(addr, "/metrics") == http.StatusOK && strings.Contains(get(t, addr, "/metrics"), "sessionbot_journal_readable 0")
	})
	eventually(t, "the logs say the journal could not be read", func() bool { return strings.Contains(logs.String(), "could not read the journal") })
}

// The network failures met at start are said in words.
func TestNetworkFailuresInWords(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{&url.Error{Op: "Post", URL: "https://slack.com/api/auth.test", Err: &net.OpError{Op: "dial", Err: &net.DNSError{Name: "slack.com", Err: "no such host", IsNotFound: true}}}, "the name slack.com does not resolve (DNS)"},
		{&url.Error{Op: "Post", Err: &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}, "the connection was refused"},
		{&url.Error{Op: "Post", Err: &net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}}, "the connection was closed before an answer"},
		{&url.Error{Op: "Post", Err: os.ErrDeadlineExceeded}, "no answer in time"},
		{errors.New("slack server error: 502 Bad Gateway"), ""},
	} {
		if got := netWords(tt.err); got != tt.want {
			t.Errorf("netWords(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
