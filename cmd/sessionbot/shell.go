package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/sessionbot/sessionbot/bot"
	"github.com/sessionbot/sessionbot/bot/policy"
	"github.com/sessionbot/sessionbot/bot/shell"
)

// runShell is "sessionbot shell": the bot's command handling against the
// terminal, printing what it would post in Slack.
func runShell(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	args, dryRun := takeFlag(args, "--dry-run", "-dry-run", "-n")
	args, user, err := takeValue(args, "--user")
	if err != nil {
		return err
	}
	args, channel, err := takeValue(args, "--channel")
	if err != nil {
		return err
	}
	if err := rejectFlags(args); err != nil {
		return err
	}
	if len(operands(args)) > 0 {
		return usagef("shell takes no arguments; type commands on standard input")
	}
	switch {
	case user == "":
		user = "U0SHELL"
	case !policy.IsSlackID(user, "UW"):
		return usagef("--user %q is not a Slack user ID: give the ID (U… or W…), not a name; in Slack, open the person's profile, then ⋮ and Copy member ID", user)
	}
	switch {
	case channel == "":
		channel = "C0SHELL"
	case !policy.IsSlackID(channel, "CGD"):
		return usagef("--channel %q is not a Slack channel ID: give the ID (C…, G… or D…), not a name; in Slack, it is at the bottom of the channel's About tab", channel)
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return usagef("%w", err)
	}
	if err := cfg.validateAccess(); err != nil {
		return usagef("%w", err)
	}
	cfg.LogFormat = "text"
	if getenv("LOG_LEVEL") == "" {
		cfg.LogLevel = "warn" // the transcript is the output; audit lines only on request
	}

	// On a terminal: raw mode and x/term's line editor (arrows, history),
	// and everything printed through it. Otherwise, plain lines.
	var in shell.Input
	out, logs := stdout, stderr
	if f, ok := stdin.(*os.File); ok && isTerminal(f) && isTerminal(stdout) {
		state, err := term.MakeRaw(int(f.Fd()))
		if err != nil {
			return fmt.Errorf("the terminal: %w", err)
		}
		defer func() { _ = term.Restore(int(f.Fd()), state) }()
		var t io.Writer
		in, t = shell.Terminal(struct {
			io.Reader
			io.Writer
		}{stdin, stdout})
		out, logs = t, t
	} else {
		in = shell.Pipe(stdin, stdout)
	}
	log := newLogger(logs, cfg)

	users := cfg.AllowedUsers
	anyone := cfg.PolicyFile == "" && len(users) == 0 && len(cfg.AllowedUsergroups) == 0
	if anyone {
		users = []string{user}
	}
	allowed := policy.Everything(users, cfg.AllowedUsergroups, cfg.AllowedChannels)
	if cfg.PolicyFile != "" {
		if err := cfg.validateAllowList(); err != nil {
			return err
		}
		if allowed, err = cfg.policy(); err != nil {
			return &configError{[]string{err.Error()}}
		}
	}
	var ipr bot.IPRoyal
	if !dryRun {
		if err := cfg.validateIPRoyal(); err != nil {
			return usagef("%w (or run 'sessionbot shell --dry-run' to try it without IPRoyal)", err)
		}
		client, err := newIPRoyal(cfg, nil)
		if err != nil {
			return usagef("%w", err)
		}
		ipr = client
	}
	fmt.Fprint(out, bot.ShellBanner(cfg.SlashCommand, user, channel, allowed, anyone, dryRun))

	sh := shell.New(out)
	b := bot.New(bot.Config{
		Command:            cfg.SlashCommand,
		MaxTargets:         cfg.MaxHashes,
		AuditChannel:       cfg.AuditChannel,
		Journal:            sh.NewJournal(cfg.AuditChannel),
		CommandTimeout:     cfg.CommandTimeout,
		DryRun:             dryRun,
		ConfirmAbove:       cfg.ConfirmAbove,
		ConfirmTTL:         cfg.ConfirmTTL,
		ConfirmKey:         cfg.confirmKey(),
		TokenLimit:         1 << 20, // tokens stay in memory here
		RateLimitPerMinute: cfg.RateLimit,
		Log:                log,
	}, bot.NewAuthorizer(allowed, nil, nil), ipr, sh)
	return shell.Run(ctx, b, sh, in, user, channel)
}

// isTerminal reports whether f is a terminal.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}
