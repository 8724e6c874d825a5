package main

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sessionbot/sessionbot/bot"
	"github.com/sessionbot/sessionbot/bot/slack"
)

// botMetrics are sessionbot's Prometheus metrics: the core's outcomes, the
// IPRoyal client's requests, and the Slack adapter's connection and load.
type botMetrics struct {
	commands          *prometheus.CounterVec
	approvals         *prometheus.CounterVec
	pending           prometheus.Gauge
	backlog           prometheus.Gauge
	dropped           prometheus.Counter
	iproyalRequests   *prometheus.CounterVec
	iproyalLatency    *prometheus.HistogramVec
	iproyalTokenValid prometheus.Gauge
	slack             *slack.Metrics
}

// newMetrics creates the metrics and registers them with reg.
func newMetrics(reg prometheus.Registerer) *botMetrics {
	m := &botMetrics{
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sessionbot_commands_total",
			Help: "Commands handled, by outcome.",
		}, []string{"outcome"}),
		approvals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sessionbot_approvals_total",
			Help: "Requests that waited for approval, by how their wait ended: approved, denied, withdrawn, expired or refused (the requester no longer allowed at the click).",
		}, []string{"result"}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sessionbot_approvals_pending",
			Help: "Requests waiting for approval, as this replica's last sweep of the journal found them (every replica sees the same journal).",
		}),
		backlog: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sessionbot_journal_backlog",
			Help: "Writes to AUDIT_CHANNEL waiting behind requests (trails marked done, refusal mirrors), retried until they land; at most 1000.",
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sessionbot_journal_writes_dropped_total",
			Help: "Writes to AUDIT_CHANNEL dropped because 1000 were already waiting: each is also logged as an ERROR.",
		}),
		iproyalRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sessionbot_iproyal_requests_total",
			Help: "HTTP requests to IPRoyal, by method and status code.",
		}, []string{"method", "code"}),
		iproyalLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sessionbot_iproyal_request_duration_seconds",
			Help:    "Latency of HTTP requests to IPRoyal.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "code"}),
		iproyalTokenValid: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sessionbot_iproyal_token_valid",
			Help: "1 when IPRoyal last accepted IPROYAL_API_TOKEN, 0 when it refused it (401 or 403), -1 before IPRoyal has answered.",
		}),
	}
	m.slack = &slack.Metrics{
		Connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sessionbot_slack_connected",
			Help: "1 while the Socket Mode connection is up.",
		}),
		Connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sessionbot_slack_connections",
			Help: "Socket Mode connections the app has open, all replicas included, as Slack counted them at the last hello (num_connections; Slack allows 10).",
		}),
		Disconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sessionbot_slack_disconnects_total",
			Help: "Socket Mode connections ended, by reason: Slack's disconnect reason (refresh_requested, too_many_websockets, link_disabled, ...) or connection_lost, ping_timeout, frame_too_large, shutdown.",
		}, []string{"reason"}),
		Reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sessionbot_slack_reconnects_total",
			Help: "Socket Mode reconnections after the first connection.",
		}),
		InFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sessionbot_commands_in_flight",
			Help: "Commands being handled now.",
		}),
		Busy: m.commands.WithLabelValues(string(bot.OutcomeBusy)),
	}
	m.iproyalTokenValid.Set(-1)
	for _, r := range bot.ApprovalResults {
		m.approvals.WithLabelValues(r)
	}
	reg.MustRegister(m.commands, m.approvals, m.pending, m.backlog, m.dropped, m.iproyalRequests, m.iproyalLatency, m.iproyalTokenValid, m.slack.Connected,
		m.slack.Connections, m.slack.Reconnects, m.slack.Disconnects, m.slack.InFlight)
	return m
}

// count is the core's Config.Count: one request ended with o.
func (m *botMetrics) count(o bot.Outcome) { m.commands.WithLabelValues(string(o)).Inc() }

// observer tells the metrics what the core does.
func (m *botMetrics) observer() bot.Observer {
	return bot.Observer{
		Outcome:  m.count,
		Backlog:  func(n int) { m.backlog.Set(float64(n)) },
		Dropped:  m.dropped.Inc,
		Approval: func(result string) { m.approvals.WithLabelValues(result).Inc() },
		Pending:  func(n int) { m.pending.Set(float64(n)) },
	}
}

// instrumentIPRoyal wraps the transport of the IPRoyal client so every
// request, retries included, is counted and timed, and every answer says
// whether IPRoyal accepts the token.
func (m *botMetrics) instrumentIPRoyal(rt http.RoundTripper) http.RoundTripper {
	return promhttp.InstrumentRoundTripperCounter(m.iproyalRequests,
		promhttp.InstrumentRoundTripperDuration(m.iproyalLatency, tokenWatch{m, rt}))
}

// tokenWatch sets iproyalTokenValid from each answer's status.
type tokenWatch struct {
	m  *botMetrics
	rt http.RoundTripper
}

func (t tokenWatch) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.rt.RoundTrip(r)
	if err == nil {
		switch {
		case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
			t.m.iproyalTokenValid.Set(0)
		case resp.StatusCode < 300:
			t.m.iproyalTokenValid.Set(1)
		}
	}
	return resp, err
}

// pooledTransport is http.DefaultTransport keeping enough idle connections
// per host for many commands at once. With the default of 2, a busy bot
// opens and closes a connection for most calls: in BENCHMARKS.md that
// doubled the CPU per command. Idle connections close after 15 s.
func pooledTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	t.IdleConnTimeout = idleConnTimeout
	return t
}

// idleConnTimeout is how long pooledTransport keeps an unused connection.
const idleConnTimeout = 15 * time.Second

// Every label value sessionbot knows it will use is exported at 0 from
// start-up, so a series exists before its first event: rate() and
// increase() see the first one, and absent() means the process is gone,
// not that nothing happened yet.
var (
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

// exportAtZero creates every known series of the labelled counters at 0.
func (m *botMetrics) exportAtZero() {
	for _, o := range bot.Outcomes {
		m.commands.WithLabelValues(string(o))
	}
	for _, r := range disconnectReasons {
		m.slack.Disconnects.WithLabelValues(r)
	}
	for _, method := range iproyalCalls {
		for _, code := range iproyalCodes {
			m.iproyalRequests.WithLabelValues(method, code)
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
