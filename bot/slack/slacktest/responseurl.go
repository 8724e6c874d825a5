package slacktest

import (
	"encoding/json"
	"io"
	"net/http"
	"time"
)

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
	s.rec.responses = append(s.rec.responses, resp)
	s.notify()
	s.mu.Unlock()
	s.emit(Event{Kind: EventResponse, At: time.Now(), EnvelopeID: resp.EnvelopeID})
	_, _ = io.WriteString(w, "ok")
}
