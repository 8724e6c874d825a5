// Package slacktest runs a test double of Slack on 127.0.0.1: the Socket
// Mode protocol over a real WebSocket (apps.connections.open, hello,
// envelopes, acks, pings, disconnect) and the Web API methods sessionbot
// calls, with scriptable errors. Any package's tests, and the benchmark, can
// start one.
//
// What the app did is read from a State: inside WaitFor, as the double
// changes, or from Server.State, a snapshot.
package slacktest

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Identity of the workspace the double pretends to be.
const (
	TeamID   = "T0SESSION"
	AppID    = "A0SESSION"
	BotID    = "B0SESSION"
	BotUser  = "U0SESSIONBOT"
	TeamName = "sessionbot tests"
)

// Server is a running double. Its methods are safe for concurrent use.
type Server struct {
	// URL is the Web API base to give slack-go; it ends with "/".
	URL      string
	AppToken string
	BotToken string

	srv      *httptest.Server
	upgrader websocket.Upgrader

	mu           sync.Mutex
	changed      chan struct{}
	conns        []*conn
	next         int // round-robin cursor over conns
	envelopes    int
	sentAt       map[string]time.Time // envelope ID: when it was written
	submitted    map[string]string    // view_submission envelope ID: the view's ID
	pingInterval time.Duration
	afterHello   *string // if set, each connection is closed right after its hello, with this disconnect reason ("": without a word)
	rec          records
	timeline     map[string][]int64    // by channel: the ts of its messages as µs, oldest first
	responseURLs map[string]*issuedURL // by envelope ID
	triggers     map[string]time.Time  // trigger IDs handed out, and when
	failures     map[string][]scripted // by method
	throttles    map[string]*throttle  // by method
	groups       map[string][]string
	ws           workspace // users, user groups, channels, scopes: workspace.go
	closed       bool
	done         chan struct{} // closed by Close: delayed calls stop waiting
	subs         []chan Event
}

// NewServer starts a double that accepts these tokens. Close it when done.
// Tests should use Start, which also closes it and checks it was used as
// scripted; NewServer is for programs such as the benchmark.
func NewServer(appToken, botToken string) *Server {
	s := &Server{
		AppToken:     appToken,
		BotToken:     botToken,
		changed:      make(chan struct{}),
		pingInterval: 2 * time.Second,
		failures:     map[string][]scripted{},
		throttles:    map[string]*throttle{},
		groups:       map[string][]string{},
		rec:          records{current: map[string]*Message{}},
		timeline:     map[string][]int64{},
		responseURLs: map[string]*issuedURL{},
		done:         make(chan struct{}),
		triggers:     map[string]time.Time{},
		sentAt:       map[string]time.Time{},
		submitted:    map[string]string{},
	}
	// slack-go dials with Origin: https://api.slack.com, which is not us.
	s.upgrader.CheckOrigin = func(*http.Request) bool { return true }
	mux := http.NewServeMux()
	mux.HandleFunc("/api/{method}", s.webAPI)
	mux.HandleFunc("GET /link/", s.link)
	mux.HandleFunc("POST /response/{envelope}", s.responseURL)
	// Started only once s.srv is set: handlers read it.
	s.srv = httptest.NewUnstartedServer(mux)
	s.srv.Start()
	s.URL = s.srv.URL + "/api/"
	return s
}

// Close ends every connection and stops the double. Calls it is still
// delaying end without being carried out.
func (s *Server) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.done)
	}
	conns := s.conns
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.ws.Close()
	}
	s.srv.Close()
}

// SetPingInterval sets how often the double pings each connection (default 2s).
func (s *Server) SetPingInterval(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pingInterval = d
}

// CloseAfterHello makes every new connection end right after its hello:
// with a disconnect message giving reason, or, when reason is empty,
// without a word, as Slack does to an app over its connection limit.
func (s *Server) CloseAfterHello(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.afterHello = &reason
}

// StopClosingAfterHello undoes CloseAfterHello.
func (s *Server) StopClosingAfterHello() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.afterHello = nil
}

// SetUsergroup sets the members usergroups.users.list returns for group.
func (s *Server) SetUsergroup(group string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[group] = members
}
