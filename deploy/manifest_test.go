package deploy

import (
	"os"
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

// scopeOf maps every Web API method the bot may call to the bot scopes it
// needs (none for some). A method missing here fails the test below.
var scopeOf = map[string][]string{
	"apps.connections.open": nil, // app-level token, connections:write
	"auth.test":             nil,
	"chat.postMessage":      {"chat:write"},
	"chat.postEphemeral":    {"chat:write"},
	"chat.update":           {"chat:write"},
	"reactions.add":         {"reactions:write"},
	"usergroups.users.list": {"usergroups:read"},
	"views.open":            nil,
	"views.publish":         nil,
	// The journal in AUDIT_CHANNEL, which may be public or private.
	"conversations.history": {"channels:history", "groups:history"},
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
	// The events the bot handles, each with the scope it needs.
	scopeOfEvent := map[string]string{"app_mention": "app_mentions:read", "app_home_opened": ""}
	if got := slices.Sorted(slices.Values(m.Settings.EventSubscriptions.BotEvents)); !slices.Equal(got, []string{"app_home_opened", "app_mention"}) {
		t.Errorf("bot events = %v, want app_home_opened and app_mention", got)
	}

	// Drive the real binary through every path that calls Slack, and
	// collect the methods it called.
	_, sl, ipr := runningBot(t, map[string]string{"ALLOWED_USERGROUPS": "S0OPS", "AUDIT_CHANNEL": "C0AUDIT"})
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

	// The slash command and the shortcut; posting where not a member; the events.
	need := map[string]bool{"commands": true, "chat:write.public": true}
	for _, e := range m.Settings.EventSubscriptions.BotEvents {
		if scope := scopeOfEvent[e]; scope != "" {
			need[scope] = true
		}
	}
	for _, call := range sl.State().Calls("") {
		scopes, known := scopeOf[call.Method]
		if !known {
			t.Errorf("the bot calls %s, which is not in scopeOf: add it with its scope", call.Method)
			continue
		}
		for _, scope := range scopes {
			need[scope] = true
		}
	}
	var want []string
	for s := range need {
		want = append(want, s)
	}
	sort.Strings(want)
	got := slices.Clone(m.OAuthConfig.Scopes.Bot)
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("manifest bot scopes = %s, but the bot needs exactly %s", strings.Join(got, ","), strings.Join(want, ","))
	}
}
