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
		BotUser struct {
			DisplayName  string `json:"display_name"`
			AlwaysOnline bool   `json:"always_online"`
		} `json:"bot_user"`
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

	// Drive the real binary through every path that calls Slack, and
	// collect the methods it called.
	_, sl, ipr := runningBot(t, map[string]string{"ALLOWED_USERGROUPS": "S0OPS", "AUDIT_CHANNEL": "C0AUDIT"})
	sl.SetUsergroup("S0OPS", "U0GROUPIE")
	ipr.Script("DELETE", "/sessions", iproyaltest.Response{Status: 401})
	for _, c := range []slacktest.SlashCommand{
		{UserID: "U0ALLOWED", ChannelID: "C0GENERAL", Text: "01H7YCG0R9GYY1YCPS2S4QA6WB"},
		{UserID: "U0GROUPIE", ChannelID: "C0GENERAL", Text: "01H7YCG0R9GYY1YCPS2S4QA6WB"},
		{UserID: "U0STRANGER", ChannelID: "C0GENERAL", Text: "01H7YCG0R9GYY1YCPS2S4QA6WB"},
	} {
		if _, err := sl.SendSlashCommand(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := sl.WaitFor(10*time.Second, func(s *slacktest.State) bool {
		return len(s.Reactions()) == 2 && len(s.Responses()) == 1 && len(s.Updates()) >= 4
	}); err != nil {
		t.Fatalf("the commands did not finish: %+v", sl.Messages())
	}

	need := map[string]bool{"commands": true, "chat:write.public": true} // the slash command; posting where not a member
	for _, call := range sl.Calls("") {
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
