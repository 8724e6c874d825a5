package main

import (
	"encoding/base64"
	"encoding/json"
	"runtime/debug"
	"strings"
	"testing"
)

// Every problem in the configuration is in the one message, so an operator
// fixes them all in one round instead of one per restart.
func TestEveryConfigurationProblemAtOnce(t *testing.T) {
	sl, ipr := doubles(t)
	env := baseEnv(sl, ipr, freeAddr(t))
	for k, v := range map[string]string{
		"SLACK_APP_TOKEN":  "",
		"SLACK_BOT_TOKEN":  "xoxp-a-user-token",
		"MAX_HASHES":       "many",
		"SHUTDOWN_TIMEOUT": "soon",
		"LOG_LEVEL":        "loud",
		"CONFIRM_SECRET":   "REPLACE-ME-WITH-64-HEX-CHARACTERS-FROM-OPENSSL-RAND",
		"ALLOWED_USERS":    "@alice,U0OK,bob",
		"SLACK_API_URL":    "slack.com/api",
		"IPROYAL_API_URL":  "https://user:hunter2@[::1/v1",
		"HTTP_ADDR":        "8080",
	} {
		env[k] = v
	}
	r := runWith(t, env, "")
	if exitCode(r.err) != 2 {
		t.Fatalf("exit %d (%v), want 2", exitCode(r.err), r.err)
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(r.stderr), &line); err != nil || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("stderr = %q, want one JSON line", r.stderr)
	}
	msg, _ := line["error"].(string)
	assertContains(t, "the error", msg,
		"11 problems with the configuration: (1) ",
		`MAX_HASHES must be a whole number, got "many"`,
		`SHUTDOWN_TIMEOUT must be a duration, like 10s, 2m or 1h30m, got "soon"`,
		`LOG_LEVEL must be debug, info, warn or error, not "loud"`,
		"CONFIRM_SECRET is still the example's placeholder; make one with: openssl rand -hex 32",
		`HTTP_ADDR must be host:port or :port`,
		`SLACK_API_URL must be an absolute http or https URL, like https://slack.com/api/, got "slack.com/api"`,
		`IPROYAL_API_URL must be an absolute http or https URL`,
		"SLACK_APP_TOKEN is not set",
		"SLACK_BOT_TOKEN must be a bot token starting with xoxb-",
		`ALLOWED_USERS: "@alice" is not a Slack ID`,
		`ALLOWED_USERS: "bob" is not a Slack ID`,
	)
	if strings.Contains(r.stderr, "hunter2") || strings.Contains(r.stderr, "xoxp-a-user-token") {
		t.Errorf("a secret is in the message: %s", r.stderr)
	}
	if n := len(sl.State().Calls("")); n != 0 {
		t.Errorf("Slack was called %d times", n)
	}

	// A person at a terminal reads them one to a line.
	r = runWith(t, map[string]string{"MAX_HASHES": "many", "LOG_FORMAT": "xml"}, "", "reset", hashA)
	if exitCode(r.err) != 2 || !strings.Contains(r.stderr, "MAX_HASHES") || !strings.Contains(r.stderr, "LOG_FORMAT") {
		t.Errorf("reset with two bad variables: exit %d, %q", exitCode(r.err), r.stderr)
	}
}

// The defaults of the bad values stand in, so that check can go on.
func TestBadValuesFallBackToTheirDefaults(t *testing.T) {
	cfg, err := loadConfig(func(k string) string {
		return map[string]string{"MAX_HASHES": "x", "IPROYAL_TIMEOUT": "y", "RATE_LIMIT_PER_MINUTE": "3", "LOG_LEVEL": "z"}[k]
	})
	if err == nil || len(err.(*configError).problems) != 3 {
		t.Fatalf("err = %v, want 3 problems", err)
	}
	if cfg.MaxHashes != 100 || cfg.IPRoyalTimeout.String() != "10s" || cfg.RateLimit != 3 || cfg.LogLevel != "info" {
		t.Errorf("cfg = %+v", cfg)
	}
}

func TestConfirmSecretMustBeRandom(t *testing.T) {
	random := []byte("\x8f\x1d\x9a\x02\x7e\xc4\x55\x31\xb0\x6a\xee\x13\x48\xd2\x7f\x90\x0c\xa5\x3b\x61\xf7\x24\x89\xde\x16\x5c\xc3\x7a\x2e\x94\x0b\x68")
	tests := []struct {
		secret string
		want   string // "" when accepted
	}{
		{confirmSecret, ""}, // openssl rand -hex 32
		{strings.ToUpper(confirmSecret), ""},
		{base64.StdEncoding.EncodeToString(random), ""},    // openssl rand -base64 32
		{base64.RawURLEncoding.EncodeToString(random), ""}, // Go's, Python's secrets.token_urlsafe(32)
		{"REPLACE-ME-WITH-64-HEX-CHARACTERS-FROM-OPENSSL-RAND", "is still the example's placeholder"},
		{"please-replace-me-0123456789abcdef0123456789abcdef", "is still the example's placeholder"},
		{"correct horse battery staple and some more words", "must be random bytes written as hex"},
		{"confirm-secret-0123456789abcdef0123456789", "must be random bytes written as hex"},
		{"9c1089a7208892e9aaf02713ca61cd68", "holds 16 bytes; it needs at least 32"},
		{strings.Repeat("a", 64), "too regular"},
		{strings.Repeat("deadbeef", 8), "too regular"},
		{strings.Repeat("0123456789abcdef", 4), "too regular"},
		{"9c1089a7208892e9aaf02713ca61cd6801234567bff136773fc8b5b79140e415", "too regular"},
		{strings.Repeat("Q", 44), "too regular"},
	}
	for _, tt := range tests {
		got := weakSecret(tt.secret)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("weakSecret(%q) = %q, want %q", tt.secret, got, tt.want)
		}
	}
}

// Without an -ldflags stamp, the version is what the build recorded.
func TestVersionFromBuildInfo(t *testing.T) {
	info := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/sessionbot/sessionbot", Version: "v0.0.0-20261206100000-1c0b4490e2f1+dirty"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "1c0b4490e2f1aa"}, {Key: "vcs.time", Value: "2026-12-06T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	tests := []struct {
		name  string
		stamp string
		info  *debug.BuildInfo
		want  string
	}{
		{"go build in a clone", "dev", info, "sessionbot v0.0.0-20261206100000-1c0b4490e2f1+dirty (go1.26.8)\ncommit 1c0b4490e2f1aa of 2026-12-06T10:00:00Z, with uncommitted changes\n"},
		{"go install module@version", "dev", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"}}, "sessionbot v1.4.0 (go1.26.8)\n"},
		{"the Dockerfile's stamp wins", "v1.4.0", info, "sessionbot v1.4.0 (go1.26.8)\ncommit 1c0b4490e2f1aa of 2026-12-06T10:00:00Z, with uncommitted changes\n"},
		{"no version recorded", "dev", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}, "sessionbot dev (go1.26.8)\n"},
	}
	for _, tt := range tests {
		if got := readBuild(tt.stamp, tt.info, true).String(); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

// Every command prints its own usage for --help, and exits 0.
func TestEveryCommandTakesHelp(t *testing.T) {
	for _, cmd := range []string{"bot", "shell", "reset", "find", "check", "healthcheck", "version", "help"} {
		for _, flag := range []string{"--help", "-h"} {
			r := runWith(t, nil, "", cmd, flag)
			if r.err != nil || !strings.HasPrefix(r.stdout, "Usage: sessionbot") && !strings.HasPrefix(r.stdout, "sessionbot resets") {
				t.Errorf("%s %s = %v, %q", cmd, flag, r.err, r.stdout)
			}
		}
	}
	r := runWith(t, nil, "", "help")
	for _, v := range []string{"GOGC", "GOMEMLIMIT", "GOMAXPROCS", "IPROYAL_API_TOKEN"} {
		if !strings.Contains(r.stdout, "\n"+v+" ") {
			t.Errorf("help does not list %s", v)
		}
	}
	if strings.Contains(r.stdout, "needed but by") {
		t.Error("help still says \"needed but by\"")
	}
}
