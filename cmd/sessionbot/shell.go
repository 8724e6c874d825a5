package main

import (
	"context"
	"fmt"
	"io"
	"os"

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
	if len(args) > 0 {
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
	log := newLogger(stderr, cfg)

	policy := bot.Policy{Users: cfg.AllowedUsers, Groups: cfg.AllowedUsergroups, Channels: cfg.AllowedChannels}
	fmt.Fprintf(stdout, "sessionbot shell: type %s TARGET... (or just the targets), or help. You are @%s in #%s.\n", cfg.SlashCommand, user, channel)
	if len(policy.Users) == 0 && len(policy.Groups) == 0 {
		policy.Users = []string{user}
		fmt.Fprintf(stdout, "No ALLOWED_USERS or ALLOWED_USERGROUPS set: @%s is allowed here (the bot would refuse to start without an allow-list).\n", user)
	}
	if len(policy.Groups) > 0 {
		fmt.Fprintln(stdout, "User groups cannot be looked up without Slack: ALLOWED_USERGROUPS allows nobody here.")
	}

	var ipr bot.IPRoyal
	if dryRun {
		fmt.Fprintln(stdout, "Dry run: IPRoyal is never called; usernames are not looked up and nothing is reset.")
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
	fmt.Fprintln(stdout, "Slack is not used: what the bot would post is printed below.")

	sh := shell.New(stdout)
	if f, ok := stdin.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			sh.Prompt = "> "
			fmt.Fprintln(stdout, "End with Ctrl-D.")
		}
	}
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
		RateLimitPerMinute: cfg.RateLimit,
		Log:                log,
	}, bot.NewAuthorizer(policy, nil, nil), ipr, sh)
	return shell.Run(ctx, b, sh, stdin, user, channel)
}
