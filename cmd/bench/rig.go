package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sessionbot/sessionbot/bot/slack/slacktest"
	"github.com/sessionbot/sessionbot/iproyal/iproyaltest"
)

// The bot's credentials at the doubles, and the one user (in one channel)
// who sends every command.
const (
	appToken     = "xapp-1-bench-0123456789"
	botToken     = "xoxb-1-bench-0123456789"
	iproyalToken = "iproyal-bench-0123456789"
	user         = "U0BENCH"
	channel      = "C0BENCH"
)

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
