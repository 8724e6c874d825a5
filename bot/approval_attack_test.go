package bot

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sessionbot/sessionbot/bot/policy"
)

// staleJournal is a memJournal whose Since gives what a sweep read a while
// ago: the entries as they were then, whatever was written since.
type staleJournal struct {
	*memJournal
	then []Entry
}

func (j *staleJournal) Since(context.Context, time.Time) ([]Entry, error) { return j.then, nil }

// A sweep closes "a request whose approval click was claimed by a process
// that stopped" (expireApproval) from the entry as its read of the journal
// found it. A sweep that read the journal, then spent longer than
// COMMAND_TIMEOUT and 10 s on the entries before this one (each close may
// take markTimeout, 15 s, under a slow Slack), reaches an entry whose
// approver's click has since written "started", reset the sessions, and
// recorded "reset". It must not write "expired: nothing was reset" over
// that.
func TestASweepDoesNotExpireAnApprovalFromAStaleRead(t *testing.T) {
	asked := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	timeout := 2 * time.Minute
	waiting := Entry{
		Ref: "1.000000", RequestID: "req1", State: StateApproval, Source: SourceSlack, User: "U0ASKER", Channel: "C1",
		Thread: slackTS(asked), Announced: asked, Started: asked, Expires: asked.Add(30 * time.Minute),
		Targets: []Target{{Hash: hashA}}, Approvers: [][]string{{"U0APPROVER"}},
	}
	approved := waiting // what the click recorded, after the sweep's read
	approved.State, approved.Decider, approved.Decided, approved.Trail = StateReset, "U0APPROVER", asked.Add(29*time.Minute), TrailDone
	j := &staleJournal{memJournal: newMemJournal(approved), then: []Entry{waiting}}
	j.marks[waiting.Ref+markDecided] = true // the click's claim

	now := waiting.Expires.Add(timeout + orphanMargin + time.Second)
	c := &recChat{}
	b := New(Config{Journal: j, CommandTimeout: timeout, Now: func() time.Time { return now }},
		NewAuthorizer(policy.Everything([]string{"U0ASKER"}, nil, nil), nil, nil), nopIPRoyal{}, c)
	b.Sweep(context.Background())

	if got := j.entries[waiting.Ref]; got.State != StateReset {
		t.Errorf("the entry of a request approved and reset is now %q (reason %q)", got.State, got.Reason)
	}
	for _, said := range append(append([]string{}, c.replies...), c.updates...) {
		if strings.Contains(said, "nothing was reset") {
			t.Errorf("the channel was told %q, after a reset", said)
		}
	}
}
