package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"golang.org/x/term"

	"github.com/sessionbot/sessionbot/bot"
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
	if user == "" {
		user = "U0SHELL"
	}
	if channel == "" {
		channel = "C0SHELL"
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return usagef("%v", err)
	}
	if err := cfg.validateAccess(); err != nil {
		return usagef("%v", err)
	}
	cfg.LogFormat = "text"
	if getenv("LOG_LEVEL") == "" {
		cfg.LogLevel = "warn" // the transcript is the output; audit lines only on request
	}

	// On a terminal: raw mode and x/term's line editor (arrows, history),
	// and everything printed through it. Otherwise, plain lines.
	var in shell.Input
	out, logs := stdout, stderr
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) && isTerminal(stdout) {
		state, err := term.MakeRaw(int(f.Fd()))
		if err != nil {
			return fmt.Errorf("the terminal: %w", err)
		}
		defer func() { _ = term.Restore(int(f.Fd()), state) }()
		t := term.NewTerminal(struct {
			io.Reader
			io.Writer
		}{stdin, stdout}, "> ")
		in, out, logs = shell.Terminal(t), t, t
	} else {
		in = shell.Pipe(stdin, stdout)
	}
	log := newLogger(logs, cfg)

	policy := bot.Policy{Users: cfg.AllowedUsers, Groups: cfg.AllowedUsergroups, Channels: cfg.AllowedChannels}
	fmt.Fprintf(out, "sessionbot shell: type %s TARGET... (or just the targets), help, or quit. You are @%s in #%s.\n", cfg.SlashCommand, user, channel)
	if len(policy.Users) == 0 && len(policy.Groups) == 0 {
		policy.Users = []string{user}
		fmt.Fprintf(out, "No ALLOWED_USERS or ALLOWED_USERGROUPS set: @%s is allowed here (the bot would refuse to start without an allow-list).\n", user)
	}
	if len(policy.Groups) > 0 {
		fmt.Fprintln(out, "User groups cannot be looked up without Slack: ALLOWED_USERGROUPS allows nobody here.")
	}
	if len(policy.Channels) > 0 && !slices.Contains(policy.Channels, channel) {
		fmt.Fprintf(out, "ALLOWED_CHANNELS allows only %s, so every command in #%s will be refused: pass --channel %s to try one of them.\n",
			strings.Join(policy.Channels, ", "), channel, policy.Channels[0])
	}

	var ipr bot.IPRoyal
	if dryRun {
		fmt.Fprintln(out, "Dry run: IPRoyal is never called; usernames are not looked up and nothing is reset.")
	} else {
		if err := cfg.validateIPRoyal(); err != nil {
			return usagef("%v (or run 'sessionbot shell --dry-run' to try it without IPRoyal)", err)
		}
		client, err := newIPRoyal(cfg, nil)
		if err != nil {
			return usagef("%v", err)
		}
		ipr = client
	}
	fmt.Fprintln(out, "Slack is not used: what the bot would post is printed below.")

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
	}, bot.NewAuthorizer(policy, nil, nil), ipr, sh)
	return shell.Run(ctx, b, sh, in, user, channel)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
