// Package slacktest runs a test double of Slack on 127.0.0.1: the Socket
// Mode protocol over a real WebSocket (apps.connections.open, hello,
// envelopes, acks, pings, disconnect) and the Web API methods sessionbot
// calls, with scriptable errors. Any package's tests, and the benchmark, can
// start one.
package slacktest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Identity of the workspace the double pretends to be.
const (
	TeamID   = "T0SESSION"
	AppID    = "A0SESSION"
	BotID    = "B0SESSION"
	BotUser  = "U0SESSIONBOT"
	TeamName = "sessionbot tests"
)

// SlashCommand is the payload of a slash_commands envelope.
type SlashCommand struct {
	TeamID      string `json:"team_id"`
	TeamDomain  string `json:"team_domain"`
	ChannelID   string `json:"channel_id"`
	ChannelName string `json:"channel_name"`
	UserID      string `json:"user_id"`
	UserName    string `json:"user_name"`
	Command     string `json:"command"`
	Text        string `json:"text"`
	APIAppID    string `json:"api_app_id"`
	ResponseURL string `json:"response_url"`
	TriggerID   string `json:"trigger_id"`
	Token       string `json:"token"`
	// IsEnterpriseInstall is a string, as Slack sends it in slash commands.
	IsEnterpriseInstall string `json:"is_enterprise_install,omitempty"`
}

// Ack is an acknowledgement the app sent for an envelope.
type Ack struct {
	EnvelopeID string
	Payload    json.RawMessage
	At         time.Time
}

// Message is a chat.postMessage the app made.
type Message struct {
	Channel   string
	TS        string
	Text      string
	Blocks    json.RawMessage
	ThreadTS  string
	Broadcast bool
}

// Reaction is a reactions.add the app made.
type Reaction struct {
	Channel, TS, Name string
}

// Response is a post to a response_url.
type Response struct {
	EnvelopeID      string
	ResponseType    string          `json:"response_type"`
	ReplaceOriginal bool            `json:"replace_original"`
	Text            string          `json:"text"`
	Blocks          json.RawMessage `json:"blocks"`
}

// Button is a button in a message's blocks.
type Button struct {
	Text     string
	ActionID string
	BlockID  string
	Value    string
}

// Buttons returns the buttons in blocks, as a user would see them.
func Buttons(blocks json.RawMessage) []Button {
	var bs []struct {
		Type     string `json:"type"`
		BlockID  string `json:"block_id"`
		Elements []struct {
			Type     string `json:"type"`
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
			Text     struct {
				Text string `json:"text"`
			} `json:"text"`
		} `json:"elements"`
	}
	_ = json.Unmarshal(blocks, &bs)
	var out []Button
	for _, b := range bs {
		for _, e := range b.Elements {
			if b.Type == "actions" && e.Type == "button" {
				out = append(out, Button{Text: e.Text.Text, ActionID: e.ActionID, BlockID: b.BlockID, Value: e.Value})
			}
		}
	}
	return out
}

// EventKind says what an Event records.
type EventKind string

// The kinds of Event.
const (
	EventHello      EventKind = "hello"      // a hello frame was sent on a new connection
	EventEnvelope   EventKind = "envelope"   // an envelope was written; At is just before the write
	EventDisconnect EventKind = "disconnect" // a disconnect message was sent
	EventAck        EventKind = "ack"        // an envelope was acknowledged
	EventMessage    EventKind = "message"    // chat.postMessage succeeded
	EventResponse   EventKind = "response"   // a response_url post arrived
)

// Event is something the app did to the double, stamped when the double saw
// it; the benchmark measures latency with these.
type Event struct {
	Kind       EventKind
	At         time.Time
	EnvelopeID string  // EventAck, EventResponse
	Message    Message // EventMessage
}

// Failure scripts one answer of a Web API method.
type Failure struct {
	// Error is Slack's error code, answered as HTTP 200 {"ok":false,"error":...}.
	Error string
	// RetryAfter, when set, answers HTTP 429 ratelimited with this header.
	RetryAfter int
	// Channel limits the failure to calls for this channel.
	Channel string
	// Delay is waited before answering.
	Delay time.Duration
	// Sticky failures answer every matching call, not just the next.
	Sticky bool
}

// Call is a Web API call the double received.
type Call struct {
	Method string
	Params url.Values
	At     time.Time
}

// Server is a running double. Its methods are safe for concurrent use.
type Server struct {
	// URL is the Web API base to give slack-go; it ends with "/".
	URL      string
	AppToken string
	BotToken string

	srv      *httptest.Server
	upgrader websocket.Upgrader

	mu           sync.Mutex
	changed      chan struct{}
	conns        []*conn
	next         int // round-robin cursor over conns
	hellos       int
	envelopes    int
	pingInterval time.Duration
	acks         []Ack
	messages     []Message
	reactions    []Reaction
	responses    []Response
	calls        []Call
	failures     map[string][]Failure
	groups       map[string][]string
	ts           int
	closed       bool
	subs         []chan Event
}

type conn struct {
	ws   *websocket.Conn
	wmu  sync.Mutex
	done chan struct{}
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

// NewServer starts a double that accepts these tokens. Close it when done.
func NewServer(appToken, botToken string) *Server {
	s := &Server{
		AppToken:     appToken,
		BotToken:     botToken,
		changed:      make(chan struct{}),
		pingInterval: 2 * time.Second,
		failures:     map[string][]Failure{},
		groups:       map[string][]string{},
	}
	// slack-go dials with Origin: https://api.slack.com, which is not us.
	s.upgrader.CheckOrigin = func(*http.Request) bool { return true }
	mux := http.NewServeMux()
	mux.HandleFunc("/api/{method}", s.webAPI)
	mux.HandleFunc("GET /link/", s.link)
	mux.HandleFunc("POST /response/{envelope}", s.responseURL)
	// Started only once s.srv is set: handlers read it.
	s.srv = httptest.NewUnstartedServer(mux)
	s.srv.Start()
	s.URL = s.srv.URL + "/api/"
	return s
}

// Close ends every connection and stops the double.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	conns := s.conns
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.ws.Close()
	}
	s.srv.Close()
}

// SetPingInterval sets how often the double pings each connection (default 2s).
func (s *Server) SetPingInterval(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pingInterval = d
}

// SetUsergroup sets the members usergroups.users.list returns for group.
func (s *Server) SetUsergroup(group string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[group] = members
}

// Fail scripts failures of a Web API method, e.g. Fail("chat.postMessage", Failure{Error: "not_in_channel"}).
func (s *Server) Fail(method string, fs ...Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[method] = append(s.failures[method], fs...)
}

// ClearFailures removes every scripted failure.
func (s *Server) ClearFailures() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = map[string][]Failure{}
}

// Subscribe returns a channel that receives every Event from now on. The
// receiver must keep up: the double waits for it.
func (s *Server) Subscribe(buffer int) <-chan Event {
	ch := make(chan Event, buffer)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subs = append(s.subs, ch)
	return ch
}

// emit sends e to the subscribers. Call without mu held.
func (s *Server) emit(e Event) {
	s.mu.Lock()
	subs := s.subs
	s.mu.Unlock()
	for _, ch := range subs {
		ch <- e
	}
}

// notify wakes everyone waiting for the state to change. Call with mu held.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// WaitFor polls cond, under the double's lock, each time the double's state
// changes, until it holds or timeout passes.
func (s *Server) WaitFor(timeout time.Duration, cond func(*State) bool) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ok := cond(&State{s})
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-deadline.C:
			return errors.New("slacktest: timed out waiting for a condition")
		}
	}
}

// State gives WaitFor conditions a consistent view of the double.
type State struct{ s *Server }

// Connections is the number of open Socket Mode connections.
func (st *State) Connections() int { return len(st.s.conns) }

// Hellos is how many hello frames have been sent, reconnections included.
func (st *State) Hellos() int { return st.s.hellos }

// Acked reports whether envelopeID has been acknowledged.
func (st *State) Acked(envelopeID string) bool {
	for _, a := range st.s.acks {
		if a.EnvelopeID == envelopeID {
			return true
		}
	}
	return false
}

// Acks is every acknowledgement so far.
func (st *State) Acks() []Ack { return st.s.acks }

// Messages is every chat.postMessage so far.
func (st *State) Messages() []Message { return st.s.messages }

// Responses is every response_url post so far.
func (st *State) Responses() []Response { return st.s.responses }

// Reactions is every reaction added so far.
func (st *State) Reactions() []Reaction { return st.s.reactions }

// Acks returns every acknowledgement received.
func (s *Server) Acks() []Ack {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Ack(nil), s.acks...)
}

// Messages returns every chat.postMessage received.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Reactions returns every reaction added.
func (s *Server) Reactions() []Reaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Reaction(nil), s.reactions...)
}

// Responses returns every response_url post received.
func (s *Server) Responses() []Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Response(nil), s.responses...)
}

// Calls returns the Web API calls made to method ("" for all).
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// SendSlashCommand delivers a slash command envelope to one connection
// (round-robin, as Slack spreads envelopes over an app's connections) and
// returns its envelope ID. Empty fields get realistic values.
func (s *Server) SendSlashCommand(cmd SlashCommand) (string, error) {
	s.mu.Lock()
	s.envelopes++
	id := fmt.Sprintf("env-%06d", s.envelopes)
	s.mu.Unlock()
	if cmd.TeamID == "" {
		cmd.TeamID = TeamID
	}
	if cmd.APIAppID == "" {
		cmd.APIAppID = AppID
	}
	if cmd.Command == "" {
		cmd.Command = "/reset-sessions"
	}
	if cmd.ResponseURL == "" {
		cmd.ResponseURL = strings.TrimSuffix(s.URL, "api/") + "response/" + id
	}
	if cmd.TriggerID == "" {
		cmd.TriggerID = "trig-" + id
	}
	if cmd.IsEnterpriseInstall == "" {
		cmd.IsEnterpriseInstall = "false"
	}
	payload, err := json.Marshal(cmd)
	if err != nil {
		return "", err
	}
	return id, s.SendEnvelope(id, "slash_commands", payload)
}

// SendClick delivers the interactive envelope Slack sends when user clicks
// button in a message of channel, and returns its envelope ID. The click's
// response_url is the double's, like a command's.
func (s *Server) SendClick(user, channel string, button Button) (string, error) {
	s.mu.Lock()
	s.envelopes++
	id := fmt.Sprintf("env-%06d", s.envelopes)
	s.mu.Unlock()
	payload, err := json.Marshal(map[string]any{
		"type":         "block_actions",
		"team":         map[string]any{"id": TeamID},
		"user":         map[string]any{"id": user, "username": strings.ToLower(user), "team_id": TeamID},
		"api_app_id":   AppID,
		"container":    map[string]any{"type": "message", "message_ts": "1764158400.000000", "channel_id": channel, "is_ephemeral": true},
		"trigger_id":   "trig-" + id,
		"channel":      map[string]any{"id": channel, "name": "general"},
		"response_url": strings.TrimSuffix(s.URL, "api/") + "response/" + id,
		"actions": []map[string]any{{
			"type": "button", "action_id": button.ActionID, "block_id": button.BlockID, "value": button.Value,
			"text":      map[string]any{"type": "plain_text", "text": button.Text},
			"action_ts": "1764158401.000000",
		}},
	})
	if err != nil {
		return "", err
	}
	return id, s.SendEnvelope(id, "interactive", payload)
}

// SendEnvelope delivers an envelope of any type with the given ID.
func (s *Server) SendEnvelope(envelopeID, typ string, payload json.RawMessage) error {
	frame, err := json.Marshal(map[string]any{
		"envelope_id":              envelopeID,
		"type":                     typ,
		"accepts_response_payload": typ == "slash_commands",
		"payload":                  payload,
	})
	if err != nil {
		return err
	}
	at, err := s.sendRaw(frame)
	if err == nil {
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
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ws.Close()
		return
	}
	s.conns = append(s.conns, c)
	n := len(s.conns)
	interval := s.pingInterval
	s.mu.Unlock()

	err = c.write(map[string]any{
		"type":            "hello",
		"num_connections": n,
		"debug_info":      map[string]any{"host": "slacktest", "approximate_connection_time": 18060},
		"connection_info": map[string]any{"app_id": AppID},
	})
	s.mu.Lock()
	if err == nil {
		s.hellos++
	}
	s.notify()
	s.mu.Unlock()
	if err == nil {
		s.emit(Event{Kind: EventHello, At: time.Now()})
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
		s.mu.Lock()
		s.acks = append(s.acks, Ack{EnvelopeID: ack.EnvelopeID, Payload: ack.Payload, At: now})
		s.notify()
		s.mu.Unlock()
		s.emit(Event{Kind: EventAck, At: now, EnvelopeID: ack.EnvelopeID})
	}
}

// responseURL records what the app posts to a command's response_url.
func (s *Server) responseURL(w http.ResponseWriter, r *http.Request) {
	var resp Response
	if err := json.NewDecoder(r.Body).Decode(&resp); err != nil {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	resp.EnvelopeID = r.PathValue("envelope")
	s.mu.Lock()
	s.responses = append(s.responses, resp)
	s.notify()
	s.mu.Unlock()
	s.emit(Event{Kind: EventResponse, At: time.Now(), EnvelopeID: resp.EnvelopeID})
	_, _ = io.WriteString(w, "ok")
}

// webAPI serves the Web API methods, with the token in the Authorization
// header or the form, and the arguments in a form or a JSON body.
func (s *Server) webAPI(w http.ResponseWriter, r *http.Request) {
	method := r.PathValue("method")
	params, err := readParams(r)
	if err != nil {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "invalid_form_data"})
		return
	}
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if token == "" {
		token = params.Get("token")
	}
	params.Del("token")

	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: method, Params: params, At: time.Now()})
	f, failing := s.takeFailure(method, params.Get("channel"))
	s.notify()
	s.mu.Unlock()

	if failing && f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return
		}
	}
	want := s.BotToken
	if method == "apps.connections.open" {
		want = s.AppToken
		if r.Header.Get("Authorization") == "" {
			token = "" // Slack refuses the app token as a form field
		}
	}
	if token == "" {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "not_authed"})
		return
	}
	if token != want {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	if failing && f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"ok": false, "error": "ratelimited"})
		return
	}
	if failing && f.Error != "" {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": f.Error})
		return
	}

	switch method {
	case "apps.connections.open":
		u := "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/link/?ticket=" + strconv.FormatInt(time.Now().UnixNano(), 36)
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "url": u})
	case "auth.test":
		writeJSON(w, http.StatusOK, map[string]any{
			"ok": true, "url": "https://sessionbot-tests.slack.com/", "team": TeamName,
			"user": "sessionbot", "team_id": TeamID, "user_id": BotUser, "bot_id": BotID,
		})
	case "chat.postMessage":
		s.postMessage(w, params)
	case "reactions.add":
		s.mu.Lock()
		s.reactions = append(s.reactions, Reaction{Channel: params.Get("channel"), TS: params.Get("timestamp"), Name: params.Get("name")})
		s.notify()
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"ok": true})
	case "usergroups.users.list":
		s.mu.Lock()
		members, ok := s.groups[params.Get("usergroup")]
		s.mu.Unlock()
		if !ok {
			writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "no_such_subteam"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "users": members})
	default:
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "unknown_method"})
	}
}

func (s *Server) postMessage(w http.ResponseWriter, params url.Values) {
	channel := params.Get("channel")
	if channel == "" {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "channel_not_found"})
		return
	}
	if params.Get("text") == "" && params.Get("blocks") == "" {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "no_text"})
		return
	}
	var blocks json.RawMessage
	if b := params.Get("blocks"); b != "" {
		if !json.Valid([]byte(b)) {
			writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "invalid_blocks"})
			return
		}
		blocks = json.RawMessage(b)
	}
	s.mu.Lock()
	s.ts++
	ts := fmt.Sprintf("1764158400.%06d", s.ts)
	m := Message{
		Channel: channel, TS: ts, Text: params.Get("text"), Blocks: blocks,
		ThreadTS: params.Get("thread_ts"), Broadcast: params.Get("reply_broadcast") == "true",
	}
	s.messages = append(s.messages, m)
	s.notify()
	s.mu.Unlock()
	s.emit(Event{Kind: EventMessage, At: time.Now(), Message: m})
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "channel": channel, "ts": ts})
}

// takeFailure returns the next scripted failure for a call. Call with mu held.
func (s *Server) takeFailure(method, channel string) (Failure, bool) {
	q := s.failures[method]
	for i, f := range q {
		if f.Channel != "" && f.Channel != channel {
			continue
		}
		if !f.Sticky {
			s.failures[method] = append(q[:i:i], q[i+1:]...)
		}
		return f, true
	}
	return Failure{}, false
}

func readParams(r *http.Request) (url.Values, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/json" {
		if err := r.ParseForm(); err != nil {
			return nil, err
		}
		return r.Form, nil
	}
	params := url.Values{}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || len(body) == 0 {
		return params, err
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	for k, v := range m {
		switch v := v.(type) {
		case string:
			params.Set(k, v)
		case bool, float64:
			params.Set(k, fmt.Sprint(v))
		default:
			b, _ := json.Marshal(v)
			params.Set(k, string(b))
		}
	}
	for k, v := range r.URL.Query() {
		params[k] = v
	}
	return params, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
