package slacktest

import (
	"fmt"
	"net/http"
	"net/url"
	"time"
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
	v.ID = fmt.Sprintf("V%06d", len(s.rec.views)+1)
	s.rec.views = append(s.rec.views, v)
	s.notify()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "view": map[string]any{"id": v.ID, "type": v.Type, "callback_id": v.CallbackID}})
}
