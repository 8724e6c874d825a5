package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/sync/errgroup"

	"github.com/sessionbot/sessionbot/bot"
)

// The Socket Mode connection, over gorilla/websocket.
//
// slack-go has a Socket Mode client, and sessionbot used it until it needed
// three things that client does not give: the reason of each disconnect (it
// consumes the message without an event), spacing between reconnects (it
// reconnects at once after a disconnect: 6,074 apps.connections.open calls
// in 5 s when Slack closed each connection right after its hello), and acks
// that never wait (a 20-slot queue that blocked the event loop while no
// connection was up). The protocol is small: apps.connections.open (still
// slack-go's), dial, hello, envelopes and their acks, pings, disconnect.

const (
	// maxFrame bounds one frame from Slack; a larger one is dropped after
	// maxFrame bytes, with its connection, which is then reopened. Slack's
	// own payloads are far smaller: a slash command is about 1 KB, and the
	// largest, a shortcut or a click carrying a whole message (at most
	// 40,000 characters of text and 50 blocks), stays under 300 KB.
	maxFrame = 1 << 20
	// maxAck is Slack's limit on an ack: larger ones are silently dropped.
	maxAck = 20 << 10
	// ackTimeout bounds writing an ack: acks never wait for a connection.
	ackTimeout = time.Second
	// Every word from Slack (a frame, its ping, its pong to ours) says the
	// connection lives. The bot pings Slack only when it has heard nothing
	// for pingAfter: Slack's own pings, every 10 s or so, spare it the
	// trouble. After silenceLimit without a word, the connection is dead:
	// the bot is not ready, and reopens it, within 15 s of the silence.
	pingAfter        = 11 * time.Second
	silenceLimit     = 14 * time.Second
	handshakeTimeout = 10 * time.Second
	// writeBuffer keeps every ack in one frame: Slack does not reassemble
	// continuation frames (slack-go's finding).
	writeBuffer = 32 << 10
)

// Reconnect spacing: the first attempt after a connection that lived is
// immediate; an attempt within shortLived of the one before waits twice as
// long as the last (from baseBackoff, jittered, up to maxBackoff).
const (
	shortLived  = 10 * time.Second
	baseBackoff = time.Second
	maxBackoff  = time.Minute
)

// reconnects spaces connection attempts. Only the connect loop uses it.
type reconnects struct {
	last   time.Time // the previous attempt
	streak int       // attempts in a row within shortLived of the one before
}

// next says how long to wait before the attempt that starts now, and
// records it.
func (g *reconnects) next(now time.Time) time.Duration {
	if g.last.IsZero() || now.Sub(g.last) >= shortLived {
		g.streak = 0
	} else {
		g.streak++
	}
	var d time.Duration
	if g.streak > 0 {
		d = min(baseBackoff<<(g.streak-1), maxBackoff)
		d = d/2 + rand.N(d/2+1) // equal jitter: replicas do not reconnect in step
	}
	g.last = now.Add(d)
	return d
}

// envelope is one Socket Mode frame from Slack, whatever its type.
type envelope struct {
	Type           string          `json:"type"`
	EnvelopeID     string          `json:"envelope_id"`
	Payload        json.RawMessage `json:"payload"`
	Reason         string          `json:"reason"`          // disconnect
	NumConnections int             `json:"num_connections"` // hello
	RetryAttempt   int             `json:"retry_attempt"`   // events_api
	RetryReason    string          `json:"retry_reason"`
}

// socket is one open connection. Acks may come from any goroutine.
type socket struct {
	ws *websocket.Conn
	mu sync.Mutex // serialises writes: gorilla allows one writer at a time
}

// ack acknowledges an envelope on the connection it came on, never waiting
// more than ackTimeout.
func (c *socket) ack(id string, payload any) error {
	b, err := json.Marshal(struct {
		EnvelopeID string `json:"envelope_id"`
		Payload    any    `json:"payload,omitempty"`
	}{id, payload})
	if err != nil {
		return err
	}
	if len(b) >= maxAck {
		return fmt.Errorf("an ack of %d bytes would be dropped by Slack (the limit is %d)", len(b), maxAck)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(ackTimeout))
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

// runSocket keeps a Socket Mode connection open and serves it, until ctx
// ends or Slack refuses the app-level token.
func (s *Slack) runSocket(ctx context.Context, b *bot.Bot, work context.Context) error {
	var gate reconnects
	connected := 0
	for {
		s.beat()
		if ctx.Err() != nil { // shutting down: no wait, no reconnect
			return nil
		}
		if d := gate.next(s.now()); d > 0 {
			s.log.Info("waiting before reconnecting to Slack", "wait", d.Round(time.Millisecond))
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		ws, err := s.connect(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if code, refused := TokenRefused(err); refused {
				s.log.Error("Slack refused the app-level token (SLACK_APP_TOKEN)", "error", code)
				return err
			}
			s.log.Warn("Slack connection failed; retrying", "error", err)
			continue
		}
		if connected > 0 && s.metrics != nil {
			s.metrics.Reconnects.Inc()
		}
		connected++
		reason := s.serve(ctx, ws, b, work)
		s.setReady(false)
		s.disconnected(ctx, reason)
	}
}

// connect opens a connection: apps.connections.open gives a URL to dial.
func (s *Slack) connect(ctx context.Context) (*websocket.Conn, error) {
	_, url, err := s.api.StartSocketModeContext(ctx)
	if err != nil {
		return nil, err
	}
	dialer := websocket.Dialer{
		Proxy:            http.ProxyFromEnvironment,
		HandshakeTimeout: handshakeTimeout,
		WriteBufferSize:  writeBuffer,
	}
	ws, resp, err := dialer.DialContext(ctx, url, http.Header{"Origin": {"https://api.slack.com"}})
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		// gorilla's errors do not carry the URL, whose ticket opens the connection.
		return nil, fmt.Errorf("dialing the Socket Mode URL: %w", err)
	}
	ws.SetReadLimit(maxFrame)
	return ws, nil
}

// Why a connection ended, besides Slack's own disconnect reasons.
const (
	endShutdown   = "shutdown"
	endLost       = "connection_lost"
	endPingless   = "ping_timeout"
	endFrameLimit = "frame_too_large"
)

// serve reads envelopes from ws until it ends, and says why it ended.
func (s *Slack) serve(ctx context.Context, ws *websocket.Conn, b *bot.Bot, work context.Context) (reason string) {
	c := &socket{ws: ws}
	defer ws.Close()
	// On shutdown the socket closes at once, so Slack routes new commands to
	// the other replicas.
	stop := context.AfterFunc(ctx, func() { _ = ws.Close() })
	defer stop()

	// Every word from Slack (a frame, its ping, its pong to ours) moves the
	// read deadline silenceLimit ahead: a connection silent that long
	// fails its read, so the bot is not ready, and reopens it.
	var heardAt atomic.Int64 // unix nanoseconds
	heard := func() {
		now := time.Now()
		heardAt.Store(now.UnixNano())
		_ = ws.SetReadDeadline(now.Add(silenceLimit))
	}
	heard()
	ws.SetPingHandler(func(data string) error {
		s.beat()
		heard()
		err := ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(ackTimeout))
		if err != nil && !errors.Is(err, websocket.ErrCloseSent) {
			s.log.Debug("could not answer Slack's ping", "error", err)
		}
		return nil
	})
	ws.SetPongHandler(func(string) error { heard(); return nil })
	// The connection lives as long as its reader: the reader's end stops
	// the pings, which only go out when Slack has been quiet.
	g, pings := errgroup.WithContext(ctx)
	g.Go(func() error {
		reason = s.read(ctx, ws, c, b, work, heard)
		return errConnectionEnded
	})
	g.Go(func() error {
		t := time.NewTimer(pingAfter)
		defer t.Stop()
		for {
			select {
			case <-pings.Done():
				return nil
			case <-t.C:
			}
			// Wake when Slack will have been quiet for pingAfter; a word
			// since moves that on, and then no ping is needed.
			if quiet := time.Since(time.Unix(0, heardAt.Load())); quiet < pingAfter {
				t.Reset(pingAfter - quiet)
				continue
			}
			if err := ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(ackTimeout)); err != nil && !errors.Is(err, websocket.ErrCloseSent) {
				s.log.Debug("could not ping Slack", "error", err)
			}
			t.Reset(pingAfter) // its pong is a word; without one, the read deadline ends the connection
		}
	})
	_ = g.Wait()
	return reason
}

// isTimeout says whether err is a read that passed its deadline.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// errConnectionEnded ends a connection's goroutines when its reader stops.
var errConnectionEnded = errors.New("the connection ended")

// read reads envelopes from ws and dispatches them, until it ends, and
// says why it ended.
func (s *Slack) read(ctx context.Context, ws *websocket.Conn, c *socket, b *bot.Bot, work context.Context, heard func()) (reason string) {
	for {
		_, data, err := ws.ReadMessage()
		s.beat()
		heard()
		switch {
		case ctx.Err() != nil:
			return endShutdown
		case errors.Is(err, websocket.ErrReadLimit):
			return endFrameLimit
		case isTimeout(err):
			return endPingless
		case err != nil:
			return endLost
		}
		var env envelope
		if err := json.Unmarshal(data, &env); err != nil {
			s.log.Warn("ignored a frame sessionbot cannot use", "error", err)
			continue
		}
		switch env.Type {
		case "hello":
			s.setReady(true)
			if s.metrics != nil {
				s.metrics.Connections.Set(float64(env.NumConnections))
			}
			s.log.Info("connected to Slack", "connections", env.NumConnections)
		case "disconnect":
			if env.Reason == "" {
				return "unspecified"
			}
			return env.Reason
		default:
			s.dispatch(work, b, c, env)
		}
	}
}

// disconnected says why a connection ended: every reason is counted, and
// those that need a person are warnings.
func (s *Slack) disconnected(ctx context.Context, reason string) {
	if s.metrics != nil {
		s.metrics.Disconnects.WithLabelValues(reason).Inc()
	}
	switch reason {
	case endShutdown:
		s.log.Info("closed the Slack connection: shutting down")
	case "warning", "refresh_requested":
		s.log.Info("Slack asked to reconnect", "reason", reason)
	case "too_many_websockets":
		s.log.Warn("Slack refused this connection: the app has more than 10 Socket Mode connections open (replicas, or connections left behind NAT); reconnecting with backoff", "reason", reason)
	case "link_disabled":
		s.log.Warn("Slack disabled Socket Mode for this app: turn it on again in the app's settings; reconnecting with backoff", "reason", reason)
	case endFrameLimit:
		s.log.Warn("dropped a frame from Slack larger than 1 MiB, and its connection; reconnecting", "reason", reason)
	case endPingless:
		s.log.Warn("the Slack connection went silent: no frame, ping or pong; reconnecting", "reason", reason, "after", silenceLimit)
	case endLost:
		s.log.Warn("lost the Slack connection; reconnecting", "reason", reason)
	default:
		s.log.Warn("Slack closed the connection", "reason", reason)
	}
	_ = ctx
}
