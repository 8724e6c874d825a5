package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/sessionbot/sessionbot/bot"
	"github.com/sessionbot/sessionbot/bot/policy"
	"github.com/sessionbot/sessionbot/iproyal"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestGoldenBlocks pins the Block Kit the adapter makes of each shape of
// core message: a body, a footer, a body too long for one section, and a
// confirmation with its buttons. Run with -update after a deliberate
// change, and review the diff.
func TestGoldenBlocks(t *testing.T) {
	long := strings.Repeat("• `01H7YCG0R9GYY1YCPS2S4QA6WB` (sub-user `scraper-eu`)\n", 60)
	tests := map[string]bot.Message{
		"body_and_footer": {Text: ":white_check_mark: Reset the sessions of 2 residential users in 143 ms.", Footer: "request `a1b2c3d4`"},
		"long_body":       {Text: strings.TrimSuffix(long, "\n"), Footer: "request `a1b2c3d4`"},
		"confirmation":    {Text: ":question: This resets the sessions of *12 residential users*.", Footer: "request `a1b2c3d4`", Confirm: "SIGNED-TOKEN"},
		"approval":        {Text: ":raised_hand: <@U0ALICE> asks to reset the sessions of 12 residential users: *waiting for approval*.", Footer: "request `a1b2c3d4`", Approve: "SIGNED-TOKEN"},
	}
	for name, m := range tests {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false) // keep <@U...> readable in the files
			enc.SetIndent("", "  ")
			if err := enc.Encode(map[string]any{"text": fallbackText(m), "blocks": blocks(m)}); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			path := filepath.Join("testdata", name+".golden.json")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./bot/slack -run TestGoldenBlocks -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s:\n%s", name, path, got)
			}
		})
	}
}

func TestLongTextIsSplitIntoSections(t *testing.T) {
	text := strings.TrimSuffix(strings.Repeat("• `01H7YCG0R9GYY1YCPS2S4QA6WB` (sub-user `"+strings.Repeat("u", 60)+"`)\n", 100), "\n")
	bs := blocks(bot.Message{Text: text})
	if len(bs) < 3 {
		t.Fatalf("%d blocks for 100 long targets", len(bs))
	}
	var joined []string
	for _, b := range bs {
		s, ok := b.(*slack.SectionBlock)
		if !ok {
			continue
		}
		if n := utf8.RuneCountInString(s.Text.Text); n > 3000 {
			t.Errorf("a section holds %d characters, over Slack's 3,000", n)
		}
		joined = append(joined, s.Text.Text)
	}
	if strings.Join(joined, "\n") != text {
		t.Error("the sections do not add up to the text")
	}
}

func TestTokenFitsAButton(t *testing.T) {
	if tokenCapacity < bot.MaxTokenLen {
		t.Fatalf("a button carries %d characters of token, the core makes up to %d", tokenCapacity, bot.MaxTokenLen)
	}
	tok := strings.Repeat("x", bot.MaxTokenLen)
	value, blockID, rest := splitToken(tok)
	confirmID := confirmPrefix + rest
	for _, b := range []struct {
		prefix string
		yes    bool
	}{{confirmPrefix, true}, {cancelPrefix, false}, {approvePrefix, true}, {denyPrefix, false}} {
		action := b.prefix + rest
		if len(value) > maxValueLen || len(blockID) > maxIDLen || len(action) > maxIDLen {
			t.Fatalf("over Slack's limits: value %d, block_id %d, action_id %d", len(value), len(blockID), len(action))
		}
		joined, yes := joinToken(value, blockID, action)
		if joined != tok || yes != b.yes {
			t.Fatalf("joinToken(%s) = yes %v, token of %d", b.prefix, yes, len(joined))
		}
	}
	if tok, _ := joinToken(value, "other-block", confirmID); tok != "" {
		t.Error("a click on another block gave a token")
	}
	if tok, _ := joinToken(value, blockID, "other-action"); tok != "" {
		t.Error("a click on another button gave a token")
	}
}

// TestGoldenViews pins every modal and home tab the adapter makes, and
// the options a picker gets. Run with -update after a deliberate change.
func TestGoldenViews(t *testing.T) {
	var many []string
	for i := range 12 {
		many = append(many, fmt.Sprintf("01H7YCG0R9GYY1YCPS2S4Q%04d", i))
	}
	two := []string{"01H7YCG0R9GYY1YCPS2S4QA6WB", "01HQ5K3P97DY8EX9Y90YT1K6XC"}
	home := func(p *policy.Policy, me func() (iproyal.Account, error)) bot.Home {
		core := bot.New(bot.Config{ConfirmAbove: 10}, bot.NewAuthorizer(p, nil, nil), accountIPRoyal(me), nil)
		return core.Home(context.Background(), "U0ALICE")
	}
	alice := policy.Everything([]string{"U0ALICE"}, nil, nil)
	allowed := home(alice, func() (iproyal.Account, error) {
		return iproyal.Account{AvailableTraffic: 32.6, SubusersCount: 13}, nil
	})
	problem := home(policy.Everything([]string{"U0ALICE"}, nil, []string{"C0OPS"}), func() (iproyal.Account, error) {
		return iproyal.Account{}, context.DeadlineExceeded
	})
	refused := home(policy.Everything([]string{"U0BOB"}, nil, nil), nil)
	core := bot.New(bot.Config{ConfirmAbove: 1, NewID: func() string { return "a1b2c3d4" }}, bot.NewAuthorizer(alice, nil, nil), nil, nil)
	form := bot.Request{Via: bot.ViaShortcut, User: "U0ALICE", Channel: "C0GENERAL", Thread: "1764158400.000001", Targets: two,
		Names: map[string]string{two[1]: "scraper-eu"}, ReplyTo: "https://hooks.slack.com/actions/T0/1/x"}
	res := core.Handle(context.Background(), form)
	if !res.Confirm {
		t.Fatalf("Handle = %+v, want a confirmation", res)
	}
	tests := map[string]any{
		"view_confirm":           confirmModal(form, res),
		"view_shortcut_two":      shortcutModal(two, formMeta{Channel: "C0GENERAL", Thread: "1764158400.000001"}),
		"view_shortcut_none":     shortcutModal(nil, formMeta{Channel: "C0GENERAL", Thread: "1764158400.000001"}),
		"view_shortcut_twelve":   shortcutModal(many, formMeta{Channel: "C0GENERAL", Thread: "1764158400.000001"}),
		"view_picker":            pickerModal(formMeta{Channel: "C0GENERAL"}),
		"view_picker_no_channel": pickerModal(formMeta{}),
		"view_home_allowed":      homeView(allowed),
		"view_home_problem":      homeView(problem),
		"view_home_refused":      homeView(refused),
		"options":                options([]bot.Option{{Label: "scraper-eu", Value: "01HQ5K3P97DY8EX9Y90YT1K6XA"}}, ""),
		"options_problem":        options(nil, "IPRoyal did not answer in time. Type again to retry."),
	}
	for name, v := range tests {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(v); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", name+".golden.json")
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./bot/slack -run TestGoldenViews -update)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%s differs from %s:\n%s", name, path, buf.Bytes())
			}
		})
	}
}

// An alert's hashes may sit in its text, its blocks or its attachments
// (monitoring tools use all three): the shortcut finds each once, in the
// order they appear.
func TestShortcutFindsHashesAnywhereInAMessage(t *testing.T) {
	const payload = `{
		"type": "message", "user": "U0ALERTS", "ts": "1764158400.000001",
		"text": "blocked: 01HQ5K3P97DY8EX9Y90YT1K6XA",
		"blocks": [{"type": "rich_text", "block_id": "b1", "elements": [{"type": "rich_text_section", "elements": [
			{"type": "text", "text": "blocked: "}, {"type": "text", "text": "01HQ5K3P97DY8EX9Y90YT1K6XA", "style": {"code": true}}]}]},
			{"type": "section", "text": {"type": "mrkdwn", "text": "also 01hq5k3p97dy8ex9y90yt1k6xc"},
			 "fields": [{"type": "mrkdwn", "text": "*user* 01HQ5K3P97DY8EX9Y90YT1K6XD"}]}],
		"attachments": [{"fallback": "x", "color": "danger", "title": "Grafana",
			"fields": [{"title": "residential_user_hash", "value": "01HQ5K3P97DY8EX9Y90YT1K6XE", "short": true}]}]
	}`
	var m slack.Message
	if err := json.Unmarshal([]byte(payload), &m); err != nil {
		t.Fatal(err)
	}
	want := []string{"01HQ5K3P97DY8EX9Y90YT1K6XA", "01HQ5K3P97DY8EX9Y90YT1K6XC", "01HQ5K3P97DY8EX9Y90YT1K6XD", "01HQ5K3P97DY8EX9Y90YT1K6XE"}
	for range 20 { // map order must not change the list
		if got := bot.FindHashes(messageText(m)); !slices.Equal(got, want) {
			t.Fatalf("found %v, want %v", got, want)
		}
	}
}

func TestMentionText(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"<@U0BOT> reset 01H7YCG0R9GYY1YCPS2S4QA6WB", "01H7YCG0R9GYY1YCPS2S4QA6WB", true},
		{"<@U0BOT|sessionbot>   RESET a b", "a b", true},
		{"<@U0BOT> reset\n01H7YCG0R9GYY1YCPS2S4QA6WB", "01H7YCG0R9GYY1YCPS2S4QA6WB", true},
		{"<@U0BOT> help", "help", true},
		{"<@U0BOT>", "", true},
		{"<@U0BOT> resetting", "resetting", true},
		{"thanks <@U0BOT>", "", false},             // talk, not a command
		{"<@U0ALICE> <@U0BOT> reset a", "", false}, // someone else's mention first
		{"<@U0BOTTOM> reset a", "", false},         // another user whose ID starts the same
		{"  <@U0BOT> status  ", "status", true},
	}
	for _, tc := range tests {
		got, ok := mentionText(tc.in, "U0BOT")
		if got != tc.want || ok != tc.ok {
			t.Errorf("mentionText(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// Many long non-Latin usernames must not push the options past what an
// ack can carry: what fits is offered, and the last option says how to
// see the rest.
func TestOptionsFitAnAck(t *testing.T) {
	var opts []bot.Option
	for i := range 100 {
		opts = append(opts, bot.Option{Label: strings.Repeat("дж", 40) + fmt.Sprint(i), Value: fmt.Sprintf("01H7YCG0R9GYY1YCPS2S4Q%04d", i)})
	}
	resp := options(opts, "")
	b, _ := json.Marshal(map[string]any{"envelope_id": "x", "payload": resp})
	if len(b) >= 20<<10 {
		t.Fatalf("the ack is %d bytes", len(b))
	}
	last := resp.Options[len(resp.Options)-1]
	if last.Value != noOption || !strings.Contains(last.Text.Text, "more: type more of the name") {
		t.Errorf("last option = %+v", last)
	}
}

// accountIPRoyal is an IPRoyal whose GET /me is me, for the home tab.
type accountIPRoyal func() (iproyal.Account, error)

func (f accountIPRoyal) Me(context.Context) (iproyal.Account, error) { return f() }
func (accountIPRoyal) FindSubusers(context.Context, []string) (iproyal.Lookup, error) {
	return iproyal.Lookup{}, nil
}
func (accountIPRoyal) SearchSubusers(context.Context, string, int) ([]iproyal.Subuser, int, error) {
	return nil, 0, nil
}
func (accountIPRoyal) ResetSessions(context.Context, []string) error { return nil }
func (accountIPRoyal) Subuser(context.Context, string) (iproyal.Subuser, error) {
	return iproyal.Subuser{}, iproyal.ErrNotFound
}
