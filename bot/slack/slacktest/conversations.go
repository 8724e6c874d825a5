package slacktest

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TSAt is the Slack timestamp of a message written at t.
func TSAt(t time.Time) string { return tsString(t.UnixMicro()) }

func tsString(us int64) string { return fmt.Sprintf("%d.%06d", us/1e6, us%1e6) }

// tsMicros reads a Slack timestamp, "seconds.micros", as microseconds; ok
// is false when it is not one.
func tsMicros(ts string) (us int64, ok bool) {
	secs, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(secs, 10, 64)
	if err != nil || s < 0 || len(frac) > 6 {
		return 0, false
	}
	f, err := strconv.ParseInt((frac + "000000")[:6], 10, 64)
	if err != nil {
		return 0, false
	}
	return s*1e6 + f, true
}

// stamp is the ts of a new message in channel: now, by Slack's clock, so
// that a ts says how old a message is, and after every message already in
// the channel. Call with mu held.
func (s *Server) stamp(channel string) string {
	us := time.Now().UnixMicro()
	if tl := s.timeline[channel]; len(tl) > 0 && tl[len(tl)-1] >= us {
		us = tl[len(tl)-1] + 1
	}
	return tsString(us)
}

// store puts m in its channel, where its ts says; it reports false when
// the channel has a message at that ts already. Call with mu held.
func (s *Server) store(m Message) bool {
	key := m.Channel + "/" + m.TS
	us, ok := tsMicros(m.TS)
	if _, had := s.rec.current[key]; had || !ok {
		return false
	}
	s.rec.current[key] = &m
	tl := s.timeline[m.Channel]
	i, _ := slices.BinarySearch(tl, us)
	s.timeline[m.Channel] = slices.Insert(tl, i, us)
	return true
}

// AddHistory adds messages written earlier to channel, as someone else's
// (other apps' messages, say, or the app's own from before the test:
// User BotUser, BotID BotID), and returns them as stored. A message with a
// TS (see TSAt) goes where its TS puts it; one without is stamped now.
// Thousands are cheap: it is how a test gives conversations.history pages
// and time bounds to get through.
func (s *Server) AddHistory(channel string, msgs ...Message) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(msgs))
	for i, m := range msgs {
		m.Channel = channel
		if m.TS == "" {
			m.TS = s.stamp(channel)
		}
		if m.User == "" {
			m.User = someone
		}
		if !s.store(m) {
			panic(fmt.Sprintf("slacktest: AddHistory: %q is not a ts, or %s has a message at %s already", m.TS, channel, m.TS))
		}
		out[i] = m
	}
	s.notify()
	return out
}

// someone wrote the messages a test adds without saying who.
const someone = "U0ALERTS"

// maxHistoryLimit is the most messages one conversations.history page holds.
const maxHistoryLimit = 999

// history serves conversations.history as Slack does: a channel's
// messages, newest first, without thread replies (broadcast ones
// excepted), between oldest and latest (exclusive unless inclusive), at
// most limit (default 100, at most 999) a page, the next page behind an
// opaque cursor; metadata only with include_all_metadata.
func (s *Server) history(w http.ResponseWriter, params url.Values) {
	fail := func(code string) { writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": code}) }
	channel := params.Get("channel")
	if channel == "" {
		fail("channel_not_found")
		return
	}
	sp, code := readSpan(params, 100, maxHistoryLimit)
	if code != "" {
		fail(code)
		return
	}
	limit, withMetadata, below, above := sp.limit, sp.withMetadata, sp.below, sp.above
	if sp.cursored {
		below = min(below, sp.cursor) // newest first: the next page is older
	}

	s.mu.Lock()
	reactions := map[string][]map[string]any{}
	for _, r := range s.rec.reactions {
		if r.Channel == channel {
			reactions[r.TS] = append(reactions[r.TS], map[string]any{"name": r.Name, "users": []string{BotUser}, "count": 1})
		}
	}
	tl := s.timeline[channel]
	i, _ := slices.BinarySearch(tl, below) // tl[:i] are below
	page := []map[string]any{}
	more := false
	var last int64
	for i--; i >= 0 && tl[i] > above; i-- {
		m := s.rec.current[channel+"/"+tsString(tl[i])]
		if m.ThreadTS != "" && m.ThreadTS != m.TS && !m.Broadcast {
			continue
		}
		if len(page) == limit {
			more = true
			break
		}
		page = append(page, historyMessage(m, withMetadata, reactions[m.TS]))
		last = tl[i]
	}
	s.mu.Unlock()
	resp := map[string]any{"ok": true, "messages": page, "has_more": more}
	if more {
		resp["response_metadata"] = map[string]any{"next_cursor": cursor(last)}
	}
	writeJSON(w, http.StatusOK, resp)
}

// span is what a page of conversations.history or conversations.replies
// asks for: at most limit messages strictly between above and below
// (oldest and latest, made exclusive), metadata or not, and where the
// cursor, if any, left off.
type span struct {
	limit        int
	above, below int64
	withMetadata bool
	cursor       int64
	cursored     bool
}

// readSpan reads a page's parameters as Slack does, with its default and
// largest limit; code is Slack's error for a malformed one.
func readSpan(params url.Values, def, most int) (sp span, code string) {
	sp = span{limit: def, above: -1, below: math.MaxInt64, withMetadata: truthy(params.Get("include_all_metadata"))}
	if l := params.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 {
			return sp, "invalid_limit"
		}
		if n > 0 {
			sp.limit = min(n, most)
		}
	}
	inclusive := truthy(params.Get("inclusive"))
	if v := params.Get("latest"); v != "" {
		us, ok := tsMicros(v)
		if !ok {
			return sp, "invalid_ts_latest"
		}
		sp.below = us
		if inclusive {
			sp.below++
		}
	}
	if v := params.Get("oldest"); v != "" {
		us, ok := tsMicros(v)
		if !ok {
			return sp, "invalid_ts_oldest"
		}
		sp.above = us
		if inclusive {
			sp.above--
		}
	}
	if c := params.Get("cursor"); c != "" {
		us, ok := readCursor(c)
		if !ok {
			return sp, "invalid_cursor"
		}
		sp.cursor, sp.cursored = us, true
	}
	return sp, ""
}

// historyMessage is m as conversations.history shows it.
func historyMessage(m *Message, withMetadata bool, reactions []map[string]any) map[string]any {
	out := map[string]any{"type": "message", "user": m.User, "ts": m.TS, "text": m.Text}
	if m.BotID != "" {
		out["bot_id"] = m.BotID
	}
	if m.ThreadTS != "" {
		out["thread_ts"] = m.ThreadTS
	}
	if m.Blocks != nil {
		out["blocks"] = m.Blocks
	}
	if withMetadata && m.Metadata != nil {
		out["metadata"] = m.Metadata
	}
	if reactions != nil {
		out["reactions"] = reactions
	}
	return out
}

// A cursor is opaque to clients, as Slack's are: the next page starts
// below the ts it holds.
func cursor(us int64) string {
	return base64.StdEncoding.EncodeToString([]byte("next_ts:" + strconv.FormatInt(us, 10)))
}

func readCursor(c string) (int64, bool) {
	b, err := base64.StdEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	v, ok := strings.CutPrefix(string(b), "next_ts:")
	if !ok {
		return 0, false
	}
	us, err := strconv.ParseInt(v, 10, 64)
	return us, err == nil
}

func truthy(v string) bool { return v == "1" || v == "true" }

// DM is the ID of the direct message channel between the app and user.
func DM(user string) string { return "D" + strings.TrimPrefix(user, "U") }

// openConversation serves conversations.open: the app's direct message
// channel with a user (or a group DM with several), where it can post.
func (s *Server) openConversation(w http.ResponseWriter, params url.Values) {
	if ch := params.Get("channel"); ch != "" {
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "channel": map[string]any{"id": ch}})
		return
	}
	var users []string
	for _, u := range strings.Split(params.Get("users"), ",") {
		if u = strings.TrimSpace(u); u != "" {
			users = append(users, u)
		}
	}
	switch {
	case len(users) == 0:
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "users_list_not_supplied"})
	case len(users) > 8:
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "too_many_users"})
	case len(users) == 1:
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "channel": map[string]any{"id": DM(users[0]), "is_im": true, "user": users[0]}})
	default:
		slices.Sort(users)
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "channel": map[string]any{"id": "G" + strings.Join(users, ""), "is_mpim": true}})
	}
}

// replies serves conversations.replies as Slack does: a thread's parent,
// then its replies, oldest first, between oldest and latest (exclusive
// unless inclusive), at most limit (default 1000) a page, the next page
// behind an opaque cursor; metadata only with include_all_metadata.
func (s *Server) replies(w http.ResponseWriter, params url.Values) {
	fail := func(code string) { writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": code}) }
	channel, ts := params.Get("channel"), params.Get("ts")
	sp, code := readSpan(params, 1000, 1000)
	if code != "" {
		fail(code)
		return
	}
	limit, withMetadata, after := sp.limit, sp.withMetadata, int64(-1)
	if sp.cursored {
		after = sp.cursor // oldest first: the next page is newer
	}
	within := func(us int64) bool { return us > sp.above && us < sp.below }
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.rec.current[channel+"/"+ts]; !ok {
		fail("thread_not_found")
		return
	}
	page := []map[string]any{}
	more := false
	var last int64
	for _, us := range s.timeline[channel] {
		m := s.rec.current[channel+"/"+tsString(us)]
		if (m.TS != ts && m.ThreadTS != ts) || us <= after || (m.TS != ts && !within(us)) {
			continue
		}
		if len(page) == limit {
			more = true
			break
		}
		page = append(page, historyMessage(m, withMetadata, nil))
		last = us
	}
	resp := map[string]any{"ok": true, "messages": page, "has_more": more}
	if more {
		resp["response_metadata"] = map[string]any{"next_cursor": cursor(last)}
	}
	writeJSON(w, http.StatusOK, resp)
}
