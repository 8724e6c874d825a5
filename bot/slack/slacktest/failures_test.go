package slacktest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

// answer is how a call went for its client.
type answer struct {
	status     int
	retryAfter string
	body       map[string]any
	err        error // the client got no answer
}

// callWith calls a Web API method of s as slack-go does (a form), with
// client, and says what the client saw.
func callWith(client *http.Client, s *Server, method string, form url.Values) answer {
	form.Set("token", s.BotToken)
	resp, err := client.PostForm(s.URL+method, form)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	_ = json.NewDecoder(resp.Body).Decode(&a.body)
	return a
}

func waitMessages(t *testing.T, s *Server, n int) []Message {
	t.Helper()
	var got []Message
	if err := s.WaitFor(2*time.Second, func(st *State) bool { got = st.Messages(); return len(got) >= n }); err != nil {
		t.Fatalf("%d messages, want %d", len(got), n)
	}
	return got
}

// A call whose client gave up is still carried out, as Slack does: the
// message is posted, and the answer goes nowhere.
func TestDelayedCallLandsAfterItsClientGaveUp(t *testing.T) {
	t.Parallel()
	s := Start(t, "xapp-1", "xoxb-1")
	s.Fail("chat.postMessage", Failure{Delay: 300 * time.Millisecond})
	impatient := &http.Client{Timeout: 50 * time.Millisecond}
	if a := callWith(impatient, s, "chat.postMessage", url.Values{"channel": {"C1"}, "text": {"late"}}); a.err == nil {
		t.Fatalf("the client was answered within its 50 ms: %+v", a)
	}
	if got := waitMessages(t, s, 1); got[0].Text != "late" {
		t.Errorf("posted %+v", got)
	}

	// Delay, then fail: nothing is posted.
	s.Fail("chat.postMessage", Failure{Delay: 50 * time.Millisecond, Error: "internal_error"})
	if a := callWith(http.DefaultClient, s, "chat.postMessage", url.Values{"channel": {"C1"}, "text": {"refused"}}); a.body["error"] != "internal_error" {
		t.Errorf("delay then fail answered %+v", a)
	}
	if n := len(s.State().Messages()); n != 1 {
		t.Errorf("%d messages after a refused call, want 1", n)
	}
}

// A delay longer than the test is cut short by Close, without carrying
// the call out: the test is over.
func TestCloseEndsDelays(t *testing.T) {
	t.Parallel()
	s := NewServer("xapp-1", "xoxb-1")
	s.Fail("reactions.add", Failure{Delay: time.Hour})
	go callWith(&http.Client{Timeout: 20 * time.Millisecond}, s, "reactions.add", url.Values{"channel": {"C1"}, "timestamp": {"1.000001"}, "name": {"x"}})
	if err := s.WaitFor(2*time.Second, func(st *State) bool { return len(st.Calls("reactions.add")) == 1 }); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for a delayed call")
	}
}

// A lost answer: the call is carried out, then the client gets a dropped
// connection, or a proxy's 5xx.
func TestLostAnswersAreCarriedOut(t *testing.T) {
	t.Parallel()
	s := Start(t, "xapp-1", "xoxb-1")
	first := post(t, s, "chat.postMessage", url.Values{"channel": {"C1"}, "text": {"first"}})
	ts := first["ts"].(string)

	s.Fail("chat.postMessage", Failure{Lost: true})
	if a := callWith(http.DefaultClient, s, "chat.postMessage", url.Values{"channel": {"C1"}, "text": {"dropped"}}); a.err == nil {
		t.Errorf("a dropped connection answered %+v", a)
	}
	s.Fail("chat.update", Failure{Lost: true, Status: http.StatusGatewayTimeout})
	if a := callWith(http.DefaultClient, s, "chat.update", url.Values{"channel": {"C1"}, "ts": {ts}, "text": {"updated"}}); a.status != http.StatusGatewayTimeout {
		t.Errorf("a proxy's 504 answered %+v", a)
	}
	s.Fail("reactions.add", Failure{Lost: true, Status: http.StatusBadGateway})
	callWith(http.DefaultClient, s, "reactions.add", url.Values{"channel": {"C1"}, "timestamp": {ts}, "name": {"eyes"}})

	st := s.State()
	if msgs := st.Messages(); len(msgs) != 2 || msgs[1].Text != "dropped" {
		t.Errorf("messages = %+v, want the dropped one posted", msgs)
	}
	if cur, _ := st.Current("C1", ts); cur.Text != "updated" {
		t.Errorf("the update whose answer was lost was not applied: %q", cur.Text)
	}
	if r := st.Reactions(); len(r) != 1 {
		t.Errorf("reactions = %+v", r)
	}
	// Retrying the reaction, as a client that saw a 502 would, finds it there.
	if a := callWith(http.DefaultClient, s, "reactions.add", url.Values{"channel": {"C1"}, "timestamp": {ts}, "name": {"eyes"}}); a.body["error"] != "already_reacted" {
		t.Errorf("the retry answered %+v", a)
	}
}

// A window of 429s, per channel, rather than a count of them; and the
// other way Slack says so, HTTP 200 rate_limited.
func TestRateLimitWindows(t *testing.T) {
	t.Parallel()
	s := Start(t, "xapp-1", "xoxb-1") // windows are how Slack is: never "unused"
	s.Fail("chat.postMessage", Failure{RetryAfter: 2, Channel: "C1", For: 300 * time.Millisecond})
	s.Fail("chat.update", Failure{Error: "rate_limited", For: time.Hour})
	for range 3 {
		a := callWith(http.DefaultClient, s, "chat.postMessage", url.Values{"channel": {"C1"}, "text": {"x"}})
		if a.status != http.StatusTooManyRequests || a.retryAfter != "2" || a.body["error"] != "ratelimited" {
			t.Fatalf("in the window: %+v", a)
		}
	}
	if a := callWith(http.DefaultClient, s, "chat.postMessage", url.Values{"channel": {"C2"}, "text": {"x"}}); a.body["ok"] != true {
		t.Errorf("another channel, in the window: %+v", a)
	}
	a := callWith(http.DefaultClient, s, "chat.update", url.Values{"channel": {"C2"}, "ts": {"1.000001"}, "text": {"x"}})
	if a.status != http.StatusOK || a.body["error"] != "rate_limited" {
		t.Errorf("rate_limited: %+v", a)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		a := callWith(http.DefaultClient, s, "chat.postMessage", url.Values{"channel": {"C1"}, "text": {"x"}})
		if a.body["ok"] == true {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the window never ended: %+v", a)
		}
		time.Sleep(50 * time.Millisecond) // a client honouring a Retry-After would wait longer
	}
}

func TestThrottleIsATier(t *testing.T) {
	t.Parallel()
	s := Start(t, "xapp-1", "xoxb-1")
	s.Throttle("conversations.history", 3)
	for i := range 3 {
		if a := callWith(http.DefaultClient, s, "conversations.history", url.Values{"channel": {"C1"}}); a.body["ok"] != true {
			t.Fatalf("call %d: %+v", i+1, a)
		}
	}
	a := callWith(http.DefaultClient, s, "conversations.history", url.Values{"channel": {"C1"}})
	if wait, err := strconv.Atoi(a.retryAfter); a.status != http.StatusTooManyRequests || err != nil || wait < 1 || wait > 60 {
		t.Errorf("the fourth call in a minute: %+v", a)
	}
	if a := callWith(http.DefaultClient, s, "chat.postMessage", url.Values{"channel": {"C1"}, "text": {"x"}}); a.body["ok"] != true {
		t.Errorf("another method: %+v", a)
	}
	s.Throttle("conversations.history", 0)
	if a := callWith(http.DefaultClient, s, "conversations.history", url.Values{"channel": {"C1"}}); a.body["ok"] != true {
		t.Errorf("after lifting the limit: %+v", a)
	}
}
