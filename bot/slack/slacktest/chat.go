package slacktest

import (
	"net/http"
	"net/url"
	"time"
)

// AddMessage makes a message someone (not the app) writes in channel now,
// such as an alert, and returns it: the app can reply in its thread and
// react to it.
func (s *Server) AddMessage(channel, text string) Message {
	return s.AddHistory(channel, Message{Text: text})[0]
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
		if _, ok := s.rec.current[channel+"/"+thread]; !ok {
			s.mu.Unlock()
			writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "thread_not_found"})
			return
		}
	}
	ts := s.stamp(channel)
	m := Message{
		Channel: channel, TS: ts, Text: params.Get("text"), Blocks: blocks,
		ThreadTS: thread, Broadcast: params.Get("reply_broadcast") == "true", Metadata: metadata,
		User: BotUser, BotID: BotID,
	}
	s.rec.messages = append(s.rec.messages, m)
	s.store(m)
	s.notify()
	s.mu.Unlock()
	s.emit(Event{Kind: EventMessage, At: time.Now(), Message: m})
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "channel": channel, "ts": ts})
}

func (s *Server) updateMessage(w http.ResponseWriter, params url.Values) {
	channel, ts := params.Get("channel"), params.Get("ts")
	blocks, metadata, code := checkMessage(params, true)
	if code != "" {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": code})
		return
	}
	s.mu.Lock()
	m, ok := s.rec.current[channel+"/"+ts]
	if !ok {
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "message_not_found"})
		return
	}
	m.Text, m.Blocks = params.Get("text"), blocks
	if metadata != nil {
		m.Metadata = metadata
	}
	s.rec.updates = append(s.rec.updates, Update{Channel: channel, TS: ts, Text: m.Text, Blocks: blocks, Metadata: metadata})
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
	s.rec.ephemerals = append(s.rec.ephemerals, Ephemeral{
		Channel: params.Get("channel"), User: params.Get("user"), ThreadTS: params.Get("thread_ts"),
		Text: params.Get("text"), Blocks: blocks,
	})
	ts := s.stamp(params.Get("channel"))
	s.notify()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "message_ts": ts})
}

func (s *Server) addReaction(w http.ResponseWriter, params url.Values) {
	r := Reaction{Channel: params.Get("channel"), TS: params.Get("timestamp"), Name: params.Get("name")}
	s.mu.Lock()
	if _, ok := s.rec.current[r.Channel+"/"+r.TS]; !ok {
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "message_not_found"})
		return
	}
	for _, had := range s.rec.reactions {
		if had == r {
			// One bot user on every replica: Slack refuses the second.
			s.mu.Unlock()
			writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "already_reacted"})
			return
		}
	}
	s.rec.reactions = append(s.rec.reactions, r)
	s.notify()
	s.mu.Unlock()
	s.emit(Event{Kind: EventReaction, At: time.Now(), Message: Message{Channel: r.Channel, TS: r.TS}})
	writeJSON(w, http.StatusOK, map[string]any{"ok": true})
}
