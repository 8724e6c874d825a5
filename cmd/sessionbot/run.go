package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"runtime"
	"slices"
	"strings"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `sessionbot resets IPRoyal residential sticky sessions from Slack, with an audit trail.

Usage:
  sessionbot [bot]                          run the Slack bot (Socket Mode)
  sessionbot shell [--dry-run] [--user U] [--channel C]
                                            try the bot's command handling in the terminal
  sessionbot reset [--dry-run] TARGET...    reset sessions once (TARGET: hash or sub-user username)
  sessionbot healthcheck                    probe /readyz on HTTP_ADDR; exit 0 when ready
  sessionbot version                        print the version
  sessionbot help                           show this help

Configuration comes from the environment; see README.md for every variable.
`

// usageError is a mistake in how sessionbot was called; it exits with 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

func exitCode(err error) int {
	if errors.As(err, new(*usageError)) {
		return 2
	}
	return 1
}

// run is the whole program; main only calls it. Every failure is written
// to stderr as one line before it is returned.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	err := dispatch(ctx, args, getenv, stdin, stdout, stderr)
	if err != nil {
		msg := err.Error()
		if errors.As(err, new(*usageError)) {
			msg += " (see 'sessionbot help')"
		}
		fmt.Fprintln(stderr, "sessionbot: "+msg)
	}
	return err
}

func dispatch(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	sub, rest := "bot", []string(nil)
	if len(args) > 1 {
		sub, rest = args[1], args[2:]
	}
	switch sub {
	case "bot":
		return runBot(ctx, rest, getenv, stderr)
	case "shell":
		return runShell(ctx, rest, getenv, stdin, stdout, stderr)
	case "reset":
		return runReset(ctx, rest, getenv, stdout, stderr)
	case "healthcheck":
		return runHealthcheck(ctx, getenv, stdout)
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "sessionbot %s (%s)\n", version, runtime.Version())
		return nil
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usagef("unknown command %q", sub)
}

// takeFlag removes every occurrence of a boolean flag from args, wherever it is.
func takeFlag(args []string, names ...string) ([]string, bool) {
	var out []string
	found := false
	for _, a := range args {
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

// rejectFlags refuses any argument that still looks like a flag.
func rejectFlags(args []string) error {
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			return usagef("unknown flag %q", a)
		}
	}
	return nil
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
