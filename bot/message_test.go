package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/sessionbot/sessionbot/bot/policy"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sessionbot/sessionbot/iproyal"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestGoldenMessages pins every kind of message the bot says, as the core
// hands it to a transport (bot/slack pins the Block Kit it becomes). Run
// with -update after a deliberate change, and review the diff.
func TestGoldenMessages(t *testing.T) {
	targets := []Target{{Hash: "01H7YCG0R9GYY1YCPS2S4QA6WB"}, {Hash: "01HQ5K3P97DY8EX9Y90YT1K6XA", Username: "scraper-eu"}}
	allowed := policy.Everything([]string{"U0ALICE"}, []string{"S0OPS"}, []string{"C0OPS"})
	started := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	entry := func(state State, reason string) Entry {
		return Entry{Ref: "1764158400.000002", RequestID: "a1b2c3d4", State: state, Source: SourceSlack, User: "U0ALICE",
			Channel: "C0GENERAL", Thread: "1764158400.000001", Targets: targets, Started: started,
			Expires: started.Add(5 * time.Minute), Took: 412 * time.Millisecond, Reason: reason}
	}
	cli := entry(StateReset, "")
	cli.Source, cli.User, cli.Channel, cli.Thread = SourceCLI, "ops@bastion", "", ""
	link := func(e Entry) string {
		if e.Channel == "" || e.Thread == "" {
			return ""
		}
		return linkChat{}.Link(e.Channel, e.Thread)
	}
	audit := func(e Entry) Message { return auditMessage(e, link(e)) }
	found := []iproyal.Subuser{
		{Hash: "01HQ5K3P97DY8EX9Y90YT1K6XA", Username: "scraper-eu", TrafficUsed: 0.12, TrafficAvailable: 4.88},
		{Hash: "01HQ5K3P97DY8EX9Y90YT1K6XC", Username: "scraper-eu-old", TrafficAvailable: 0.25},
		{Hash: "01HQ5K3P97DY8EX9Y90YT1K6XD", Username: "scraper-us", TrafficUsed: 12.5, TrafficAvailable: 100},
	}
	longError := &iproyal.APIError{StatusCode: 503, Message: strings.Repeat("déjà vu <b>&amp; ", 40)}
	tests := map[string]Message{
		"help":                  HelpMessage("/reset-sessions", "/reset-sessions", true, 100, 10, false),
		"help_mention":          HelpMessage("@sessionbot reset", "/reset-sessions", true, 100, 0, false),
		"help_approval":         HelpMessage("/reset-sessions", "/reset-sessions", true, 100, 10, true),
		"denied_user":           deniedMessage(DeniedUser, allowed),
		"denied_channel":        deniedMessage(DeniedChannel, allowed),
		"denied_group_lookup":   deniedMessage(DeniedGroupLookup, allowed),
		"bad_targets":           badTargetsMessage([]BadTarget{{Input: "&lt;!channel&gt;", Reason: "not a hash"}, {Input: "ghost", Reason: "no such sub-user"}}),
		"too_many":              tooManyMessage(101, 100),
		"lookup_failed":         lookupFailedMessage("a1b2c3d4", &iproyal.APIError{StatusCode: 503, Message: "down"}),
		"lookup_stopped":        lookupFailedMessage("a1b2c3d4", fmt.Errorf("%w: %w", ErrStopping, context.Canceled)),
		"cannot_post":           announceFailedMessage("a1b2c3d4", &ChannelError{Problem: ChannelNotMember}),
		"slack_rate_limited":    announceFailedMessage("a1b2c3d4", &RateLimitedError{Err: errors.New("429")}),
		"stopped_before_posted": announceFailedMessage("a1b2c3d4", ErrStopping),
		"busy":                  BusyMessage(),
		"announcement":          AnnouncementMessage("a1b2c3d4", "U0ALICE", targets),
		"announcement_long":     AnnouncementMessage("a1b2c3d4", "U0ALICE", longTargets(100)),
		"thread_list":           targetListReplies("a1b2c3d4", longTargets(100))[1],
		"final_reset":           finalAnnouncement(entry(StateReset, "")),
		"final_failed":          finalAnnouncement(entry(StateFailed, "IPRoyal refused sessionbot's API token (`401 Unauthorized`: Unauthenticated.).")),
		"final_unknown":         finalAnnouncement(entry(StateUnknown, "sessionbot stopped while the reset was in flight")),
		"success":               successMessage("a1b2c3d4", 2, 143*time.Millisecond),
		"failure_401":           failureMessage("a1b2c3d4", "U0ALICE", &iproyal.APIError{StatusCode: 401, Message: "Unauthenticated."}),
		"failure_timeout":       failureMessage("a1b2c3d4", "U0ALICE", fmt.Errorf("iproyal: DELETE /sessions: %w", context.DeadlineExceeded)),
		"failure_long_error":    failureMessage("a1b2c3d4", "U0ALICE", longError),
		"interrupted":           interruptedMessage("a1b2c3d4", "U0ALICE"),
		"orphan":                orphanMessage("a1b2c3d4", "U0ALICE"),
		"not_run":               notRunMessage("a1b2c3d4", "U0ALICE", notRunReason(true)),
		"dry_run":               dryRunMessage("a1b2c3d4", 2),
		"audit_denied":          auditDeniedMessage("U0BOB", "C0GENERAL", deniedReason(DeniedUser, policy.Everything([]string{"U0ALICE"}, nil, nil)), 1),
		"audit_denied_counted":  auditDeniedMessage("U0BOB", "C0GENERAL", deniedReason(DeniedUser, policy.Everything([]string{"U0ALICE"}, nil, nil)), 12),
		"audit_awaiting":        audit(entry(StateAwaiting, "")),
		"audit_started":         audit(entry(StateStarted, "")),
		"audit_reset":           audit(entry(StateReset, "")),
		"audit_failed":          audit(entry(StateFailed, "IPRoyal had a server error (`503 Service Unavailable`).")),
		"audit_unknown":         audit(entry(StateUnknown, "sessionbot stopped while the reset was in flight")),
		"audit_cancelled":       audit(entry(StateCancelled, "")),
		"audit_expired":         audit(entry(StateExpired, "")),
		"audit_refused":         audit(entry(StateRefused, cannotPostReason(ChannelNotMember))),
		"audit_cli":             audit(cli),
		"dry_run_preview":       dryRunPreviewMessage("a1b2c3d4", targets),
		"status":                statusMessage(iproyal.Account{AvailableTraffic: 32.6, SubusersCount: 13}),
		"status_failed":         statusFailedMessage("a1b2c3d4", &iproyal.APIError{StatusCode: 401, Message: "Unauthenticated."}),
		"rate_limited":          rateLimitedMessage(10, 4200*time.Millisecond),
		"confirmation":          confirmationMessage("a1b2c3d4", targets, 5*time.Minute, goldenToken(t, targets)),
		"confirmed":             confirmedMessage("a1b2c3d4", 2),
		"cancelled":             cancelledMessage("a1b2c3d4", 2, true, "C0GENERAL"),
		"cancelled_unjournaled": cancelledMessage("a1b2c3d4", 2, false, "C0GENERAL"),
		"expired":               expiredMessage("a1b2c3d4", 5*time.Minute, true),
		"expired_unjournaled":   expiredMessage("a1b2c3d4", 5*time.Minute, false),
		"cancel_after_confirm":  decidedHereMessage("a1b2c3d4", true, "C0GENERAL", len(targets)),
		"confirm_after_cancel":  decidedHereMessage("a1b2c3d4", false, "C0GENERAL", len(targets)),
		"decided_elsewhere":     decidedElsewhereMessage("a1b2c3d4", entry(StateReset, ""), nil, "https://sessionbot-tests.slack.com/archives/C0GENERAL/p1764158400000001"),
		"cancelled_elsewhere":   decidedElsewhereMessage("a1b2c3d4", entry(StateCancelled, ""), nil, ""),
		"click_not_recorded":    clickNotRecordedMessage("a1b2c3d4"),
		"find":                  findMessage("/reset-sessions", "scraper", found, 23),
		"find_one":              findMessage("/reset-sessions", "scraper-eu", found[:1], 1),
		"find_none":             findMessage("/reset-sessions", "<!here>", nil, 0),
		"find_failed":           findFailedMessage("a1b2c3d4", &iproyal.APIError{StatusCode: 401, Message: "Unauthenticated."}),
		"find_usage":            findUsageMessage("/reset-sessions"),
		"keyword_alone":         keywordAloneMessage("/reset-sessions", "status", 1),
		"bad_targets_forgiving": badTargetsMessage([]BadTarget{
			{Input: "01H7YCG0R9GYY1YCPS2S4QA6W", Reason: mistypedHash("01H7YCG0R9GYY1YCPS2S4QA6W")},
			{Input: "scraper-e", Reason: "not a hash, and no sub-user has this username" + didYouMean([]string{"scraper-eu", "scraper-eu-old"})},
		}),
	}
	// Two-person approval: a request waiting, and each way it ends.
	approvers := [][]string{{"U0AAA", "S0BBB"}}
	waitingEntry := func(state State, reason string) Entry {
		e := entry(state, reason)
		e.Approvers, e.Why, e.Expires = approvers, "12 targets under *sre*, more than 10", started.Add(30*time.Minute)
		return e
	}
	decided := func(state State, reason string) Entry {
		e := waitingEntry(state, reason)
		e.Decider, e.Decided = "U0AAA", started.Add(2*time.Minute)
		return e
	}
	withdrawn := decided(StateWithdrawn, "")
	withdrawn.Decider = "U0ALICE"
	refusedAt := decided(StateRefused, fmt.Sprintf(sayRequesterGone, "U0ALICE"))
	for name, m := range map[string]Message{
		"approval_waiting":           waitingMessage(waitingEntry(StateApproval, ""), 30*time.Minute, goldenToken(t, targets)),
		"approval_waiting_private":   waitingPrivately("a1b2c3d4", approvers, started.Add(30*time.Minute)),
		"approval_approved":          approvedAnnouncement(decided(StateStarted, "")),
		"approval_approved_private":  approvedPrivately("a1b2c3d4", "U0ALICE", 2),
		"approval_final_reset":       finalAnnouncement(decided(StateReset, "")),
		"approval_denied":            finalAnnouncement(decided(StateDenied, "")),
		"approval_denied_reply":      closedReply(decided(StateDenied, "")),
		"approval_denied_private":    deniedPrivately("a1b2c3d4", "U0ALICE"),
		"approval_withdrawn":         finalAnnouncement(withdrawn),
		"approval_withdrawn_private": withdrawnPrivately("a1b2c3d4"),
		"approval_expired":           finalAnnouncement(waitingEntry(StateExpired, "")),
		"approval_expired_reply":     closedReply(waitingEntry(StateExpired, "")),
		"approval_expired_private":   expiredPrivately("a1b2c3d4", started.Add(30*time.Minute)),
		"approval_refused":           finalAnnouncement(refusedAt),
		"approval_refused_reply":     closedReply(refusedAt),
		"approval_refused_private":   refusedAtClickMessage("a1b2c3d4", refusedAt.Reason),
		"approval_not_yours":         notApproverMessage("a1b2c3d4", approvers),
		"approval_self":              selfApprovalMessage("a1b2c3d4", approvers),
		"approval_approvers_unknown": approversUnknownMessage("a1b2c3d4"),
		"approval_tried":             triedMessage("a1b2c3d4", "U0BOB", ButtonApprove, started.Add(time.Minute), sayTriedNotOne),
		"approval_already_approved":  alreadyDecidedMessage("a1b2c3d4", decided(StateReset, "")),
		"approval_already_denied":    alreadyDecidedMessage("a1b2c3d4", decided(StateDenied, "")),
		"approval_already_expired":   alreadyDecidedMessage("a1b2c3d4", waitingEntry(StateExpired, "")),
		"approval_audit_waiting":     audit(waitingEntry(StateApproval, "")),
		"approval_audit_reset":       audit(decided(StateReset, "")),
		"approval_audit_denied":      audit(decided(StateDenied, "")),
		"approval_audit_withdrawn":   audit(withdrawn),
		"approval_audit_expired":     audit(waitingEntry(StateExpired, "")),
		"approval_audit_refused":     audit(refusedAt),
		"approval_dry_run":           {Text: dryRunPreviewMessage("a1b2c3d4", targets).Text + dryRunApproval(&approval{approvers: approvers, why: "`scraper-eu` under *ops* needs it"})},
	} {
		tests[name] = m
	}
	for name, m := range tests {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false) // keep <@U...> readable in the files
			enc.SetIndent("", "  ")
			if err := enc.Encode(m); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			path := filepath.Join("testdata", name+".golden.json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./bot -run TestGoldenMessages -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s:\n%s", name, path, got)
			}
		})
	}
}

// linkChat is a Chat whose messages have links, for the audit messages.
type linkChat struct{ nopChat }

func (linkChat) Link(channel, ts string) string {
	return "https://sessionbot-tests.slack.com/archives/" + channel + "/p" + strings.ReplaceAll(ts, ".", "")
}

// longTargets are n targets with 64-character usernames: far more than one
// message holds.
func longTargets(n int) []Target {
	ts := make([]Target, n)
	for i := range ts {
		ts[i] = Target{Hash: fmt.Sprintf("01H7YCG0R9GYY1YCPS2S4Q%04d", i), Username: fmt.Sprintf("%03d-%s", i, strings.Repeat("u", 60))}
	}
	return ts
}

// goldenToken is a confirmation token made with a fixed key and expiry.
func goldenToken(t *testing.T, targets []Target) string {
	tok, err := sealToken([]byte("golden-key"), pending{ID: "a1b2c3d4", User: "U0ALICE", Channel: "C0GENERAL", Targets: targets,
		Expires: time.Date(2026, 11, 26, 12, 5, 0, 0, time.UTC)}, MaxTokenLen)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestShowInput(t *testing.T) {
	tests := map[string]string{
		"plain":                 "`plain`",
		"<!channel>":            "`&lt;!channel&gt;`",
		"&lt;!here&gt;":         "`&lt;!here&gt;`",
		"<@U123|bob>":           "`&lt;@U123|bob&gt;`",
		"a&amp;b":               "`a&amp;b`",
		"back`tick":             "`back'tick`",
		strings.Repeat("x", 70): "`" + strings.Repeat("x", 60) + "…`",
		"abc\u202edef":          "`abc[U+202E]def`", // an RLO would reverse the rest of the line
		"scraper\u200b-eu":      "`scraper[U+200B]-eu`",
	}
	for in, want := range tests {
		if got := showInput(in); got != want {
			t.Errorf("showInput(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPlainText(t *testing.T) {
	for in, want := range map[string]string{
		"<@U0ALICE> in <#C0OPS>":            "@U0ALICE in #C0OPS",
		"a member of <!subteam^S0OPS>":      "a member of @S0OPS",
		"*bold* `code` &lt;b&gt; &amp;":     "bold code <b> &",
		"the channel <#C0OPS>, and <@U0B>.": "the channel #C0OPS, and @U0B.",
	} {
		if got := PlainText(in); got != want {
			t.Errorf("PlainText(%q) = %q, want %q", in, got, want)
		}
	}
}

// A target with an invisible character says so, where it is, and the
// character is shown.
func TestInvisibleCharactersInTargets(t *testing.T) {
	_, bad, err := ResolveTargets(context.Background(), nil, []string{hashA[:5] + "\u200b" + hashA[5:], "scraper\u202e-eu"})
	if err != nil || len(bad) != 2 {
		t.Fatalf("bad = %+v, %v", bad, err)
	}
	m := badTargetsMessage(bad)
	for _, want := range []string{"[U+200B], at position 6", "[U+202E], at position 8", "`01H7Y[U+200B]CG0R9GYY1YCPS2S4QA6WB`"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("%q lacks %q", m.Text, want)
		}
	}
	if strings.ContainsRune(m.Text, '\u202e') || strings.ContainsRune(m.Text, '\u200b') {
		t.Errorf("the message carries the invisible characters themselves: %q", m.Text)
	}
}

// A hundred bad targets: the message says how many, and lists every one
// that fits Slack, sharing a line per reason.
func TestLongBadTargetListsShowAsManyAsFit(t *testing.T) {
	var bad []BadTarget
	for i := range 100 {
		bad = append(bad, BadTarget{Input: fmt.Sprintf("nosuch-%02d-%s", i, strings.Repeat("x", 40)), Reason: sayUnknownUsername})
	}
	m := badTargetsMessage(bad)
	if !strings.Contains(m.Text, "100 targets are not valid") {
		t.Errorf("the count is missing: %.200q", m.Text)
	}
	listed := strings.Count(m.Text, "nosuch-")
	if listed < 100 && !strings.Contains(m.Text, fmt.Sprintf("…and %d more.", 100-listed)) {
		t.Errorf("%d listed, and the rest not counted", listed)
	}
	if listed < 90 {
		t.Errorf("only %d of 100 bad targets listed in %d characters", listed, len([]rune(m.Text)))
	}
	if n := len([]rune(m.Text)); n > MaxText {
		t.Errorf("%d characters, over MaxText", n)
	}
}
