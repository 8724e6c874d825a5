package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/sessionbot/sessionbot/bot/policy"
)

// config is everything sessionbot reads from its environment. The desc
// tags are what `sessionbot help` lists; README.md says more.
type config struct {
	SlackAppToken     string        `envconfig:"SLACK_APP_TOKEN" desc:"app-level token for Socket Mode (xapp-...); the bot and check need it"`
	SlackBotToken     string        `envconfig:"SLACK_BOT_TOKEN" desc:"bot token (xoxb-...); the bot and check need it, reset uses it to journal"`
	IPRoyalToken      string        `envconfig:"IPROYAL_API_TOKEN" desc:"IPRoyal API token; bot, check, reset, find, status and shell (but not shell --dry-run) need it"`
	AllowedUsers      []string      `envconfig:"ALLOWED_USERS" desc:"Slack user IDs allowed to reset, comma-separated"`
	AllowedUsergroups []string      `envconfig:"ALLOWED_USERGROUPS" desc:"user group IDs (S...) whose members are allowed"`
	AllowedChannels   []string      `envconfig:"ALLOWED_CHANNELS" desc:"if set, the only channel IDs the command works in"`
	PolicyFile        string        `envconfig:"POLICY_FILE" desc:"path to a YAML policy file of who may reset which sub-users, and where (sessionbot policy check FILE checks it); instead of the ALLOWED_* variables"`
	AuditChannel      string        `envconfig:"AUDIT_CHANNEL" desc:"channel ID for the audit trail and the journal"`
	ApprovalAbove     string        `envconfig:"APPROVAL_ABOVE" desc:"without POLICY_FILE: requests with more targets than this wait for an approver (0: every request); unset: no approval"`
	Approvers         []string      `envconfig:"APPROVERS" desc:"with APPROVAL_ABOVE: user and user group IDs who may approve, comma-separated"`
	ApprovalTTL       time.Duration `envconfig:"APPROVAL_TTL" default:"30m" desc:"with APPROVAL_ABOVE: how long a request waits for approval, 1s to 24h"`
	SlashCommand      string        `envconfig:"SLASH_COMMAND" default:"/reset-sessions" desc:"the command the bot answers"`
	MaxHashes         int           `envconfig:"MAX_HASHES" default:"100" desc:"most targets in one command"`
	MaxConcurrent     int           `envconfig:"MAX_CONCURRENT" default:"100" desc:"most commands handled at once"`
	SlackAPIURL       string        `envconfig:"SLACK_API_URL" default:"https://slack.com/api/" desc:"Slack Web API base"`
	IPRoyalAPIURL     string        `envconfig:"IPROYAL_API_URL" default:"https://resi-api.iproyal.com/v1" desc:"IPRoyal residential API base"`
	IPRoyalTimeout    time.Duration `envconfig:"IPROYAL_TIMEOUT" default:"10s" desc:"timeout of each IPRoyal request (3 attempts)"`
	HTTPAddr          string        `envconfig:"HTTP_ADDR" default:":8080" desc:"listener for /healthz, /readyz and /metrics"`
	LogLevel          string        `envconfig:"LOG_LEVEL" default:"info" desc:"debug, info, warn or error"`
	LogFormat         string        `envconfig:"LOG_FORMAT" default:"json" desc:"json, or text for people"`
	ShutdownTimeout   time.Duration `envconfig:"SHUTDOWN_TIMEOUT" default:"25s" desc:"how long commands in flight may finish after SIGTERM"`
	CommandTimeout    time.Duration `envconfig:"COMMAND_TIMEOUT" default:"2m" desc:"the most one command may take"`
	ConfirmAbove      int           `envconfig:"CONFIRM_ABOVE" default:"10" desc:"commands with more targets wait for a Confirm click"`
	ConfirmTTL        time.Duration `envconfig:"CONFIRM_TTL" default:"5m" desc:"how long a confirmation can be clicked (at most 30m)"`
	ConfirmSecret     string        `envconfig:"CONFIRM_SECRET" desc:"key signing confirmations: 64+ hex digits or base64 of 32+ random bytes (openssl rand -hex 32); default derived from SLACK_BOT_TOKEN"`
	RateLimit         int           `envconfig:"RATE_LIMIT_PER_MINUTE" default:"10" desc:"requests per user per minute, per replica; 0: no limit"`
	Operator          string        `envconfig:"SESSIONBOT_OPERATOR" desc:"who runs the command line's reset, for its audit line and journal entry; default $USER@host"`
}

// envMu serialises loadConfig's use of the process environment.
var envMu sync.Mutex

// configError lists every problem with the configuration at once, so an
// operator fixes them in one round instead of one per restart. Nothing was
// done, and it exits with 2, like a usage error.
type configError struct{ problems []string }

func (e *configError) Error() string {
	if len(e.problems) == 1 {
		return e.problems[0]
	}
	parts := make([]string, len(e.problems))
	for i, p := range e.problems {
		parts[i] = fmt.Sprintf("(%d) %s", i+1, p)
	}
	return fmt.Sprintf("%d problems with the configuration: %s", len(e.problems), strings.Join(parts, "; "))
}

// list is the problems one to a line, for a person at a terminal.
func (e *configError) list() string {
	if len(e.problems) == 1 {
		return e.problems[0]
	}
	return fmt.Sprintf("%d problems with the configuration:\n  - %s", len(e.problems), strings.Join(e.problems, "\n  - "))
}

// problems collects what is wrong with a configuration.
type problems []string

func (p *problems) addf(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

// add adds err's problems (every one of a *configError's).
func (p *problems) add(err error) {
	var ce *configError
	switch {
	case err == nil:
	case errors.As(err, &ce):
		*p = append(*p, ce.problems...)
	default:
		*p = append(*p, err.Error())
	}
}

// err is nil without problems, else a *configError listing them.
func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return &configError{problems: p}
}

// configErrors joins what several checks found, in order, as one error.
func configErrors(errs ...error) error {
	var p problems
	for _, err := range errs {
		p.add(err)
	}
	return p.err()
}

// loadConfig parses the configuration with envconfig from getenv, and
// checks every value. Its error, a *configError, lists every problem; the
// config it returns anyway has each bad value replaced by its default, so
// the checks that do not depend on it can still run (sessionbot check).
//
// envconfig reads only the process environment and has no lookup hook, so
// for the few microseconds of parsing, the variables it declares are set
// from getenv and then put back. In production getenv is os.Getenv and this
// changes nothing; in tests it lets each in-process run have its own
// environment without touching the others'.
func loadConfig(getenv func(string) string) (config, error) {
	var cfg config
	var p problems
	envMu.Lock()
	defer envMu.Unlock()
	t := reflect.TypeFor[config]()
	for i := range t.NumField() {
		key := t.Field(i).Tag.Get("envconfig")
		old, had := os.LookupEnv(key)
		if v := getenv(key); v != "" {
			os.Setenv(key, v)
		} else {
			os.Unsetenv(key)
		}
		defer func() {
			if had {
				os.Setenv(key, old)
			} else {
				os.Unsetenv(key)
			}
		}()
	}
	// envconfig stops at the first value it cannot parse: note it, let that
	// variable take its default, and parse again, until all the rest parse.
	for range t.NumField() + 1 {
		cfg = config{}
		err := envconfig.Process("", &cfg)
		var pe *envconfig.ParseError
		if !errors.As(err, &pe) {
			p.add(err)
			break
		}
		p.add(plainWords(pe))
		os.Unsetenv(pe.KeyName)
	}
	cfg.AllowedUsers = cleanList(cfg.AllowedUsers)
	cfg.AllowedUsergroups = cleanList(cfg.AllowedUsergroups)
	cfg.AllowedChannels = cleanList(cfg.AllowedChannels)
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"IPROYAL_TIMEOUT", cfg.IPRoyalTimeout}, {"SHUTDOWN_TIMEOUT", cfg.ShutdownTimeout}, {"COMMAND_TIMEOUT", cfg.CommandTimeout}} {
		if d.v <= 0 {
			p.addf("%s must be a duration above zero, like 10s or 2m, not %s", d.name, d.v)
		}
	}
	if cfg.MaxHashes < 1 {
		p.addf("MAX_HASHES must be at least 1, not %d", cfg.MaxHashes)
	}
	if cfg.MaxConcurrent < 1 {
		p.addf("MAX_CONCURRENT must be at least 1, not %d", cfg.MaxConcurrent)
	}
	if cfg.ConfirmAbove < 1 {
		p.addf("CONFIRM_ABOVE must be at least 1, not %d; to never ask, set it to MAX_HASHES or more", cfg.ConfirmAbove)
	}
	if cfg.ConfirmTTL <= 0 || cfg.ConfirmTTL > 30*time.Minute {
		// Slack's response_url, which the confirmation is answered through, lives 30 minutes.
		p.addf("CONFIRM_TTL must be more than 0 and at most 30m, not %s", cfg.ConfirmTTL)
	}
	if cfg.ConfirmSecret != "" {
		if why := weakSecret(cfg.ConfirmSecret); why != "" {
			p.addf("CONFIRM_SECRET %s; make one with: openssl rand -hex 32 (or leave it unset to derive the key from SLACK_BOT_TOKEN)", why)
		}
	}
	if cfg.RateLimit < 0 {
		p.addf("RATE_LIMIT_PER_MINUTE must be 0 (no limit) or more, not %d", cfg.RateLimit)
	}
	if !strings.HasPrefix(cfg.SlashCommand, "/") {
		p.addf("SLASH_COMMAND must start with /, like /reset-sessions")
	}
	if _, err := parseLevel(cfg.LogLevel); err != nil {
		p.add(err)
		cfg.LogLevel = "info"
	}
	if cfg.LogFormat != "json" && cfg.LogFormat != "text" {
		p.addf("LOG_FORMAT must be json or text, not %q", cfg.LogFormat)
		cfg.LogFormat = "json"
	}
	p.add(checkAddr(cfg.HTTPAddr))
	p.add(checkURL("SLACK_API_URL", cfg.SlackAPIURL, "https://slack.com/api/"))
	p.add(checkURL("IPROYAL_API_URL", cfg.IPRoyalAPIURL, "https://resi-api.iproyal.com/v1"))
	if !strings.HasSuffix(cfg.SlackAPIURL, "/") {
		cfg.SlackAPIURL += "/" // slack-go appends method names to it
	}
	return cfg, p.err()
}

// checkURL checks that an API base is an absolute http(s) URL, before
// anything tries to connect to it.
func checkURL(name, raw, example string) error {
	u, err := url.Parse(raw)
	if err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.Opaque == "" {
		return nil
	}
	return fmt.Errorf("%s must be an absolute http or https URL, like %s, got %q", name, example, redactURL(raw))
}

// redactURL hides the user information of a URL (a proxy's password, say)
// before it is shown, even when the URL does not parse.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	if at := strings.LastIndex(raw, "@"); at >= 0 {
		scheme, _, found := strings.Cut(raw[:at], "://")
		if found {
			return scheme + "://[redacted]" + raw[at:]
		}
		return "[redacted]" + raw[at:]
	}
	return raw
}

// plainWords says what envconfig could not parse in words a person can
// act on: the variable, the form it takes, and what it got. None of the
// typed (non-string) variables is a secret, so the value can be shown.
func plainWords(pe *envconfig.ParseError) error {
	form := "a " + pe.TypeName
	switch pe.TypeName {
	case "int":
		form = "a whole number"
	case "Duration", "time.Duration":
		form = "a duration, like 10s, 2m or 1h30m"
	case "bool":
		form = "true or false"
	}
	return fmt.Errorf("%s must be %s, got %q", pe.KeyName, form, pe.Value)
}

// checkAddr checks HTTP_ADDR before anything listens on it, or connects.
func checkAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if n, perr := strconv.Atoi(port); err == nil && (perr != nil || n < 0 || n > 65535) {
		err = errors.New("bad port")
	}
	if err != nil {
		return fmt.Errorf("HTTP_ADDR must be host:port or :port, like :8080 or 127.0.0.1:8080, got %q", addr)
	}
	return nil
}

// variables lists every variable, its default and what it does, for help,
// from the same tags envconfig reads. (envconfig.Usagef would do it with
// text/template, whose reflective method calls keep the linker from
// dropping unused methods: 3.3 MB more binary, 1.7 MiB more memory idle.)
func variables(w io.Writer) {
	tw := tabwriter.NewWriter(w, 1, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIABLE\tDEFAULT\tMEANING")
	t := reflect.TypeFor[config]()
	for i := range t.NumField() {
		tag := t.Field(i).Tag
		fmt.Fprintf(tw, "%s\t%s\t%s\n", tag.Get("envconfig"), tag.Get("default"), tag.Get("desc"))
	}
	// Go's runtime reads these itself; sessionbot only changes their defaults (gc.go).
	fmt.Fprintf(tw, "GOGC\t%d\tGo's collector target (Go's own default is 100)\n", defaultGOGC)
	fmt.Fprintf(tw, "GOMEMLIMIT\t\tGo's soft memory limit; default 80%% of the container's memory limit, if it has one\n")
	fmt.Fprintf(tw, "GOMAXPROCS\t%d\tthreads running Go code at once\n", defaultGOMAXPROCS)
	_ = tw.Flush()
}

func cleanList(in []string) []string {
	var out []string
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// validateIPRoyal checks what every mode that calls IPRoyal needs.
func (c config) validateIPRoyal() error {
	if c.IPRoyalToken == "" {
		return fmt.Errorf("IPROYAL_API_TOKEN is not set: create an API token in the IPRoyal dashboard and set it")
	}
	return nil
}

// validateAccess checks the allow-list variables' shapes, every ID of them.
func (c config) validateAccess() error {
	var p problems
	check := func(name string, ids []string, prefixes string) {
		for _, id := range ids {
			if !policy.IsSlackID(id, prefixes) {
				p.addf("%s: %q is not a Slack ID starting with one of %q (use IDs, not names: copy them from the profile or channel details)", name, id, prefixes)
			}
		}
	}
	check("ALLOWED_USERS", c.AllowedUsers, "UW")
	check("ALLOWED_USERGROUPS", c.AllowedUsergroups, "S")
	check("ALLOWED_CHANNELS", c.AllowedChannels, "CGD")
	if c.AuditChannel != "" {
		check("AUDIT_CHANNEL", []string{c.AuditChannel}, "CG")
	}
	return p.err()
}

// validateSlackTokens checks the shapes of the two Slack tokens.
func (c config) validateSlackTokens() error {
	var p problems
	switch {
	case c.SlackAppToken == "":
		p.addf("SLACK_APP_TOKEN is not set: create an app-level token with the connections:write scope (the app's Basic Information page) and set it")
	case !strings.HasPrefix(c.SlackAppToken, "xapp-"):
		p.addf("SLACK_APP_TOKEN must be an app-level token starting with xapp-")
	}
	switch {
	case c.SlackBotToken == "":
		p.addf("SLACK_BOT_TOKEN is not set: install the app to the workspace and set its Bot User OAuth Token")
	case !strings.HasPrefix(c.SlackBotToken, "xoxb-"):
		p.addf("SLACK_BOT_TOKEN must be a bot token starting with xoxb-")
	}
	return p.err()
}

// validateAllowList checks that someone at all may reset: by the ALLOWED_*
// variables, or by a valid POLICY_FILE, never both.
func (c config) validateAllowList() error {
	if c.PolicyFile != "" {
		var p problems
		for _, v := range []struct {
			name string
			set  bool
		}{{"ALLOWED_USERS", len(c.AllowedUsers) > 0}, {"ALLOWED_USERGROUPS", len(c.AllowedUsergroups) > 0}, {"ALLOWED_CHANNELS", len(c.AllowedChannels) > 0}} {
			if v.set {
				p.addf("POLICY_FILE and %s are both set: the policy file says who may reset what, and where; move %s into it as a grant, and unset it", v.name, v.name)
			}
		}
		if _, err := c.policy(); err != nil {
			p.add(err)
		}
		return p.err()
	}
	if len(c.AllowedUsers) == 0 && len(c.AllowedUsergroups) == 0 {
		return fmt.Errorf("neither ALLOWED_USERS nor ALLOWED_USERGROUPS is set (nor POLICY_FILE): with no allow-list nobody could reset sessions, so sessionbot will not start; set at least one")
	}
	return nil
}

// policy is who may reset what: POLICY_FILE's, or else the ALLOWED_*
// variables' one grant of everything.
func (c config) policy() (*policy.Policy, error) {
	if c.PolicyFile == "" {
		p := policy.Everything(c.AllowedUsers, c.AllowedUsergroups, c.AllowedChannels)
		if c.ApprovalAbove == "" {
			return p, nil
		}
		a, err := c.approval()
		if err != nil {
			return nil, err
		}
		return p.WithApproval(*a), nil
	}
	return loadPolicy(c.PolicyFile)
}

// approval is the approval of APPROVAL_ABOVE, APPROVERS and APPROVAL_TTL.
func (c config) approval() (*policy.Approval, error) {
	above, err := strconv.Atoi(c.ApprovalAbove)
	if err != nil || above < 0 {
		return nil, fmt.Errorf("APPROVAL_ABOVE must be a whole number, 0 or more (0: every request needs approval), not %q", c.ApprovalAbove)
	}
	return policy.EnvApproval(above, c.Approvers, c.ApprovalTTL)
}

// validateApproval checks two-person approval's variables, and that its
// requests have a journal to wait in.
func (c config) validateApproval() error {
	var p problems
	switch {
	case c.PolicyFile != "" && (c.ApprovalAbove != "" || len(c.Approvers) > 0):
		p.addf("POLICY_FILE and APPROVAL_ABOVE or APPROVERS are both set: with a policy file, approval is set per grant (its approval block); unset them")
		return p.err()
	case c.ApprovalAbove == "" && len(c.Approvers) > 0:
		p.addf("APPROVERS is set but APPROVAL_ABOVE is not: set APPROVAL_ABOVE to the number of targets above which a request needs approval (0: every request)")
	case c.ApprovalAbove != "":
		if _, err := c.approval(); err != nil {
			p.add(err)
		}
	}
	if pol, err := c.policy(); err == nil && pol.HasApprovals() && c.AuditChannel == "" {
		p.addf("two-person approval needs AUDIT_CHANNEL: requests waiting for approval are kept in its journal, so that every replica, and a restarted one, can decide them; set AUDIT_CHANNEL")
	}
	return p.err()
}

// loadPolicy reads and checks the policy file at path, POLICY_FILE.
func loadPolicy(path string) (*policy.Policy, error) {
	p, err := readPolicyFile(path)
	if err != nil {
		return nil, fmt.Errorf("POLICY_FILE %w", err)
	}
	return p, nil
}

// readPolicyFile reads and checks the policy file at path; its errors
// start with the path.
func readPolicyFile(path string) (*policy.Policy, error) {
	content, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%q cannot be read: %w", path, err)
	}
	p, err := policy.Parse(content)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// validateBot checks everything the Slack bot needs before it starts, and
// lists every problem at once.
func (c config) validateBot() error {
	return configErrors(c.validateSlackTokens(), c.validateIPRoyal(), c.validateAllowList(), c.validateAccess(), c.validateApproval())
}

// confirmKey is the key that signs confirmations. Every replica must use
// the same one: CONFIRM_SECRET, or else one derived from the bot token,
// which all replicas share. (Changing the bot token then voids the
// confirmations waiting for a click, which is harmless.) Without either, a
// random key serves a single process, like the shell.
func (c config) confirmKey() []byte {
	switch {
	case c.ConfirmSecret != "":
		return []byte(c.ConfirmSecret)
	case c.SlackBotToken != "":
		m := hmac.New(sha256.New, []byte(c.SlackBotToken))
		m.Write([]byte("sessionbot confirmation key v1"))
		return m.Sum(nil)
	}
	return nil
}

// secrets returns the values that must never be printed.
func (c config) secrets() []string {
	var out []string
	for _, s := range []string{c.SlackAppToken, c.SlackBotToken, c.IPRoyalToken, c.ConfirmSecret} {
		if len(s) >= 8 {
			out = append(out, s)
		}
	}
	return out
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("LOG_LEVEL must be debug, info, warn or error, not %q", s)
	}
	return l, nil
}
