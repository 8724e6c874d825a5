package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/sessionbot/sessionbot/bot"
	"github.com/sessionbot/sessionbot/bot/slack"
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
// command line, for operators and scripts. It leaves the bot's audit log
// line on stderr and, when SLACK_BOT_TOKEN and AUDIT_CHANNEL are set, the
// bot's journal entry in Slack.
func runReset(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	args, dryRun := takeFlag(args, "--dry-run", "-dry-run", "-n")
	if err := rejectFlags(args); err != nil {
		return err
	}
	var words []string
	for _, a := range operands(args) {
		words = append(words, bot.SplitTargets(a)...)
	}
	words = bot.SplitTargets(strings.Join(words, " "))
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
	if err := cfg.validateIPRoyal(); err != nil {
		return usagef("%v", err)
	}
	if err := cfg.validateAccess(); err != nil {
		return usagef("%v", err)
	}
	client, err := newIPRoyal(cfg, nil)
	if err != nil {
		return usagef("%v", err)
	}
	log := newLogger(stderr, cfg)

	b := bot.New(bot.Config{
		MaxTargets:     cfg.MaxHashes,
		AuditChannel:   cfg.AuditChannel,
		Journal:        cliJournal(ctx, cfg, log),
		CommandTimeout: cfg.CommandTimeout,
		Log:            log,
	}, nil, client, nil)
	res := b.ResetFromCommandLine(ctx, operator(getenv), words, dryRun)
	switch res.Outcome {
	case bot.OutcomeLookupFailed:
		return failed("nothing was reset, looking up the sub-users", res.Err, bot.OpLookup)
	case bot.OutcomeInvalid:
		return &inputError{"nothing was reset: " + describeBad(res.Bad)}
	case bot.OutcomeDryRun:
		fmt.Fprintf(stdout, "Dry run: no DELETE was sent. A real run would reset the sessions of %s:\n%s", count(len(res.Targets)), listTargets(res.Targets))
		return nil
	case bot.OutcomeFailed, bot.OutcomeUnknown:
		return failed("reset failed", res.Err, bot.OpReset)
	}
	fmt.Fprintf(stdout, "Reset the sessions of %s:\n%s", count(len(res.Targets)), listTargets(res.Targets))
	return nil
}

// cliJournal is the bot's journal, when SLACK_BOT_TOKEN and AUDIT_CHANNEL
// are set and Slack answers. A reset from the command line is the break
// glass for when things are down, so without Slack it goes on, and says so.
func cliJournal(ctx context.Context, cfg config, log *slog.Logger) bot.Journal {
	if cfg.SlackBotToken == "" || cfg.AuditChannel == "" {
		return nil
	}
	sl := slack.New(slack.Options{BotToken: cfg.SlackBotToken, APIURL: cfg.SlackAPIURL, Log: log})
	authCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := sl.AuthTest(authCtx); err != nil {
		log.Warn("Slack did not answer, so this reset is not journalled in AUDIT_CHANNEL", "error", slackStartError("SLACK_BOT_TOKEN", cfg, err))
		return nil
	}
	return sl.Journal(cfg.AuditChannel)
}

// operator is who runs sessionbot reset, for the audit trail: user@host.
func operator(getenv func(string) string) string {
	user := getenv("USER")
	if user == "" {
		user = "unknown"
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		return user
	}
	return user + "@" + host
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

// describeBad lists every bad target, as Slack would: the reasons are
// mrkdwn, read here as plain text.
func describeBad(bad []bot.BadTarget) string {
	parts := make([]string, len(bad))
	for i, b := range bad {
		parts[i] = fmt.Sprintf("%q is %s", b.Input, strings.ReplaceAll(b.Reason, "`", ""))
	}
	if len(bad) == 1 {
		return parts[0]
	}
	return fmt.Sprintf("%d targets are not valid: %s", len(bad), strings.Join(parts, "; "))
}

// failed words an IPRoyal failure for a person at a terminal, as the bot
// words it in Slack (the raw error is in the audit line).
func failed(doing string, err error, op bot.Operation) error {
	what, todo := bot.DescribeFailure(err, op)
	return &failure{fmt.Sprintf("%s: %s What to do: %s%s", doing, what, strings.ToUpper(todo[:1]), todo[1:]), err}
}

// failure is an IPRoyal error worded for people; it still unwraps to it.
type failure struct {
	words string
	err   error
}

func (f *failure) Error() string { return f.words }
func (f *failure) Unwrap() error { return f.err }
