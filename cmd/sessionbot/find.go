package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

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
		return usagef("%v", err)
	}
	if err := cfg.validateIPRoyal(); err != nil {
		return usagef("%v", err)
	}
	client, err := newIPRoyal(cfg, nil)
	if err != nil {
		return usagef("%v", err)
	}
	subs, total, err := client.SearchSubusers(ctx, args[0], maxFound)
	if err != nil {
		return failed("could not search the sub-users", err, bot.OpLookup)
	}
	if len(subs) == 0 {
		fmt.Fprintf(stdout, "No sub-user's username contains %q.\n", args[0])
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 1, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "USERNAME\tHASH\tUSED GB\tAVAILABLE GB")
	for _, s := range subs {
		fmt.Fprintf(tw, "%s\t%s\t%.2f\t%.2f\n", s.Username, s.Hash, s.TrafficUsed, s.TrafficAvailable)
	}
	_ = tw.Flush()
	if more := total - len(subs); more > 0 {
		fmt.Fprintf(stdout, "...and %d more: search for something longer to see them.\n", more)
	}
	return nil
}
