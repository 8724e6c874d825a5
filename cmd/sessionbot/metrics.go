package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sessionbot/sessionbot/bot"
)

// Every label value sessionbot knows it will use is exported at 0 from
// start-up, so a series exists before its first event: rate() and
// increase() see the first one, and absent() means the process is gone,
// not that nothing happened yet.
var (
	// outcomes is every bot.Outcome; a test checks the list against bot's
	// declarations.
	outcomes = []bot.Outcome{
		bot.OutcomeHelp, bot.OutcomeDenied, bot.OutcomeInvalid, bot.OutcomeTooMany,
		bot.OutcomeLookupFailed, bot.OutcomePostFailed, bot.OutcomeReset, bot.OutcomeFailed,
		bot.OutcomeUnknown, bot.OutcomeNotRun, bot.OutcomeDryRun, bot.OutcomeBusy,
		bot.OutcomeStatus, bot.OutcomeStatusFailed, bot.OutcomeFound, bot.OutcomeFindFailed,
		bot.OutcomeRateLimited, bot.OutcomeConfirmAsked, bot.OutcomeCancelled, bot.OutcomeExpired,
		bot.OutcomeNotYours, bot.OutcomeBadClick, bot.OutcomeRepeatClick, bot.OutcomeClickFailed,
	}
	// disconnectReasons: Slack's disconnect reasons that the adapter tells
	// apart, then its own (bot/slack/socket.go).
	disconnectReasons = []string{
		"warning", "refresh_requested", "too_many_websockets", "link_disabled", "unspecified",
		"connection_lost", "ping_timeout", "frame_too_large", "shutdown",
	}
	// iproyalCalls are the methods sessionbot calls IPRoyal with (as
	// promhttp labels them), and iproyalCodes the statuses it tells apart:
	// success (IPRoyal does not document DELETE's), a refused token, not
	// found, a rejected request, a rate limit, and the 5xx it retries.
	iproyalCalls = []string{"get", "delete"}
	iproyalCodes = []string{"200", "204", "401", "403", "404", "422", "429", "500", "502", "503", "504"}
)

// exportAtZero creates every known series of m's labelled counters at 0.
func exportAtZero(m *bot.Metrics) {
	for _, o := range outcomes {
		m.Commands.WithLabelValues(string(o))
	}
	for _, r := range disconnectReasons {
		m.SlackDisconnects.WithLabelValues(r)
	}
	for _, method := range iproyalCalls {
		for _, code := range iproyalCodes {
			m.IPRoyalRequests.WithLabelValues(method, code)
		}
	}
}

// newJournalReadable registers sessionbot_journal_readable, -1 until the
// first read of the journal says otherwise.
func newJournalReadable(reg prometheus.Registerer) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "sessionbot_journal_readable",
		Help: "1 when the last read of AUDIT_CHANNEL's history (the journal) succeeded, 0 when it failed, -1 before the first read or without AUDIT_CHANNEL.",
	})
	g.Set(-1)
	reg.MustRegister(g)
	return g
}

// watchedJournal is a journal whose reads set sessionbot_journal_readable:
// a journal the bot cannot read leaves crashed resets without an outcome,
// and only a log line would say so.
type watchedJournal struct {
	bot.Journal
	readable prometheus.Gauge
}

func (j watchedJournal) Since(ctx context.Context, t time.Time) ([]bot.Entry, error) {
	entries, err := j.Journal.Since(ctx, t)
	switch {
	case err == nil:
		j.readable.Set(1)
	case ctx.Err() == nil: // not merely stopping
		j.readable.Set(0)
	}
	return entries, err
}
