package slack

import "github.com/prometheus/client_golang/prometheus"

// Metrics are what the adapter reports of its connection and its load;
// cmd/sessionbot registers them with the rest.
type Metrics struct {
	Connected   prometheus.Gauge       // 1 while the Socket Mode connection is up
	Connections prometheus.Gauge       // the app's connections, all replicas, as Slack counts them
	Reconnects  prometheus.Counter     // reconnections after the first connection
	Disconnects *prometheus.CounterVec // connections ended, by reason
	InFlight    prometheus.Gauge       // requests being handled now
	Busy        prometheus.Counter     // requests refused because too many were in flight
}
