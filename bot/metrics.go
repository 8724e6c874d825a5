package bot

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are sessionbot's Prometheus metrics.
type Metrics struct {
	Commands          *prometheus.CounterVec
	IPRoyalRequests   *prometheus.CounterVec
	IPRoyalLatency    *prometheus.HistogramVec
	IPRoyalTokenValid prometheus.Gauge
	SlackConnected    prometheus.Gauge
	SlackConnections  prometheus.Gauge
	SlackReconnects   prometheus.Counter
	SlackDisconnects  *prometheus.CounterVec
	InFlight          prometheus.Gauge
}

// NewMetrics creates the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sessionbot_commands_total",
			Help: "Commands handled, by outcome.",
		}, []string{"outcome"}),
		IPRoyalRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sessionbot_iproyal_requests_total",
			Help: "HTTP requests to IPRoyal, by method and status code.",
		}, []string{"method", "code"}),
		IPRoyalLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sessionbot_iproyal_request_duration_seconds",
			Help:    "Latency of HTTP requests to IPRoyal.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "code"}),
		IPRoyalTokenValid: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sessionbot_iproyal_token_valid",
			Help: "1 when IPRoyal last accepted IPROYAL_API_TOKEN, 0 when it refused it (401 or 403), -1 before IPRoyal has answered.",
		}),
		SlackConnected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sessionbot_slack_connected",
			Help: "1 while the Socket Mode connection is up.",
		}),
		SlackConnections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sessionbot_slack_connections",
			Help: "Socket Mode connections the app has open, all replicas included, as Slack counted them at the last hello (num_connections; Slack allows 10).",
		}),
		SlackDisconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sessionbot_slack_disconnects_total",
			Help: "Socket Mode connections ended, by reason: Slack's disconnect reason (refresh_requested, too_many_websockets, link_disabled, ...) or connection_lost, ping_timeout, frame_too_large, shutdown.",
		}, []string{"reason"}),
		SlackReconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sessionbot_slack_reconnects_total",
			Help: "Socket Mode reconnections after the first connection.",
		}),
		InFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sessionbot_commands_in_flight",
			Help: "Commands being handled now.",
		}),
	}
	m.IPRoyalTokenValid.Set(-1)
	reg.MustRegister(m.Commands, m.IPRoyalRequests, m.IPRoyalLatency, m.IPRoyalTokenValid, m.SlackConnected,
		m.SlackConnections, m.SlackReconnects, m.SlackDisconnects, m.InFlight)
	return m
}

// InstrumentIPRoyal wraps the transport of the IPRoyal client so every
// request, retries included, is counted and timed, and every answer says
// whether IPRoyal accepts the token.
func (m *Metrics) InstrumentIPRoyal(rt http.RoundTripper) http.RoundTripper {
	return promhttp.InstrumentRoundTripperCounter(m.IPRoyalRequests,
		promhttp.InstrumentRoundTripperDuration(m.IPRoyalLatency, tokenWatch{m, rt}))
}

// tokenWatch sets IPRoyalTokenValid from each answer's status.
type tokenWatch struct {
	m  *Metrics
	rt http.RoundTripper
}

func (t tokenWatch) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.rt.RoundTrip(r)
	if err == nil {
		switch {
		case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
			t.m.IPRoyalTokenValid.Set(0)
		case resp.StatusCode < 300:
			t.m.IPRoyalTokenValid.Set(1)
		}
	}
	return resp, err
}
