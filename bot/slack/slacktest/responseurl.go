package slacktest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// A response_url takes at most 5 posts, within 30 minutes of the envelope
// that carried it.
const (
	responseURLUses = 5
	responseURLLife = 30 * time.Minute
)

// issuedURL is a response_url the double handed out.
type issuedURL struct {
	channel string
	issued  time.Time
	uses    int
}

// issueResponseURL hands out the response_url of envelope id, sent in
// channel ("" when it has none).
func (s *Server) issueResponseURL(id, channel string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.responseURLs[id]; !ok {
		s.responseURLs[id] = &issuedURL{channel: channel, issued: time.Now()}
	}
	return strings.TrimSuffix(s.URL, "api/") + "response/" + id
}

// ExpireResponseURLs makes every response_url handed out so far older than
// Slack's 30 minutes: each answers 404 expired_url from now on.
func (s *Server) ExpireResponseURLs() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.responseURLs {
		u.issued = u.issued.Add(-responseURLLife - time.Second)
	}
}

// responseURL records what the app posts to a response_url, within Slack's
// limits, and as the failures scripted for ResponseURL say.
func (s *Server) responseURL(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("envelope")
	var resp Response
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&resp); err != nil {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	if len(resp.Blocks) > 0 && string(resp.Blocks) != "null" {
		if code := checkBlocks(resp.Blocks, false); code != "" {
			http.Error(w, code, http.StatusBadRequest)
			return
		}
	}
	resp.EnvelopeID = id

	now := time.Now()
	s.mu.Lock()
	channel := ""
	if u := s.responseURLs[id]; u != nil {
		channel = u.channel
	}
	f, failing := s.takeFailure(ResponseURL, url.Values{"channel": {channel}}, now)
	s.mu.Unlock()

	if failing && f.Delay > 0 && !s.wait(f.Delay) {
		return
	}
	if failing && f.refuses() {
		refuseResponse(w, f)
		return
	}
	if failing && f.Lost {
		s.postResponse(httptest.NewRecorder(), resp) // carried out; its answer never leaves
		loseAnswer(w, f.Status)
		return
	}
	s.postResponse(w, resp)
}

// postResponse carries out a response_url post, if the URL is still good.
func (s *Server) postResponse(w http.ResponseWriter, resp Response) {
	s.mu.Lock()
	u := s.responseURLs[resp.EnvelopeID]
	if u == nil {
		// A URL the test made itself (an envelope it sent raw, as the
		// benchmark does): its life starts now.
		u = &issuedURL{issued: time.Now()}
		s.responseURLs[resp.EnvelopeID] = u
	}
	var refused string
	switch {
	case time.Since(u.issued) > responseURLLife:
		refused = "expired_url"
	case u.uses >= responseURLUses:
		refused = "used_url"
	}
	if refused != "" {
		s.mu.Unlock()
		http.Error(w, refused, http.StatusNotFound)
		return
	}
	u.uses++
	s.rec.responses = append(s.rec.responses, resp)
	s.notify()
	s.mu.Unlock()
	s.emit(Event{Kind: EventResponse, At: time.Now(), EnvelopeID: resp.EnvelopeID})
	_, _ = io.WriteString(w, "ok")
}

// refuseResponse answers a response_url post with the failure f scripts:
// Slack answers these in plain text.
func refuseResponse(w http.ResponseWriter, f Failure) {
	status, text := f.Status, f.Error
	switch {
	case f.RetryAfter > 0:
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
		status = http.StatusTooManyRequests
	case status == 0:
		status = http.StatusNotFound
	}
	if text == "" {
		text = http.StatusText(status)
	}
	http.Error(w, text, status)
}
