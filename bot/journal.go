package bot

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// A journal keeps one entry per request where it outlives sessionbot's
// processes: the Slack adapter keeps it in AUDIT_CHANNEL, as message
// metadata on each request's audit message, so any replica, or the same one
// after a restart, can read what was decided and finish what a crash left
// open (sweep.go).

// State is where a journalled request stands.
type State string

// The states of a journal entry. Awaiting (a confirmation or an
// approval), announcing and started are open; the others are final.
const (
	StateAwaiting   State = "awaiting_confirmation" // asked the requester to confirm
	StateApproval   State = "awaiting_approval"     // announced, waiting for an approver's click
	StateAnnouncing State = "announcing"            // journalled; maybe announced; the reset not sent
	StateStarted    State = "started"               // announced; the reset may have been sent
	StateReset      State = "reset"
	StateFailed     State = "failed"
	StateUnknown    State = "unknown" // sessionbot stopped while the reset was in flight
	StateCancelled  State = "cancelled"
	StateExpired    State = "expired"
	StateRefused    State = "refused"   // accepted, then refused: the bot cannot post in the channel, or the requester is no longer allowed
	StateDenied     State = "denied"    // an approver clicked Deny
	StateWithdrawn  State = "withdrawn" // its requester clicked Deny while it waited for approval
)

// Open reports whether the request may still change.
func (s State) Open() bool {
	return s == StateAwaiting || s == StateApproval || s == StateAnnouncing || s == StateStarted
}

// Trail says whether a final entry's outcome is shown in its channel yet.
type Trail string

// The trail of a final entry. An entry without one (written before there
// were trails) counts as done.
const (
	TrailPending Trail = "pending" // recorded; the thread, the reaction and the announcement to come
	TrailDone    Trail = "done"
)

// Sources of a request.
const (
	SourceSlack = "slack"
	SourceCLI   = "cli"
)

// Entry is what the journal keeps of one request.
type Entry struct {
	Ref       string // where the entry is (Slack: its audit message's ts); set by the journal
	RequestID string
	State     State
	Source    string // SourceSlack or SourceCLI
	User      string // the requester's Slack ID; for the CLI, who ran it
	Channel   string // where it was asked; empty for the CLI
	Thread    string // the announcement's ts: what is updated and reacted to
	Root      string // when the announcement is itself in a thread, that thread's first message
	Targets   []Target
	Started   time.Time     // when the request was accepted
	Announced time.Time     // when the announcement was posted, by the chat's clock; zero without one
	Expires   time.Time     // awaiting: the end of the confirmation, or of the wait for approval
	Took      time.Duration // the reset's own time, as the thread says it
	Reason    string        // failures and refusals, in words
	Trail     Trail         // a final entry: whether its channel shows it yet
	Grants    []string      // the policy's grants the targets were attributed to
	// Approval, for a request that needed it: who may approve (for each
	// grant that asks, user and user group IDs: an approver must be one of
	// each), why in words, and who decided (approved, denied, withdrew)
	// and when.
	Approvers [][]string
	Why       string
	Decider   string
	Decided   time.Time
}

// ErrNotFound says a journal entry does not exist (any more).
var ErrNotFound = errors.New("journal entry not found")

// replyTS is the thread the outcome goes into: the announcement's own, or
// the one it was posted in.
func (e Entry) replyTS() string {
	if e.Root != "" {
		return e.Root
	}
	return e.Thread
}

// approved reports whether e is a request an approver let run.
func (e Entry) approved() bool {
	switch e.State {
	case StateApproval, StateDenied, StateWithdrawn, StateExpired, StateRefused:
		return false
	}
	return e.Decider != ""
}

// clock is how a moment is written in the channel: Slack's own clock.
func clock(t time.Time) string { return t.UTC().Format(sayAuditClock) }

// auditMessage is what the audit channel shows of a journal entry: one
// message per request, updated as it goes. link is the announcement's.
func auditMessage(e Entry, link string) Message {
	who := fmt.Sprintf(sayAuditWho, e.User)
	if e.Source == SourceCLI {
		who = fmt.Sprintf(sayAuditWhoCLI, escape(e.User))
	}
	where := ""
	if e.Channel != "" {
		where = fmt.Sprintf(sayAuditWhere, e.Channel)
	}
	n := residentialUsers(len(e.Targets))
	var head string
	switch e.State {
	case StateAwaiting:
		head = fmt.Sprintf(sayAuditAwaiting, who, n, where, clock(e.Expires))
	case StateApproval:
		head = fmt.Sprintf(sayAuditAwaitingOK, who, n, where, approversText(e.Approvers), clock(e.Expires))
	case StateAnnouncing, StateStarted:
		head = fmt.Sprintf(sayAuditStarted, who, n, where)
	case StateReset:
		head = fmt.Sprintf(sayAuditReset, who, n, where, formatDuration(e.Took))
	case StateFailed:
		head = fmt.Sprintf(sayAuditFailed, who, n, where, strings.TrimSuffix(e.Reason, "."))
	case StateUnknown:
		head = fmt.Sprintf(sayAuditUnknown, who, n, where, e.Reason)
	case StateCancelled:
		head = fmt.Sprintf(sayAuditCancelled, who, n, where)
	case StateExpired:
		head = fmt.Sprintf(sayAuditExpired, who, n, where)
		if len(e.Approvers) > 0 {
			head = fmt.Sprintf(sayAuditTimedOut, who, n, where)
		}
	case StateRefused:
		head = fmt.Sprintf(sayAuditRefused, who, n, where, e.Reason)
		if len(e.Approvers) > 0 {
			head = fmt.Sprintf(sayAuditRefusedAt, who, n, where, e.Reason)
		}
	case StateDenied:
		head = fmt.Sprintf(sayAuditDeniedBy, who, n, where, e.Decider, clock(e.Decided))
	case StateWithdrawn:
		head = fmt.Sprintf(sayAuditWithdrawn, who, n, where)
	}
	if e.approved() {
		head += fmt.Sprintf(sayAuditApproved, e.Decider, clock(e.Decided))
	}
	rest, footer := "", requestContext(e.RequestID)
	if e.Thread != "" {
		rest = sayListInAnnounced
	}
	if link != "" {
		footer += fmt.Sprintf(sayAuditLink, link)
	}
	if e.Source == SourceCLI {
		footer += sayAuditFromCLI
	}
	if len(e.Grants) > 0 {
		footer += fmt.Sprintf(sayAuditGrants, escape(strings.Join(e.Grants, ", ")))
	}
	return message(head+"\n"+targetList(e.Targets, rest), footer)
}
