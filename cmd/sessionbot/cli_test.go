package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sessionbot/sessionbot/bot/slack/slacktest"
	"github.com/sessionbot/sessionbot/iproyal"
	"github.com/sessionbot/sessionbot/iproyal/iproyaltest"
)

type result struct {
	err            error
	stdout, stderr string
}

func runWith(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	err := run(ctx, append([]string{"sessionbot"}, args...), func(k string) string { return env[k] }, strings.NewReader(stdin), &out, &errOut)
	return result{err, out.String(), errOut.String()}
}

func TestBadConfigurationStopsAtStart(t *testing.T) {
	t.Parallel()
	sl, ipr := doubles(t)
	tests := []struct {
		name string
		edit map[string]string
		want string
	}{
		{"no app token", map[string]string{"SLACK_APP_TOKEN": ""}, "SLACK_APP_TOKEN is not set"},
		{"app token of the wrong kind", map[string]string{"SLACK_APP_TOKEN": botToken}, "SLACK_APP_TOKEN must be an app-level token starting with xapp-"},
		{"no bot token", map[string]string{"SLACK_BOT_TOKEN": ""}, "SLACK_BOT_TOKEN is not set"},
		{"bot token of the wrong kind", map[string]string{"SLACK_BOT_TOKEN": appToken}, "SLACK_BOT_TOKEN must be a bot token starting with xoxb-"},
		{"no IPRoyal token", map[string]string{"IPROYAL_API_TOKEN": ""}, "IPROYAL_API_TOKEN is not set"},
		{"no allow-list", map[string]string{"ALLOWED_USERS": ""}, "neither ALLOWED_USERS nor ALLOWED_USERGROUPS is set"},
		{"a name instead of an ID", map[string]string{"ALLOWED_USERS": "@alice"}, `ALLOWED_USERS: "@alice" is not a Slack ID`},
		{"a bad group ID", map[string]string{"ALLOWED_USERGROUPS": "U0WRONG"}, `ALLOWED_USERGROUPS: "U0WRONG" is not a Slack ID`},
		{"a bad channel ID", map[string]string{"ALLOWED_CHANNELS": "#general"}, `ALLOWED_CHANNELS: "#general"`},
		{"a bad limit", map[string]string{"MAX_HASHES": "many"}, "MAX_HASHES"},
		{"a zero limit", map[string]string{"MAX_HASHES": "0"}, "MAX_HASHES must be at least 1"},
		{"a bad timeout", map[string]string{"SHUTDOWN_TIMEOUT": "soon"}, "SHUTDOWN_TIMEOUT"},
		{"no shutdown time", map[string]string{"SHUTDOWN_TIMEOUT": "0s"}, "SHUTDOWN_TIMEOUT must be a duration above zero"},
		{"a negative IPRoyal timeout", map[string]string{"IPROYAL_TIMEOUT": "-1s"}, "IPROYAL_TIMEOUT must be a duration above zero"},
		{"no command time", map[string]string{"COMMAND_TIMEOUT": "0"}, "COMMAND_TIMEOUT must be a duration above zero"},
		{"no confirmation time", map[string]string{"CONFIRM_TTL": "-5m"}, "CONFIRM_TTL must be more than 0"},
		{"a bad log level", map[string]string{"LOG_LEVEL": "loud"}, "LOG_LEVEL must be"},
		{"a bad log format", map[string]string{"LOG_FORMAT": "xml"}, "LOG_FORMAT must be json or text"},
		{"confirm above zero", map[string]string{"CONFIRM_ABOVE": "0"}, "CONFIRM_ABOVE must be at least 1"},
		{"a confirmation outliving response_url", map[string]string{"CONFIRM_TTL": "1h"}, "CONFIRM_TTL must be more than 0 and at most 30m"},
		{"a weak confirm secret", map[string]string{"CONFIRM_SECRET": "hunter2hunter2"}, "CONFIRM_SECRET holds 10 bytes; it needs at least 32"},
		{"a negative rate limit", map[string]string{"RATE_LIMIT_PER_MINUTE": "-1"}, "RATE_LIMIT_PER_MINUTE must be 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := baseEnv(sl, ipr, freeAddr(t))
			for k, v := range tt.edit {
				env[k] = v
			}
			r := runWith(t, env, "")
			if r.err == nil || exitCode(r.err) != 2 {
				t.Fatalf("err = %v (exit %d), want a usage error", r.err, exitCode(r.err))
			}
			// One log line, in LOG_FORMAT (JSON by default), like every other.
			var line map[string]any
			if err := json.Unmarshal([]byte(r.stderr), &line); err != nil || strings.Count(r.stderr, "\n") != 1 {
				t.Fatalf("stderr = %q, want one JSON line", r.stderr)
			}
			if msg, _ := line["error"].(string); line["level"] != "ERROR" || !strings.Contains(msg, tt.want) {
				t.Errorf("stderr = %q, want an ERROR line whose error contains %q", r.stderr, tt.want)
			}
			assertNoSecrets(t, r.stderr+r.stdout)
		})
	}
	if n := len(sl.State().Calls("")); n != 0 {
		t.Errorf("Slack was called %d times by configurations that cannot work", n)
	}
}

func TestSlackRefusesTokens(t *testing.T) {
	t.Parallel()
	sl, ipr := doubles(t)
	env := baseEnv(sl, ipr, freeAddr(t))
	env["SLACK_BOT_TOKEN"] = "xoxb-revoked-0123456789"
	r := runWith(t, env, "")
	if r.err == nil || !strings.Contains(r.stderr, "SLACK_BOT_TOKEN was refused by Slack (invalid_auth)") {
		t.Errorf("bad bot token: err = %v, stderr = %q", r.err, r.stderr)
	}

	env = baseEnv(sl, ipr, freeAddr(t))
	env["SLACK_APP_TOKEN"] = "xapp-revoked-0123456789"
	r = runWith(t, env, "")
	if r.err == nil || !strings.Contains(r.stderr, "SLACK_APP_TOKEN was refused by Slack (invalid_auth)") {
		t.Errorf("bad app token: err = %v, stderr = %q", r.err, r.stderr)
	}
	assertNoSecrets(t, r.stderr)
}

// assertNoSecrets fails if s holds any token or sub-user password.
func assertNoSecrets(t *testing.T, s string) {
	t.Helper()
	for _, secret := range []string{appToken, botToken, iproyalToken, subPassword, confirmSecret, "appsecret", "botsecret", "iproyal-secret", "s3cr3t", "hunter2"} {
		if strings.Contains(s, secret) {
			t.Errorf("output leaks a secret (%s...):\n%s", secret[:6], s)
		}
	}
}

func TestNoSecretsAnywhereAtDebugLevel(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(env map[string]string) {
		env["AUDIT_CHANNEL"] = "C0AUDIT"
		env["LOG_FORMAT"] = "text"
		env["CONFIRM_SECRET"] = confirmSecret
		env["CONFIRM_ABOVE"] = "1"
	})
	// IPRoyal echoes the token back, and sub-user listings carry passwords.
	h.ipr.Script("DELETE", "/sessions", iproyaltest.Response{Status: 401, Body: `{"message":"bad token ` + iproyalToken + `"}`})
	h.command(allowedUser, "scraper-eu")
	h.threadReply(h.announcement(channel, 0))
	h.click(allowedUser, h.confirmation(allowedUser, hashA+" "+hashB)["Confirm"])
	h.threadReply(h.announcement(channel, 1))
	h.confirmation(allowedUser, hashA+" scraper-eu-old") // passwords in the listing; buttons carry the request
	h.private(h.command(otherUser, hashA))
	h.slack.Fail("chat.postMessage", slacktest.Failure{Error: "not_in_channel", Channel: channel})
	h.private(h.command(allowedUser, hashA))
	h.slack.DropConnections()
	h.waitReady(true)
	metrics := h.body("/metrics")
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}

	var all strings.Builder
	all.WriteString(metrics)
	all.WriteString(h.logs.String())
	for _, m := range h.slack.State().Messages() {
		all.WriteString(m.Text + string(m.Blocks))
	}
	for _, r := range h.slack.State().Responses() {
		all.WriteString(r.Text + string(r.Blocks))
	}
	if !strings.Contains(h.logs.String(), "level=DEBUG") {
		t.Fatal("no debug lines were logged, so the test proves nothing")
	}
	if !strings.Contains(all.String(), "[redacted]") {
		t.Error("the token IPRoyal echoed was not masked")
	}
	assertNoSecrets(t, all.String())
}

func TestShutdownFinishesCommandsInFlight(t *testing.T) {
	t.Parallel()
	sl, ipr := doubles(t)
	ipr.SetDelay(500 * time.Millisecond)
	cmd, logs := startConnected(t, sl, baseEnv(sl, ipr, freeAddr(t)), 1)
	id, err := sl.SendSlashCommand(slacktest.SlashCommand{UserID: allowedUser, ChannelID: channel, Text: hashA})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the reset reaches IPRoyal", func() bool { return ipr.Count("DELETE", "/sessions") == 1 })
	if err := sl.WaitFor(wait, func(s *slacktest.State) bool { return s.Acked(id) }); err != nil {
		t.Fatal("not acknowledged")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, logs.String())
		}
	case <-time.After(wait):
		t.Fatal("the bot did not exit after SIGTERM")
	}
	var replied bool
	for _, m := range sl.State().Messages() {
		replied = replied || (m.ThreadTS != "" && strings.Contains(m.Text, "Reset the sessions of 1 residential user"))
	}
	if !replied {
		t.Fatalf("the command in flight was not finished; messages: %+v\nlogs:\n%s", sl.State().Messages(), logs.String())
	}
	if !strings.Contains(logs.String(), "sessionbot stopped") {
		t.Errorf("no clean stop in the logs:\n%s", logs.String())
	}
}

func TestHealthcheckCommand(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	r := runWith(t, map[string]string{"HTTP_ADDR": h.addr}, "", "healthcheck")
	if r.err != nil || r.stdout != "ready\n" {
		t.Fatalf("healthcheck = %v, %q, %q", r.err, r.stdout, r.stderr)
	}
	r = runWith(t, map[string]string{"HTTP_ADDR": freeAddr(t)}, "", "healthcheck")
	if r.err == nil || exitCode(r.err) != 1 || !strings.Contains(r.stderr, "not healthy") {
		t.Fatalf("healthcheck of nothing = %v, %q", r.err, r.stderr)
	}
}

func TestVersionAndHelp(t *testing.T) {
	t.Parallel()
	if r := runWith(t, nil, "", "version"); r.err != nil || !strings.HasPrefix(r.stdout, "sessionbot dev (go") {
		t.Errorf("version = %v, %q", r.err, r.stdout)
	}
	if r := runWith(t, nil, "", "help"); r.err != nil || !strings.Contains(r.stdout, "sessionbot reset [--dry-run] [--json] [--yes] TARGET...") {
		t.Errorf("help = %v, %q", r.err, r.stdout)
	}
	r := runWith(t, nil, "", "frobnicate")
	if exitCode(r.err) != 2 || !strings.Contains(r.stderr, `unknown command "frobnicate"`) {
		t.Errorf("unknown command = %v, %q", r.err, r.stderr)
	}
}

func resetEnv(ipr *iproyaltest.Server) map[string]string {
	return map[string]string{"IPROYAL_API_TOKEN": iproyalToken, "IPROYAL_API_URL": ipr.URL, "USER": "ops"}
}

func TestResetCommand(t *testing.T) {
	t.Parallel()
	_, ipr := doubles(t)
	r := runWith(t, resetEnv(ipr), "", "reset", strings.ToLower(hashA), "scraper-eu", hashA)
	if r.err != nil {
		t.Fatalf("reset: %v\n%s", r.err, r.stderr)
	}
	want := "Reset the sessions of 2 residential users:\n  " + hashA + "\n  " + hashB + "  scraper-eu\n"
	if r.stdout != want {
		t.Errorf("stdout = %q, want %q", r.stdout, want)
	}
	if got := ipr.Resets(); len(got) != 1 || len(got[0]) != 2 {
		t.Errorf("resets = %v", got)
	}
	if ua := ipr.Requests()[0].Header.Get("User-Agent"); ua != "sessionbot/dev" {
		t.Errorf("User-Agent = %q", ua)
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(r.stderr), &line); err != nil {
		t.Fatalf("stderr is not the one audit line: %q", r.stderr)
	}
	if line["msg"] != "command" || line["kind"] != "cli" || line["outcome"] != "reset" || !strings.HasPrefix(fmt.Sprint(line["user"]), "ops@") ||
		fmt.Sprint(line["targets"]) != "["+hashA+" "+hashB+" (scraper-eu)]" {
		t.Errorf("audit line = %v", line)
	}
}

// With SLACK_BOT_TOKEN and AUDIT_CHANNEL, the command line journals its
// reset in Slack as the bot would, marked as run from the command line.
func TestResetCommandJournals(t *testing.T) {
	t.Parallel()
	sl, ipr := doubles(t)
	env := resetEnv(ipr)
	env["SLACK_BOT_TOKEN"] = botToken
	env["SLACK_API_URL"] = sl.URL
	env["AUDIT_CHANNEL"] = auditChannel
	r := runWith(t, env, "", "reset", hashA)
	if r.err != nil {
		t.Fatalf("reset: %v\n%s", r.err, r.stderr)
	}
	var line map[string]any
	_ = json.Unmarshal([]byte(r.stderr), &line)
	id, _ := line["request_id"].(string)
	if id == "" {
		t.Fatalf("no audit line: %q", r.stderr)
	}
	posted := auditMessages(sl)
	if len(posted) != 1 {
		t.Fatalf("%d audit messages, want 1", len(posted))
	}
	if first := entryOf(sl.State().Messages()[0].Metadata); first["state"] != "announcing" || first["source"] != "cli" {
		t.Errorf("the journal entry was first written as %v", first)
	}
	msg, entry := journalEntryIn(t, sl, id, "reset")
	assertContains(t, "audit message", msg.Text, "`sessionbot reset` (run as `ops@", "reset the sessions of 1 residential user (", "from the command line", hashA)
	if entry["source"] != "cli" || entry["channel"] != "" {
		t.Errorf("entry = %v", entry)
	}

	// Slack down: the reset still happens, and says it was not journalled.
	env["SLACK_API_URL"] = "http://127.0.0.1:1/api/"
	r = runWith(t, env, "", "reset", hashB)
	if r.err != nil || len(ipr.Resets()) != 2 {
		t.Fatalf("reset without Slack: %v, resets %d\n%s", r.err, len(ipr.Resets()), r.stderr)
	}
	assertContains(t, "stderr", r.stderr, "not journalled in AUDIT_CHANNEL")
	assertNoSecrets(t, r.stderr)
}

func TestResetDryRun(t *testing.T) {
	t.Parallel()
	_, ipr := doubles(t)
	r := runWith(t, resetEnv(ipr), "", "reset", "scraper-eu", "--dry-run", hashA)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if !strings.Contains(r.stdout, "Dry run: no DELETE was sent") || !strings.Contains(r.stdout, hashB+"  scraper-eu") {
		t.Errorf("stdout = %q", r.stdout)
	}
	if n := ipr.Count("DELETE", "/sessions"); n != 0 {
		t.Errorf("dry run sent %d DELETEs", n)
	}
	if n := ipr.Count("GET", "/residential-subusers"); n != 1 {
		t.Errorf("dry run looked up %d sub-users, want 1", n)
	}
}

func TestResetFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		env      func(*iproyaltest.Server) map[string]string
		script   []iproyaltest.Response
		args     []string
		exit     int
		want     string
		requests int
		audit    bool // it reached the core, which logs every request
	}{
		{name: "no targets", args: nil, exit: 2, want: "reset needs at least one TARGET"},
		{name: "bad hash", args: []string{hashA, "<@U1>"}, exit: 2, want: `"<@U1>" is not a residential user hash`, audit: true},
		{name: "unknown flag", args: []string{"--force", hashA}, exit: 2, want: `unknown flag "--force"`},
		{name: "no token", env: func(s *iproyaltest.Server) map[string]string { return map[string]string{"IPROYAL_API_URL": s.URL} },
			args: []string{hashA}, exit: 2, want: "IPROYAL_API_TOKEN is not set"},
		{name: "unknown username", args: []string{"ghost"}, exit: 2, want: `"ghost" is not a hash, and no sub-user has this username`, requests: 1},
		{name: "every bad target", args: []string{"nosuch1", "nosuch2", "bad!"}, exit: 2, requests: 2,
			want: `3 targets are not valid: "nosuch1" is not a hash, and no sub-user has this username; "nosuch2" is not a hash, and no sub-user has this username; "bad!" is not a residential user hash`},
		{name: "a sub-user named like a flag", args: []string{"--", "--force"}, exit: 2, want: `"--force" is not a hash, and no sub-user has this username`, requests: 1},
		{name: "401", script: []iproyaltest.Response{{Status: 401, Body: `{"message":"Unauthenticated."}`}}, args: []string{hashA}, exit: 1,
			want: "reset failed: IPRoyal refused sessionbot's API token (401 Unauthorized: Unauthenticated.). What to do: The bot's IPRoyal token is wrong", requests: 1},
		{name: "422", script: []iproyaltest.Response{{Status: 422, Body: `{"errors":{"residential_user_hashes.0":["The selected hash is invalid."]}}`}}, args: []string{hashA}, exit: 1,
			want: "IPRoyal rejected the request (422 Unprocessable Entity: residential_user_hashes.0: The selected hash is invalid.)", requests: 1},
		{name: "429", script: []iproyaltest.Response{{Status: 429, Header: map[string]string{"Retry-After": "90"}}}, args: []string{hashA}, exit: 1,
			want: "What to do: Try again in 1 minute 30 seconds.", requests: 1},
		{name: "lookup fails", script: nil, args: []string{"scraper-eu"}, exit: 1, env: func(s *iproyaltest.Server) map[string]string {
			s.Script("GET", "/residential-subusers", iproyaltest.Response{Status: 403, Body: `{"error":{"message":"API access disabled"}}`})
			return resetEnv(s)
		}, want: "nothing was reset, looking up the sub-users: IPRoyal refused sessionbot's API token (403 Forbidden: API access disabled).", requests: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ipr := doubles(t)
			env := resetEnv(ipr)
			if tt.env != nil {
				env = tt.env(ipr)
			}
			ipr.Script("DELETE", "/sessions", tt.script...)
			r := runWith(t, env, "", append([]string{"reset"}, tt.args...)...)
			if r.err == nil || exitCode(r.err) != tt.exit {
				t.Fatalf("err = %v, exit %d; want exit %d", r.err, exitCode(r.err), tt.exit)
			}
			// One line says what failed; a run that reached IPRoyal also
			// leaves the bot's audit line.
			lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
			if last := lines[len(lines)-1]; !strings.HasPrefix(last, "sessionbot: ") || !strings.Contains(last, tt.want) {
				t.Errorf("stderr = %q, want a last line containing %q", r.stderr, tt.want)
			}
			audits := 0
			if tt.requests > 0 || tt.audit {
				audits = 1
			}
			if n := strings.Count(r.stderr, `"msg":"command"`); n != audits || len(lines) != 1+audits {
				t.Errorf("stderr has %d lines, %d audit lines; want %d audit lines:\n%s", len(lines), n, audits, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q on failure", r.stdout)
			}
			if n := len(ipr.Requests()); n != tt.requests {
				t.Errorf("requests = %d, want %d", n, tt.requests)
			}
			if len(ipr.Resets()) != 0 {
				t.Error("something was reset")
			}
			assertNoSecrets(t, r.stderr)
		})
	}
}

func TestShell(t *testing.T) {
	t.Parallel()
	_, ipr := doubles(t)
	env := resetEnv(ipr)
	env["ALLOWED_USERS"] = "U0ME"
	in := "/reset-sessions " + hashA + " scraper-eu\n\nhelp\n" + hashB + " <!channel>\n"
	r := runWith(t, env, in, "shell", "--user", "U0ME")
	if r.err != nil {
		t.Fatalf("shell: %v\n%s", r.err, r.stderr)
	}
	assertContains(t, "shell output", r.stdout,
		"[#C0SHELL, message 1] sessionbot:",
		"@U0ME is resetting the sessions of 2 residential users",
		"[#C0SHELL, thread of message 1] sessionbot:",
		"Reset the sessions of 2 residential users in",
		"sessionbot reacted :white_check_mark: to message 1",
		"[only visible to @U0ME] sessionbot:",
		"resets by sub-user username",
		"`<!channel>`: not a residential user hash",
	)
	if got := ipr.Resets(); len(got) != 1 {
		t.Errorf("resets = %v, want one", got)
	}

	r = runWith(t, env, hashA+"\n", "shell", "--user", "U0STRANGER")
	if !strings.Contains(r.stdout, "You are not allowed to reset IPRoyal sessions") {
		t.Errorf("a stranger was not refused:\n%s", r.stdout)
	}
}

func TestShellDryRunNeedsNoIPRoyal(t *testing.T) {
	t.Parallel()
	r := runWith(t, map[string]string{"IPROYAL_API_URL": "http://127.0.0.1:1/v1"}, hashA+" scraper-eu\n", "shell", "--dry-run")
	if r.err != nil {
		t.Fatalf("shell --dry-run: %v\n%s", r.err, r.stderr)
	}
	assertContains(t, "output", r.stdout, "Dry run: IPRoyal is never called",
		"sub-user `scraper-eu` (hash looked up on a real run)", "Dry run: nothing was reset and IPRoyal was not called")

	r = runWith(t, nil, "", "shell")
	if exitCode(r.err) != 2 || !strings.Contains(r.stderr, "sessionbot shell --dry-run") {
		t.Errorf("shell without a token = %v, %q", r.err, r.stderr)
	}
}

// TestShutdownArithmeticIsAsDocumented checks the README's sums against
// the defaults: IPRoyal's worst case does not fit in the default drain, so
// the interrupt message covers it.
func TestShutdownArithmeticIsAsDocumented(t *testing.T) {
	t.Parallel()
	cfg, err := loadConfig(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	p := iproyal.DefaultRetryPolicy
	worst := time.Duration(p.Attempts) * cfg.IPRoyalTimeout
	for i := 1; i < p.Attempts; i++ {
		worst += min(p.BaseDelay<<(i-1), p.MaxDelay)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	claim := fmt.Sprintf("about %d s, more\n  with `Retry-After`) does **not** fit in the %d s drain", int(worst.Round(time.Second)/time.Second), int(cfg.ShutdownTimeout/time.Second))
	if !strings.Contains(string(readme), claim) || worst <= cfg.ShutdownTimeout {
		t.Errorf("IPRoyal's worst case is %v and SHUTDOWN_TIMEOUT %v: the README should say %q", worst, cfg.ShutdownTimeout, claim)
	}
}

func TestLoggerMasksResponseURLs(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	log := newLogger(&out, config{LogLevel: "debug", LogFormat: "json", SlackBotToken: botToken})
	log.Warn("private reply failed", "error", fmt.Errorf(`failed to post webhook: Post "https://hooks.slack.com/commands/T0/123/abcDEF": dial tcp: i/o timeout`), "token", botToken)
	if strings.Contains(out.String(), "abcDEF") || strings.Contains(out.String(), botToken) || !strings.Contains(out.String(), "[response_url]") {
		t.Errorf("log line = %s", out.String())
	}
}

// TestREADMEVariablesMatchTheConfig: the README's variable table lists
// every variable the program reads, with the default it really has.
func TestREADMEVariablesMatchTheConfig(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{} // variable: its default cell
	for _, line := range strings.Split(string(readme), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		rows[strings.Trim(strings.TrimSpace(cells[1]), "`")] = strings.TrimSpace(cells[2])
	}
	typ := reflect.TypeFor[config]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		key, def := f.Tag.Get("envconfig"), f.Tag.Get("default")
		cell, ok := rows[key]
		switch {
		case !ok:
			t.Errorf("README.md does not document %s", key)
		case def != "" && cell != "`"+def+"`":
			t.Errorf("README.md gives %s the default %s; it is `%s`", key, cell, def)
		case def == "" && strings.HasPrefix(cell, "`"):
			t.Errorf("README.md gives %s the default %s; it has none", key, cell)
		}
	}
}
