package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sessionbot/sessionbot/bot"
	"github.com/sessionbot/sessionbot/bot/slack"
	"github.com/sessionbot/sessionbot/iproyal"
)

func newIPRoyal(cfg config, rt http.RoundTripper) (*iproyal.Client, error) {
	if rt == nil {
		rt = pooledTransport()
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

// iproyalFor loads the configuration and the IPRoyal client for the
// command line's subcommands that call IPRoyal; every problem is exit 2.
func iproyalFor(getenv func(string) string) (config, *iproyal.Client, error) {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return cfg, nil, usagef("%w", err)
	}
	if err := cfg.validateIPRoyal(); err != nil {
		return cfg, nil, usagef("%w", err)
	}
	client, err := newIPRoyal(cfg, nil)
	if err != nil {
		return cfg, nil, usagef("%w", err)
	}
	return cfg, client, nil
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
		return usagef("%w", err)
	}
	if len(words) > cfg.MaxHashes {
		return usagef("%d targets is more than MAX_HASHES (%d); split them over several runs", len(words), cfg.MaxHashes)
	}
	if err := cfg.validateIPRoyal(); err != nil {
		return usagef("%w", err)
	}
	if err := cfg.validateAccess(); err != nil {
		return usagef("%w", err)
	}
	client, err := newIPRoyal(cfg, nil)
	if err != nil {
		return usagef("%w", err)
	}
	log := newLogger(stderr, cfg)

	// A stop (Ctrl-C, SIGTERM) is one the core knows: a reset in flight
	// then ends as unknown, in the journal too.
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)
	go func() {
		select {
		case <-signals:
			stop(bot.ErrStopping)
		case <-ctx.Done():
		}
	}()

	// The command line's reset takes the bot's one path, with no channel
	// (nothing is announced) and no allow-list (the token holder's own
	// tool); its trail is the audit log line and, with a journal, the entry.
	b := bot.New(bot.Config{
		MaxTargets:     cfg.MaxHashes,
		AuditChannel:   cfg.AuditChannel,
		Journal:        cliJournal(ctx, cfg, log),
		CommandTimeout: cfg.CommandTimeout,
		Log:            log,
	}, nil, client, nil)
	res := b.Handle(ctx, bot.Request{Via: bot.ViaCLI, User: operator(getenv), Targets: words, DryRun: dryRun})
	switch res.Outcome {
	case bot.OutcomeReset, bot.OutcomeDryRun:
		fmt.Fprint(stdout, bot.CommandLineReport(res))
		return nil
	case bot.OutcomeInvalid:
		return &inputError{bot.CommandLineProblem(res)}
	}
	return &failure{bot.CommandLineProblem(res), res.Err}
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

// failure is an IPRoyal error worded for people; it still unwraps to it.
type failure struct {
	words string
	err   error
}

func (f *failure) Error() string { return f.words }
func (f *failure) Unwrap() error { return f.err }
