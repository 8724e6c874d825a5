package bot

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are sessionbot's Prometheus metrics.
type Metrics struct {
	Commands        *prometheus.CounterVec
	IPRoyalRequests *prometheus.CounterVec
	IPRoyalLatency  *prometheus.HistogramVec
	SlackConnected  prometheus.Gauge
	SlackReconnects prometheus.Counter
	InFlight        prometheus.Gauge
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
		SlackConnected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sessionbot_slack_connected",
			Help: "1 while the Socket Mode connection is up.",
		}),
		SlackReconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sessionbot_slack_reconnects_total",
			Help: "Socket Mode reconnections after the first connection.",
		}),
		InFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sessionbot_commands_in_flight",
			Help: "Commands being handled now.",
		}),
	}
	reg.MustRegister(m.Commands, m.IPRoyalRequests, m.IPRoyalLatency, m.SlackConnected, m.SlackReconnects, m.InFlight)
	return m
}

// InstrumentIPRoyal wraps the transport of the IPRoyal client so every
// request, retries included, is counted and timed.
func (m *Metrics) InstrumentIPRoyal(rt http.RoundTripper) http.RoundTripper {
	return promhttp.InstrumentRoundTripperCounter(m.IPRoyalRequests,
		promhttp.InstrumentRoundTripperDuration(m.IPRoyalLatency, rt))
}
