package main

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/sessionbot/sessionbot/bot/slack"
	"github.com/sessionbot/sessionbot/bot/slack/slacktest"
	"github.com/sessionbot/sessionbot/iproyal/iproyaltest"
)

const sreGroup = "S0SRE"

// checkedWorkspace makes the doubles a workspace where every check passes:
// the token has every scope, the IDs name real things, the bot is in its
// channels, and IPRoyal knows the account.
func checkedWorkspace(t *testing.T) (*slacktest.Server, *iproyaltest.Server, map[string]string) {
	t.Helper()
	sl, ipr := doubles(t)
	sl.SetScopes(slack.Scopes()...)
	sl.AddUser(slacktest.User{ID: allowedUser, Name: "ana", RealName: "Ana Lopez"})
	members := make([]string, 12)
	for i := range members {
		members[i] = fmt.Sprintf("U0SRE%02d", i)
	}
	sl.AddUsergroup(slacktest.Usergroup{ID: sreGroup, Handle: "sre", Name: "SRE"}, members...)
	sl.AddChannel(slacktest.Channel{ID: channel, Name: "general", Member: true})
	sl.AddChannel(slacktest.Channel{ID: auditChannel, Name: "sessionbot-audit", Private: true, Member: true})
	ipr.SetAccount(iproyaltest.Account{AvailableTraffic: 32.6, SubusersCount: 13})
	env := baseEnv(sl, ipr, freeAddr(t))
	env["ALLOWED_USERGROUPS"] = sreGroup
	env["ALLOWED_CHANNELS"] = channel
	env["AUDIT_CHANNEL"] = auditChannel
	return sl, ipr, env
}

func TestCheckPasses(t *testing.T) {
	sl, _, env := checkedWorkspace(t)
	// check does not listen on HTTP_ADDR: it runs beside a bot that does.
	ln, err := net.Listen("tcp", env["HTTP_ADDR"])
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	r := runWith(t, env, "", "check")
	want := `sessionbot check: the configuration, and Slack and IPRoyal with it. Nothing is reset or posted.

✔ configuration: every variable is valid
✔ SLACK_BOT_TOKEN: Slack accepts it: the bot @sessionbot (U0SESSIONBOT) in sessionbot tests (T0SESSION)
✔ scopes: the token has all 12 that sessionbot uses
✔ ALLOWED_USERS U0ALLOWED = @ana (Ana Lopez)
✔ ALLOWED_USERGROUPS S0SRE = @sre (12 members)
✔ ALLOWED_CHANNELS C0GENERAL = #general, the bot is a member
✔ AUDIT_CHANNEL C0AUDIT = #sessionbot-audit, the bot is a member and reads its history (the journal)
✔ SLACK_APP_TOKEN: opened a Socket Mode connection, then closed it (the app had 1 connection open, this one included; Slack allows 10)
✔ IPROYAL_API_TOKEN: IPRoyal accepts it: 32.60 GB of traffic left, 13 sub-users

All 9 checks passed.
`
	if r.err != nil || r.stdout != want || r.stderr != "" {
		t.Errorf("check = %v\nstdout:\n%s\nstderr:\n%s\nwant:\n%s", r.err, r.stdout, r.stderr, want)
	}
	// It read; it wrote nothing.
	if len(sl.State().Messages()) != 0 || len(sl.State().Reactions()) != 0 || len(sl.State().Views()) != 0 || len(sl.State().Updates()) != 0 {
		t.Error("check posted, reacted or opened a view")
	}
	for _, c := range sl.State().Calls("") {
		if _, known := slack.MethodScopes[c.Method]; !known {
			t.Errorf("check called %s, which slack.MethodScopes does not list", c.Method)
		}
	}
	assertNoSecrets(t, r.stdout+r.stderr)
}

// check runs beside a running bot, which goes on serving.
func TestCheckBesideARunningBot(t *testing.T) {
	h := startBot(t, nil)
	h.slack.SetScopes(slack.Scopes()...)
	h.slack.AddUser(slacktest.User{ID: allowedUser, Name: "ana"})
	r := runWith(t, h.env, "", "check")
	if r.err != nil || !strings.Contains(r.stdout, "the app had 2 connections open, this one included") {
		t.Fatalf("check = %v\n%s", r.err, r.stdout)
	}
	h.waitReady(true)
	h.private(h.command(allowedUser, "help"))
}

func TestCheckFails(t *testing.T) {
	tests := []struct {
		name string
		edit func(sl *slacktest.Server, ipr *iproyaltest.Server, env map[string]string)
		want []string // lines, each starting with ✘, that must be in the output
	}{
		{"bad variables, and the rest still checked", func(_ *slacktest.Server, _ *iproyaltest.Server, env map[string]string) {
			env["MAX_HASHES"], env["CONFIRM_SECRET"] = "many", "REPLACE-ME"
		}, []string{`✘ MAX_HASHES must be a whole number, got "many"`, "✘ CONFIRM_SECRET is still the example's placeholder; make one with: openssl rand -hex 32"}},
		{"no tokens", func(_ *slacktest.Server, _ *iproyaltest.Server, env map[string]string) {
			env["SLACK_BOT_TOKEN"], env["SLACK_APP_TOKEN"], env["IPROYAL_API_TOKEN"] = "", "", ""
		}, []string{"✘ SLACK_APP_TOKEN is not set", "✘ SLACK_BOT_TOKEN is not set", "✘ IPROYAL_API_TOKEN is not set"}},
		{"tokens of the wrong kind, bad URLs: not tried", func(_ *slacktest.Server, _ *iproyaltest.Server, env map[string]string) {
			env["SLACK_BOT_TOKEN"], env["IPROYAL_API_URL"] = "xoxp-a-user-token-0123456789", "resi-api.iproyal.com"
		}, []string{"✘ SLACK_BOT_TOKEN must be a bot token starting with xoxb-", "✘ IPROYAL_API_URL must be an absolute http or https URL", "✘ IPRoyal: not checked, since IPROYAL_API_URL is not a URL"}},
		{"bot token refused", func(_ *slacktest.Server, _ *iproyaltest.Server, env map[string]string) {
			env["SLACK_BOT_TOKEN"] = "xoxb-revoked-0123456789"
		}, []string{"✘ SLACK_BOT_TOKEN: Slack refused it (invalid_auth): copy the Bot User OAuth Token", "✘ the allow-list, the channels and SLACK_APP_TOKEN: not checked, since SLACK_BOT_TOKEN does not work"}},
		{"Slack unreachable", func(_ *slacktest.Server, _ *iproyaltest.Server, env map[string]string) {
			env["SLACK_API_URL"] = "http://127.0.0.1:1/api/"
		}, []string{"✘ SLACK_BOT_TOKEN: not checked: Slack did not answer at SLACK_API_URL http://127.0.0.1:1/api/: the connection was refused (", "connection refused"}},
		{"a scope missing", func(sl *slacktest.Server, _ *iproyaltest.Server, _ map[string]string) {
			sl.SetScopes(slices.DeleteFunc(slack.Scopes(), func(s string) bool { return s == "users:read" || s == "groups:history" })...)
		}, []string{"✘ scopes: the token lacks groups:history (a private AUDIT_CHANNEL's journal, and finding posts whose answer was lost), users:read (sessionbot check naming ALLOWED_USERS): add them on the app's OAuth & Permissions page",
			"✘ ALLOWED_USERS U0ALLOWED: not checked: the token lacks users:read (see scopes)",
			"✘ AUDIT_CHANNEL C0AUDIT = #sessionbot-audit: the bot cannot read its history (the journal): the token lacks groups:history (see scopes)"}},
		{"no scopes header", func(sl *slacktest.Server, _ *iproyaltest.Server, _ map[string]string) {
			sl.SetScopes() // an empty list: no header, nothing granted
		}, []string{"✘ scopes: not checked: Slack did not list the token's scopes", "✘ ALLOWED_USERGROUPS S0SRE: not checked: the token lacks usergroups:read"}},
		{"unknown and deactivated users", func(sl *slacktest.Server, _ *iproyaltest.Server, env map[string]string) {
			sl.AddUser(slacktest.User{ID: "U0GONE", Name: "bob", Deleted: true})
			env["ALLOWED_USERS"] = allowedUser + ",U0NOBODY,U0GONE"
		}, []string{"✘ ALLOWED_USERS U0NOBODY: no such user in this workspace: copy the member ID", "✘ ALLOWED_USERS U0GONE = @bob: the account is deactivated"}},
		{"unknown and disabled groups", func(sl *slacktest.Server, _ *iproyaltest.Server, env map[string]string) {
			sl.AddUsergroup(slacktest.Usergroup{ID: "S0OLD", Handle: "old-team", Disabled: true})
			env["ALLOWED_USERGROUPS"] = "S0NOPE,S0OLD"
		}, []string{"✘ ALLOWED_USERGROUPS S0NOPE: no such user group in this workspace; its groups: @old-team is S0OLD, @sre is S0SRE\n", "✘ ALLOWED_USERGROUPS S0OLD = @old-team is disabled"}},
		{"a free workspace has no user groups", func(sl *slacktest.Server, _ *iproyaltest.Server, _ map[string]string) {
			sl.Fail("usergroups.list", slacktest.Failure{Error: "plan_upgrade_required"})
		}, []string{"✘ ALLOWED_USERGROUPS: this workspace has no user groups (they need a paid Slack plan)"}},
		{"channels the bot is not in", func(sl *slacktest.Server, _ *iproyaltest.Server, env map[string]string) {
			sl.AddChannel(slacktest.Channel{ID: "C0PUBLIC", Name: "ops"})
			sl.AddChannel(slacktest.Channel{ID: "G0SECRET", Name: "secret", Private: true})
			sl.AddChannel(slacktest.Channel{ID: "C0ATTIC", Name: "attic", Member: true, Archived: true})
			env["ALLOWED_CHANNELS"] = "C0PUBLIC,G0SECRET,C0ATTIC,C0NOWHERE"
		}, []string{"✘ ALLOWED_CHANNELS C0PUBLIC = #ops: the bot is not a member: type /invite @sessionbot in #ops",
			"✘ ALLOWED_CHANNELS G0SECRET: not found: no such channel, or a private one the bot is not in: /invite @sessionbot there",
			"✘ ALLOWED_CHANNELS C0ATTIC = #attic is archived", "✘ ALLOWED_CHANNELS C0NOWHERE: not found"}},
		{"the audit channel without the bot", func(sl *slacktest.Server, _ *iproyaltest.Server, _ map[string]string) {
			sl.AddChannel(slacktest.Channel{ID: auditChannel, Name: "audit"})
		}, []string{"✘ AUDIT_CHANNEL C0AUDIT = #audit: the bot is not a member: type /invite @sessionbot in #audit"}},
		{"app token refused", func(_ *slacktest.Server, _ *iproyaltest.Server, env map[string]string) {
			env["SLACK_APP_TOKEN"] = "xapp-revoked-0123456789"
		}, []string{"✘ SLACK_APP_TOKEN: Slack refused it (invalid_auth): generate an app-level token with the connections:write scope"}},
		{"Socket Mode off", func(sl *slacktest.Server, _ *iproyaltest.Server, _ map[string]string) {
			sl.Fail("apps.connections.open", slacktest.Failure{Error: "not_allowed"})
		}, []string{"✘ SLACK_APP_TOKEN: Slack would not open a Socket Mode connection (not_allowed): turn Socket Mode on"}},
		{"IPRoyal refuses its token", func(_ *slacktest.Server, ipr *iproyaltest.Server, _ map[string]string) {
			ipr.Script("GET", "/me", iproyaltest.Response{Status: 401, Body: `{"message":"Unauthenticated. ` + iproyalToken + `"}`})
		}, []string{"✘ IPROYAL_API_TOKEN: IPRoyal refused it (iproyal: GET /me: 401 Unauthorized: Unauthenticated. [redacted]): create a token in the IPRoyal dashboard"}},
		{"IPRoyal unreachable", func(_ *slacktest.Server, _ *iproyaltest.Server, env map[string]string) {
			env["IPROYAL_API_URL"] = "http://127.0.0.1:1/v1"
		}, []string{"✘ IPROYAL_API_TOKEN: not checked: IPRoyal did not answer at IPROYAL_API_URL http://127.0.0.1:1/v1: the connection was refused ("}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sl, ipr, env := checkedWorkspace(t)
			tt.edit(sl, ipr, env)
			r := runWith(t, env, "", "check")
			if exitCode(r.err) != 1 || r.stderr != "" {
				t.Errorf("exit %d (%v), stderr %q; want exit 1 and the checklist only", exitCode(r.err), r.err, r.stderr)
			}
			assertContains(t, "check's output", r.stdout, tt.want...)
			if !strings.Contains(r.stdout, " checks failed.\n") {
				t.Errorf("no count of the failures:\n%s", r.stdout)
			}
			if strings.Count(r.stdout, "✘") == 0 {
				t.Errorf("no ✘ in:\n%s", r.stdout)
			}
			if len(sl.State().Messages()) != 0 || len(sl.State().Reactions()) != 0 || ipr.Count("DELETE", "/sessions") != 0 {
				t.Error("check posted or reset something")
			}
			assertNoSecrets(t, r.stdout)
		})
	}
}

func TestCheckUsage(t *testing.T) {
	r := runWith(t, nil, "", "check", "now")
	if exitCode(r.err) != 2 || !strings.Contains(r.stderr, "check takes no arguments") {
		t.Errorf("check now = %v, %q", r.err, r.stderr)
	}
}

// With APPROVAL_ABOVE, check names the approvers as it names the
// allow-list, and says which are not there.
func TestCheckNamesTheApprovers(t *testing.T) {
	_, _, env := checkedWorkspace(t)
	env["APPROVAL_ABOVE"] = "5"
	env["APPROVERS"] = allowedUser + "," + sreGroup + ",U0GONE"
	r := runWith(t, env, "", "check")
	assertContains(t, "check", r.stdout,
		"✔ APPROVERS "+allowedUser+" = @ana (Ana Lopez)",
		"✔ APPROVERS "+sreGroup+" = @sre (12 members)",
		"✘ APPROVERS U0GONE: no such user in this workspace")
	if exitCode(r.err) != 1 {
		t.Errorf("check = %v, want exit 1", r.err)
	}
}
