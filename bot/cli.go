package bot

import (
	"context"
	"errors"
)

// CLIResult is how a reset from the command line ended.
type CLIResult struct {
	RequestID string
	Outcome   Outcome
	Targets   []Target
	Bad       []BadTarget // the words that are not targets; nothing was reset
	Err       error       // IPRoyal's failure, for OutcomeLookupFailed and OutcomeFailed
}

// ResetFromCommandLine is `sessionbot reset`: it resolves words and resets
// them for operator (who ran it, as "user@host"), leaving the same audit log
// line as the bot and, with a journal, the same journal entry, marked as
// run from the command line. There is no channel, so no announcement.
func (b *Bot) ResetFromCommandLine(ctx context.Context, operator string, words []string, dryRun bool) CLIResult {
	r := b.newRequest(ctx, "cli", Command{User: operator})
	defer r.done()
	res := CLIResult{RequestID: r.id}
	res.Outcome = b.resetFromCommandLine(r, words, dryRun, &res)
	r.outcome = res.Outcome
	b.audit(r)
	return res
}

func (b *Bot) resetFromCommandLine(r *request, words []string, dryRun bool, res *CLIResult) Outcome {
	targets, bad, err := ResolveTargets(r.work, b.finder, words)
	if err != nil {
		r.err, res.Err = err, err
		return OutcomeLookupFailed
	}
	if len(bad) > 0 {
		res.Bad = bad
		return OutcomeInvalid
	}
	r.targets, res.Targets = targets, targets
	if dryRun {
		return OutcomeDryRun
	}
	e := Entry{RequestID: r.id, State: StateStarted, Source: SourceCLI, User: r.cmd.User, Targets: targets, Started: r.start}
	b.journal(r, &e)

	start := b.cfg.Now()
	err = b.iproyal.ResetSessions(r.work, Hashes(targets))
	r.took = b.cfg.Now().Sub(start)
	e.Took = r.took
	outcome := OutcomeReset
	e.State = StateReset
	switch {
	case errors.Is(err, context.Canceled): // interrupted, with Ctrl-C say
		r.err, res.Err = err, err
		outcome, e.State, e.Reason = OutcomeUnknown, StateUnknown, "sessionbot reset was interrupted while the reset was in flight"
	case err != nil:
		r.err, res.Err = err, err
		outcome, e.State = OutcomeFailed, StateFailed
		e.Reason, _ = describeFailure(err, OpReset)
	}
	if b.cfg.Journal != nil && e.Ref != "" {
		ctx, cancel := context.WithTimeout(r.talk, finishRetry)
		defer cancel()
		b.rewrite(ctx, e)
	}
	return outcome
}
