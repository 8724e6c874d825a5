package bot

import (
	"net/http"
	"time"
)

// PooledTransport is http.DefaultTransport keeping enough idle connections
// per host for many commands at once. With the default of 2, a busy bot
// opens and closes a connection for most calls: in BENCHMARKS.md that
// doubled the CPU per command. Idle connections close after 15 s.
func PooledTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	t.IdleConnTimeout = IdleConnTimeout
	return t
}

// IdleConnTimeout is how long PooledTransport keeps an unused connection.
const IdleConnTimeout = 15 * time.Second
