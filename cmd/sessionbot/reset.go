package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"

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

// runReset is "sessionbot reset [--dry-run] [--json] [--yes] TARGET...":
// one reset from the command line, for operators and scripts. "-" reads
// more targets from standard input. It leaves the bot's audit log line on
// stderr and, when SLACK_BOT_TOKEN and AUDIT_CHANNEL are set, the bot's
// journal entry in Slack. On a terminal, more than CONFIRM_ABOVE targets
// are confirmed first, with the core's own confirmation.
func runReset(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	args, dryRun := takeFlag(args, "--dry-run", "-dry-run", "-n")
	args, asJSON := takeFlag(args, "--json", "-json")
	args, yes := takeFlag(args, "--yes", "-yes", "-y")
	args, fromStdin := takeFlag(args, "-")
	if err := rejectFlags(args); err != nil {
		return err
	}
	var words []string
	for _, a := range operands(args) {
		words = append(words, bot.SplitTargets(a)...)
	}
	if fromStdin {
		read, err := readTargets(stdin)
		if err != nil {
			return usagef("reset -: %w", err)
		}
		words = append(words, read...)
	}
	words = bot.SplitTargets(strings.Join(words, " "))
	switch {
	case len(words) == 0 && fromStdin:
		return usagef("reset - read no targets from standard input")
	case len(words) == 0:
		return usagef("reset needs at least one TARGET (a residential user hash or a sub-user username), or - to read them from standard input")
	}
	cfg, client, err := iproyalFor(getenv)
	if err != nil {
		return err
	}
	if len(words) > cfg.MaxHashes {
		return usagef("%d targets is more than MAX_HASHES (%d); split them over several runs", len(words), cfg.MaxHashes)
	}
	if err := cfg.validateAccess(); err != nil {
		return usagef("%w", err)
	}
	if err := checkOperator(cfg.Operator); err != nil {
		return usagef("%w", err)
	}
	log := newLogger(stderr, cfg)
	who, guessed := operator(cfg.Operator, getenv)
	if guessed {
		log.Warn("neither SESSIONBOT_OPERATOR nor USER is set, so this reset's audit line and journal entry name its operator from the process's user: set SESSIONBOT_OPERATOR to name who runs it", "operator", who)
	}

	// A confirmation is asked only where someone can answer it: standard
	// input and standard error on a terminal, and the targets not read
	// from standard input. Elsewhere (a script, a pipe), nothing is asked.
	confirmAbove := 0
	if !yes && !fromStdin && isTerminal(stdin) && isTerminal(stderr) {
		confirmAbove = cfg.ConfirmAbove
	}

	// The command line's reset takes the bot's one path, with no channel
	// (nothing is announced) and no allow-list (the token holder's own
	// tool); its trail is the audit log line and, with a journal, the entry.
	b := bot.New(bot.Config{
		MaxTargets:     cfg.MaxHashes,
		AuditChannel:   cfg.AuditChannel,
		Journal:        cliJournal(ctx, cfg, log),
		CommandTimeout: cfg.CommandTimeout,
		ConfirmAbove:   confirmAbove,
		ConfirmTTL:     cfg.ConfirmTTL,
		ConfirmKey:     cfg.confirmKey(),
		TokenLimit:     1 << 20, // the token stays in this process
		Log:            log,
	}, nil, client, nil)

	// A stop (Ctrl-C, SIGTERM) while the core works is one it knows: a reset
	// in flight then ends as unknown, in the journal too. At the question,
	// it answers no.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)
	handle := func(req bot.Request) bot.Result {
		ctx, stop := context.WithCancelCause(ctx)
		defer stop(nil)
		handled := make(chan struct{})
		defer close(handled)
		go func() {
			select {
			case <-signals:
				stop(bot.ErrStopping)
			case <-handled:
			}
		}()
		return b.Handle(ctx, req)
	}

	res := handle(bot.Request{Via: bot.ViaCLI, User: who, Targets: words, DryRun: dryRun})
	if res.Outcome == bot.OutcomeConfirmAsked && res.Answer.Confirm != "" {
		fmt.Fprint(stderr, bot.CommandLineConfirm(res, cfg.ConfirmAbove))
		confirmed := ask(ctx, stdin, stderr, signals)
		// The answer is a click on the core's confirmation: a bot without an
		// allow-list takes it as the command line's (bot/click.go).
		res = handle(bot.Request{Via: bot.ViaClick, User: who, Token: res.Answer.Confirm, Confirm: confirmed})
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		for _, r := range resetRecords(words, res) {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
	}
	switch res.Outcome {
	case bot.OutcomeReset, bot.OutcomeDryRun:
		if !asJSON {
			fmt.Fprint(stdout, bot.CommandLineReport(res))
		}
		return nil
	case bot.OutcomeInvalid, bot.OutcomeTooMany:
		return &inputError{bot.CommandLineProblem(res)}
	}
	return &failure{bot.CommandLineProblem(res), res.Err}
}

// readTargets reads targets from r, one or more a line, split as the
// command line's are.
func readTargets(r io.Reader) ([]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var words []string
	for sc.Scan() {
		words = append(words, bot.SplitTargets(sc.Text())...)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading standard input: %w", err)
	}
	return words, nil
}

// ask asks a confirmation's yes or no on the terminal: y or yes confirms;
// anything else, Ctrl-D (the end of input), Ctrl-C or a stop answers no,
// and leaves the cursor on a new line.
func ask(ctx context.Context, stdin io.Reader, stderr io.Writer, signals <-chan os.Signal) bool {
	fmt.Fprint(stderr, bot.ConfirmPrompt)
	answer := make(chan string, 1)
	go func() { // it outlives a Ctrl-C, blocked on the terminal, until the process exits
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil {
			close(answer)
			return
		}
		answer <- line
	}()
	select {
	case line, ok := <-answer:
		if ok {
			line = strings.ToLower(strings.TrimSpace(line))
			return line == "y" || line == "yes"
		}
	case <-signals:
	case <-ctx.Done():
	}
	fmt.Fprintln(stderr) // the terminal echoed no new line
	return false
}

// resetRecord is one target of reset --json. Its field names are a
// contract (README.md, "Commands"): add fields, never rename one.
type resetRecord struct {
	RequestID string `json:"request_id"`
	Outcome   string `json:"outcome"`  // how the request ended, as its audit log line says
	Target    string `json:"target"`   // as given: the username, else the hash
	Hash      string `json:"hash"`     // "" when not known
	Username  string `json:"username"` // "" when the target was given by hash
	Error     string `json:"error"`    // why this target was not reset; "" when it was
}

// resetRecords is one record a target: the resolved ones when the core
// got that far, else each word, with what is wrong with it.
func resetRecords(words []string, res bot.Result) []resetRecord {
	problem := ""
	switch res.Outcome {
	case bot.OutcomeReset, bot.OutcomeDryRun, bot.OutcomeInvalid:
	default:
		problem = bot.CommandLineProblem(res)
	}
	var out []resetRecord
	for _, t := range res.Targets {
		target := t.Username
		if target == "" {
			target = t.Hash
		}
		out = append(out, resetRecord{res.RequestID, string(res.Outcome), target, t.Hash, t.Username, problem})
	}
	if len(res.Targets) > 0 {
		return out
	}
	bad := make(map[string]string, len(res.Bad))
	for _, t := range res.Bad {
		bad[t.Input] = bot.PlainText(t.Reason)
	}
	for _, w := range words {
		r := resetRecord{RequestID: res.RequestID, Outcome: string(res.Outcome), Target: w, Error: problem}
		if why, ok := bad[w]; ok {
			r.Error = why
		} else if h, err := iproyal.ParseHash(w); err == nil {
			r.Hash = h
		} else if res.Outcome == bot.OutcomeInvalid {
			r.Username = w // not among the bad, so IPRoyal knows it
		}
		out = append(out, r)
	}
	return out
}

// cliJournal is the bot's journal, when SLACK_BOT_TOKEN and AUDIT_CHANNEL
// are set and Slack takes the token. A reset from the command line is the
// break glass for when things are down, so without Slack it goes on, and
// says why it is not journalled.
func cliJournal(ctx context.Context, cfg config, log *slog.Logger) bot.Journal {
	switch {
	case cfg.AuditChannel == "":
		return nil
	case cfg.SlackBotToken == "":
		log.Warn("AUDIT_CHANNEL is set but SLACK_BOT_TOKEN is not, so this reset is not journalled in AUDIT_CHANNEL: set SLACK_BOT_TOKEN to journal it")
		return nil
	}
	sl := slack.New(slack.Options{BotToken: cfg.SlackBotToken, APIURL: cfg.SlackAPIURL, Log: log})
	authCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := sl.AuthTest(authCtx); err != nil {
		if _, refused := slack.TokenRefused(err); refused {
			log.Warn("Slack refused SLACK_BOT_TOKEN, so this reset is not journalled in AUDIT_CHANNEL", "error", slackStartError("SLACK_BOT_TOKEN", cfg, err))
		} else {
			log.Warn("Slack did not answer, so this reset is not journalled in AUDIT_CHANNEL", "error", slackStartError("SLACK_BOT_TOKEN", cfg, err))
		}
		return nil
	}
	return sl.Journal(cfg.AuditChannel)
}

// operator is who runs the command line, for the audit trail:
// SESSIONBOT_OPERATOR (named) as it is, else $USER@host. Without USER it
// guesses from the process's user, and says so (guessed).
func operator(named string, getenv func(string) string) (who string, guessed bool) {
	if named = strings.TrimSpace(named); named != "" {
		return named, false
	}
	who = getenv("USER")
	if who == "" {
		guessed = true
		if u, err := user.Current(); err == nil && u.Username != "" {
			who = u.Username
		} else {
			who = "uid-" + strconv.Itoa(os.Getuid())
		}
	}
	if host, err := os.Hostname(); err == nil && host != "" {
		who += "@" + host
	}
	return who, guessed
}

// checkOperator checks SESSIONBOT_OPERATOR, which the journal shows
// between backquotes.
func checkOperator(name string) error {
	if len(name) > 100 || strings.ContainsFunc(name, func(r rune) bool { return r == '`' || unicode.IsControl(r) }) {
		return errors.New("SESSIONBOT_OPERATOR must be at most 100 characters, with no backquote or control character, like ana@example.com")
	}
	return nil
}

// failure is an IPRoyal error worded for people; it still unwraps to it.
type failure struct {
	words string
	err   error
}

func (f *failure) Error() string { return f.words }
func (f *failure) Unwrap() error { return f.err }
