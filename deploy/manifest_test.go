package deploy

import (
	"maps"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/sessionbot/sessionbot/bot"
	adapter "github.com/sessionbot/sessionbot/bot/slack"
	"github.com/sessionbot/sessionbot/bot/slack/slacktest"
	"github.com/sessionbot/sessionbot/iproyal/iproyaltest"
)

// slackManifest is the part of Slack's app manifest schema we use; decoding
// is strict, so a misspelt key fails.
type slackManifest struct {
	DisplayInformation struct {
		Name            string `json:"name"`
		Description     string `json:"description"`
		BackgroundColor string `json:"background_color"`
	} `json:"display_information"`
	Features struct {
		AppHome struct {
			HomeTabEnabled             bool `json:"home_tab_enabled"`
			MessagesTabEnabled         bool `json:"messages_tab_enabled"`
			MessagesTabReadOnlyEnabled bool `json:"messages_tab_read_only_enabled"`
		} `json:"app_home"`
		BotUser struct {
			DisplayName  string `json:"display_name"`
			AlwaysOnline bool   `json:"always_online"`
		} `json:"bot_user"`
		Shortcuts []struct {
			Name        string `json:"name"`
			Type        string `json:"type"`
			CallbackID  string `json:"callback_id"`
			Description string `json:"description"`
		} `json:"shortcuts"`
		SlashCommands []struct {
			Command      string `json:"command"`
			Description  string `json:"description"`
			UsageHint    string `json:"usage_hint"`
			ShouldEscape bool   `json:"should_escape"`
		} `json:"slash_commands"`
	} `json:"features"`
	OAuthConfig struct {
		Scopes struct {
			Bot []string `json:"bot"`
		} `json:"scopes"`
	} `json:"oauth_config"`
	Settings struct {
		EventSubscriptions struct {
			BotEvents []string `json:"bot_events"`
		} `json:"event_subscriptions"`
		Interactivity struct {
			IsEnabled bool `json:"is_enabled"`
		} `json:"interactivity"`
		OrgDeployEnabled     bool `json:"org_deploy_enabled"`
		SocketModeEnabled    bool `json:"socket_mode_enabled"`
		TokenRotationEnabled bool `json:"token_rotation_enabled"`
	} `json:"settings"`
}

func TestSlackAppManifest(t *testing.T) {
	b, err := os.ReadFile("slack-app-manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m slackManifest
	if err := yaml.UnmarshalStrict(b, &m); err != nil {
		t.Fatalf("slack-app-manifest.yaml: %v", err)
	}
	if !m.Settings.SocketModeEnabled || !m.Settings.Interactivity.IsEnabled {
		t.Error("Socket Mode and interactivity must be on")
	}
	if len(m.Features.SlashCommands) != 1 {
		t.Fatalf("%d slash commands, want 1", len(m.Features.SlashCommands))
	}
	cmd := m.Features.SlashCommands[0]
	if want := bot.New(bot.Config{}, nil, nil, nil).Command(); cmd.Command != want {
		t.Errorf("slash command %q, but the default SLASH_COMMAND is %q", cmd.Command, want)
	}
	if cmd.UsageHint == "" || !cmd.ShouldEscape {
		t.Errorf("the command needs a usage hint and should_escape: %+v", cmd)
	}
	if len(m.Features.Shortcuts) != 1 || m.Features.Shortcuts[0].Type != "message" || m.Features.Shortcuts[0].CallbackID != adapter.ShortcutCallbackID {
		t.Errorf("shortcuts = %+v, want the message shortcut %q", m.Features.Shortcuts, adapter.ShortcutCallbackID)
	}
	if !m.Features.AppHome.HomeTabEnabled {
		t.Error("the home tab must be on")
	}
	// The events the bot handles; their scope is one of adapter.FeatureScopes.
	if got := slices.Sorted(slices.Values(m.Settings.EventSubscriptions.BotEvents)); !slices.Equal(got, []string{"app_home_opened", "app_mention"}) {
		t.Errorf("bot events = %v, want app_home_opened and app_mention", got)
	}
	// The README's by-hand steps give the same usage hint.
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(strings.Fields(string(readme)), " "), "usage hint `"+cmd.UsageHint+"`") {
		t.Errorf("README.md's by-hand steps do not give the manifest's usage hint `%s`", cmd.UsageHint)
	}
	for _, scope := range adapter.Scopes() {
		if !strings.Contains(string(readme), "`"+scope+"`") {
			t.Errorf("README.md's by-hand steps do not name the scope %s", scope)
		}
	}

	// Drive the real binary through every path that calls Slack, and
	// sessionbot check through every lookup, and collect the methods called.
	_, sl, ipr := runningBot(t, map[string]string{"ALLOWED_USERGROUPS": "S0OPS", "AUDIT_CHANNEL": "C0AUDIT", "APPROVAL_ABOVE": "1", "APPROVERS": "U0APPROVER"})
	sl.SetUsergroup("S0OPS", "U0GROUPIE")
	ipr.Script("DELETE", "/sessions", iproyaltest.Response{Status: 401})
	for _, c := range []slacktest.SlashCommand{
		{UserID: "U0ALLOWED", ChannelID: "C0GENERAL", Text: "01H7YCG0R9GYY1YCPS2S4QA6WB"},
		{UserID: "U0GROUPIE", ChannelID: "C0GENERAL", Text: "01H7YCG0R9GYY1YCPS2S4QA6WB"},
		{UserID: "U0STRANGER", ChannelID: "C0GENERAL", Text: "find scraper"}, // refused in the ack
		{UserID: "U0ALLOWED", ChannelID: "C0GENERAL", Text: ""},              // the picker
	} {
		if _, err := sl.SendSlashCommand(c); err != nil {
			t.Fatal(err)
		}
	}
	alert := sl.AddMessage("C0GENERAL", "01HQ5K3P97DY8EX9Y90YT1K6XA is blocked")
	if _, err := sl.SendMention(slacktest.Mention{User: "U0STRANGER", Channel: "C0GENERAL", Text: "<@" + slacktest.BotUser + "> reset x", ThreadTS: alert.TS}); err != nil {
		t.Fatal(err)
	}
	if _, err := sl.SendShortcut(slacktest.Shortcut{User: "U0ALLOWED", Channel: "C0GENERAL", Message: alert}); err != nil {
		t.Fatal(err)
	}
	if _, err := sl.SendHomeOpened("U0ALLOWED"); err != nil {
		t.Fatal(err)
	}
	if err := sl.WaitFor(10*time.Second, func(s *slacktest.State) bool {
		// Two outcomes, and the claim on the mention.
		return len(s.Reactions()) == 3 && len(s.Updates()) >= 4 && len(s.Views()) == 3 && len(s.Ephemerals()) == 1
	}); err != nil {
		st := sl.State()
		t.Fatalf("the requests did not finish: reactions %+v, %d updates, %d views", st.Reactions(), len(st.Updates()), len(st.Views()))
	}
	// A private answer no channel takes goes by direct message, and an
	// outcome reply whose answer was lost is looked for in its thread.
	sl.Fail(slacktest.ResponseURL, slacktest.Failure{Status: 404, Error: "used_url", Sticky: true})
	sl.Fail("chat.postEphemeral", slacktest.Failure{Error: "user_not_in_channel", Sticky: true})
	sl.Fail("chat.postMessage", slacktest.Failure{Channel: "C0GENERAL", InThread: true, Lost: true})
	for _, text := range []string{"01H7YCG0R9GYY1YCPS2S4QA6WB ghost", "01H7YCG0R9GYY1YCPS2S4QA6WB"} {
		if _, err := sl.SendSlashCommand(slacktest.SlashCommand{UserID: "U0ALLOWED", ChannelID: "C0GENERAL", Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sl.WaitFor(10*time.Second, func(s *slacktest.State) bool {
		return len(s.Calls("conversations.open")) > 0 && len(s.Calls("conversations.replies")) > 0
	}); err != nil {
		t.Fatal("no direct message, or no look for the lost reply")
	}
	// A request that waits for approval, and the approver's click.
	if _, err := sl.SendSlashCommand(slacktest.SlashCommand{UserID: "U0ALLOWED", ChannelID: "C0GENERAL", Text: "01H7YCG0R9GYY1YCPS2S4QA6WB 01HQ5K3P97DY8EX9Y90YT1K6XA"}); err != nil {
		t.Fatal(err)
	}
	var approve slacktest.Button
	if err := sl.WaitFor(10*time.Second, func(s *slacktest.State) bool {
		for _, m := range s.Messages() {
			for _, b := range slacktest.Buttons(m.Blocks) {
				if b.Text == "Approve" {
					approve = b
					return true
				}
			}
		}
		return false
	}); err != nil {
		t.Fatal("no request waiting for approval")
	}
	deletes := ipr.Count("DELETE", "/sessions")
	if _, err := sl.SendClick("U0APPROVER", "C0GENERAL", approve); err != nil {
		t.Fatal(err)
	}
	if err := sl.WaitFor(10*time.Second, func(*slacktest.State) bool { return ipr.Count("DELETE", "/sessions") > deletes }); err != nil {
		t.Fatal("the approved request never ran")
	}
	sl.SetScopes(adapter.Scopes()...)
	sl.AddUser(slacktest.User{ID: "U0ALLOWED", Name: "ana"})
	sl.AddUsergroup(slacktest.Usergroup{ID: "S0OPS", Handle: "ops"}, "U0GROUPIE")
	sl.AddChannel(slacktest.Channel{ID: "C0GENERAL", Name: "general", Member: true})
	sl.AddChannel(slacktest.Channel{ID: "C0AUDIT", Name: "audit", Member: true})
	check := exec.Command(binary, "check")
	check.Env = []string{
		"SLACK_APP_TOKEN=" + sl.AppToken, "SLACK_BOT_TOKEN=" + sl.BotToken, "SLACK_API_URL=" + sl.URL,
		"IPROYAL_API_TOKEN=" + ipr.Token, "IPROYAL_API_URL=" + ipr.URL,
		"ALLOWED_USERS=U0ALLOWED", "ALLOWED_USERGROUPS=S0OPS", "ALLOWED_CHANNELS=C0GENERAL", "AUDIT_CHANNEL=C0AUDIT",
	}
	if out, err := check.CombinedOutput(); err != nil {
		t.Fatalf("sessionbot check: %v\n%s", err, out)
	}

	// Every method called is in adapter.MethodScopes, and every one there
	// is called: the list neither misses a scope nor claims one unused.
	need := map[string]bool{}
	for _, s := range adapter.FeatureScopes {
		need[s] = true
	}
	called := map[string]bool{}
	for _, call := range sl.State().Calls("") {
		scopes, known := adapter.MethodScopes[call.Method]
		if !known {
			t.Errorf("sessionbot calls %s, which is not in bot/slack's MethodScopes: add it with its scope", call.Method)
			continue
		}
		called[call.Method] = true
		for _, scope := range scopes {
			need[scope] = true
		}
	}
	for method := range adapter.MethodScopes {
		if !called[method] {
			t.Errorf("MethodScopes lists %s, which nothing called here", method)
		}
	}
	want := slices.Sorted(maps.Keys(need))
	if !slices.Equal(want, adapter.Scopes()) {
		t.Errorf("the calls need %s, but adapter.Scopes() is %s", strings.Join(want, ","), strings.Join(adapter.Scopes(), ","))
	}
	got := slices.Clone(m.OAuthConfig.Scopes.Bot)
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("manifest bot scopes = %s, but sessionbot uses exactly %s", strings.Join(got, ","), strings.Join(want, ","))
	}
}
