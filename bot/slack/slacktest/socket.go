package slacktest

import (
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

type conn struct {
	ws     *websocket.Conn
	wmu    sync.Mutex
	done   chan struct{}
	silent atomic.Bool // Silence: no pings, no pongs
}

func (c *conn) write(v any) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteJSON(v)
}

// writeRaw writes b and returns the time just before the write.
func (c *conn) writeRaw(b []byte) (time.Time, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	now := time.Now()
	_ = c.ws.SetWriteDeadline(now.Add(5 * time.Second))
	return now, c.ws.WriteMessage(websocket.TextMessage, b)
}

// ackDeadline is how long Slack waits for an ack.
const ackDeadline = 3 * time.Second

// SendEnvelope delivers an envelope of any type with the given ID.
func (s *Server) SendEnvelope(envelopeID, typ string, payload json.RawMessage) error {
	return s.sendEnvelope(envelopeID, typ, payload, nil)
}

func (s *Server) sendEnvelope(envelopeID, typ string, payload json.RawMessage, extra map[string]any) error {
	env := map[string]any{
		"envelope_id":              envelopeID,
		"type":                     typ,
		"accepts_response_payload": typ == "slash_commands" || typ == "interactive",
		"payload":                  payload,
	}
	for k, v := range extra {
		env[k] = v
	}
	frame, err := json.Marshal(env)
	if err != nil {
		return err
	}
	at, err := s.sendRaw(frame)
	if err == nil {
		s.mu.Lock()
		s.sentAt[envelopeID] = at
		s.mu.Unlock()
		s.emit(Event{Kind: EventEnvelope, At: at, EnvelopeID: envelopeID})
	}
	return err
}

// SendRaw writes a frame, as is, to one connection.
func (s *Server) SendRaw(frame []byte) error {
	_, err := s.sendRaw(frame)
	return err
}

func (s *Server) sendRaw(frame []byte) (time.Time, error) {
	s.mu.Lock()
	if len(s.conns) == 0 {
		s.mu.Unlock()
		return time.Time{}, errors.New("slacktest: no Socket Mode connection is open")
	}
	c := s.conns[s.next%len(s.conns)]
	s.next++
	s.mu.Unlock()
	return c.writeRaw(frame)
}

// Disconnect sends every connection a disconnect message, as Slack does
// before it recycles a connection.
func (s *Server) Disconnect(reason string) {
	for _, c := range s.snapshot() {
		s.emit(Event{Kind: EventDisconnect, At: time.Now()})
		_ = c.write(map[string]any{
			"type": "disconnect", "reason": reason,
			"debug_info": map[string]any{"host": "slacktest"},
		})
	}
}

// DropConnections closes every connection without a word, like a network failure.
func (s *Server) DropConnections() {
	for _, c := range s.snapshot() {
		_ = c.ws.Close()
	}
}

func (s *Server) snapshot() []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*conn(nil), s.conns...)
}

// link serves the WebSocket that apps.connections.open handed out.
func (s *Server) link(w http.ResponseWriter, r *http.Request) {
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &conn{ws: ws, done: make(chan struct{})}
	ws.SetPingHandler(func(data string) error { // gorilla's own answer, unless the connection went silent
		if c.silent.Load() {
			return nil
		}
		err := ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ws.Close()
		return
	}
	s.conns = append(s.conns, c)
	n := len(s.conns)
	interval := s.pingInterval
	afterHello := s.afterHello
	s.mu.Unlock()

	err = c.write(map[string]any{
		"type":            "hello",
		"num_connections": n,
		"debug_info":      map[string]any{"host": "slacktest", "approximate_connection_time": 18060},
		"connection_info": map[string]any{"app_id": AppID},
	})
	s.mu.Lock()
	if err == nil {
		s.rec.hellos++
	}
	s.notify()
	s.mu.Unlock()
	if err == nil {
		s.emit(Event{Kind: EventHello, At: time.Now()})
	}
	if afterHello != nil {
		if *afterHello != "" {
			_ = c.write(map[string]any{"type": "disconnect", "reason": *afterHello, "debug_info": map[string]any{"host": "slacktest"}})
		}
		_ = ws.Close()
	}

	go s.ping(c, interval)
	s.readAcks(c)

	close(c.done)
	_ = ws.Close()
	s.mu.Lock()
	for i, other := range s.conns {
		if other == c {
			s.conns = append(s.conns[:i], s.conns[i+1:]...)
			break
		}
	}
	s.notify()
	s.mu.Unlock()
}

func (s *Server) ping(c *conn, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			if c.silent.Load() {
				continue
			}
			if c.ws.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(time.Second)) != nil {
				return
			}
		}
	}
}

func (s *Server) readAcks(c *conn) {
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		var ack struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(data, &ack) != nil || ack.EnvelopeID == "" {
			continue
		}
		now := time.Now()
		a := Ack{EnvelopeID: ack.EnvelopeID, Payload: ack.Payload, At: now}
		var update struct {
			ResponseAction string          `json:"response_action"`
			View           json.RawMessage `json:"view"`
		}
		_ = json.Unmarshal(ack.Payload, &update)
		var view View
		if update.ResponseAction == "update" {
			view, a.Err = checkView(string(update.View), "modal")
		}
		s.mu.Lock()
		if sent, ok := s.sentAt[ack.EnvelopeID]; ok {
			a.Late = now.Sub(sent) > ackDeadline
			delete(s.sentAt, ack.EnvelopeID)
		}
		if update.ResponseAction == "update" && a.Err == "" {
			view.ID = s.submitted[ack.EnvelopeID] // the modal, replaced
			s.rec.views = append(s.rec.views, view)
		}
		s.rec.acks = append(s.rec.acks, a)
		s.notify()
		s.mu.Unlock()
		s.emit(Event{Kind: EventAck, At: now, EnvelopeID: ack.EnvelopeID})
	}
}

// Silence makes every open connection go silent without closing, as a
// connection does when the network between drops it: no more pings, no
// answer to the app's pings. New connections are not silent.
func (s *Server) Silence() {
	for _, c := range s.snapshot() {
		c.silent.Store(true)
	}
}
