package slacktest

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sessionbot/sessionbot/internal/doubles"
)

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

	now := time.Now()
	s.mu.Lock()
	s.rec.calls = append(s.rec.calls, Call{Method: method, Params: params, At: now})
	f, failing := s.takeFailure(method, params, now)
	s.notify()
	s.mu.Unlock()

	if failing && f.Delay > 0 && !s.wait(f.Delay) {
		return
	}
	if code := s.authenticate(r, method, token); code != "" {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": code})
		return
	}
	if failing && f.refuses() {
		refuse(w, f)
		return
	}
	s.mu.Lock()
	retryAfter, limited := s.throttled(method, time.Now())
	s.mu.Unlock()
	if limited {
		refuse(w, Failure{RetryAfter: retryAfter})
		return
	}
	if failing && f.Lost {
		s.serve(httptest.NewRecorder(), method, params) // carried out; its answer never leaves
		loseAnswer(w, f.Status)
		return
	}
	s.serve(w, method, params)
}

// authenticate checks the token a call came with, and returns Slack's
// error code, or "".
func (s *Server) authenticate(r *http.Request, method, token string) string {
	want := s.BotToken
	if method == "apps.connections.open" {
		want = s.AppToken
		if r.Header.Get("Authorization") == "" {
			token = "" // Slack refuses the app token as a form field
		}
	}
	switch {
	case token == "":
		return "not_authed"
	case token != want:
		return "invalid_auth"
	}
	return ""
}

// serve carries out a Web API call and answers it.
func (s *Server) serve(w http.ResponseWriter, method string, params url.Values) {
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
	case "conversations.replies":
		s.replies(w, params)
	case "conversations.open":
		s.openConversation(w, params)
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

// wait sleeps d, as a slow Slack does (doubles.Wait).
func (s *Server) wait(d time.Duration) bool { return doubles.Wait(d, s.done) }

// refuse answers a call with the failure f scripts, without carrying it out.
func refuse(w http.ResponseWriter, f Failure) {
	switch {
	case f.RetryAfter > 0:
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"ok": false, "error": "ratelimited"})
	case f.Status != 0:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(f.Status)
		_, _ = io.WriteString(w, "<html><body>"+http.StatusText(f.Status)+"</body></html>")
	default:
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": f.Error})
	}
}

// loseAnswer is what the client of a call carried out gets when its answer
// is lost: the status a proxy answered (a 502, a 504), or, without one, a
// connection closed without a word.
func loseAnswer(w http.ResponseWriter, status int) {
	if status != 0 {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "<html><body>"+http.StatusText(status)+"</body></html>")
		return
	}
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = conn.Close()
		return
	}
	panic(http.ErrAbortHandler) // HTTP/2: abort the stream instead
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
