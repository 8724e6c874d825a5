package slacktest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// dialSocket opens a Socket Mode connection as an app does, and reads
// the hello.
func dialSocket(t *testing.T, s *Server) *websocket.Conn {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"apps.connections.open", nil)
	req.Header.Set("Authorization", "Bearer "+s.AppToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var open struct {
		OK  bool   `json:"ok"`
		URL string `json:"url"`
	}
	err = json.NewDecoder(resp.Body).Decode(&open)
	_ = resp.Body.Close()
	if err != nil || !open.OK {
		t.Fatalf("apps.connections.open: %v %+v", err, open)
	}
	ws, _, err := websocket.DefaultDialer.Dial(open.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	if _, hello, err := ws.ReadMessage(); err != nil || !strings.Contains(string(hello), `"hello"`) {
		t.Fatalf("no hello: %s %v", hello, err)
	}
	return ws
}

// A connection answers the app's pings, until it goes silent: then no
// pong, no ping, and it stays open.
func TestSilenceStopsPingsAndPongs(t *testing.T) {
	t.Parallel()
	s := Start(t, "xapp-1", "xoxb-1")
	s.SetPingInterval(50 * time.Millisecond)
	ws := dialSocket(t, s)
	heard := make(chan string, 100)
	ws.SetPongHandler(func(string) error { heard <- "pong"; return nil })
	ws.SetPingHandler(func(string) error { heard <- "ping"; return nil })
	go func() {
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				close(heard)
				return
			}
		}
	}()
	listen := func(d time.Duration) map[string]int {
		got := map[string]int{}
		deadline := time.After(d)
		for {
			select {
			case w, ok := <-heard:
				if !ok {
					t.Fatal("the connection closed")
				}
				got[w]++
			case <-deadline:
				return got
			}
		}
	}
	if err := ws.WriteControl(websocket.PingMessage, []byte("app"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := listen(300 * time.Millisecond); got["pong"] != 1 || got["ping"] == 0 {
		t.Fatalf("a live connection: %v, want a pong and pings", got)
	}
	s.Silence()
	listen(100 * time.Millisecond) // a ping already in flight
	if err := ws.WriteControl(websocket.PingMessage, []byte("app"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := listen(300 * time.Millisecond); len(got) != 0 {
		t.Errorf("a silent connection said %v", got)
	}
}
