package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sessionbot/sessionbot/iproyal/iproyaltest"
)

// terminalRun is the program running on a pseudo-terminal.
type terminalRun struct {
	t       *testing.T
	cmd     *exec.Cmd
	master  *os.File
	screen  *syncBuffer // what the terminal shows
	done    chan error
	drained chan struct{} // closed once the screen has all the program wrote
}

// onTerminal runs this test binary as the program (see TestMain) with env
// and args. Its standard input and standard error are a pseudo-terminal
// that is its controlling terminal, so that Ctrl-C there is a SIGINT; its
// standard output is stdout, unless stdout is nil: the terminal too.
func onTerminal(t *testing.T, env map[string]string, stdout io.Writer, args ...string) *terminalRun {
	t.Helper()
	master, tty := openPTY(t)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = []string{"SESSIONBOT_RUN_MAIN=1", "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	if stdout != nil {
		cmd.Stdout = stdout
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The child has the terminal now: this process lets go of it, so that
	// the master reads to its end once the child is gone.
	_ = tty.Close()
	r := &terminalRun{t: t, cmd: cmd, master: master, screen: &syncBuffer{}, done: make(chan error, 1), drained: make(chan struct{})}
	go func() { _, _ = io.Copy(r.screen, master); close(r.drained) }()
	go func() { r.done <- cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			_ = cmd.Process.Kill()
			<-r.done
		}
	})
	return r
}

// see waits until the terminal has shown what n times.
func (r *terminalRun) see(what string, n int) {
	r.t.Helper()
	eventually(r.t, fmt.Sprintf("%d × %q on the terminal", n, what), func() bool { return strings.Count(r.screen.String(), what) >= n })
}

// type_ types keys on the terminal.
func (r *terminalRun) type_(keys string) {
	r.t.Helper()
	if _, err := r.master.WriteString(keys); err != nil {
		r.t.Fatal(err)
	}
}

// exit waits for the program to end, and returns its exit code.
func (r *terminalRun) exit() int {
	r.t.Helper()
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		select {      // everything it wrote, on the screen
		case <-r.drained:
		case <-time.After(wait):
			r.t.Fatalf("the terminal was not read to its end; it shows:\n%s", r.screen)
		}
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		if err != nil {
			r.t.Fatal(err)
		}
		return 0
	case <-time.After(wait):
		r.t.Fatalf("the program did not end; the terminal shows:\n%s", r.screen)
		return -1
	}
}

// The shell reads each form the README teaches as Slack reads it: after
// the slash command as typed, after a mention (or bare) without a first
// "reset". The slash command alone says what Slack would open.
func TestShellReadsEveryForm(t *testing.T) {
	t.Parallel()
	_, ipr := doubles(t)
	const hashD = "01HQ5K3P97DY8EX9Y90YT1K6XD"
	ipr.SetSubusers(
		iproyaltest.Subuser{Hash: hashB, Username: "scraper-eu", Password: subPassword},
		iproyaltest.Subuser{Hash: hashC, Username: "scraper-eu-old", Password: subPassword},
		iproyaltest.Subuser{Hash: hashD, Username: "reset", Password: subPassword},
	)
	in := strings.Join([]string{
		"reset scraper-eu",
		"@sessionbot reset scraper-eu-old",
		"@SessionBot " + hashA,
		"/reset-sessions",
		"RESET",
		"@sessionbot",
		"reset reset",
	}, "\n") + "\n"
	r := runWith(t, resetEnv(ipr), in, "shell")
	if r.err != nil {
		t.Fatalf("shell: %v\n%s", r.err, r.stderr)
	}
	if got, want := fmt.Sprint(ipr.Resets()), fmt.Sprint([][]string{{hashB}, {hashC}, {hashA}, {hashD}}); got != want {
		t.Errorf("resets %s, want %s", got, want)
	}
	searches := 0
	for _, req := range ipr.Requests() {
		if strings.Contains(req.Query, "search=reset") {
			searches++
		}
	}
	if searches != 1 {
		t.Errorf("%d searches for a sub-user named reset, want only the last line's", searches)
	}
	assertContains(t, "shell", r.stdout,
		"In Slack, /reset-sessions alone opens a form where you pick sub-users by typing part of a username",
		"type /reset-sessions find TEXT to list sub-users")
	if n := strings.Count(r.stdout, "resets the sticky sessions of IPRoyal residential users"); n != 2 {
		t.Errorf("help shown %d times, want 2 (reset alone, the mention alone):\n%s", n, r.stdout)
	}
	assertNoSecrets(t, r.stdout)
}

// --user and --channel take IDs, and refuse names with where to find one.
func TestShellRefusesNames(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ flag, value, want string }{
		{"--user", "ana", `--user "ana" is not a Slack user ID`},
		{"--user", "@ana", "Copy member ID"},
		{"--channel", "#ops", `--channel "#ops" is not a Slack channel ID`},
		{"--channel", "ops", "About tab"},
	} {
		r := runWith(t, nil, "", "shell", "--dry-run", tt.flag, tt.value)
		if exitCode(r.err) != 2 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("shell %s %s = %v, %q; want exit 2 and %q", tt.flag, tt.value, r.err, r.stderr, tt.want)
		}
	}
	if r := runWith(t, nil, "help\n", "shell", "--dry-run", "--user", "W0ANA", "--channel", "G0OPS"); r.err != nil || !strings.Contains(r.stdout, "You are @W0ANA in #G0OPS") {
		t.Errorf("IDs refused: %v, %q", r.err, r.stdout)
	}
}

// In the shell, Ctrl-C or Ctrl-D at a confirmation answers no, whatever
// was typed before it, and the shell goes on, with no prompt left behind.
func TestShellCancelsAConfirmationWithCtrlCOrCtrlD(t *testing.T) {
	t.Parallel()
	r := onTerminal(t, map[string]string{"CONFIRM_ABOVE": "2"}, nil, "shell", "--dry-run")
	r.see("> ", 1)
	for i, key := range []string{"y\x03", "\x04"} {
		r.type_("alpha bravo charlie\r")
		r.see("Confirm? [y/N] ", i+1)
		r.type_(key)
		r.see("Cancelled: the sessions of 3 residential users were not reset", i+1)
		r.see("> ", i+2)
	}
	r.type_("help\r")
	r.see("resets the sticky sessions", 1)
	r.type_("quit\r")
	if exit := r.exit(); exit != 0 {
		t.Fatalf("exit %d; the terminal shows:\n%s", exit, r.screen)
	}
	screen := r.screen.String()
	if strings.Contains(screen, "Confirmed") || strings.Count(screen, "Confirm? [y/N] ") != 2 {
		t.Errorf("a cancelled confirmation confirmed, or its prompt was drawn again:\n%s", screen)
	}
}
