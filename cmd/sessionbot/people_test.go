package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sessionbot/sessionbot/bot/slack/slacktest"
	"github.com/sessionbot/sessionbot/iproyal/iproyaltest"
)

func TestFindInSlack(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	var subs []iproyaltest.Subuser
	for i := range 23 {
		subs = append(subs, iproyaltest.Subuser{Hash: fmt.Sprintf("01H7YCG0R9GYY1YCPS2S4Q%04d", i), Username: fmt.Sprintf("crawler-%02d", i), Password: subPassword, TrafficUsed: 1.5, TrafficAvailable: 10})
	}
	h.ipr.SetSubusers(append(subs, iproyaltest.Subuser{Hash: hashB, Username: "scraper-eu", Password: subPassword})...)
	r := h.private(h.command(allowedUser, "find crawler"))
	assertContains(t, "find", r.Text, "23 sub-users have `crawler` in their username", "USERNAME", "crawler-00", "01H7YCG0R9GYY1YCPS2S4Q0000", "1.50", "10.00",
		"…and 3 more", "To reset these 20 sub-users: `/reset-sessions 01H7YCG0R9GYY1YCPS2S4Q0000 ", "request `")
	if strings.Contains(r.Text, "crawler-20") || strings.Contains(r.Text, subPassword) {
		t.Errorf("find shows more than 20, or a password:\n%s", r.Text)
	}
	if n := h.ipr.Count("GET", "/residential-subusers"); n != 1 {
		t.Errorf("find made %d requests, want 1", n)
	}
	// The search, not the last request: the token check at start (GET /me)
	// may come after it.
	for _, req := range h.ipr.Requests() {
		if req.Path == "/residential-subusers" && (!strings.Contains(req.Query, "search=crawler") || !strings.Contains(req.Query, "per_page=20")) {
			t.Errorf("find asked IPRoyal %q", req.Query)
		}
	}
	// Its results go straight into a reset.
	line := r.Text[strings.Index(r.Text, "`/reset-sessions ")+1:]
	line = line[:strings.Index(line, "`")]
	h.command(allowedUser, strings.TrimPrefix(line, "/reset-sessions "))
	if got := h.private(h.command(otherUser, "find crawler")); !strings.Contains(got.Text, "not allowed") {
		t.Errorf("a stranger's find = %q", got.Text)
	}
	if r := h.private(h.command(allowedUser, "find")); !strings.Contains(r.Text, "needs one piece of text") {
		t.Errorf("find without text = %q", r.Text)
	}
}

// A sub-user named like a keyword is reset with -- or quotes.
func TestKeywordNamedSubusers(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	h.ipr.SetSubusers(iproyaltest.Subuser{Hash: hashC, Username: "status"}, iproyaltest.Subuser{Hash: hashB, Username: "find"})
	for i, text := range []string{"-- status", `"find"`} {
		h.command(allowedUser, text)
		h.threadReply(h.announcement(channel, i))
	}
	if r := h.ipr.Resets(); len(r) != 2 || r[0][0] != hashC || r[1][0] != hashB {
		t.Errorf("resets = %v", r)
	}
	r := h.private(h.command(allowedUser, "status abc"))
	assertContains(t, "status with words", r.Text, "`status` takes nothing after it", "/reset-sessions -- status")
}

// Every private answer carries its request ID, so a screenshot can be
// matched to its log line.
func TestEveryPrivateAnswerHasARequestID(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(env map[string]string) {
		env["MAX_HASHES"] = "2"
		env["RATE_LIMIT_PER_MINUTE"] = "8"
	})
	for _, c := range []struct{ user, text string }{
		{allowedUser, "help"},
		{otherUser, hashA},                               // denied
		{allowedUser, "not-valid!"},                      // invalid
		{allowedUser, "--dry-run"},                       // no targets
		{allowedUser, hashA + " " + hashB + " " + hashC}, // too many
		{allowedUser, "--dry-run " + hashA},              // dry run
		{allowedUser, "status"},
		{allowedUser, "find scraper"},
	} {
		r := h.private(h.command(c.user, c.text))
		if !strings.Contains(r.Text, "request `") {
			t.Errorf("%q: no request ID in %q", c.text, r.Text)
		}
	}
	h.slack.Fail("chat.postMessage", slacktest.Failure{Error: "not_in_channel", Channel: channel})
	if r := h.private(h.command(allowedUser, hashA)); !strings.Contains(r.Text, "/invite @sessionbot") || !strings.Contains(r.Text, "request `") {
		t.Errorf("cannot post: %q", r.Text)
	}
	r := h.private(h.command(allowedUser, "help")) // the ninth: rate limited
	if !strings.Contains(r.Text, "the most allowed") || !strings.Contains(r.Text, "request `") {
		t.Errorf("rate limited: %q", r.Text)
	}
}

func TestFindCommand(t *testing.T) {
	t.Parallel()
	_, ipr := doubles(t)
	r := runWith(t, resetEnv(ipr), "", "find", "scraper")
	if r.err != nil {
		t.Fatalf("find: %v\n%s", r.err, r.stderr)
	}
	assertContains(t, "find", r.stdout, "USERNAME", "AVAILABLE GB", "scraper-eu      "+hashB, "scraper-eu-old  "+hashC)
	assertNoSecrets(t, r.stdout)
	r = runWith(t, resetEnv(ipr), "", "find", "nobody")
	if exitCode(r.err) != 1 || r.stdout != "" || r.stderr != "sessionbot: no sub-user's username contains \"nobody\"\n" {
		t.Errorf("find nobody = %v, %q, %q", r.err, r.stdout, r.stderr)
	}
	if r := runWith(t, resetEnv(ipr), "", "find"); exitCode(r.err) != 2 {
		t.Errorf("find without text: exit %d", exitCode(r.err))
	}
}

func TestEverySubcommandHasHelp(t *testing.T) {
	t.Parallel()
	for _, sub := range []string{"bot", "shell", "reset", "find", "healthcheck"} {
		for _, flag := range []string{"-h", "--help"} {
			// HTTP_ADDR points nowhere: healthcheck must print help, not probe.
			r := runWith(t, map[string]string{"HTTP_ADDR": "127.0.0.1:1"}, "", sub, flag)
			if r.err != nil || !strings.HasPrefix(r.stdout, "Usage: sessionbot ") || r.stderr != "" {
				t.Errorf("%s %s = %v, %q, %q", sub, flag, r.err, r.stdout, r.stderr)
			}
		}
	}
	r := runWith(t, nil, "", "help")
	assertContains(t, "help", r.stdout, "sessionbot find [--json] TEXT", "Exit codes: 0 done; 1 IPRoyal or Slack failed", "2 a mistake",
		"VARIABLE", "MAX_HASHES", "100", "most targets in one command", "COMMAND_TIMEOUT", "AUDIT_CHANNEL")
	if strings.Contains(r.stdout, "README") {
		t.Errorf("help points at the README, which the image does not have:\n%s", r.stdout)
	}
}

func TestConfigurationErrorsInPlainWords(t *testing.T) {
	t.Parallel()
	sl, ipr := doubles(t)
	for _, tt := range []struct{ key, value, want string }{
		{"MAX_HASHES", "abc", `MAX_HASHES must be a whole number, got "abc"`},
		{"SHUTDOWN_TIMEOUT", "soon", `SHUTDOWN_TIMEOUT must be a duration, like 10s, 2m or 1h30m, got "soon"`},
		{"HTTP_ADDR", "notanaddr", `HTTP_ADDR must be host:port or :port, like :8080 or 127.0.0.1:8080, got "notanaddr"`},
		{"HTTP_ADDR", ":99999", `HTTP_ADDR must be host:port or :port`},
	} {
		env := baseEnv(sl, ipr, freeAddr(t))
		env[tt.key] = tt.value
		env["LOG_FORMAT"] = "text"
		r := runWith(t, env, "")
		if exitCode(r.err) != 2 || !strings.Contains(r.stderr, "level=ERROR") || !strings.Contains(r.stderr, strings.ReplaceAll(tt.want, `"`, `\"`)) {
			t.Errorf("%s=%s: exit %d, %q; want %q", tt.key, tt.value, exitCode(r.err), r.stderr, tt.want)
		}
	}
	if n := len(sl.State().Calls("")); n != 0 {
		t.Errorf("Slack was called %d times before the configuration was checked", n)
	}
}

func TestShellThroughAPipe(t *testing.T) {
	t.Parallel()
	env := map[string]string{"CONFIRM_ABOVE": "2", "ALLOWED_CHANNELS": "C0OPS"}
	in := strings.Join([]string{
		"y",                             // nothing is waiting for it
		"--dry-run alpha bravo charlie", // a dry run of usernames, above CONFIRM_ABOVE
		"y",                             // the answer: never a command
		"alpha bravo charlie",           // refused here: C0SHELL is not allowed
		"quit",                          //
		"never-read",                    //
	}, "\n") + "\n"
	r := runWith(t, env, in, "shell", "--dry-run")
	if r.err != nil {
		t.Fatalf("shell: %v\n%s", r.err, r.stderr)
	}
	assertContains(t, "shell", r.stdout,
		"ALLOWED_CHANNELS allows only C0OPS, so every command in #C0SHELL will be refused: pass --channel C0OPS",
		"Nothing is waiting for a yes or no",
		"Sessions cannot be reset from this channel")
	// In C0OPS the dry run asks, and the y answers it.
	r = runWith(t, map[string]string{"CONFIRM_ABOVE": "2"}, "alpha bravo charlie\ny\nexit\nalpha\n", "shell", "--dry-run")
	assertContains(t, "shell", r.stdout, "This resets the sessions of *3 residential users*", "Confirm? [y/N]",
		"Confirmed: resetting the sessions of 3", "Dry run: nothing was reset and IPRoyal was not called")
	if strings.Contains(r.stdout, "`y`") || strings.Count(r.stdout, "This resets the sessions") != 1 {
		t.Errorf("an answer was read as a command, or a line after exit was read:\n%s", r.stdout)
	}
}

// openPTY opens a pseudo-terminal pair.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("no pseudo-terminal: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// Through a pseudo-terminal, the shell edits lines and keeps a history:
// the Up arrow recalls the last command instead of printing ^[[A.
func TestShellThroughATerminal(t *testing.T) {
	t.Parallel()
	master, tty := openPTY(t)
	cmd := exec.Command(os.Args[0], "shell", "--dry-run")
	cmd.Env = []string{"SESSIONBOT_RUN_MAIN=1", "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	go func() { _, _ = io.Copy(out, master) }()
	waitOut := func(what string, n int) {
		t.Helper()
		eventually(t, fmt.Sprintf("%d × %q on the terminal", n, what), func() bool { return strings.Count(out.String(), what) >= n })
	}
	waitOut("> ", 1)
	type_ := func(s string) {
		if _, err := master.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}
	type_("--dry-run " + hashA + "\r")
	waitOut("Dry run: nothing was reset and nothing was posted", 1)
	type_("\x1b[A\r") // Up, Enter: the same command again
	waitOut("Dry run: nothing was reset and nothing was posted", 2)
	type_("helpp\x7f\r") // a typo, Backspace
	waitOut("resets the sticky sessions", 1)
	type_("quit\r")
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the shell exited with %v:\n%s", err, out)
		}
	case <-time.After(wait):
		_ = cmd.Process.Kill()
		t.Fatalf("quit did not end the shell:\n%s", out)
	}
	if strings.Contains(out.String(), "^[[A") || strings.Contains(out.String(), "helpp") && !strings.Contains(out.String(), "resets the sticky") {
		t.Errorf("the terminal shows raw escapes:\n%s", out)
	}
	if !strings.Contains(out.String(), "\r\n") {
		t.Errorf("no terminal line endings: the shell did not use the terminal")
	}
}
