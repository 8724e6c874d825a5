package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/sessionbot/sessionbot/bot"
)

// maxFound is how many sub-users find lists, as in Slack.
const maxFound = 20

// runFind is "sessionbot find TEXT": the sub-users whose username contains
// TEXT, with their hashes, ready to copy into a reset.
func runFind(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if err := rejectFlags(args); err != nil {
		return err
	}
	args = operands(args)
	if len(args) != 1 || strings.TrimSpace(args[0]) == "" {
		return usagef("find needs one TEXT, the part of a username to look for")
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return usagef("%w", err)
	}
	if err := cfg.validateIPRoyal(); err != nil {
		return usagef("%w", err)
	}
	client, err := newIPRoyal(cfg, nil)
	if err != nil {
		return usagef("%w", err)
	}
	subs, total, err := client.SearchSubusers(ctx, args[0], maxFound)
	if err != nil {
		return &failure{bot.CommandLineSearchFailed(err), err}
	}
	fmt.Fprint(stdout, bot.CommandLineFound(args[0], subs, total))
	return nil
}
