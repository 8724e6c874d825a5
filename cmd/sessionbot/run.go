package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strings"
)

const usage = `sessionbot resets IPRoyal residential sticky sessions from Slack, with an audit trail.

Usage:
  sessionbot [bot]                          run the Slack bot (Socket Mode)
  sessionbot shell [--dry-run] [--user U] [--channel C]
                                            try the bot's command handling in the terminal
  sessionbot reset [--dry-run] [--json] [--yes] TARGET... | -
                                            reset sessions once (TARGET: hash or sub-user username; -: read them from stdin)
  sessionbot find [--json] TEXT             list the sub-users whose username contains TEXT
  sessionbot status                         show the IPRoyal account's available traffic and sub-user count
  sessionbot check                          check the configuration, Slack and IPRoyal; exit 0 when all pass
  sessionbot policy check [FILE]            check a policy file (default $POLICY_FILE)
  sessionbot policy can --user U [--groups S,S] [--channel C] TARGET...
                                            what the policy lets U reset, offline
  sessionbot healthcheck                    probe /readyz on HTTP_ADDR; exit 0 when ready
  sessionbot version                        print the version
  sessionbot help                           show this help

Each command's own help: sessionbot COMMAND --help.
Exit codes: 0 done; 1 IPRoyal or Slack failed (for find, nothing matched;
for reset, the confirmation was not given); 2 a mistake in the command, its
targets or the configuration (nothing was done). healthcheck never exits 2.

Configuration comes from the environment:

`

// subcommands' own usage, for -h and --help.
var subUsage = map[string]string{
	"bot": `Usage: sessionbot [bot]

Runs the Slack bot over Socket Mode until SIGTERM or SIGINT, then drains
for SHUTDOWN_TIMEOUT. It is configured from the environment only: see
sessionbot help for every variable.
`,
	"shell": `Usage: sessionbot shell [--dry-run] [--user U] [--channel C]

Runs the bot's command handling on standard input and prints what it would
post in Slack. Type commands as in Slack: /reset-sessions TARGET...,
@sessionbot reset TARGET..., reset TARGET..., or just the targets; find TEXT,
status, help; quit or exit (or Ctrl-D) to end; clear clears the screen. A
confirmation is a y/N question; Ctrl-C or Ctrl-D there answers no.

  --dry-run    never call IPRoyal: usernames are not looked up, nothing is reset
  --user U     the Slack user ID you play (default U0SHELL): an ID, not a name
  --channel C  the channel ID you type in (default C0SHELL): an ID, not a name
`,
	"reset": `Usage: sessionbot reset [--dry-run] [--json] [--yes] [--] TARGET... | -

Resets the sessions of the targets once, from the command line. A TARGET is
a residential user hash or a sub-user's username; words after -- are
targets whatever they look like; - reads more targets from standard input,
one or more a line. It writes the bot's audit log line on stderr and, with
SLACK_BOT_TOKEN and AUDIT_CHANNEL set, its journal entry; the audit trail
names its operator SESSIONBOT_OPERATOR, else $USER@host.

On a terminal, more than CONFIRM_ABOVE targets are listed and confirmed
first (y; anything else, Ctrl-C or Ctrl-D cancels). Where nobody can answer
(standard input or standard error not a terminal, or targets read with -),
nothing is asked.

  --dry-run    look up and check the targets, send no DELETE
  --json       print one JSON object per target on stdout: request_id,
               outcome, target, hash, username, error
  --yes        do not ask to confirm

Exit codes: 0 reset; 1 IPRoyal failed, or the confirmation was not given;
2 a bad target or configuration.
`,
	"find": `Usage: sessionbot find [--json] TEXT

Lists the sub-users whose username contains TEXT, with their hashes and
traffic, at most 20 (IPRoyal's search), and how many more there are.

  --json       print one JSON object per sub-user on stdout: username,
               hash, traffic_used_gb, traffic_available_gb

Exit codes: 0 found; 1 nothing matched, or IPRoyal failed; 2 a mistake in
the command or the configuration.
`,
	"status": `Usage: sessionbot status

Shows the IPRoyal account's available residential traffic and its number of
sub-users (GET /me), as /reset-sessions status does in Slack.

Exit codes: 0 shown; 1 IPRoyal failed; 2 a mistake in the configuration.
`,
	"check": `Usage: sessionbot check

Checks the whole setup with the environment it runs in (locally, in the
container, or with kubectl exec beside a running bot), and prints one line
per item, ✔ or ✘ with what to do: every variable; SLACK_BOT_TOKEN and its
scopes; the users, user groups and channels behind the configured IDs; that
the bot is in ALLOWED_CHANNELS and AUDIT_CHANNEL and reads the journal;
that SLACK_APP_TOKEN opens a Socket Mode connection (closed at once); and
that IPRoyal accepts IPROYAL_API_TOKEN. It resets nothing, posts nothing
and does not listen on HTTP_ADDR.

Exit codes: 0 every item passed; 1 one or more did not.
`,
	"policy": `Usage: sessionbot policy check [FILE]
       sessionbot policy can --user U [--groups S,S] [--channel C] [--file FILE] TARGET...

policy check reads a policy file (FILE, or $POLICY_FILE) and prints a line
per grant. Exit codes: 0 valid; 2 not, with the line of each mistake.

policy can says, offline and without tokens, what the policy lets user U
(a member of the groups S, in channel C when given) reset: one line per
TARGET, "allow TARGET (grant NAME)" or "deny TARGET (...)". A TARGET is a
username, or a hash, which offline matches only the hashes a grant lists
and "*". Exit codes: 0 every target allowed; 1 one or more denied; 2 a
mistake in the command or the file. Run it in CI to test a policy change.
`,
	"version": `Usage: sessionbot version

Prints the version: the one stamped at build time (-ldflags "-X
main.version=..."), else the module version and commit that go install or
go build recorded, else "dev".
`,
	"help": `Usage: sessionbot help

Prints every command, the exit codes, and every variable with its default.
`,
	"healthcheck": `Usage: sessionbot healthcheck

Probes /readyz on HTTP_ADDR, for a container HEALTHCHECK: exit 0 when the
bot is ready, 1 otherwise (not ready, no answer, or a bad configuration,
HTTP_ADDR included: Docker reserves exit code 2).
`,
}

// usageError is a mistake in how sessionbot was called; it exits with 2.
// It wraps its cause, so errors.Is and errors.As see through it.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// inputError is a target that is not one (invalid, or unknown to IPRoyal):
// nothing was done, and it exits with 2, like a usage error.
type inputError struct{ msg string }

func (e *inputError) Error() string { return e.msg }

// unhealthy is any failure of healthcheck: it exits with 1 whatever the
// cause, since Docker's HEALTHCHECK reserves 2.
type unhealthy struct{ err error }

func (e *unhealthy) Error() string { return e.err.Error() }
func (e *unhealthy) Unwrap() error { return e.err }

func exitCode(err error) int {
	if errors.As(err, new(*unhealthy)) {
		return 1
	}
	if errors.As(err, new(*usageError)) || errors.As(err, new(*inputError)) || errors.As(err, new(*configError)) {
		return 2
	}
	return 1
}

// run is the whole program; main only calls it. Every failure is written
// to stderr as one line before it is returned: a log line in LOG_FORMAT
// for the bot, whose other lines are log lines too, and plain text for
// the commands a person types.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	err := dispatch(ctx, args, getenv, stdin, stdout, stderr)
	if err == nil || errors.As(err, new(*checkFailed)) || errors.As(err, new(*silentError)) { // what was printed said it all
		return err
	}
	msg := err.Error()
	if errors.As(err, new(*usageError)) || errors.As(err, new(*configError)) {
		msg += " (see 'sessionbot help')"
	}
	if len(args) < 2 || args[1] == "bot" {
		format := "json"
		if getenv("LOG_FORMAT") == "text" {
			format = "text"
		}
		newLogger(stderr, config{LogLevel: "info", LogFormat: format}).Error("sessionbot could not start", "error", msg, "exit_code", exitCode(err))
		return err
	}
	var ce *configError
	if errors.As(err, &ce) {
		msg = ce.list() + "\n(see 'sessionbot help')"
	}
	fmt.Fprintln(stderr, "sessionbot: "+msg)
	return err
}

func dispatch(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	sub, rest := "bot", []string(nil)
	if len(args) > 1 {
		sub, rest = args[1], args[2:]
	}
	if help, ok := subUsage[sub]; ok && wantsHelp(rest) {
		fmt.Fprint(stdout, help)
		return nil
	}
	switch sub {
	case "bot":
		return runBot(ctx, rest, getenv, stderr)
	case "shell":
		return runShell(ctx, rest, getenv, stdin, stdout, stderr)
	case "reset":
		return runReset(ctx, rest, getenv, stdin, stdout, stderr)
	case "find":
		return runFind(ctx, rest, getenv, stdout, stderr)
	case "status":
		return runStatus(ctx, rest, getenv, stdout, stderr)
	case "check":
		return runCheck(ctx, rest, getenv, stdout)
	case "policy":
		return runPolicy(rest, getenv, stdout)
	case "healthcheck":
		err := rejectFlags(rest)
		if err == nil {
			err = runHealthcheck(ctx, getenv, stdout)
		}
		if err != nil {
			return &unhealthy{err}
		}
		return nil
	case "version", "--version", "-v":
		if err := rejectFlags(rest); err != nil {
			return err
		}
		fmt.Fprint(stdout, currentBuild())
		return nil
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		variables(stdout)
		return nil
	}
	return usagef("unknown command %q%s", sub, didYouMean(sub))
}

// didYouMean offers the subcommands closest to a mistyped one, as a
// mistyped username gets the sub-users closest to it: "; did you mean
// reset?", or nothing when none is close.
func didYouMean(sub string) string {
	var best []string
	bestDist := 3 // two edits at most
	for name := range subUsage {
		d := editDistance(strings.ToLower(sub), name)
		switch {
		case d < bestDist:
			best, bestDist = []string{name}, d
		case d == bestDist:
			best = append(best, name)
		}
	}
	slices.Sort(best)
	switch len(best) {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf("; did you mean %s?", best[0])
	}
	return fmt.Sprintf("; did you mean %s or %s?", strings.Join(best[:len(best)-1], ", "), best[len(best)-1])
}

// editDistance is how many insertions, deletions, substitutions and swaps
// of neighbours turn a into b (optimal string alignment).
func editDistance(a, b string) int {
	x, y := []rune(a), []rune(b)
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
}

// wantsHelp reports whether args ask for help, before any "--".
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "--help", "-help":
			return true
		}
	}
	return false
}

// takeFlag removes every occurrence of a boolean flag from args, wherever
// it is before a "--".
func takeFlag(args []string, names ...string) ([]string, bool) {
	var out []string
	found := false
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...), found
		}
		if slices.Contains(names, a) {
			found = true
			continue
		}
		out = append(out, a)
	}
	return out, found
}

// takeValue removes a "--name value" or "--name=value" flag from args.
func takeValue(args []string, name string) ([]string, string, error) {
	var out []string
	val := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == name || a == "-"+strings.TrimPrefix(name, "--"):
			if i+1 >= len(args) {
				return nil, "", usagef("%s needs a value", name)
			}
			val = args[i+1]
			i++
		case strings.HasPrefix(a, name+"="):
			val = strings.TrimPrefix(a, name+"=")
		default:
			out = append(out, a)
		}
	}
	return out, val, nil
}

// rejectFlags refuses any argument before a "--" that still looks like a
// flag.
func rejectFlags(args []string) error {
	for _, a := range args {
		if a == "--" {
			return nil
		}
		if strings.HasPrefix(a, "-") {
			return usagef("unknown flag %q", a)
		}
	}
	return nil
}

// operands is args without the first "--", which only ends the flags.
func operands(args []string) []string {
	if i := slices.Index(args, "--"); i >= 0 {
		return append(args[:i:i], args[i+1:]...)
	}
	return args
}

// newLogger returns a logger that also masks secrets, should one ever be
// passed to it by mistake.
func newLogger(w io.Writer, cfg config) *slog.Logger {
	level, _ := parseLevel(cfg.LogLevel)
	secrets := cfg.secrets()
	opts := &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			var s string
			switch a.Value.Kind() {
			case slog.KindString:
				s = a.Value.String()
			case slog.KindAny:
				if err, ok := a.Value.Any().(error); ok {
					s = err.Error()
				} else {
					return a
				}
			default:
				return a
			}
			if masked := mask(s, secrets); masked != s || a.Value.Kind() == slog.KindAny {
				a.Value = slog.StringValue(masked)
			}
			return a
		},
	}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// responseURL matches a Slack response_url, which lets anyone post as the
// bot for 30 minutes. The adapter never puts one in an error; this is the
// second line of defence.
var responseURL = regexp.MustCompile(`https://hooks\.slack\.com/\S*`)

func mask(s string, secrets []string) string {
	for _, sec := range secrets {
		s = strings.ReplaceAll(s, sec, "[redacted]")
	}
	if strings.Contains(s, "hooks.slack.com/") {
		s = responseURL.ReplaceAllString(s, "[response_url]")
	}
	return s
}
