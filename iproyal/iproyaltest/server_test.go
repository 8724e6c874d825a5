package iproyaltest

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// reset sends DELETE /sessions for hash with client, and says what the
// client saw: a status, or an error when no answer came.
func reset(client *http.Client, s *Server, hash string) (int, error) {
	req, err := http.NewRequest("DELETE", s.URL+"/sessions", strings.NewReader(`{"residential_user_hashes":["`+hash+`"]}`))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+s.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func waitResets(t *testing.T, s *Server, n int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for len(s.Resets()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d resets, want %d", len(s.Resets()), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// IPRoyal carries out a DELETE whose client gave up: the sessions are
// reset all the same.
func TestDelayedResetCountsAfterItsClientGaveUp(t *testing.T) {
	t.Parallel()
	s := Start(t, "tok")
	s.Script("DELETE", "/sessions", Response{Delay: 300 * time.Millisecond})
	if _, err := reset(&http.Client{Timeout: 50 * time.Millisecond}, s, "h1"); err == nil {
		t.Fatal("the client was answered within its 50 ms")
	}
	waitResets(t, s, 1)

	s.SetDelay(200 * time.Millisecond)
	if _, err := reset(&http.Client{Timeout: 20 * time.Millisecond}, s, "h2"); err == nil {
		t.Fatal("the client was answered within its 20 ms")
	}
	waitResets(t, s, 2)
}

func TestCloseEndsDelays(t *testing.T) {
	t.Parallel()
	s := NewServer("tok")
	s.SetDelay(time.Hour)
	go func() { _, _ = reset(&http.Client{Timeout: 20 * time.Millisecond}, s, "h1") }()
	deadline := time.Now().Add(2 * time.Second)
	for s.Count("DELETE", "/sessions") == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for a delayed call")
	}
	if n := len(s.Resets()); n != 0 {
		t.Errorf("%d resets carried out after Close", n)
	}
}

// A lost answer: the sessions are reset, and the client gets a dropped
// connection or a proxy's 5xx.
func TestLostAnswersAreCarriedOut(t *testing.T) {
	t.Parallel()
	s := Start(t, "tok")
	s.Script("DELETE", "/sessions", Response{Lost: true}, Response{Lost: true, Status: http.StatusGatewayTimeout, Body: "<html>504</html>"})
	if code, err := reset(http.DefaultClient, s, "h1"); err == nil {
		t.Errorf("a dropped connection answered %d", code)
	}
	if code, err := reset(http.DefaultClient, s, "h2"); err != nil || code != http.StatusGatewayTimeout {
		t.Errorf("a proxy's 504: %d, %v", code, err)
	}
	if r := s.Resets(); len(r) != 2 {
		t.Errorf("resets = %v, want both carried out", r)
	}
}

// A window of 429s rather than a count of them.
func TestRateLimitWindow(t *testing.T) {
	t.Parallel()
	s := Start(t, "tok")
	s.Script("DELETE", "/sessions", Response{Status: 429, Header: map[string]string{"Retry-After": "1"}, For: 200 * time.Millisecond})
	for range 3 {
		if code, err := reset(http.DefaultClient, s, "h1"); err != nil || code != 429 {
			t.Fatalf("in the window: %d, %v", code, err)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		code, err := reset(http.DefaultClient, s, "h1")
		if err == nil && code == http.StatusNoContent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the window never ended: %d, %v", code, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
