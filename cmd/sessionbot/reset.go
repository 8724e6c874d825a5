package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/sessionbot/sessionbot/bot"
	"github.com/sessionbot/sessionbot/iproyal"
)

func newIPRoyal(cfg config, rt http.RoundTripper) (*iproyal.Client, error) {
	if rt == nil {
		rt = bot.PooledTransport()
	}
	c, err := iproyal.NewClient(
		iproyal.WithBaseURL(cfg.IPRoyalAPIURL),
		iproyal.WithToken(cfg.IPRoyalToken),
		iproyal.WithUserAgent("sessionbot/"+version),
		iproyal.WithHTTPClient(&http.Client{Transport: rt}),
		iproyal.WithRetryPolicy(iproyal.RetryPolicy{AttemptTimeout: cfg.IPRoyalTimeout}),
	)
	if err != nil {
		return nil, fmt.Errorf("IPROYAL_API_URL %q: %w", cfg.IPRoyalAPIURL, err)
	}
	return c, nil
}

// runReset is "sessionbot reset [--dry-run] TARGET...": one reset from the
// command line, for operators and scripts.
func runReset(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	args, dryRun := takeFlag(args, "--dry-run", "-dry-run", "-n")
	if err := rejectFlags(args); err != nil {
		return err
	}
	words := bot.SplitTargets(strings.Join(args, " "))
	if len(words) == 0 {
		return usagef("reset needs at least one TARGET (a residential user hash or a sub-user username)")
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return usagef("%v", err)
	}
	if len(words) > cfg.MaxHashes {
		return usagef("%d targets is more than MAX_HASHES (%d); split them over several runs", len(words), cfg.MaxHashes)
	}
	// Refuse malformed targets before anything reaches IPRoyal.
	if _, bad, _ := bot.ResolveTargets(ctx, nil, words); len(bad) > 0 {
		return usagef("nothing was reset: %s", describeBad(bad))
	}
	if err := cfg.validateIPRoyal(); err != nil {
		return usagef("%v", err)
	}
	client, err := newIPRoyal(cfg, nil)
	if err != nil {
		return usagef("%v", err)
	}

	targets, bad, err := bot.ResolveTargets(ctx, client, words)
	if err != nil {
		return fmt.Errorf("nothing was reset: looking up sub-users: %w; %s", err, hint(err))
	}
	if len(bad) > 0 {
		return fmt.Errorf("nothing was reset: %s", describeBad(bad))
	}
	if dryRun {
		fmt.Fprintf(stdout, "Dry run: no DELETE was sent. A real run would reset the sessions of %s:\n%s", count(len(targets)), listTargets(targets))
		return nil
	}
	if err := client.ResetSessions(ctx, bot.Hashes(targets)); err != nil {
		return fmt.Errorf("reset failed: %w; %s", err, hint(err))
	}
	fmt.Fprintf(stdout, "Reset the sessions of %s:\n%s", count(len(targets)), listTargets(targets))
	return nil
}

func count(n int) string {
	if n == 1 {
		return "1 residential user"
	}
	return fmt.Sprintf("%d residential users", n)
}

func listTargets(ts []bot.Target) string {
	var b strings.Builder
	for _, t := range ts {
		b.WriteString("  " + t.Hash)
		if t.Username != "" {
			b.WriteString("  " + t.Username)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func describeBad(bad []bot.BadTarget) string {
	parts := make([]string, len(bad))
	for i, b := range bad {
		parts[i] = fmt.Sprintf("%q is %s", b.Input, b.Reason)
	}
	return strings.Join(parts, "; ")
}

// hint says what to do about an IPRoyal failure.
func hint(err error) string {
	var apiErr *iproyal.APIError
	switch {
	case errors.Is(err, iproyal.ErrUnauthorized):
		return "check IPROYAL_API_TOKEN, and that API access is enabled on the IPRoyal account"
	case errors.Is(err, iproyal.ErrRateLimited):
		if errors.As(err, &apiErr) && apiErr.RetryAfter > 0 {
			return "IPRoyal is rate limiting; try again in " + apiErr.RetryAfter.String()
		}
		return "IPRoyal is rate limiting; try again in a minute"
	case errors.Is(err, iproyal.ErrServer):
		return "IPRoyal is having trouble; try again in a few minutes"
	case errors.Is(err, iproyal.ErrValidation):
		return "IPRoyal rejected the request; check the hashes"
	case errors.Is(err, iproyal.ErrNotFound):
		return "check IPROYAL_API_URL"
	case errors.Is(err, context.Canceled):
		return "interrupted; the sessions may or may not have been reset, and running again is safe"
	case errors.As(err, &apiErr):
		return "unexpected answer from IPRoyal"
	}
	return "could not get an answer from IPRoyal (check IPROYAL_API_URL and the network); the sessions may or may not have been reset, and running again is safe"
}
