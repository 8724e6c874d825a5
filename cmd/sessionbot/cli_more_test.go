package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sessionbot/sessionbot/iproyal/iproyaltest"
)

// jsonLines decodes stdout as one JSON object a line, and checks that every
// object has exactly the fields the README documents.
func jsonLines(t *testing.T, stdout string, fields ...string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		if line == "" {
			continue
		}
		var obj map[string]any
		if err := json.Unmarshal([]byte(line), &obj); err != nil {
			t.Fatalf("stdout line %q is not a JSON object: %v", line, err)
		}
		var keys []string
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		want := slices.Sorted(slices.Values(fields))
		if !reflect.DeepEqual(keys, want) {
			t.Errorf("fields %v, want exactly %v", keys, want)
		}
		out = append(out, obj)
	}
	return out
}

// exitOf is the exit code run's error makes: 0 for none.
func exitOf(err error) int {
	if err == nil {
		return 0
	}
	return exitCode(err)
}

var resetFields = []string{"request_id", "outcome", "target", "hash", "username", "error"}

// auditID is the request ID of the audit line with outcome on stderr.
func auditID(t *testing.T, stderr, outcome string) string {
	t.Helper()
	for _, line := range strings.Split(stderr, "\n") {
		var l map[string]any
		if json.Unmarshal([]byte(line), &l) == nil && l["msg"] == "command" && l["outcome"] == outcome {
			return fmt.Sprint(l["request_id"])
		}
	}
	t.Fatalf("no audit line with outcome %s on stderr:\n%s", outcome, stderr)
	return ""
}

// reset - reads targets from standard input, one or more a line, besides
// those given as arguments.
func TestResetReadsTargetsFromStdin(t *testing.T) {
	t.Parallel()
	_, ipr := doubles(t)
	r := runWith(t, resetEnv(ipr), "scraper-eu\n\n"+strings.ToLower(hashA)+", scraper-eu-old\n", "reset", hashA, "-")
	if r.err != nil {
		t.Fatalf("reset -: %v\n%s", r.err, r.stderr)
	}
	if got := ipr.Resets(); len(got) != 1 || fmt.Sprint(got[0]) != fmt.Sprint([]string{hashA, hashB, hashC}) {
		t.Errorf("resets = %v, want one of %s, %s, %s", got, hashA, hashB, hashC)
	}
	assertContains(t, "stdout", r.stdout, "Reset the sessions of 3 residential users", hashB+"  scraper-eu", hashC+"  scraper-eu-old")

	r = runWith(t, resetEnv(ipr), "\n  \n", "reset", "-")
	if exitCode(r.err) != 2 || !strings.Contains(r.stderr, "reset - read no targets from standard input") {
		t.Errorf("reset - of nothing = %v, %q", r.err, r.stderr)
	}
	// After --, "-" is a target like any other word, and not one.
	r = runWith(t, resetEnv(ipr), hashB+"\n", "reset", "--", "-")
	if exitCode(r.err) != 2 || !strings.Contains(r.stderr, `"-" is not a hash, and no sub-user has this username`) {
		t.Errorf("reset -- - = %v, %q", r.err, r.stderr)
	}
	if n := len(ipr.Resets()); n != 1 {
		t.Errorf("%d resets, want the first only", n)
	}
}

// reset --json: one object per target, with the README's fields, whatever
// the outcome, and the same exit codes.
func TestResetJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		args   []string
		script []iproyaltest.Response
		exit   int
		want   []map[string]any // the fields that matter of each object, in order
	}{
		{name: "reset", args: []string{"scraper-eu", hashA}, want: []map[string]any{
			{"outcome": "reset", "target": "scraper-eu", "hash": hashB, "username": "scraper-eu", "error": ""},
			{"outcome": "reset", "target": hashA, "hash": hashA, "username": "", "error": ""},
		}},
		{name: "dry run", args: []string{"--dry-run", "scraper-eu"}, want: []map[string]any{
			{"outcome": "dry_run", "target": "scraper-eu", "hash": hashB, "username": "scraper-eu", "error": ""},
		}},
		{name: "a bad target", args: []string{"scraper-eu", "ghost", strings.ToLower(hashA)}, exit: 2, want: []map[string]any{
			{"outcome": "invalid", "target": "scraper-eu", "hash": "", "username": "scraper-eu", "error": ""},
			{"outcome": "invalid", "target": "ghost", "hash": "", "username": "", "error": "not a hash, and no sub-user has this username"},
			{"outcome": "invalid", "target": strings.ToLower(hashA), "hash": hashA, "username": "", "error": ""},
		}},
		{name: "IPRoyal fails", args: []string{hashA}, exit: 1,
			script: []iproyaltest.Response{{Status: 401, Body: `{"message":"Unauthenticated."}`}}, want: []map[string]any{
				{"outcome": "failed", "target": hashA, "hash": hashA, "username": "",
					"error": "reset failed: IPRoyal refused sessionbot's API token (401 Unauthorized: Unauthenticated.). What to do: The bot's IPRoyal token is wrong"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, ipr := doubles(t)
			ipr.Script("DELETE", "/sessions", tt.script...)
			r := runWith(t, resetEnv(ipr), "", append([]string{"reset", "--json"}, tt.args...)...)
			if exit := exitOf(r.err); exit != tt.exit {
				t.Fatalf("exit %d (%v), want %d\n%s", exit, r.err, tt.exit, r.stderr)
			}
			got := jsonLines(t, r.stdout, resetFields...)
			if len(got) != len(tt.want) {
				t.Fatalf("%d objects, want %d:\n%s", len(got), len(tt.want), r.stdout)
			}
			id := auditID(t, r.stderr, fmt.Sprint(got[0]["outcome"]))
			for i, want := range tt.want {
				if got[i]["request_id"] != id {
					t.Errorf("object %d: request_id %v, want the audit line's %s", i, got[i]["request_id"], id)
				}
				for k, v := range want {
					if s, ok := v.(string); ok && k == "error" && s != "" {
						if !strings.HasPrefix(fmt.Sprint(got[i][k]), s) {
							t.Errorf("object %d: %s = %q, want it to start %q", i, k, got[i][k], s)
						}
						continue
					}
					if got[i][k] != v {
						t.Errorf("object %d: %s = %q, want %q", i, k, got[i][k], v)
					}
				}
			}
			if tt.exit != 0 && !strings.Contains(r.stderr, "sessionbot: ") {
				t.Errorf("no words for people on stderr:\n%s", r.stderr)
			}
			assertNoSecrets(t, r.stdout+r.stderr)
		})
	}
}

// Without a terminal, nobody can answer a confirmation: none is asked, and
// the reset runs (the README says so).
func TestResetWithoutATerminalAsksNothing(t *testing.T) {
	t.Parallel()
	_, ipr := doubles(t)
	env := resetEnv(ipr)
	env["CONFIRM_ABOVE"] = "1"
	r := runWith(t, env, "", "reset", hashA, "scraper-eu", "scraper-eu-old")
	if r.err != nil || len(ipr.Resets()) != 1 {
		t.Fatalf("reset = %v, resets %v\n%s", r.err, ipr.Resets(), r.stderr)
	}
	if strings.Contains(r.stderr, "Confirm?") || strings.Contains(r.stderr, "confirmation_requested") {
		t.Errorf("asked for a confirmation nobody could give:\n%s", r.stderr)
	}
}

func TestFindJSONAndNoMatch(t *testing.T) {
	t.Parallel()
	_, ipr := doubles(t)
	var subs []iproyaltest.Subuser
	for i := range 23 {
		subs = append(subs, iproyaltest.Subuser{Hash: fmt.Sprintf("01H7YCG0R9GYY1YCPS2S4Q%04d", i), Username: fmt.Sprintf("crawler-%02d", i), Password: subPassword, TrafficUsed: 1.5, TrafficAvailable: 10})
	}
	ipr.SetSubusers(subs...)
	r := runWith(t, resetEnv(ipr), "", "find", "--json", "crawler")
	if r.err != nil {
		t.Fatalf("find --json: %v\n%s", r.err, r.stderr)
	}
	got := jsonLines(t, r.stdout, "username", "hash", "traffic_used_gb", "traffic_available_gb")
	if len(got) != 20 || got[0]["username"] != "crawler-00" || got[0]["hash"] != "01H7YCG0R9GYY1YCPS2S4Q0000" || got[0]["traffic_used_gb"] != 1.5 || got[0]["traffic_available_gb"] != 10.0 {
		t.Errorf("find --json = %d objects, the first %v", len(got), got[0])
	}
	if r.stderr != "...and 3 more: search for something longer to see them.\n" {
		t.Errorf("stderr = %q, want how many more", r.stderr)
	}
	assertNoSecrets(t, r.stdout)

	r = runWith(t, resetEnv(ipr), "", "find", "--json", "nobody")
	if exitCode(r.err) != 1 || r.stdout != "" || !strings.Contains(r.stderr, `no sub-user's username contains "nobody"`) {
		t.Errorf("find --json nobody = %v, %q, %q", r.err, r.stdout, r.stderr)
	}
	ipr.Script("GET", "/residential-subusers", iproyaltest.Response{Status: 500})
	ipr.Script("GET", "/residential-subusers", iproyaltest.Response{Status: 500})
	ipr.Script("GET", "/residential-subusers", iproyaltest.Response{Status: 500})
	r = runWith(t, resetEnv(ipr), "", "find", "crawler")
	if exitCode(r.err) != 1 || r.stdout != "" || r.stderr != "sessionbot: could not search the sub-users: IPRoyal had a server error (500 Internal Server Error). What to do: Try again in a few minutes; if it persists, check IPRoyal's status page.\n" {
		t.Errorf("find when IPRoyal fails = %v, %q, %q", r.err, r.stdout, r.stderr)
	}
	if r := runWith(t, resetEnv(ipr), "", "find", "scraper eu"); exitCode(r.err) != 2 || !strings.Contains(r.stderr, "no spaces or commas") {
		t.Errorf("find with a space = %v, %q", r.err, r.stderr)
	}
}

func TestStatusCommand(t *testing.T) {
	t.Parallel()
	_, ipr := doubles(t)
	ipr.SetAccount(iproyaltest.Account{AvailableTraffic: 32.6, SubusersCount: 13})
	r := runWith(t, resetEnv(ipr), "", "status")
	if r.err != nil || r.stdout != "IPRoyal account: 32.60 GB of residential traffic available, 13 sub-users.\n" || r.stderr != "" {
		t.Errorf("status = %v, %q, %q", r.err, r.stdout, r.stderr)
	}
	ipr.Script("GET", "/me", iproyaltest.Response{Status: 401, Body: `{"message":"Unauthenticated."}`})
	r = runWith(t, resetEnv(ipr), "", "status")
	if exitCode(r.err) != 1 || r.stdout != "" || !strings.HasPrefix(r.stderr, "sessionbot: could not get the account status: IPRoyal refused sessionbot's API token (401 Unauthorized: Unauthenticated.). What to do: ") {
		t.Errorf("status refused = %v, %q, %q", r.err, r.stdout, r.stderr)
	}
	if r := runWith(t, map[string]string{"IPROYAL_API_URL": ipr.URL}, "", "status"); exitCode(r.err) != 2 || !strings.Contains(r.stderr, "IPROYAL_API_TOKEN is not set") {
		t.Errorf("status without a token = %v, %q", r.err, r.stderr)
	}
	if r := runWith(t, resetEnv(ipr), "", "status", "now"); exitCode(r.err) != 2 {
		t.Errorf("status now = %v", r.err)
	}
	assertNoSecrets(t, r.stdout+r.stderr)
}

// Every subcommand has its own --help and a line in sessionbot help, and a
// mistyped one gets the closest.
func TestEverySubcommandListedAndSuggested(t *testing.T) {
	t.Parallel()
	help := runWith(t, nil, "", "help").stdout
	for sub := range subUsage {
		r := runWith(t, nil, "", sub, "--help")
		if r.err != nil || !strings.HasPrefix(r.stdout, "Usage: sessionbot ") {
			t.Errorf("%s --help = %v, %q", sub, r.err, r.stdout)
		}
		if sub != "bot" && !strings.Contains(help, "  sessionbot "+sub) {
			t.Errorf("sessionbot help does not list %s", sub)
		}
	}
	for typed, want := range map[string]string{
		"rest":        `unknown command "rest"; did you mean reset?`,
		"stauts":      `unknown command "stauts"; did you mean status?`,
		"Find":        `unknown command "Find"; did you mean find?`,
		"healtcheck":  `unknown command "healtcheck"; did you mean healthcheck?`,
		"frobnicate":  `unknown command "frobnicate" (see 'sessionbot help')`,
		"--bogus-flg": `unknown command "--bogus-flg" (see`,
	} {
		r := runWith(t, nil, "", typed)
		if exitCode(r.err) != 2 || !strings.Contains(r.stderr, want) {
			t.Errorf("sessionbot %s = %v, %q; want %q", typed, r.err, r.stderr, want)
		}
	}
}

// healthcheck never exits 2, which Docker's HEALTHCHECK reserves.
func TestHealthcheckNeverExits2(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"HTTP_ADDR": "notanaddr"}, nil, "HTTP_ADDR must be host:port"},
		{map[string]string{"HTTP_ADDR": ":99999"}, nil, "HTTP_ADDR must be host:port"},
		{map[string]string{"HTTP_ADDR": "127.0.0.1:1", "MAX_HASHES": "many"}, nil, "MAX_HASHES must be a whole number"},
		{map[string]string{"HTTP_ADDR": "127.0.0.1:1"}, []string{"--verbose"}, `unknown flag "--verbose"`},
	} {
		r := runWith(t, tt.env, "", append([]string{"healthcheck"}, tt.args...)...)
		if exitCode(r.err) != 1 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("healthcheck %v with %v = exit %d, %q; want exit 1 and %q", tt.args, tt.env, exitCode(r.err), r.stderr, tt.want)
		}
	}
}

// The audit trail names the operator: SESSIONBOT_OPERATOR, else $USER@host,
// and a guess says it is one.
func TestResetNamesItsOperator(t *testing.T) {
	t.Parallel()
	_, ipr := doubles(t)
	env := resetEnv(ipr)
	env["SESSIONBOT_OPERATOR"] = "ana@example.com"
	r := runWith(t, env, "", "reset", hashA)
	if r.err != nil || !strings.Contains(r.stderr, `"user":"ana@example.com"`) {
		t.Errorf("with SESSIONBOT_OPERATOR: %v\n%s", r.err, r.stderr)
	}

	env = resetEnv(ipr)
	delete(env, "USER")
	r = runWith(t, env, "", "reset", hashA)
	if r.err != nil {
		t.Fatalf("without USER: %v\n%s", r.err, r.stderr)
	}
	assertContains(t, "stderr", r.stderr, `"level":"WARN"`, "neither SESSIONBOT_OPERATOR nor USER is set", "set SESSIONBOT_OPERATOR")
	var line map[string]any
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.Contains(l, `"msg":"command"`) {
			_ = json.Unmarshal([]byte(l), &line)
		}
	}
	if user := fmt.Sprint(line["user"]); user == "" || strings.HasPrefix(user, "unknown") || !strings.Contains(user, "@") {
		t.Errorf("the audit line names %q", user)
	}

	env = resetEnv(ipr)
	env["SESSIONBOT_OPERATOR"] = "ana`@example.com"
	if r := runWith(t, env, "", "reset", hashA); exitCode(r.err) != 2 || !strings.Contains(r.stderr, "SESSIONBOT_OPERATOR must be") {
		t.Errorf("a backquote in SESSIONBOT_OPERATOR = %v, %q", r.err, r.stderr)
	}
	if n := len(ipr.Resets()); n != 2 {
		t.Errorf("%d resets, want 2", n)
	}
}

// When the reset cannot be journalled, it says why: no bot token, or one
// Slack refuses (never "Slack did not answer" for that).
func TestResetSaysWhyItIsNotJournalled(t *testing.T) {
	t.Parallel()
	sl, ipr := doubles(t)
	env := resetEnv(ipr)
	env["AUDIT_CHANNEL"] = auditChannel
	env["SLACK_API_URL"] = sl.URL
	r := runWith(t, env, "", "reset", hashA)
	if r.err != nil {
		t.Fatalf("reset: %v\n%s", r.err, r.stderr)
	}
	assertContains(t, "no token", r.stderr, "AUDIT_CHANNEL is set but SLACK_BOT_TOKEN is not, so this reset is not journalled")

	env["SLACK_BOT_TOKEN"] = "xoxb-revoked-0123456789"
	r = runWith(t, env, "", "reset", hashA)
	if r.err != nil {
		t.Fatalf("reset: %v\n%s", r.err, r.stderr)
	}
	assertContains(t, "refused token", r.stderr, "Slack refused SLACK_BOT_TOKEN, so this reset is not journalled", "invalid_auth")
	if strings.Contains(r.stderr, "did not answer") {
		t.Errorf("a refused token is worded as Slack not answering:\n%s", r.stderr)
	}
	if len(ipr.Resets()) != 2 || len(auditMessages(sl)) != 0 {
		t.Errorf("resets %v, audit messages %d; want 2 resets, no journal", ipr.Resets(), len(auditMessages(sl)))
	}
	assertNoSecrets(t, r.stderr)
}

var requestIDOnScreen = regexp.MustCompile(`"request_id":"([0-9a-f]{8})"`)

// On a terminal, reset asks before more than CONFIRM_ABOVE targets, with the
// core's confirmation, journalled as in Slack: y resets; n, Ctrl-C and
// Ctrl-D cancel, exit 1, and leave no prompt behind; --yes does not ask.
func TestResetConfirmsOnATerminal(t *testing.T) {
	t.Parallel()
	targets := []string{hashA, "scraper-eu", "scraper-eu-old"}
	for _, tt := range []struct {
		name  string
		flags []string
		keys  string // typed at the question; "" when none is asked
		exit  int
		state string // the journal entry's end
	}{
		{name: "yes", keys: "y\r", state: "reset"},
		{name: "no", keys: "n\r", exit: 1, state: "cancelled"},
		{name: "Ctrl-C", keys: "\x03", exit: 1, state: "cancelled"},
		{name: "Ctrl-D", keys: "\x04", exit: 1, state: "cancelled"},
		{name: "a y, then Ctrl-D", keys: "y\x04\x04", exit: 1, state: "cancelled"},
		{name: "--yes", flags: []string{"--yes"}, state: "reset"},
		{name: "--json", flags: []string{"--json"}, keys: "yes\r", state: "reset"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sl, ipr := doubles(t)
			env := resetEnv(ipr)
			env["CONFIRM_ABOVE"] = "2"
			env["SLACK_BOT_TOKEN"], env["SLACK_API_URL"], env["AUDIT_CHANNEL"] = botToken, sl.URL, auditChannel
			stdout := &syncBuffer{}
			r := onTerminal(t, env, stdout, append(append([]string{"reset"}, tt.flags...), targets...)...)
			if tt.keys != "" {
				r.see("Confirm? [y/N] ", 1)
				assertContains(t, "the question", r.screen.String(),
					"This resets the sessions of 3 residential users, more than CONFIRM_ABOVE (2), so it asks first",
					"  "+hashA+"\r\n", "  "+hashB+"  scraper-eu\r\n", "  "+hashC+"  scraper-eu-old\r\n")
				if n := len(ipr.Resets()); n != 0 {
					t.Fatalf("%d resets before the answer", n)
				}
				r.type_(tt.keys)
			}
			if exit := r.exit(); exit != tt.exit {
				t.Fatalf("exit %d, want %d; the terminal shows:\n%s", exit, tt.exit, r.screen)
			}
			screen := r.screen.String()
			switch {
			case tt.exit == 0 && len(ipr.Resets()) != 1:
				t.Errorf("resets %v, want one", ipr.Resets())
			case tt.exit != 0 && len(ipr.Resets()) != 0:
				t.Errorf("resets %v after %s", ipr.Resets(), tt.name)
			case tt.keys == "" && strings.Contains(screen, "Confirm?"):
				t.Errorf("%s asked anyway:\n%s", tt.name, screen)
			case tt.exit != 0 && !strings.Contains(screen, "\r\nsessionbot: cancelled: nothing was reset\r\n"):
				t.Errorf("no cancellation on its own line:\n%q", screen)
			}
			// The question is asked once and left on its own line: nothing
			// is written after the prompt but the answer.
			if tt.keys != "" && (strings.Count(screen, "Confirm? [y/N] ") != 1 || !regexp.MustCompile(`Confirm\? \[y/N\] (y|n|yes|\^C|y\^D)?\r\n\{`).MatchString(screen)) {
				t.Errorf("the prompt is repeated, or not ended by a new line:\n%q", screen)
			}
			switch {
			case tt.name == "--json":
				got := jsonLines(t, stdout.String(), resetFields...)
				if len(got) != 3 || got[0]["outcome"] != "reset" {
					t.Errorf("--json printed %v", got)
				}
			case tt.exit == 0 && !strings.Contains(stdout.String(), "Reset the sessions of 3 residential users:\n"):
				t.Errorf("stdout = %q", stdout)
			case tt.exit != 0 && stdout.String() != "":
				t.Errorf("stdout = %q after %s", stdout, tt.name)
			}
			m := requestIDOnScreen.FindStringSubmatch(screen)
			if m == nil {
				t.Fatalf("no audit line on the terminal:\n%s", screen)
			}
			_, entry := journalEntryIn(t, sl, m[1], tt.state)
			if entry["source"] != "cli" {
				t.Errorf("journal entry %v", entry)
			}
			assertNoSecrets(t, screen+stdout.String())
		})
	}
}
