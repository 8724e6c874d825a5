package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sessionbot/sessionbot/bot/slack/slacktest"
	"github.com/sessionbot/sessionbot/iproyal/iproyaltest"
)

// sendAll delivers slash commands without waiting for their acks, as a
// crowd typing at once would.
func sendAll(t *testing.T, sl *slacktest.Server, cmds []slacktest.SlashCommand) []string {
	t.Helper()
	ids := make([]string, len(cmds))
	for i, c := range cmds {
		id, err := sl.SendSlashCommand(c)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
	}
	return ids
}

// Refused users, however many, cannot crowd out an allowed one: they are
// answered from memory, in the ack, without a slot, a group lookup or a
// wait on the audit channel, which answers 429 for a while.
func TestRefusedCrowdLeavesRoomForTheAllowed(t *testing.T) {
	t.Parallel()
	const throttled = 3 * time.Second
	for _, tt := range []struct {
		name  string
		users int // refused users, sending 200 commands between them
	}{
		{"one refused user", 1},
		{"twenty refused users", 20},
		{"two hundred refused users", 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := startBot(t, func(env map[string]string) {
				withAudit(env)
				env["ALLOWED_USERS"] = ""
				env["ALLOWED_USERGROUPS"] = "S0OPS"
			})
			h.slack.SetUsergroup("S0OPS", allowedUser)
			// The audit channel answers 429 for a while: refusals wait for
			// it off everyone's path, and the allowed reset waits for its
			// journal entry (written before anything else), never for the crowd.
			h.slack.Fail("chat.postMessage", slacktest.Failure{Channel: auditChannel, RetryAfter: 1, For: throttled})
			// The group is cached once, as it is on a bot that has been running.
			h.private(h.command(otherUser, "status"))

			var crowd []slacktest.SlashCommand
			for i := range 200 {
				crowd = append(crowd, slacktest.SlashCommand{UserID: fmt.Sprintf("U0REFUSED%03d", i%tt.users), ChannelID: channel, Text: hashA})
			}
			crowd = append(crowd, slacktest.SlashCommand{UserID: allowedUser, ChannelID: channel, Text: hashB})
			sent := time.Now()
			ids := sendAll(t, h.slack, crowd)
			parent := h.announcement(channel, 0)
			h.threadReply(parent)
			if took := time.Since(sent); took > throttled+5*time.Second {
				t.Errorf("the allowed command took %v behind the crowd, with the audit channel throttled for %v", took, throttled)
			}
			if !strings.Contains(parent.Text, "<@"+allowedUser+">") {
				t.Errorf("announcement = %q", parent.Text)
			}
			for _, id := range ids[:200] {
				r := h.private(id)
				if !strings.Contains(r.Text, "not allowed to reset") && !strings.Contains(r.Text, "the most allowed") {
					t.Fatalf("a refused user got %q", r.Text)
				}
			}
			if n := len(h.slack.State().Calls("usergroups.users.list")); n != 1 {
				t.Errorf("%d group lookups, want the one that filled the cache", n)
			}
			var audits int
			for _, c := range h.slack.State().Calls("chat.postMessage") {
				// Refusals only: the allowed reset's journal entry is its own.
				if c.Params.Get("channel") == auditChannel && !strings.Contains(c.Params.Get("metadata"), `"sessionbot_reset"`) {
					audits++
				}
			}
			if audits > 10*4 { // the budget's burst, each post with its retries
				t.Errorf("%d audit channel posts for 200 refusals: over the budget", audits)
			}
			if n := h.ipr.Count("DELETE", "/sessions"); n != 1 {
				t.Errorf("%d resets, want the allowed one", n)
			}
		})
	}
}

// The rate limit comes before anything that costs: a user past it gets a
// short answer and nothing else, whether allowed or not, and help counts.
func TestRateLimitComesBeforeAnyCost(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(env map[string]string) {
		withAudit(env)
		env["RATE_LIMIT_PER_MINUTE"] = "2"
		env["ALLOWED_USERS"] = ""
		env["ALLOWED_USERGROUPS"] = "S0OPS"
	})
	h.slack.SetUsergroup("S0OPS", allowedUser)
	// Refused: the first two are refusals (one lookup, then the cache), the
	// rest never reach the allow-list.
	var texts []string
	for range 5 {
		texts = append(texts, h.private(h.command(otherUser, hashA)).Text)
	}
	for i, text := range texts {
		wantLimited := i >= 2
		if limited := strings.Contains(text, "You have made 2 requests in the last minute"); limited != wantLimited {
			t.Errorf("refused command %d: %q", i+1, text)
		}
	}
	if n := len(h.slack.State().Calls("usergroups.users.list")); n != 1 {
		t.Errorf("%d group lookups, want 1", n)
	}
	// Allowed: help counts too.
	h.private(h.command(allowedUser, "help"))
	h.private(h.command(allowedUser, "help"))
	r := h.private(h.command(allowedUser, hashA))
	assertContains(t, "third request", r.Text, "the most allowed", "`help` included")
	if n := resetCalls(h.ipr); n != 0 {
		t.Errorf("IPRoyal was called %d times past the limit", n)
	}
	for _, line := range strings.Split(h.logs.String(), "\n") {
		if strings.Contains(line, `"outcome":"rate_limited"`) && !strings.Contains(line, `"request_id"`) {
			t.Errorf("a rate limited request has no request ID: %s", line)
		}
	}
}

// vmHWM is a process's peak resident memory, from /proc.
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

// runningMain starts the program as a subprocess on fresh doubles and
// waits until it is connected.
func runningMain(t *testing.T, edit func(map[string]string)) (pid int, addr string, sl *slacktest.Server, logs *syncBuffer) {
	t.Helper()
	sl, ipr := doubles(t)
	addr = freeAddr(t)
	env := baseEnv(sl, ipr, addr)
	if edit != nil {
		edit(env)
	}
	cmd, logs := startConnected(t, sl, env, 1)
	eventually(t, "/readyz answers", func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return cmd.Process.Pid, addr, sl, logs
}

// 3,000 idle keep-alive connections to the health and metrics listener:
// they are closed, memory stays bounded, and /healthz answers throughout.
func TestOpsListenerBoundsIdleConnections(t *testing.T) {
	t.Parallel()
	pid, addr, _, logs := runningMain(t, nil)
	probeFailures := atomic.Int64{}
	stopProbing := make(chan struct{})
	var probing sync.WaitGroup
	// A kubelet gives a probe 1 s. The race detector slows the bot several
	// times over, and 1 s then says more about the machine than the bot.
	probeTimeout := time.Second
	if raceDetector {
		probeTimeout = 5 * time.Second
	}
	probing.Go(func() {
		client := &http.Client{Timeout: probeTimeout, Transport: &http.Transport{DisableKeepAlives: true}}
		for {
			select {
			case <-stopProbing:
				return
			case <-time.After(20 * time.Millisecond):
			}
			resp, err := client.Get("http://" + addr + "/healthz")
			if err != nil || resp.StatusCode != http.StatusOK {
				probeFailures.Add(1)
				t.Logf("/healthz: %v", err)
			}
			if resp != nil {
				resp.Body.Close()
			}
		}
	})

	const n = 3000
	var closed atomic.Int64
	var conns sync.WaitGroup
	start := time.Now()
	for range n {
		conns.Go(func() {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Errorf("dial: %v", err)
				return
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(opsIdleTimeout + 20*time.Second))
			if _, err := fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: sessionbot\r\n\r\n"); err != nil {
				closed.Add(1) // refused before the request: closed all the same
				return
			}
			r := bufio.NewReader(c)
			resp, err := http.ReadResponse(r, nil)
			if err == nil {
				resp.Body.Close()
				// Keep-alive: now wait until the server closes the idle connection.
				_, err = r.ReadByte()
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Errorf("a connection stayed open past the idle timeout")
				return
			}
			closed.Add(1)
		})
	}
	conns.Wait()
	close(stopProbing)
	probing.Wait()
	if closed.Load() != n {
		t.Errorf("%d of %d connections were closed by the server", closed.Load(), n)
	}
	if f := probeFailures.Load(); f > 0 {
		t.Errorf("/healthz failed %d times while the connections were open", f)
	}
	if hwm := vmHWM(t, pid); hwm > 40<<20 && !raceDetector {
		t.Errorf("peak RSS %d MiB with %d connections, want under 40 MiB", hwm>>20, n)
	} else {
		t.Logf("%d connections closed in %v; peak RSS %.1f MiB", n, time.Since(start).Round(time.Millisecond), float64(hwm)/(1<<20))
	}
	_ = logs
}

// A frame far larger than Slack sends is dropped, with its connection, and
// never held in memory; the bot reconnects and goes on.
func TestOversizedFrameIsDropped(t *testing.T) {
	t.Parallel()
	pid, _, sl, logs := runningMain(t, nil)
	before := vmHWM(t, pid)
	big := `{"envelope_id":"env-huge","type":"slash_commands","payload":{"text":"` + strings.Repeat("x", 10<<20) + `"}}`
	hellos := sl.State().Hellos()
	_ = sl.SendRaw([]byte(big)) // the bot may close the socket before the write ends
	if err := sl.WaitFor(wait, func(s *slacktest.State) bool { return s.Hellos() > hellos && s.Connections() == 1 }); err != nil {
		t.Fatalf("no reconnect after the oversized frame:\n%s", logs)
	}
	eventually(t, "the drop is logged", func() bool { return strings.Contains(logs.String(), "larger than 1 MiB") })
	id, err := sl.SendSlashCommand(slacktest.SlashCommand{UserID: allowedUser, ChannelID: channel, Text: hashA})
	if err != nil {
		t.Fatal(err)
	}
	if err := sl.WaitFor(wait, func(s *slacktest.State) bool { return s.Acked(id) }); err != nil {
		t.Fatal("a command after the oversized frame was not acknowledged")
	}
	if grew := vmHWM(t, pid) - before; grew > 8<<20 && !raceDetector {
		t.Errorf("peak RSS grew %d MiB for a 10 MB frame: it was held in memory", grew>>20)
	}
}

// When Slack closes each connection right after its hello, reconnects are
// spaced out; each disconnect's reason is logged and counted.
func TestReconnectsAreSpacedAndExplained(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	opens := len(h.slack.State().Calls("apps.connections.open"))
	h.slack.CloseAfterHello("too_many_websockets")
	h.slack.Disconnect("too_many_websockets")
	time.Sleep(5 * time.Second) // counting what five seconds of a storm cause
	storm := len(h.slack.State().Calls("apps.connections.open")) - opens
	if storm > 6 {
		t.Errorf("%d connection opens in 5 s of Slack closing every connection, want a few", storm)
	}
	h.waitLog(`"level":"WARN","msg":"Slack refused this connection: the app has more than 10 Socket Mode connections open`)
	h.waitLog("waiting before reconnecting to Slack")
	h.slack.StopClosingAfterHello()
	h.waitReady(true)
	m := h.body("/metrics")
	if !strings.Contains(m, `sessionbot_slack_disconnects_total{reason="too_many_websockets"}`) || !strings.Contains(m, "sessionbot_slack_connections 1") {
		t.Errorf("metrics lack the disconnects or the connection count:\n%s", grep(m, "sessionbot_slack"))
	}
	t.Logf("%d opens in 5 s", storm)
}

func TestRunReturnsWhileSlackIsUnreachable(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	opens := len(h.slack.State().Calls("apps.connections.open"))
	h.slack.Fail("apps.connections.open", slacktest.Failure{Error: "internal_error", Sticky: true})
	h.slack.DropConnections()
	h.waitReady(false)
	// Stopped in a backoff: after a few failed reconnects.
	if err := h.slack.WaitFor(wait, func(s *slacktest.State) bool { return len(s.Calls("apps.connections.open")) >= opens+2 }); err != nil {
		t.Fatalf("the bot did not try to reconnect; logs:\n%s", h.logs)
	}
	stopped := time.Now()
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(stopped); took > 5*time.Second {
		t.Errorf("run took %v to return, more than SHUTDOWN_TIMEOUT (5s)", took)
	}
}

func TestIPRoyalTokenIsCheckedAtStart(t *testing.T) {
	t.Parallel()
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		sl, ipr := doubles(t)
		ipr.Script("GET", "/me", iproyaltest.Response{Status: 401, Body: `{"message":"Unauthenticated."}`})
		h := startBotOn(t, sl, ipr, nil)
		h.waitLog(`"level":"ERROR","msg":"IPRoyal refused IPROYAL_API_TOKEN: every reset will fail until it is fixed`)
		eventually(t, "the gauge says so", func() bool { return strings.Contains(h.body("/metrics"), "sessionbot_iproyal_token_valid 0") })
		if code := h.get("/readyz"); code != http.StatusOK {
			t.Errorf("/readyz = %d: readiness must not depend on IPRoyal", code)
		}
	})
	t.Run("accepted", func(t *testing.T) {
		t.Parallel()
		h := startBot(t, nil)
		h.waitLog("IPRoyal accepts IPROYAL_API_TOKEN")
		eventually(t, "the gauge says so", func() bool { return strings.Contains(h.body("/metrics"), "sessionbot_iproyal_token_valid 1") })
	})
}

// A response_url lets anyone post as the bot for 30 minutes: it never
// reaches a log line, not even inside net/http's errors.
func TestResponseURLsNeverReachTheLogs(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(env map[string]string) { env["LOG_LEVEL"] = "debug" })
	const capability = "T0SESSION/4213/capability0123456789"
	for _, text := range []string{"help", hashA + " ghost"} { // answered in the ack; answered by response_url
		id, err := h.slack.SendSlashCommand(slacktest.SlashCommand{
			UserID: allowedUser, ChannelID: channel, Text: text,
			ResponseURL: "http://127.0.0.1:1/commands/" + capability, // nothing listens there
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := h.slack.WaitFor(wait, func(s *slacktest.State) bool { return s.Acked(id) }); err != nil {
			t.Fatal(err)
		}
	}
	// The response_url fails, and the answer goes another way; the failure
	// is logged without the URL.
	h.waitLog("could not answer privately; trying another way")
	if strings.Contains(h.logs.String(), "capability") || strings.Contains(h.logs.String(), "/commands/") {
		t.Errorf("a response_url reached the logs:\n%s", grep(h.logs.String(), "capability"))
	}
	assertContains(t, "logs", grep(h.logs.String(), "could not answer privately"), "connection refused")
}

// startBotOn is startBot on doubles the test made.
func startBotOn(t *testing.T, sl *slacktest.Server, ipr *iproyaltest.Server, edit func(map[string]string)) *harness {
	t.Helper()
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

// A developer's exported environment changes nothing: subprocesses get
// only what the test gives them.
func TestExportedEnvironmentChangesNothing(t *testing.T) {
	t.Setenv("CONFIRM_SECRET", "exported-by-the-developer-0123456789abcdef")
	t.Setenv("ALLOWED_CHANNELS", "C0ELSEWHERE")
	t.Setenv("LOG_FORMAT", "text")
	h := startBot(t, confirmEnv)
	second := h.startReplica()
	buttons := h.confirmation(allowedUser, fourTargets)
	h.click(allowedUser, buttons["Confirm"])
	h.threadReply(h.announcement(channel, 0))
	eventually(t, "the replica logs JSON", func() bool { return strings.Contains(second.String(), `{"time":`) })
	if n := h.ipr.Count("DELETE", "/sessions"); n != 1 {
		t.Errorf("%d resets", n)
	}
}

// fakeLoop is an event loop whose heartbeat the test sets.
type fakeLoop struct{ healthy bool }

func (f fakeLoop) Healthy() (bool, time.Time) { return f.healthy, time.Now().Add(-2 * time.Minute) }
func (fakeLoop) Ready() bool                  { return true }

// /healthz fails when the event loop stopped turning, so the liveness
// probe restarts a stuck process; /readyz is about Slack, not this.
func TestHealthzFollowsTheHeartbeat(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		healthy bool
		want    int
	}{{true, http.StatusOK}, {false, http.StatusServiceUnavailable}} {
		srv := httptest.NewServer(opsHandler(fakeLoop{tt.healthy}, prometheus.NewRegistry()))
		resp, err := http.Get(srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("healthy %v: /healthz = %d %s", tt.healthy, resp.StatusCode, body)
		}
		if !tt.healthy && !strings.Contains(string(body), "the Slack event loop last turned 2m0s ago") {
			t.Errorf("/healthz says %q", body)
		}
	}
}
