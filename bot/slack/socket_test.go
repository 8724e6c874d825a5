package slack

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestReconnectsAreSpaced(t *testing.T) {
	var g reconnects
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	if d := g.next(now); d != 0 {
		t.Fatalf("the first connection waited %v", d)
	}
	// Each connection dies at once: the waits double, jittered, up to a minute.
	var total time.Duration
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, time.Minute, time.Minute} {
		now = g.last.Add(100 * time.Millisecond)
		d := g.next(now)
		if d < want/2 || d > want {
			t.Errorf("attempt %d waited %v, want %v to %v", i+2, d, want/2, want)
		}
		total += d
	}
	// A connection that lived is followed by an immediate reconnect.
	if d := g.next(g.last.Add(time.Hour)); d != 0 {
		t.Errorf("after a long-lived connection the reconnect waited %v", d)
	}
	t.Logf("8 reconnects in a storm took %v of waiting", total)
}

// An ack never waits longer than ackTimeout, even when Slack stops reading.
func TestAckNeverWaits(t *testing.T) {
	stalled := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		up := websocket.Upgrader{}
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		<-stalled // never reads: the bot's writes fill the socket buffers
	}))
	defer srv.Close()
	defer close(stalled)
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	c := &socket{ws: ws}
	payload := map[string]string{"text": strings.Repeat("x", 16<<10)}
	var failed bool
	for i := 0; i < 10000 && !failed; i++ {
		start := time.Now()
		err := c.ack("env-1", payload)
		if took := time.Since(start); took > ackTimeout+500*time.Millisecond {
			t.Fatalf("ack %d took %v", i, took)
		}
		failed = err != nil
	}
	if !failed {
		t.Fatal("10,000 acks of 16 KB into a socket nobody reads all succeeded: the test proves nothing")
	}
	if err := c.ack("env-2", map[string]string{"text": strings.Repeat("x", maxAck)}); err == nil || !strings.Contains(err.Error(), "dropped by Slack") {
		t.Errorf("an ack over 20 KB = %v", err)
	}
}

func TestHeartbeat(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	s := New(Options{AppToken: "xapp-1-test", BotToken: "xoxb-test", APIURL: "http://127.0.0.1:1/", Now: func() time.Time { return now }})
	if ok, _ := s.Healthy(); !ok {
		t.Fatal("unhealthy at start")
	}
	now = now.Add(HeartbeatBound)
	if ok, _ := s.Healthy(); !ok {
		t.Fatal("unhealthy at the bound")
	}
	now = now.Add(time.Second)
	if ok, last := s.Healthy(); ok || !last.Equal(now.Add(-HeartbeatBound-time.Second)) {
		t.Fatalf("healthy %v after the loop stopped turning for longer than the bound (last %v)", ok, last)
	}
	s.beat()
	if ok, _ := s.Healthy(); !ok {
		t.Fatal("still unhealthy after the loop turned")
	}
}
