package slacktest

import (
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"
)

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

// Message is a message in a channel: as the app posted it with
// chat.postMessage, or as a test added it.
type Message struct {
	Channel   string
	TS        string
	Text      string
	Blocks    json.RawMessage
	ThreadTS  string
	Broadcast bool
	// Metadata is the message metadata posted with it, if any.
	Metadata json.RawMessage
	// User wrote it: BotUser for the app. BotID is set when an app did.
	User, BotID string
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

// Call is a Web API call the double received.
type Call struct {
	Method string
	Params url.Values
	At     time.Time
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
// changes, until it holds or timeout passes. The State is valid only
// during the call to cond.
func (s *Server) WaitFor(timeout time.Duration, cond func(*State) bool) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ok := cond(&State{connections: len(s.conns), rec: &s.rec})
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

// State returns a snapshot of what the double has recorded so far, for
// reading outside WaitFor.
func (s *Server) State() *State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &State{connections: len(s.conns), rec: s.rec.snapshot()}
}

// records is what the double has seen the app do. The slices only grow;
// the messages in current change with chat.update.
type records struct {
	hellos     int
	acks       []Ack
	messages   []Message
	current    map[string]*Message // by channel and ts: as it is now, updates applied
	updates    []Update
	ephemerals []Ephemeral
	views      []View
	reactions  []Reaction
	responses  []Response
	calls      []Call
}

// snapshot copies r so that it can be read without the lock. Call with mu
// held.
func (r *records) snapshot() *records {
	c := *r
	c.current = make(map[string]*Message, len(r.current))
	for k, m := range r.current {
		m := *m
		c.current[k] = &m
	}
	return &c
}

// State is a consistent view of the double: what the app did to it, and
// how it is connected. Slices it returns must not be modified.
type State struct {
	connections int
	rec         *records
}

// Connections is the number of open Socket Mode connections.
func (st *State) Connections() int { return st.connections }

// Hellos is how many hello frames have been sent, reconnections included.
func (st *State) Hellos() int { return st.rec.hellos }

// Acked reports whether envelopeID has been acknowledged.
func (st *State) Acked(envelopeID string) bool {
	for _, a := range st.rec.acks {
		if a.EnvelopeID == envelopeID {
			return true
		}
	}
	return false
}

// Acks is every acknowledgement so far.
func (st *State) Acks() []Ack { return slices.Clip(st.rec.acks) }

// Messages is every chat.postMessage so far, as posted.
func (st *State) Messages() []Message { return slices.Clip(st.rec.messages) }

// Current is the message at ts in channel as it is now, updates applied.
func (st *State) Current(channel, ts string) (Message, bool) {
	m, ok := st.rec.current[channel+"/"+ts]
	if !ok {
		return Message{}, false
	}
	return *m, true
}

// Updates is every chat.update so far.
func (st *State) Updates() []Update { return slices.Clip(st.rec.updates) }

// Ephemerals is every chat.postEphemeral so far.
func (st *State) Ephemerals() []Ephemeral { return slices.Clip(st.rec.ephemerals) }

// Views is every view opened or published so far.
func (st *State) Views() []View { return slices.Clip(st.rec.views) }

// Responses is every response_url post so far.
func (st *State) Responses() []Response { return slices.Clip(st.rec.responses) }

// Reactions is every reaction added so far.
func (st *State) Reactions() []Reaction { return slices.Clip(st.rec.reactions) }

// Calls is every Web API call made to method so far ("" for all).
func (st *State) Calls(method string) []Call {
	if method == "" {
		return slices.Clip(st.rec.calls)
	}
	var out []Call
	for _, c := range st.rec.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}
