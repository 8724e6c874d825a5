package slacktest

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

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
	for i := len(s.rec.messages) - 1; i >= 0; i-- {
		m := s.rec.messages[i]
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
		cur := s.rec.current[m.Channel+"/"+m.TS]
		out := map[string]any{"type": "message", "user": BotUser, "bot_id": BotID, "ts": cur.TS, "text": cur.Text}
		if cur.Blocks != nil {
			out["blocks"] = cur.Blocks
		}
		if withMetadata && cur.Metadata != nil {
			out["metadata"] = cur.Metadata
		}
		var names []map[string]any
		for _, r := range s.rec.reactions {
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
