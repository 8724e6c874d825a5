package slacktest

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// respond posts text to a response_url and returns the status and body.
func respond(t *testing.T, u, text string) (int, string) {
	t.Helper()
	resp, err := http.Post(u, "application/json", bytes.NewBufferString(`{"response_type":"ephemeral","text":"`+text+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func TestResponseURLLimits(t *testing.T) {
	t.Parallel()
	s := Start(t, "xapp-1", "xoxb-1")
	u := s.issueResponseURL("env-1", "C1")
	for i := range 5 {
		if code, body := respond(t, u, "reply"); code != http.StatusOK {
			t.Fatalf("post %d: %d %s", i+1, code, body)
		}
	}
	if code, body := respond(t, u, "a sixth"); code != http.StatusNotFound || body != "used_url" {
		t.Errorf("a sixth post: %d %s, want 404 used_url", code, body)
	}

	fresh := s.issueResponseURL("env-2", "C1")
	s.ExpireResponseURLs()
	if code, body := respond(t, fresh, "after 30 minutes"); code != http.StatusNotFound || body != "expired_url" {
		t.Errorf("an expired response_url: %d %s, want 404 expired_url", code, body)
	}
	later := s.issueResponseURL("env-3", "C1") // handed out after the expiry: fresh
	if code, _ := respond(t, later, "fine"); code != http.StatusOK {
		t.Errorf("a fresh response_url: %d", code)
	}
	// One the test made itself, for an envelope it sent raw, is good from
	// its first use.
	if code, body := respond(t, strings.Replace(u, "env-1", "env-raw", 1), "x"); code != http.StatusOK {
		t.Errorf("a response_url the test made: %d %s", code, body)
	}
	if n := len(s.State().Responses()); n != 7 {
		t.Errorf("%d responses recorded, want the 7 Slack took", n)
	}
}

func TestResponseURLFailures(t *testing.T) {
	t.Parallel()
	s := Start(t, "xapp-1", "xoxb-1")
	u := s.issueResponseURL("env-1", "C1")
	other := s.issueResponseURL("env-2", "C2")

	s.Fail(ResponseURL, Failure{Status: 500})
	if code, _ := respond(t, u, "x"); code != http.StatusInternalServerError {
		t.Errorf("first post: %d, want the scripted 500", code)
	}
	if code, _ := respond(t, u, "x"); code != http.StatusOK {
		t.Errorf("second post: %d, want the one 500 only", code)
	}

	s.Fail(ResponseURL, Failure{Status: 404, Channel: "C2", Sticky: true})
	for range 2 {
		if code, _ := respond(t, other, "x"); code != http.StatusNotFound {
			t.Errorf("a response_url of C2: %d, want 404", code)
		}
	}
	if code, _ := respond(t, u, "x"); code != http.StatusOK {
		t.Errorf("a response_url of C1: %d", code)
	}

	s.Fail(ResponseURL, Failure{Lost: true, Status: http.StatusBadGateway})
	if code, _ := respond(t, u, "lost"); code != http.StatusBadGateway {
		t.Errorf("a lost answer: %d", code)
	}
	rs := s.State().Responses()
	if len(rs) != 3 || rs[2].Text != "lost" {
		t.Errorf("responses = %+v, want the one whose answer was lost too", rs)
	}
}
