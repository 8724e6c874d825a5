package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/sessionbot/sessionbot/bot/slack"
	"github.com/sessionbot/sessionbot/iproyal"
)

// checkTimeout bounds each question check asks Slack or IPRoyal.
const checkTimeout = 20 * time.Second

// checklist prints one line per item, ✔ or ✘ with what to do, and counts.
type checklist struct {
	w              io.Writer
	secrets        []string
	passed, failed int
}

func (c *checklist) pass(format string, args ...any) {
	c.passed++
	fmt.Fprintf(c.w, "✔ %s\n", mask(fmt.Sprintf(format, args...), c.secrets))
}

func (c *checklist) fail(format string, args ...any) {
	c.failed++
	fmt.Fprintf(c.w, "✘ %s\n", mask(fmt.Sprintf(format, args...), c.secrets))
}

// runCheck is "sessionbot check": it verifies the whole setup with the
// real environment, and prints a checklist. It resets nothing, posts
// nothing and does not bind HTTP_ADDR, so it runs beside a running bot
// (kubectl exec). It exits 0 when every item passes, 1 otherwise.
func runCheck(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if err := rejectFlags(args); err != nil {
		return err
	}
	if len(args) > 0 {
		return usagef("check takes no arguments; it checks the configuration in the environment")
	}
	cfg, err := loadConfig(getenv)
	c := &checklist{w: stdout, secrets: cfg.secrets()}
	fmt.Fprintln(stdout, "sessionbot check: the configuration, and Slack and IPRoyal with it. Nothing is reset or posted.")
	fmt.Fprintln(stdout)

	var p problems
	p.add(err)
	p.add(cfg.validateBot())
	if len(p) == 0 {
		c.pass("configuration: every variable is valid")
	}
	for _, problem := range p {
		c.fail("%s", problem)
	}
	if cfg.PolicyFile != "" {
		if pol, err := loadPolicy(cfg.PolicyFile); err == nil {
			c.pass("POLICY_FILE %s: valid, %s (sessionbot policy check lists them), sha256 %.12s…", cfg.PolicyFile, plural(len(pol.Grants), "grant", "grants"), pol.SHA256)
		}
	}
	// What the configuration lines above refused is not tried: a user
	// token in SLACK_BOT_TOKEN would pass auth.test, and say nothing.
	switch {
	case !strings.HasPrefix(cfg.SlackBotToken, "xoxb-"):
	case checkURL("SLACK_API_URL", cfg.SlackAPIURL, "") != nil:
		c.fail("Slack: not checked, since SLACK_API_URL is not a URL")
	default:
		sl := slack.New(slack.Options{AppToken: cfg.SlackAppToken, BotToken: cfg.SlackBotToken, APIURL: cfg.SlackAPIURL})
		if checkSlack(ctx, c, sl, cfg) && strings.HasPrefix(cfg.SlackAppToken, "xapp-") {
			checkSocketMode(ctx, c, sl, cfg)
		}
	}
	switch {
	case cfg.IPRoyalToken == "":
	case checkURL("IPROYAL_API_URL", cfg.IPRoyalAPIURL, "") != nil:
		c.fail("IPRoyal: not checked, since IPROYAL_API_URL is not a URL")
	default:
		checkIPRoyal(ctx, c, cfg)
	}

	fmt.Fprintln(stdout)
	if c.failed > 0 {
		fmt.Fprintf(stdout, "%d of %d checks failed.\n", c.failed, c.passed+c.failed)
		return &checkFailed{c.failed}
	}
	fmt.Fprintf(stdout, "All %d checks passed.\n", c.passed)
	return nil
}

// checkFailed is a check with a ✘: the checklist said everything, so it
// exits 1 without another line.
type checkFailed struct{ n int }

func (e *checkFailed) Error() string { return fmt.Sprintf("%d checks failed", e.n) }

// checkSlack checks the bot token, its scopes and the names behind every
// configured ID; it reports whether Slack answered at all.
func checkSlack(ctx context.Context, c *checklist, sl *slack.Slack, cfg config) bool {
	callCtx, cancel := context.WithTimeout(ctx, checkTimeout)
	auth, err := sl.CheckAuth(callCtx)
	cancel()
	if err != nil {
		if code, refused := slack.TokenRefused(err); refused {
			c.fail("SLACK_BOT_TOKEN: Slack refused it (%s): copy the Bot User OAuth Token (xoxb-...) again from the app's OAuth & Permissions page, and install the app to the workspace if it is not", code)
		} else {
			c.fail("SLACK_BOT_TOKEN: not checked: %s; check SLACK_API_URL, and that this host reaches Slack (egress, DNS, a proxy)", unreachable("Slack", "SLACK_API_URL", cfg.SlackAPIURL, err, cfg))
		}
		c.fail("the allow-list, the channels and SLACK_APP_TOKEN: not checked, since SLACK_BOT_TOKEN does not work")
		return false
	}
	c.pass("SLACK_BOT_TOKEN: Slack accepts it: the bot @%s (%s) in %s (%s)", auth.User, auth.UserID, auth.Team, auth.TeamID)
	checkScopes(c, auth.Scopes)

	lookups := slackLookups{ctx: ctx, c: c, sl: sl}
	lookups.users("ALLOWED_USERS", cfg.AllowedUsers)
	lookups.usergroups("ALLOWED_USERGROUPS", "ALLOWED_USERS", cfg.AllowedUsergroups)
	if cfg.ApprovalAbove != "" {
		var users, groups []string
		for _, id := range cfg.Approvers {
			if strings.HasPrefix(id, "S") {
				groups = append(groups, id)
			} else {
				users = append(users, id)
			}
		}
		lookups.users("APPROVERS", users)
		lookups.usergroups("APPROVERS", "APPROVERS", groups)
	}
	for _, id := range cfg.AllowedChannels {
		lookups.channel("ALLOWED_CHANNELS", id, false)
	}
	if cfg.AuditChannel != "" {
		lookups.channel("AUDIT_CHANNEL", cfg.AuditChannel, true)
	}
	return true
}

// checkScopes compares the token's scopes with every scope sessionbot uses.
func checkScopes(c *checklist, have []string) {
	want := slack.Scopes()
	if have == nil {
		c.fail("scopes: not checked: Slack did not list the token's scopes (no x-oauth-scopes header); compare the app's OAuth & Permissions page with deploy/slack-app-manifest.yaml")
		return
	}
	var missing []string
	for _, s := range want {
		if !slices.Contains(have, s) {
			missing = append(missing, fmt.Sprintf("%s (%s)", s, slack.ScopeUse(s)))
		}
	}
	if len(missing) > 0 {
		c.fail("scopes: the token lacks %s: add them on the app's OAuth & Permissions page (or paste deploy/slack-app-manifest.yaml again), then reinstall the app", strings.Join(missing, ", "))
		return
	}
	c.pass("scopes: the token has all %d that sessionbot uses", len(want))
}

// slackLookups names the configured IDs.
type slackLookups struct {
	ctx context.Context
	c   *checklist
	sl  *slack.Slack
}

func (l slackLookups) call(f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(l.ctx, checkTimeout)
	defer cancel()
	return f(ctx)
}

// lookupFailed words a lookup that failed for a reason other than the ID.
func (l slackLookups) lookupFailed(variable string, id string, err error) {
	if scope, ok := slack.MissingScope(err); ok {
		l.c.fail("%s %s: not checked: the token lacks %s (see scopes)", variable, id, scope)
		return
	}
	l.c.fail("%s %s: not checked: Slack answered %s", variable, id, describeSlackError(err))
}

func (l slackLookups) users(name string, ids []string) {
	for _, id := range ids {
		var u slack.User
		err := l.call(func(ctx context.Context) (err error) { u, err = l.sl.User(ctx, id); return err })
		switch {
		case slack.ErrorCode(err) == "user_not_found":
			l.c.fail("%s %s: no such user in this workspace: copy the member ID from the person's profile (⋮, then Copy member ID)", name, id)
		case err != nil:
			l.lookupFailed(name, id, err)
		case u.Deleted:
			l.c.fail("%s %s = @%s: the account is deactivated: remove it from %s", name, id, u.Name, name)
		default:
			l.c.pass("%s %s = @%s%s", name, id, u.Name, parenthesised(u.RealName))
		}
	}
}

// usergroups names the user groups ids of the variable name; people is
// the variable to list people in where a workspace has no groups.
func (l slackLookups) usergroups(name, people string, ids []string) {
	if len(ids) == 0 {
		return
	}
	var groups map[string]slack.Usergroup
	err := l.call(func(ctx context.Context) (err error) { groups, err = l.sl.Usergroups(ctx); return err })
	switch code := slack.ErrorCode(err); {
	case code == "plan_upgrade_required" || code == "paid_teams_only":
		l.c.fail("%s: this workspace has no user groups (they need a paid Slack plan): list the people in %s instead", name, people)
		return
	case err != nil:
		l.lookupFailed(name, strings.Join(ids, ","), err)
		return
	}
	for _, id := range ids {
		g, ok := groups[id]
		switch {
		case !ok:
			l.c.fail("%s %s: no such user group in this workspace; %s", name, id, knownGroups(groups))
		case g.Disabled:
			l.c.fail("%s %s = @%s is disabled: nobody is allowed through it; enable it again, or remove it", name, id, g.Handle)
		default:
			l.c.pass("%s %s = @%s (%s)", name, id, g.Handle, plural(g.Members, "member", "members"))
		}
	}
}

// channel checks that the bot is a member of a channel and, for the
// journal, that it reads its history.
func (l slackLookups) channel(variable, id string, journal bool) {
	if strings.HasPrefix(id, "D") {
		l.c.pass("%s %s: a direct message, which Slack does not let a bot look up: not checked", variable, id)
		return
	}
	var ch slack.Channel
	err := l.call(func(ctx context.Context) (err error) { ch, err = l.sl.Channel(ctx, id); return err })
	switch {
	case slack.ErrorCode(err) == "channel_not_found":
		l.c.fail("%s %s: not found: no such channel, or a private one the bot is not in: /invite @sessionbot there (the ID is at the bottom of the channel's details)", variable, id)
		return
	case err != nil:
		l.lookupFailed(variable, id, err)
		return
	case ch.Archived:
		l.c.fail("%s %s = #%s is archived: unarchive it, or use another channel", variable, id, ch.Name)
		return
	case !ch.Member:
		l.c.fail("%s %s = #%s: the bot is not a member: type /invite @sessionbot in #%s", variable, id, ch.Name, ch.Name)
		return
	}
	if !journal {
		l.c.pass("%s %s = #%s, the bot is a member", variable, id, ch.Name)
		return
	}
	err = l.call(func(ctx context.Context) error { return l.sl.ReadJournal(ctx, id) })
	switch scope, missing := slack.MissingScope(err); {
	case missing:
		l.c.fail("%s %s = #%s: the bot cannot read its history (the journal): the token lacks %s (see scopes)", variable, id, ch.Name, scope)
	case err != nil:
		l.c.fail("%s %s = #%s: the bot cannot read its history (the journal): Slack answered %s", variable, id, ch.Name, describeSlackError(err))
	default:
		l.c.pass("%s %s = #%s, the bot is a member and reads its history (the journal)", variable, id, ch.Name)
	}
}

// knownGroups lists the workspace's user groups with their IDs, to copy
// the right one from (Slack's apps show a group's handle, not its ID).
func knownGroups(groups map[string]slack.Usergroup) string {
	if len(groups) == 0 {
		return "it has none"
	}
	var list []string
	for _, id := range slices.Sorted(maps.Keys(groups)) {
		list = append(list, fmt.Sprintf("@%s is %s", groups[id].Handle, id))
	}
	const most = 20
	if len(list) > most {
		list = append(list[:most], fmt.Sprintf("and %d more", len(list)-most))
	}
	return "its groups: " + strings.Join(list, ", ")
}

// checkSocketMode opens a Socket Mode connection with the app-level token,
// then closes it.
func checkSocketMode(ctx context.Context, c *checklist, sl *slack.Slack, cfg config) {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	n, err := sl.OpenSocket(ctx)
	switch code, refused := slack.TokenRefused(err); {
	case refused:
		c.fail("SLACK_APP_TOKEN: Slack refused it (%s): generate an app-level token with the connections:write scope (the app's Basic Information page, App-Level Tokens)", code)
	case code != "":
		c.fail("SLACK_APP_TOKEN: Slack would not open a Socket Mode connection (%s): turn Socket Mode on in the app's settings", code)
	case err != nil:
		c.fail("SLACK_APP_TOKEN: could not open a Socket Mode connection: %s; this host must reach Slack's WebSocket endpoint on 443", mask(err.Error(), cfg.secrets()))
	default:
		c.pass("SLACK_APP_TOKEN: opened a Socket Mode connection, then closed it (the app had %s open, this one included; Slack allows 10)", plural(n, "connection", "connections"))
	}
}

// checkIPRoyal asks IPRoyal for the account (GET /me).
func checkIPRoyal(ctx context.Context, c *checklist, cfg config) {
	ipr, err := newIPRoyal(cfg, nil)
	if err != nil {
		c.fail("IPROYAL_API_TOKEN: not checked: %v", err)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 2*checkTimeout)
	defer cancel()
	acct, err := ipr.Me(ctx)
	switch {
	case errors.Is(err, iproyal.ErrUnauthorized):
		c.fail("IPROYAL_API_TOKEN: IPRoyal refused it (%s): create a token in the IPRoyal dashboard (API access needs a verified account) and set it", mask(err.Error(), cfg.secrets()))
	case err != nil:
		c.fail("IPROYAL_API_TOKEN: not checked: %s; check IPROYAL_API_URL, and that this host reaches IPRoyal", unreachable("IPRoyal", "IPROYAL_API_URL", cfg.IPRoyalAPIURL, err, cfg))
	default:
		c.pass("IPROYAL_API_TOKEN: IPRoyal accepts it: %.2f GB of traffic left, %s", acct.AvailableTraffic, plural(acct.SubusersCount, "sub-user", "sub-users"))
	}
}

// describeSlackError is Slack's error code, or what went wrong without one.
func describeSlackError(err error) string {
	if code := slack.ErrorCode(err); code != "" {
		return code
	}
	return err.Error()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func parenthesised(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}
