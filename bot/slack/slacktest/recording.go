package slacktest

import (
	"encoding/json"
	"errors"
	"net/url"
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
