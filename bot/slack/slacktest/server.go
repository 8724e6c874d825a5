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
	"unicode/utf8"

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
	// Late is set when the ack came more than 3 s after the envelope:
	// Slack has shown the user an error by then, and for a command, told
	// them it failed.
	Late bool
	// Err is what Slack would make of the payload when it cannot use it
	// (a view in response_action "update" it would refuse); "" when fine.
	Err string
}

// Message is a chat.postMessage the app made, as it was posted.
type Message struct {
	Channel   string
	TS        string
	Text      string
	Blocks    json.RawMessage
	ThreadTS  string
	Broadcast bool
	// Metadata is the message metadata posted with it, if any.
	Metadata json.RawMessage
}

// Content is what a person reads of the message: the text of its blocks,
// or its text when it has none.
func (m Message) Content() string { return content(m.Text, m.Blocks) }

func content(text string, blocks json.RawMessage) string {
	var bs []struct {
		Text *struct {
			Text string `json:"text"`
		} `json:"text"`
		Elements []struct {
			Text any `json:"text"`
		} `json:"elements"`
	}
	if json.Unmarshal(blocks, &bs) != nil || len(bs) == 0 {
		return text
	}
	var parts []string
	for _, b := range bs {
		if b.Text != nil {
			parts = append(parts, b.Text.Text)
		}
		for _, e := range b.Elements {
			if t, ok := e.Text.(string); ok {
				parts = append(parts, t)
			}
		}
	}
	return strings.Join(parts, "\n")
}

// Update is a chat.update the app made.
type Update struct {
	Channel, TS string
	Text        string
	Blocks      json.RawMessage
	Metadata    json.RawMessage
}

// Ephemeral is a chat.postEphemeral the app made.
type Ephemeral struct {
	Channel, User, ThreadTS string
	Text                    string
	Blocks                  json.RawMessage
}

// Reaction is a reactions.add the app made.
type Reaction struct {
	Channel, TS, Name string
}

// View is a modal the app opened (views.open) or a home tab it published
// (views.publish).
type View struct {
	ID      string
	User    string // views.publish: whose home tab
	Trigger string // views.open: the trigger it used
	// The view as the app sent it: type, callback_id, private_metadata, blocks.
	Type            string          `json:"type"`
	CallbackID      string          `json:"callback_id"`
	PrivateMetadata string          `json:"private_metadata"`
	Title           json.RawMessage `json:"title"`
	Blocks          json.RawMessage `json:"blocks"`
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
	EventUpdate     EventKind = "update"     // chat.update succeeded
	EventReaction   EventKind = "reaction"   // reactions.add succeeded
	EventResponse   EventKind = "response"   // a response_url post arrived
)

// Event is something the app did to the double, stamped when the double saw
// it; the benchmark measures latency with these.
type Event struct {
	Kind       EventKind
	At         time.Time
	EnvelopeID string  // EventAck, EventResponse
	Message    Message // EventMessage; for EventUpdate and EventReaction, its Channel and TS
}

// Failure scripts one answer of a Web API method.
type Failure struct {
	// Error is Slack's error code, answered as HTTP 200 {"ok":false,"error":...}.
	Error string
	// RetryAfter, when set, answers HTTP 429 ratelimited with this header.
	RetryAfter int
	// Status, when set, answers with this HTTP status (a 5xx, say) and an
	// HTML body, as Slack's load balancers do.
	Status int
	// Channel limits the failure to calls for this channel.
	Channel string
	// InThread limits the failure to calls with a thread_ts (thread replies).
	InThread bool
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
	sentAt       map[string]time.Time // envelope ID: when it was written
	submitted    map[string]string    // view_submission envelope ID: the view's ID
	pingInterval time.Duration
	afterHello   *string // if set, each connection is closed right after its hello, with this disconnect reason ("": without a word)
	acks         []Ack
	messages     []Message
	current      map[string]*Message // by channel and ts: as it is now, updates applied
	updates      []Update
	ephemerals   []Ephemeral
	views        []View
	triggers     map[string]time.Time // trigger IDs handed out, and when
	reactions    []Reaction
	responses    []Response
	calls        []Call
	failures     map[string][]Failure
	groups       map[string][]string
	ws           workspace // users, user groups, channels, scopes: workspace.go
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
		current:      map[string]*Message{},
		triggers:     map[string]time.Time{},
		sentAt:       map[string]time.Time{},
		submitted:    map[string]string{},
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

// CloseAfterHello makes every new connection end right after its hello:
// with a disconnect message giving reason, or, when reason is empty,
// without a word, as Slack does to an app over its connection limit.
func (s *Server) CloseAfterHello(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.afterHello = &reason
}

// StopClosingAfterHello undoes CloseAfterHello.
func (s *Server) StopClosingAfterHello() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.afterHello = nil
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

// Messages is every chat.postMessage so far, as posted.
func (st *State) Messages() []Message { return st.s.messages }

// Current is the message at ts in channel as it is now, updates applied.
func (st *State) Current(channel, ts string) (Message, bool) {
	m, ok := st.s.current[channel+"/"+ts]
	if !ok {
		return Message{}, false
	}
	return *m, true
}

// Updates is every chat.update so far.
func (st *State) Updates() []Update { return st.s.updates }

// Ephemerals is every chat.postEphemeral so far.
func (st *State) Ephemerals() []Ephemeral { return st.s.ephemerals }

// Views is every view opened or published so far.
func (st *State) Views() []View { return st.s.views }

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

// Views returns every view opened or published.
func (s *Server) Views() []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]View(nil), s.views...)
}

// Hellos returns how many hello frames have been sent.
func (s *Server) Hellos() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hellos
}

// Updates returns every chat.update received.
func (s *Server) Updates() []Update {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Update(nil), s.updates...)
}

// Current returns the message at ts in channel as it is now.
func (s *Server) Current(channel, ts string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return (&State{s}).Current(channel, ts)
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
		cmd.TriggerID = s.trigger(id)
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
		"trigger_id":   s.trigger(id),
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

// SendViewClick delivers the interactive envelope Slack sends when user
// clicks button in a view (the home tab, a modal), and returns its envelope
// ID. Unlike a click in a message it carries no response_url and no channel.
func (s *Server) SendViewClick(user string, view View, button Button) (string, error) {
	id := s.nextEnvelope()
	payload, err := json.Marshal(map[string]any{
		"type":       "block_actions",
		"team":       map[string]any{"id": TeamID},
		"user":       map[string]any{"id": user, "username": strings.ToLower(user), "team_id": TeamID},
		"api_app_id": AppID,
		"container":  map[string]any{"type": "view", "view_id": view.ID},
		"trigger_id": s.trigger(id),
		"view":       map[string]any{"id": view.ID, "type": view.Type, "callback_id": view.CallbackID, "private_metadata": view.PrivateMetadata},
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

// ackDeadline is how long Slack waits for an ack.
const ackDeadline = 3 * time.Second

// trigger hands out a trigger ID, valid for views.open for 3 s.
func (s *Server) trigger(envelopeID string) string {
	id := "trig-" + envelopeID
	s.mu.Lock()
	defer s.mu.Unlock()
	s.triggers[id] = time.Now()
	return id
}

func (s *Server) nextEnvelope() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.envelopes++
	return fmt.Sprintf("env-%06d", s.envelopes)
}

// AddMessage makes a message someone (not the app) wrote in channel, such
// as an alert, and returns it: the app can reply in its thread and react
// to it.
func (s *Server) AddMessage(channel, text string) Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ts++
	m := Message{Channel: channel, TS: fmt.Sprintf("%d.%06d", s.epoch(), s.ts), Text: text}
	s.current[channel+"/"+m.TS] = &m
	return m
}

// Mention is an app_mention event: someone wrote @sessionbot.
type Mention struct {
	User, Channel, Text string
	TS                  string // the mention's own message; default: a new one
	ThreadTS            string // set when the mention is a reply in a thread
	BotID               string // set when a bot wrote it
}

// SendMention delivers an app_mention event as Slack does over Socket Mode,
// and returns its event ID; the mention's message exists in the channel,
// so the app can react to it.
func (s *Server) SendMention(m Mention) (eventID string, err error) {
	s.mu.Lock()
	if m.TS == "" {
		s.ts++
		m.TS = fmt.Sprintf("%d.%06d", s.epoch(), s.ts)
	}
	msg := Message{Channel: m.Channel, TS: m.TS, Text: m.Text, ThreadTS: m.ThreadTS}
	if _, ok := s.current[m.Channel+"/"+m.TS]; !ok {
		s.current[m.Channel+"/"+m.TS] = &msg // someone's message, not the app's
	}
	s.envelopes++
	eventID = fmt.Sprintf("Ev%06d", s.envelopes)
	s.mu.Unlock()
	event := map[string]any{"type": "app_mention", "user": m.User, "text": m.Text, "ts": m.TS, "channel": m.Channel, "event_ts": m.TS}
	if m.ThreadTS != "" {
		event["thread_ts"] = m.ThreadTS
	}
	if m.BotID != "" {
		event["bot_id"] = m.BotID
	}
	return eventID, s.SendEvent(eventID, event, 0)
}

// SendHomeOpened delivers the app_home_opened event of user opening the
// app's home tab.
func (s *Server) SendHomeOpened(user string) (eventID string, err error) {
	eventID = "Ev" + s.nextEnvelope()
	return eventID, s.SendEvent(eventID, map[string]any{"type": "app_home_opened", "user": user, "channel": "D0" + user, "tab": "home", "event_ts": "1764158400.000100"}, 0)
}

// SendEvent delivers an events_api envelope carrying event, as delivery
// retry (0 for the first): a retry has a new envelope ID, the same event
// ID, and retry_attempt and retry_reason, as Slack sends it when it thinks
// the first was not acknowledged.
func (s *Server) SendEvent(eventID string, event map[string]any, retry int) error {
	payload, err := json.Marshal(map[string]any{
		"token": "verification-token", "team_id": TeamID, "api_app_id": AppID, "event": event,
		"type": "event_callback", "event_id": eventID, "event_time": 1764158400,
		"authorizations": []map[string]any{{"team_id": TeamID, "user_id": BotUser, "is_bot": true}},
	})
	if err != nil {
		return err
	}
	extra := map[string]any{}
	if retry > 0 {
		extra["retry_attempt"], extra["retry_reason"] = retry, "timeout"
	}
	return s.sendEnvelope(s.nextEnvelope(), "events_api", payload, extra)
}

// Shortcut is a message shortcut used on a message.
type Shortcut struct {
	User, Channel string
	CallbackID    string  // default reset_sessions
	Message       Message // the message it was used on: TS, Text, Blocks, ThreadTS
	Attachments   []map[string]any
}

// SendShortcut delivers the message_action envelope of a message shortcut
// and returns its envelope ID. Its trigger lasts 3 s.
func (s *Server) SendShortcut(sc Shortcut) (string, error) {
	id := s.nextEnvelope()
	if sc.Message.TS == "" {
		sc.Message = s.AddMessage(sc.Channel, sc.Message.Text)
	}
	if sc.CallbackID == "" {
		sc.CallbackID = "reset_sessions"
	}
	msg := map[string]any{"type": "message", "user": "U0ALERTS", "ts": sc.Message.TS, "text": sc.Message.Text}
	if sc.Message.Blocks != nil {
		msg["blocks"] = sc.Message.Blocks
	}
	if sc.Message.ThreadTS != "" {
		msg["thread_ts"] = sc.Message.ThreadTS
	}
	if sc.Attachments != nil {
		msg["attachments"] = sc.Attachments
	}
	payload, err := json.Marshal(map[string]any{
		"type": "message_action", "callback_id": sc.CallbackID, "trigger_id": s.trigger(id),
		"message_ts": sc.Message.TS, "response_url": strings.TrimSuffix(s.URL, "api/") + "response/" + id,
		"message": msg, "user": map[string]any{"id": sc.User, "name": strings.ToLower(sc.User), "team_id": TeamID},
		"channel": map[string]any{"id": sc.Channel, "name": "alerts"}, "team": map[string]any{"id": TeamID, "domain": "sessionbot-tests"},
		"token": "verification-token", "action_ts": "1764158401.000000",
	})
	if err != nil {
		return "", err
	}
	return id, s.SendEnvelope(id, "interactive", payload)
}

// SendSuggestion delivers the block_suggestion envelope of user typing
// value in an external select of view, and returns its envelope ID; the
// options come back in the ack.
func (s *Server) SendSuggestion(user string, view View, actionID, blockID, value string) (string, error) {
	id := s.nextEnvelope()
	payload, err := json.Marshal(map[string]any{
		"type": "block_suggestion", "user": map[string]any{"id": user, "team_id": TeamID}, "api_app_id": AppID,
		"container": map[string]any{"type": "view", "view_id": view.ID}, "action_id": actionID, "block_id": blockID, "value": value,
		"team": map[string]any{"id": TeamID}, "token": "verification-token",
		"view": map[string]any{"id": view.ID, "type": view.Type, "callback_id": view.CallbackID, "private_metadata": view.PrivateMetadata},
	})
	if err != nil {
		return "", err
	}
	return id, s.SendEnvelope(id, "interactive", payload)
}

// SubmitView delivers the view_submission envelope of user submitting view
// with values (block ID, then action ID, then the element's state, as
// Slack sends it), and returns its envelope ID; the answer is in the ack.
func (s *Server) SubmitView(user string, view View, values map[string]map[string]any) (string, error) {
	id := s.nextEnvelope()
	s.mu.Lock()
	s.submitted[id] = view.ID
	s.mu.Unlock()
	// A conversation picked in a select with response_url_enabled gets a
	// response_url, as Slack gives one.
	var blocks []struct {
		Type    string `json:"type"`
		BlockID string `json:"block_id"`
		Element struct {
			Type               string `json:"type"`
			ActionID           string `json:"action_id"`
			ResponseURLEnabled bool   `json:"response_url_enabled"`
		} `json:"element"`
	}
	_ = json.Unmarshal(view.Blocks, &blocks)
	urls := []any{}
	for _, b := range blocks {
		if b.Type != "input" || !b.Element.ResponseURLEnabled || b.Element.Type != "conversations_select" {
			continue
		}
		state, _ := values[b.BlockID][b.Element.ActionID].(map[string]any)
		if ch, _ := state["selected_conversation"].(string); ch != "" {
			urls = append(urls, map[string]any{"block_id": b.BlockID, "action_id": b.Element.ActionID, "channel_id": ch,
				"response_url": strings.TrimSuffix(s.URL, "api/") + "response/" + id})
		}
	}
	payload, err := json.Marshal(map[string]any{
		"type": "view_submission", "team": map[string]any{"id": TeamID}, "user": map[string]any{"id": user, "team_id": TeamID},
		"api_app_id": AppID, "token": "verification-token", "trigger_id": s.trigger(id),
		"view": map[string]any{
			"id": view.ID, "type": view.Type, "callback_id": view.CallbackID, "private_metadata": view.PrivateMetadata,
			"blocks": view.Blocks, "state": map[string]any{"values": values}, "hash": "h-" + id,
		},
		"response_urls": urls,
	})
	if err != nil {
		return "", err
	}
	return id, s.SendEnvelope(id, "interactive", payload)
}

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
		s.hellos++
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
			s.views = append(s.views, view)
		}
		s.acks = append(s.acks, a)
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
	if len(resp.Blocks) > 0 && string(resp.Blocks) != "null" {
		if code := checkBlocks(resp.Blocks, false); code != "" {
			http.Error(w, code, http.StatusBadRequest)
			return
		}
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
	f, failing := s.takeFailure(method, params)
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
	if failing && f.Status != 0 {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(f.Status)
		_, _ = io.WriteString(w, "<html><body>"+http.StatusText(f.Status)+"</body></html>")
		return
	}
	if failing && f.Error != "" {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": f.Error})
		return
	}

	if s.workspaceAPI(w, method, params) {
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
	case "chat.update":
		s.updateMessage(w, params)
	case "chat.postEphemeral":
		s.postEphemeral(w, params)
	case "conversations.history":
		s.history(w, params)
	case "reactions.add":
		s.addReaction(w, params)
	case "views.open":
		s.openView(w, params)
	case "views.publish":
		s.publishView(w, params)
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
	blocks, metadata, code := checkMessage(params, true)
	if code != "" {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": code})
		return
	}
	s.mu.Lock()
	thread := params.Get("thread_ts")
	if thread != "" {
		if _, ok := s.current[channel+"/"+thread]; !ok {
			s.mu.Unlock()
			writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "thread_not_found"})
			return
		}
	}
	s.ts++
	ts := fmt.Sprintf("%d.%06d", s.epoch(), s.ts)
	m := Message{
		Channel: channel, TS: ts, Text: params.Get("text"), Blocks: blocks,
		ThreadTS: thread, Broadcast: params.Get("reply_broadcast") == "true", Metadata: metadata,
	}
	s.messages = append(s.messages, m)
	cur := m
	s.current[channel+"/"+ts] = &cur
	s.notify()
	s.mu.Unlock()
	s.emit(Event{Kind: EventMessage, At: time.Now(), Message: m})
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "channel": channel, "ts": ts})
}

// epoch is the seconds part of the next message's ts: now, as Slack stamps
// messages with its clock, so that a ts says how old a message is. Call
// with mu held.
func (s *Server) epoch() int64 { return time.Now().Unix() }

func (s *Server) updateMessage(w http.ResponseWriter, params url.Values) {
	channel, ts := params.Get("channel"), params.Get("ts")
	blocks, metadata, code := checkMessage(params, true)
	if code != "" {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": code})
		return
	}
	s.mu.Lock()
	m, ok := s.current[channel+"/"+ts]
	if !ok {
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "message_not_found"})
		return
	}
	m.Text, m.Blocks = params.Get("text"), blocks
	if metadata != nil {
		m.Metadata = metadata
	}
	s.updates = append(s.updates, Update{Channel: channel, TS: ts, Text: m.Text, Blocks: blocks, Metadata: metadata})
	s.notify()
	s.mu.Unlock()
	s.emit(Event{Kind: EventUpdate, At: time.Now(), Message: Message{Channel: channel, TS: ts}})
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "channel": channel, "ts": ts, "text": params.Get("text")})
}

func (s *Server) postEphemeral(w http.ResponseWriter, params url.Values) {
	blocks, _, code := checkMessage(params, true)
	switch {
	case params.Get("channel") == "":
		code = "channel_not_found"
	case params.Get("user") == "":
		code = "user_not_found"
	}
	if code != "" {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": code})
		return
	}
	s.mu.Lock()
	s.ephemerals = append(s.ephemerals, Ephemeral{
		Channel: params.Get("channel"), User: params.Get("user"), ThreadTS: params.Get("thread_ts"),
		Text: params.Get("text"), Blocks: blocks,
	})
	s.ts++
	ts := fmt.Sprintf("%d.%06d", s.epoch(), s.ts)
	s.notify()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "message_ts": ts})
}

func (s *Server) addReaction(w http.ResponseWriter, params url.Values) {
	r := Reaction{Channel: params.Get("channel"), TS: params.Get("timestamp"), Name: params.Get("name")}
	s.mu.Lock()
	if _, ok := s.current[r.Channel+"/"+r.TS]; !ok {
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "message_not_found"})
		return
	}
	for _, had := range s.reactions {
		if had == r {
			// One bot user on every replica: Slack refuses the second.
			s.mu.Unlock()
			writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "already_reacted"})
			return
		}
	}
	s.reactions = append(s.reactions, r)
	s.notify()
	s.mu.Unlock()
	s.emit(Event{Kind: EventReaction, At: time.Now(), Message: Message{Channel: r.Channel, TS: r.TS}})
	writeJSON(w, http.StatusOK, map[string]any{"ok": true})
}

// Limits real Slack enforces on views.
const (
	triggerLife   = 3 * time.Second
	maxViewBlocks = 100
	maxTitle      = 24
	maxMetadata   = 3000
)

// openView serves views.open: a modal, with a trigger at most 3 s old.
func (s *Server) openView(w http.ResponseWriter, params url.Values) {
	trigger := params.Get("trigger_id")
	s.mu.Lock()
	issued, ok := s.triggers[trigger]
	s.mu.Unlock()
	switch {
	case !ok:
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "invalid_trigger_id"})
		return
	case time.Since(issued) > triggerLife:
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "expired_trigger_id"})
		return
	}
	v, code := checkView(params.Get("view"), "modal")
	if code != "" {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": code})
		return
	}
	v.Trigger = trigger
	s.recordView(w, v)
}

// publishView serves views.publish: a user's home tab.
func (s *Server) publishView(w http.ResponseWriter, params url.Values) {
	if params.Get("user_id") == "" {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "invalid_arguments"})
		return
	}
	v, code := checkView(params.Get("view"), "home")
	if code != "" {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": code})
		return
	}
	v.User = params.Get("user_id")
	s.recordView(w, v)
}

func (s *Server) recordView(w http.ResponseWriter, v View) {
	s.mu.Lock()
	v.ID = fmt.Sprintf("V%06d", len(s.views)+1)
	s.views = append(s.views, v)
	s.notify()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "view": map[string]any{"id": v.ID, "type": v.Type, "callback_id": v.CallbackID}})
}

// checkView validates a view as Slack does.
func checkView(raw, typ string) (View, string) {
	var v View
	if err := json.Unmarshal([]byte(raw), &v); err != nil || v.Type != typ {
		return v, "invalid_arguments"
	}
	var title struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal(v.Title, &title)
	var blocks []struct {
		Type     string `json:"type"`
		BlockID  string `json:"block_id"`
		Optional bool   `json:"optional"`
		Element  *struct {
			Type    string            `json:"type"`
			Options []json.RawMessage `json:"options"`
		} `json:"element"`
	}
	_ = json.Unmarshal(v.Blocks, &blocks)
	switch {
	case typ == "modal" && (title.Text == "" || utf8.RuneCountInString(title.Text) > maxTitle):
		return v, "invalid_arguments"
	case len(blocks) == 0 || len(blocks) > maxViewBlocks || len(v.PrivateMetadata) > maxMetadata:
		return v, "invalid_arguments"
	}
	if code := checkBlocks(v.Blocks, false); code != "" {
		return v, code
	}
	for _, b := range blocks {
		if b.Type == "input" && (b.Element == nil || b.BlockID == "") {
			return v, "invalid_arguments"
		}
		if b.Element != nil && b.Element.Type == "checkboxes" && (len(b.Element.Options) == 0 || len(b.Element.Options) > 10) {
			return v, "invalid_arguments"
		}
	}
	return v, ""
}

// InputBlocks returns the block IDs of a view's input blocks: the only keys
// Slack accepts in a submission's errors.
func (v View) InputBlocks() []string {
	var blocks []struct {
		Type    string `json:"type"`
		BlockID string `json:"block_id"`
	}
	_ = json.Unmarshal(v.Blocks, &blocks)
	var out []string
	for _, b := range blocks {
		if b.Type == "input" {
			out = append(out, b.BlockID)
		}
	}
	return out
}

// Content is what a person reads in a view: every text in its blocks,
// labels and options included.
func (v View) Content() string {
	var doc any
	_ = json.Unmarshal(v.Blocks, &doc)
	var out []string
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			if t, ok := x["text"].(string); ok {
				out = append(out, t)
			}
			for _, y := range x {
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(doc)
	return strings.Join(out, "\n")
}

// history serves conversations.history: a channel's messages, newest
// first, without thread replies (broadcast ones excepted), metadata only
// when asked for, paginated with a cursor.
func (s *Server) history(w http.ResponseWriter, params url.Values) {
	channel := params.Get("channel")
	limit := 100
	if l, err := strconv.Atoi(params.Get("limit")); err == nil && l > 0 {
		limit = min(l, 999)
	}
	inclusive := params.Get("inclusive") == "1" || params.Get("inclusive") == "true"
	oldest, latest := params.Get("oldest"), params.Get("latest")
	withMetadata := params.Get("include_all_metadata") == "1" || params.Get("include_all_metadata") == "true"
	after := params.Get("cursor") // the ts below which the next page starts

	s.mu.Lock()
	var page []map[string]any
	more := false
	for i := len(s.messages) - 1; i >= 0; i-- {
		m := s.messages[i]
		if m.Channel != channel || (m.ThreadTS != "" && !m.Broadcast) {
			continue
		}
		if after != "" && !tsBefore(m.TS, after) {
			continue
		}
		if !inRange(m.TS, oldest, latest, inclusive) {
			continue
		}
		if len(page) == limit {
			more = true
			break
		}
		cur := s.current[m.Channel+"/"+m.TS]
		out := map[string]any{"type": "message", "user": BotUser, "bot_id": BotID, "ts": cur.TS, "text": cur.Text}
		if cur.Blocks != nil {
			out["blocks"] = cur.Blocks
		}
		if withMetadata && cur.Metadata != nil {
			out["metadata"] = cur.Metadata
		}
		var names []map[string]any
		for _, r := range s.reactions {
			if r.Channel == cur.Channel && r.TS == cur.TS {
				names = append(names, map[string]any{"name": r.Name, "users": []string{BotUser}, "count": 1})
			}
		}
		if names != nil {
			out["reactions"] = names
		}
		page = append(page, out)
	}
	s.mu.Unlock()
	if page == nil {
		page = []map[string]any{}
	}
	resp := map[string]any{"ok": true, "messages": page, "has_more": more}
	if more {
		resp["response_metadata"] = map[string]any{"next_cursor": page[len(page)-1]["ts"]}
	}
	writeJSON(w, http.StatusOK, resp)
}

// tsBefore compares two Slack timestamps, "seconds.micros".
func tsBefore(a, b string) bool {
	sa, fa, _ := strings.Cut(a, ".")
	sb, fb, _ := strings.Cut(b, ".")
	ia, _ := strconv.ParseInt(sa, 10, 64)
	ib, _ := strconv.ParseInt(sb, 10, 64)
	if ia != ib {
		return ia < ib
	}
	na, _ := strconv.ParseInt((fa + "000000")[:6], 10, 64)
	nb, _ := strconv.ParseInt((fb + "000000")[:6], 10, 64)
	return na < nb
}

func inRange(ts, oldest, latest string, inclusive bool) bool {
	if oldest != "" && (tsBefore(ts, oldest) || (!inclusive && ts == oldest)) {
		return false
	}
	if latest != "" && (tsBefore(latest, ts) || (!inclusive && ts == latest)) {
		return false
	}
	return true
}

// Limits real Slack enforces on a message (see shared/reference).
const (
	maxBlocks        = 50
	maxSectionText   = 3000
	maxContextItems  = 10
	maxButtonValue   = 2000
	maxBlockOrAction = 255
	// maxBlocksText: chat.postMessage and chat.update answer
	// msg_blocks_too_long when the text of a message's blocks adds up to
	// roughly 11,000 to 13,000 characters (slackapi/bolt-js#2509, #2867);
	// the double refuses at the low end.
	maxBlocksText = 11000
	maxText       = 40000
)

// checkMessage validates a message's text, blocks and metadata as Slack
// would, and returns the blocks and metadata, or Slack's error code.
// postLimits adds the limits of chat.postMessage and chat.update that
// response_url posts are spared.
func checkMessage(params url.Values, postLimits bool) (blocks, metadata json.RawMessage, code string) {
	text := params.Get("text")
	if text == "" && params.Get("blocks") == "" {
		return nil, nil, "no_text"
	}
	if utf8.RuneCountInString(text) > maxText {
		return nil, nil, "msg_too_long"
	}
	if b := params.Get("blocks"); b != "" {
		if !json.Valid([]byte(b)) {
			return nil, nil, "invalid_blocks"
		}
		blocks = json.RawMessage(b)
		if code := checkBlocks(blocks, postLimits); code != "" {
			return nil, nil, code
		}
	}
	if md := params.Get("metadata"); md != "" {
		var m struct {
			EventType    string          `json:"event_type"`
			EventPayload json.RawMessage `json:"event_payload"`
		}
		if json.Unmarshal([]byte(md), &m) != nil || m.EventType == "" || len(m.EventPayload) == 0 || m.EventPayload[0] != '{' {
			return nil, nil, "invalid_metadata_format"
		}
		metadata = json.RawMessage(md)
	}
	return blocks, metadata, ""
}

// checkBlocks applies Block Kit's limits to blocks.
func checkBlocks(raw json.RawMessage, postLimits bool) string {
	var bs []struct {
		Type    string `json:"type"`
		BlockID string `json:"block_id"`
		Text    *struct {
			Text string `json:"text"`
		} `json:"text"`
		Elements []struct {
			Type     string `json:"type"`
			Text     any    `json:"text"`
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	if json.Unmarshal(raw, &bs) != nil || len(bs) > maxBlocks {
		return "invalid_blocks"
	}
	total := 0
	for _, b := range bs {
		if len(b.BlockID) > maxBlockOrAction {
			return "invalid_blocks"
		}
		if b.Text != nil {
			n := utf8.RuneCountInString(b.Text.Text)
			if b.Type == "section" && n > maxSectionText {
				return "invalid_blocks"
			}
			total += n
		}
		if b.Type == "context" && len(b.Elements) > maxContextItems {
			return "invalid_blocks"
		}
		for _, e := range b.Elements {
			if len(e.Value) > maxButtonValue || len(e.ActionID) > maxBlockOrAction {
				return "invalid_blocks"
			}
			switch t := e.Text.(type) {
			case string:
				total += utf8.RuneCountInString(t)
			case map[string]any:
				s, _ := t["text"].(string)
				total += utf8.RuneCountInString(s)
			}
		}
	}
	if postLimits && total > maxBlocksText {
		return "msg_blocks_too_long"
	}
	return ""
}

// takeFailure returns the next scripted failure for a call. Call with mu held.
func (s *Server) takeFailure(method string, params url.Values) (Failure, bool) {
	q := s.failures[method]
	for i, f := range q {
		if f.Channel != "" && f.Channel != params.Get("channel") {
			continue
		}
		if f.InThread && params.Get("thread_ts") == "" {
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
