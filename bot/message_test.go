package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
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
	policy := Policy{Users: []string{"U0ALICE"}, Groups: []string{"S0OPS"}, Channels: []string{"C0OPS"}}
	tests := map[string]Message{
		"help":                HelpMessage("/reset-sessions", 100, 10),
		"denied_user":         deniedMessage(DeniedUser, policy),
		"denied_channel":      deniedMessage(DeniedChannel, policy),
		"denied_group_lookup": deniedMessage(DeniedGroupLookup, policy),
		"bad_targets":         badTargetsMessage([]BadTarget{{Input: "&lt;!channel&gt;", Reason: "not a hash"}, {Input: "ghost", Reason: "no such sub-user"}}),
		"too_many":            tooManyMessage(101, 100),
		"lookup_failed":       lookupFailedMessage("a1b2c3d4", &iproyal.APIError{StatusCode: 503, Message: "down"}),
		"cannot_post":         cannotPostMessage("not_in_channel"),
		"slack_rate_limited":  slackFailedMessage(&RateLimitedError{Err: errors.New("429")}),
		"busy":                BusyMessage(),
		"announcement":        AnnouncementMessage("a1b2c3d4", "U0ALICE", targets),
		"success":             successMessage("a1b2c3d4", 2, 143*time.Millisecond),
		"failure_401":         failureMessage("a1b2c3d4", "U0ALICE", &iproyal.APIError{StatusCode: 401, Message: "Unauthenticated."}),
		"failure_timeout":     failureMessage("a1b2c3d4", "U0ALICE", fmt.Errorf("iproyal: DELETE /sessions: %w", context.DeadlineExceeded)),
		"dry_run":             dryRunMessage("a1b2c3d4", 2),
		"audit_denied":        auditDeniedMessage("a1b2c3d4", "U0BOB", "C0GENERAL", DeniedUser),
		"audit_outcome":       auditOutcomeMessage("a1b2c3d4", "U0ALICE", "C0GENERAL", "reset", 150*time.Millisecond),
		"dry_run_preview":     dryRunPreviewMessage("a1b2c3d4", targets),
		"status":              statusMessage(iproyal.Account{AvailableTraffic: 32.6, SubusersCount: 13}),
		"status_failed":       statusFailedMessage("a1b2c3d4", &iproyal.APIError{StatusCode: 401, Message: "Unauthenticated."}),
		"rate_limited":        rateLimitedMessage(10, 4200*time.Millisecond),
		"confirmation":        confirmationMessage("a1b2c3d4", targets, 5*time.Minute, goldenToken(t, targets)),
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

// goldenToken is a confirmation token made with a fixed key and expiry.
func goldenToken(t *testing.T, targets []Target) string {
	tok, err := sealToken([]byte("golden-key"), pending{ID: "a1b2c3d4", User: "U0ALICE", Channel: "C0GENERAL", Targets: targets,
		Expires: time.Date(2026, 11, 26, 12, 5, 0, 0, time.UTC)})
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
	}
	for in, want := range tests {
		if got := showInput(in); got != want {
			t.Errorf("showInput(%q) = %q, want %q", in, got, want)
		}
	}
}
