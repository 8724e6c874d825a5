package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/kelseyhightower/envconfig"
)

// config is everything sessionbot reads from its environment. The desc
// tags are what `sessionbot help` lists; README.md says more.
type config struct {
	SlackAppToken     string        `envconfig:"SLACK_APP_TOKEN" desc:"app-level token for Socket Mode (xapp-...); the bot needs it"`
	SlackBotToken     string        `envconfig:"SLACK_BOT_TOKEN" desc:"bot token (xoxb-...); the bot needs it, reset uses it to journal"`
	IPRoyalToken      string        `envconfig:"IPROYAL_API_TOKEN" desc:"IPRoyal API token; needed but by shell --dry-run"`
	AllowedUsers      []string      `envconfig:"ALLOWED_USERS" desc:"Slack user IDs allowed to reset, comma-separated"`
	AllowedUsergroups []string      `envconfig:"ALLOWED_USERGROUPS" desc:"user group IDs (S...) whose members are allowed"`
	AllowedChannels   []string      `envconfig:"ALLOWED_CHANNELS" desc:"if set, the only channel IDs the command works in"`
	AuditChannel      string        `envconfig:"AUDIT_CHANNEL" desc:"channel ID for the audit trail and the journal"`
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
	ConfirmSecret     string        `envconfig:"CONFIRM_SECRET" desc:"key (32+ characters) signing confirmations; default derived from SLACK_BOT_TOKEN"`
	RateLimit         int           `envconfig:"RATE_LIMIT_PER_MINUTE" default:"10" desc:"requests per user per minute, per replica; 0: no limit"`
}

// envMu serialises loadConfig's use of the process environment.
var envMu sync.Mutex

// loadConfig parses the configuration with envconfig from getenv.
//
// envconfig reads only the process environment and has no lookup hook, so
// for the few microseconds of parsing, the variables it declares are set
// from getenv and then put back. In production getenv is os.Getenv and this
// changes nothing; in tests it lets each in-process run have its own
// environment without touching the others'.
func loadConfig(getenv func(string) string) (config, error) {
	var cfg config
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
	if err := envconfig.Process("", &cfg); err != nil {
		return cfg, plainWords(err)
	}
	cfg.AllowedUsers = cleanList(cfg.AllowedUsers)
	cfg.AllowedUsergroups = cleanList(cfg.AllowedUsergroups)
	cfg.AllowedChannels = cleanList(cfg.AllowedChannels)
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"IPROYAL_TIMEOUT", cfg.IPRoyalTimeout}, {"SHUTDOWN_TIMEOUT", cfg.ShutdownTimeout}, {"COMMAND_TIMEOUT", cfg.CommandTimeout}} {
		if d.v <= 0 {
			return cfg, fmt.Errorf("%s must be a duration above zero, like 10s or 2m, not %s", d.name, d.v)
		}
	}
	if cfg.MaxHashes < 1 {
		return cfg, fmt.Errorf("MAX_HASHES must be at least 1, not %d", cfg.MaxHashes)
	}
	if cfg.MaxConcurrent < 1 {
		return cfg, fmt.Errorf("MAX_CONCURRENT must be at least 1, not %d", cfg.MaxConcurrent)
	}
	if cfg.ConfirmAbove < 1 {
		return cfg, fmt.Errorf("CONFIRM_ABOVE must be at least 1, not %d; to never ask, set it to MAX_HASHES or more", cfg.ConfirmAbove)
	}
	if cfg.ConfirmTTL <= 0 || cfg.ConfirmTTL > 30*time.Minute {
		// Slack's response_url, which the confirmation is answered through, lives 30 minutes.
		return cfg, fmt.Errorf("CONFIRM_TTL must be more than 0 and at most 30m, not %s", cfg.ConfirmTTL)
	}
	if cfg.ConfirmSecret != "" && len(cfg.ConfirmSecret) < 32 {
		return cfg, fmt.Errorf("CONFIRM_SECRET must be at least 32 characters (try: openssl rand -hex 32)")
	}
	if cfg.RateLimit < 0 {
		return cfg, fmt.Errorf("RATE_LIMIT_PER_MINUTE must be 0 (no limit) or more, not %d", cfg.RateLimit)
	}
	if !strings.HasPrefix(cfg.SlashCommand, "/") {
		return cfg, fmt.Errorf("SLASH_COMMAND must start with /, like /reset-sessions")
	}
	if _, err := parseLevel(cfg.LogLevel); err != nil {
		return cfg, err
	}
	if cfg.LogFormat != "json" && cfg.LogFormat != "text" {
		return cfg, fmt.Errorf("LOG_FORMAT must be json or text, not %q", cfg.LogFormat)
	}
	if err := checkAddr(cfg.HTTPAddr); err != nil {
		return cfg, err
	}
	if !strings.HasSuffix(cfg.SlackAPIURL, "/") {
		cfg.SlackAPIURL += "/" // slack-go appends method names to it
	}
	return cfg, nil
}

// plainWords says what envconfig could not parse in words a person can
// act on: the variable, the form it takes, and what it got. None of the
// typed (non-string) variables is a secret, so the value can be shown.
func plainWords(err error) error {
	var pe *envconfig.ParseError
	if !errors.As(err, &pe) {
		return err
	}
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

// validateAccess checks the allow-list variables' shapes.
func (c config) validateAccess() error {
	check := func(name string, ids []string, prefixes string) error {
		for _, id := range ids {
			if !validSlackID(id, prefixes) {
				return fmt.Errorf("%s: %q is not a Slack ID starting with one of %q (use IDs, not names: copy them from the profile or channel details)", name, id, prefixes)
			}
		}
		return nil
	}
	if err := check("ALLOWED_USERS", c.AllowedUsers, "UW"); err != nil {
		return err
	}
	if err := check("ALLOWED_USERGROUPS", c.AllowedUsergroups, "S"); err != nil {
		return err
	}
	if err := check("ALLOWED_CHANNELS", c.AllowedChannels, "CGD"); err != nil {
		return err
	}
	if c.AuditChannel != "" {
		return check("AUDIT_CHANNEL", []string{c.AuditChannel}, "CG")
	}
	return nil
}

// validateBot checks everything the Slack bot needs before it starts.
func (c config) validateBot() error {
	switch {
	case c.SlackAppToken == "":
		return fmt.Errorf("SLACK_APP_TOKEN is not set: create an app-level token with the connections:write scope (the app's Basic Information page) and set it")
	case !strings.HasPrefix(c.SlackAppToken, "xapp-"):
		return fmt.Errorf("SLACK_APP_TOKEN must be an app-level token starting with xapp-")
	case c.SlackBotToken == "":
		return fmt.Errorf("SLACK_BOT_TOKEN is not set: install the app to the workspace and set its Bot User OAuth Token")
	case !strings.HasPrefix(c.SlackBotToken, "xoxb-"):
		return fmt.Errorf("SLACK_BOT_TOKEN must be a bot token starting with xoxb-")
	}
	if err := c.validateIPRoyal(); err != nil {
		return err
	}
	if len(c.AllowedUsers) == 0 && len(c.AllowedUsergroups) == 0 {
		return fmt.Errorf("neither ALLOWED_USERS nor ALLOWED_USERGROUPS is set: with no allow-list nobody could reset sessions, so sessionbot will not start; set at least one")
	}
	return c.validateAccess()
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

func validSlackID(id, prefixes string) bool {
	if len(id) < 2 || len(id) > 24 || !strings.ContainsRune(prefixes, rune(id[0])) {
		return false
	}
	for _, c := range id {
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
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
