package slacktest

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/sessionbot/sessionbot/internal/doubles"
)

func TestStartFailsTheTestForScriptsNeverUsed(t *testing.T) {
	ft := &doubles.EndedT{}
	s := Start(ft, "xapp-1", "xoxb-1")
	s.Fail("chat.postMessage", Failure{Error: "not_in_channel", Channel: "C1"}, Failure{Error: "is_archived", Channel: "C2"})
	s.Fail("chat.update", Failure{Status: 503}, Failure{Status: 503})
	s.Fail("reactions.add", Failure{Error: "internal_error", Sticky: true}) // sticky: an environment, not an expectation
	post(t, s, "chat.postMessage", url.Values{"channel": {"C1"}, "text": {"hi"}})

	got := ft.End()
	want := []string{
		`slacktest: chat.postMessage: scripted but never used: Failure{Error: "is_archived", Channel: "C2"}`,
		`slacktest: chat.update: scripted but never used: Failure{Status: 503} ×2`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("the test was failed with\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestStartPassesATestThatUsedItsScript(t *testing.T) {
	ft := &doubles.EndedT{}
	s := Start(ft, "xapp-1", "xoxb-1")
	s.Fail("chat.postMessage", Failure{Error: "not_in_channel"})
	if out := post(t, s, "chat.postMessage", url.Values{"channel": {"C1"}, "text": {"hi"}}); out["error"] != "not_in_channel" {
		t.Fatalf("answer = %v", out)
	}
	if got := ft.End(); len(got) != 0 {
		t.Errorf("the test was failed with %q", got)
	}
}

func TestStartFailsTheTestForAcksSlackWouldNotTake(t *testing.T) {
	ft := &doubles.EndedT{}
	s := Start(ft, "xapp-1", "xoxb-1")
	s.mu.Lock()
	s.rec.acks = append(s.rec.acks, Ack{EnvelopeID: "env-late", Late: true}, Ack{EnvelopeID: "env-bad", Err: "invalid_arguments"}, Ack{EnvelopeID: "env-fine"})
	s.mu.Unlock()
	got := ft.End()
	want := []string{
		"slacktest: envelope env-late was acknowledged after Slack's 3 s",
		"slacktest: envelope env-bad was acknowledged with what Slack would refuse: invalid_arguments",
	}
	if !slices.Equal(got, want) {
		t.Errorf("the test was failed with %q, want %q", got, want)
	}
}
