package slacktest

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// endedT is a testing.TB that Start can register with; end runs its
// cleanups as a test's end does, and errors keeps what they reported.
type endedT struct {
	testing.TB
	cleanups []func()
	errors   []string
}

func (t *endedT) Helper()           {}
func (t *endedT) Cleanup(f func())  { t.cleanups = append(t.cleanups, f) }
func (t *endedT) Error(args ...any) { t.errors = append(t.errors, fmt.Sprint(args...)) }

func (t *endedT) end() []string {
	for _, f := range slices.Backward(t.cleanups) {
		f()
	}
	return t.errors
}

func TestStartFailsTheTestForScriptsNeverUsed(t *testing.T) {
	ft := &endedT{}
	s := Start(ft, "xapp-1", "xoxb-1")
	s.Fail("chat.postMessage", Failure{Error: "not_in_channel", Channel: "C1"}, Failure{Error: "is_archived", Channel: "C2"})
	s.Fail("chat.update", Failure{Status: 503}, Failure{Status: 503})
	s.Fail("reactions.add", Failure{Error: "internal_error", Sticky: true}) // sticky: an environment, not an expectation
	post(t, s, "chat.postMessage", url.Values{"channel": {"C1"}, "text": {"hi"}})

	got := ft.end()
	want := []string{
		`slacktest: chat.postMessage: scripted but never used: Failure{Error: "is_archived", Channel: "C2"}`,
		`slacktest: chat.update: scripted but never used: Failure{Status: 503} ×2`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("the test was failed with\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestStartPassesATestThatUsedItsScript(t *testing.T) {
	ft := &endedT{}
	s := Start(ft, "xapp-1", "xoxb-1")
	s.Fail("chat.postMessage", Failure{Error: "not_in_channel"})
	if out := post(t, s, "chat.postMessage", url.Values{"channel": {"C1"}, "text": {"hi"}}); out["error"] != "not_in_channel" {
		t.Fatalf("answer = %v", out)
	}
	if got := ft.end(); len(got) != 0 {
		t.Errorf("the test was failed with %q", got)
	}
}

func TestStartFailsTheTestForAcksSlackWouldNotTake(t *testing.T) {
	ft := &endedT{}
	s := Start(ft, "xapp-1", "xoxb-1")
	s.mu.Lock()
	s.rec.acks = append(s.rec.acks, Ack{EnvelopeID: "env-late", Late: true}, Ack{EnvelopeID: "env-bad", Err: "invalid_arguments"}, Ack{EnvelopeID: "env-fine"})
	s.mu.Unlock()
	got := ft.end()
	want := []string{
		"slacktest: envelope env-late was acknowledged after Slack's 3 s",
		"slacktest: envelope env-bad was acknowledged with what Slack would refuse: invalid_arguments",
	}
	if !slices.Equal(got, want) {
		t.Errorf("the test was failed with %q, want %q", got, want)
	}
}
