// Package iproyaltest runs a test double of IPRoyal's residential API on
// 127.0.0.1, in the spirit of net/http/httptest.
//
// It checks the Bearer token, records every request, serves /me and a
// paginated, searchable sub-user list from a table, accepts DELETE /sessions,
// and can be scripted per call with a status, body, headers and a delay, or
// to lose its answer; what it carried out counts whether or not the client
// saw the answer.
package iproyaltest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sessionbot/sessionbot/internal/doubles"
)

// BasePath is where the API lives on the double, as /v1 does on the real
// one, so a client that drops its base path fails against it.
const BasePath = "/v1"

// Subuser is a sub-user as the real API returns it, password included, so
// tests can prove the password never leaks.
type Subuser struct {
	Hash             string  `json:"hash"`
	Username         string  `json:"username"`
	Password         string  `json:"password"`
	TrafficAvailable float64 `json:"traffic_available"`
	TrafficUsed      float64 `json:"traffic_used"`
}

// Account is what GET /me answers.
type Account struct {
	AvailableTraffic    float64 `json:"available_traffic"`
	SubusersCount       int     `json:"subusers_count"`
	ResidentialUserHash string  `json:"residential_user_hash"`
}

// Response is a scripted answer to one call. A zero Status answers as the
// double normally would, after Delay.
//
// IPRoyal carries out a call whose client gave up, and a call whose answer
// was lost: a DELETE /sessions then still resets the sessions (and counts
// in Resets), though the client cannot know.
type Response struct {
	Status int
	Body   string
	Header map[string]string
	// Delay is waited before the call is carried out and answered; the
	// call is carried out even when the client gave up meanwhile.
	Delay time.Duration
	// Lost carries the call out as usual, then drops the connection
	// without an answer, or, with Status, answers that (a proxy's 502 or
	// 504, with Body and Header) instead of IPRoyal's answer.
	Lost bool
	// Sticky answers every later call too, not just the next.
	Sticky bool
	// For, when set, answers every call from when it is scripted until For
	// has passed (a window of 429s, say), and then stops.
	For time.Duration
}

// scripted is a Response as the double keeps it.
type scripted struct {
	Response
	until time.Time // when a For window ends
}

// Request is a request the double received.
type Request struct {
	Method string
	Path   string // without BasePath, e.g. "/sessions"
	Query  string
	Header http.Header
	Body   []byte
	// Took is how long the double took to answer, its delay included
	// (zero until it has answered).
	Took time.Duration
}

// Server is a running double. Its methods are safe for concurrent use.
type Server struct {
	// URL is the API root to give a client, e.g. http://127.0.0.1:4321/v1.
	URL string
	// Token is the only Bearer token accepted.
	Token string

	srv *httptest.Server

	mu       sync.Mutex
	requests []Request
	resets   [][]string
	script   map[string][]scripted
	delay    time.Duration
	account  Account
	subusers []Subuser
	perPage  int
	maxPage  int
	closed   bool
	done     chan struct{} // closed by Close: delayed calls stop waiting
}

// NewServer starts a double that accepts token. Close it when done.
// Tests should use Start, which also closes it and checks it was used as
// scripted; NewServer is for programs such as the benchmark.
func NewServer(token string) *Server {
	s := &Server{
		Token:   token,
		script:  map[string][]scripted{},
		done:    make(chan struct{}),
		perPage: 20,
		maxPage: 100,
		account: Account{AvailableTraffic: 32.6, ResidentialUserHash: "01H7YCG0R9GYY1YCPS2S4QA6WB"},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("DELETE "+BasePath+"/sessions", s.resetSessions)
	mux.HandleFunc("GET "+BasePath+"/me", s.me)
	mux.HandleFunc("GET "+BasePath+"/residential-subusers", s.listSubusers)
	mux.HandleFunc("GET "+BasePath+"/residential-subusers/{hash}", s.getSubuser)
	s.srv = httptest.NewServer(s.middleware(mux))
	s.URL = s.srv.URL + BasePath
	return s
}

// Close shuts the double down. Calls it is still delaying end without
// being carried out.
func (s *Server) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.done)
	}
	s.mu.Unlock()
	s.srv.Close()
}

// Script queues answers for the next calls to method and path (e.g.
// "DELETE", "/sessions"); once they are used up the double answers
// normally. A Sticky answer, once reached, answers every call.
func (s *Server) Script(method, path string, rs ...Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := method + " " + path
	now := time.Now()
	for _, r := range rs {
		sr := scripted{Response: r}
		if r.For > 0 {
			sr.until = now.Add(r.For)
		}
		s.script[key] = append(s.script[key], sr)
	}
}

// next takes the scripted answer to a call, if any. Call with mu held.
func (s *Server) next(key string, now time.Time) *Response {
	q := s.script[key]
	for len(q) > 0 && q[0].For > 0 && !now.Before(q[0].until) {
		q = q[1:] // the window is over
	}
	s.script[key] = q
	if len(q) == 0 {
		return nil
	}
	r := q[0].Response
	if !r.Sticky && r.For == 0 {
		s.script[key] = q[1:]
	}
	return &r
}

// SetDelay makes every call wait d before it is carried out and answered,
// like a slow IPRoyal, whether or not its client waits that long.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// SetSubusers replaces the sub-user table.
func (s *Server) SetSubusers(subs ...Subuser) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subusers = append([]Subuser(nil), subs...)
	s.account.SubusersCount = len(subs)
}

// SetMaxPerPage caps the page size a request may ask for (default 100, the
// cap the client assumes; IPRoyal publishes none). A larger per_page gets
// pages of the cap, as Laravel's paginators answer.
func (s *Server) SetMaxPerPage(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxPage = n
}

// SetAccount sets what GET /me answers.
func (s *Server) SetAccount(a Account) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.account = a
}

// Requests returns every request received, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count returns how many requests were made to method and path.
func (s *Server) Count(method, path string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

// Resets returns the hash lists of every DELETE /sessions that succeeded.
func (s *Server) Resets() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]string(nil), s.resets...)
}

func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived := time.Now()
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		path := strings.TrimPrefix(r.URL.Path, BasePath)
		s.mu.Lock()
		i := len(s.requests)
		s.requests = append(s.requests, Request{
			Method: r.Method, Path: path, Query: r.URL.RawQuery,
			Header: r.Header.Clone(), Body: body,
		})
		defer func() {
			s.mu.Lock()
			s.requests[i].Took = time.Since(arrived)
			s.mu.Unlock()
		}()
		scripted := s.next(r.Method+" "+path, arrived)
		delay := s.delay
		s.mu.Unlock()

		if scripted != nil {
			delay += scripted.Delay
		}
		if delay > 0 && !s.wait(delay) {
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+s.Token {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Unauthenticated."})
			return
		}
		if scripted != nil && scripted.Status != 0 && !scripted.Lost {
			answer(w, *scripted)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if scripted != nil && scripted.Lost {
			next.ServeHTTP(httptest.NewRecorder(), r) // carried out; its answer never leaves
			if scripted.Status != 0 {
				answer(w, *scripted)
				return
			}
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				_ = conn.Close()
				return
			}
			panic(http.ErrAbortHandler)
		}
		next.ServeHTTP(w, r)
	})
}

// wait sleeps d, as a slow IPRoyal does (doubles.Wait).
func (s *Server) wait(d time.Duration) bool { return doubles.Wait(d, s.done) }

// answer writes a scripted answer.
func answer(w http.ResponseWriter, r Response) {
	for k, v := range r.Header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(r.Status)
	_, _ = w.Write([]byte(r.Body))
}

func (s *Server) resetSessions(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Hashes []string `json:"residential_user_hashes"`
	}
	if r.Header.Get("Content-Type") != "application/json" {
		writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"message": "Content-Type must be application/json"})
		return
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || len(in.Hashes) == 0 {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
			"message": "The residential user hashes field is required.",
			"errors":  map[string][]string{"residential_user_hashes": {"The residential user hashes field is required."}},
		})
		return
	}
	s.mu.Lock()
	s.resets = append(s.resets, in.Hashes)
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) me(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	a := s.account
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) listSubusers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	search := q.Get("search")

	s.mu.Lock()
	perPage := s.perPage
	if pp, err := strconv.Atoi(q.Get("per_page")); err == nil && pp > 0 {
		perPage = pp
	}
	perPage = min(perPage, s.maxPage)
	var match []Subuser
	for _, sub := range s.subusers {
		if strings.Contains(sub.Username, search) {
			match = append(match, sub)
		}
	}
	s.mu.Unlock()

	last := max(1, (len(match)+perPage-1)/perPage)
	from := min((page-1)*perPage, len(match))
	to := min(from+perPage, len(match))
	data := match[from:to]
	if data == nil {
		data = []Subuser{}
	}
	path := "http://" + r.Host + BasePath + "/residential-subusers"
	writeJSON(w, http.StatusOK, map[string]any{
		"data": data,
		"links": map[string]any{
			"first": path + "?page=1", "last": fmt.Sprintf("%s?page=%d", path, last),
			"prev": nil, "next": nil,
		},
		"meta": map[string]any{
			"current_page": page, "from": from + 1, "last_page": last, "path": path,
			"per_page": perPage, "to": to, "total": len(match),
		},
	})
}

func (s *Server) getSubuser(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sub := range s.subusers {
		if sub.Hash == r.PathValue("hash") {
			writeJSON(w, http.StatusOK, sub)
			return
		}
	}
	writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not found."})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
