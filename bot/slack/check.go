package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"

	"github.com/sessionbot/sessionbot/bot"
)

// What sessionbot check asks Slack. Each call reads; none posts, reacts or
// opens a view, so a check can run beside a running bot.

// MethodScopes maps every Web API method sessionbot calls, the bot's and
// sessionbot check's, to the bot scopes it needs (some need none). It is
// the one list of the scopes sessionbot uses: check compares the token's
// scopes with it, and deploy/manifest_test.go drives the real binary
// through every path, fails on a method missing here, and checks the app
// manifest asks for exactly these scopes.
var MethodScopes = map[string][]string{
	"apps.connections.open": nil, // the app-level token, with connections:write
	"auth.test":             nil,
	"chat.postMessage":      {"chat:write"},
	"chat.postEphemeral":    {"chat:write"},
	"chat.update":           {"chat:write"},
	"reactions.add":         {"reactions:write"},
	"usergroups.users.list": {"usergroups:read"},
	"views.open":            nil,
	"views.publish":         nil,
	// The journal in AUDIT_CHANNEL, which may be public or private, and a
	// post whose answer was lost, looked for before it is posted again.
	"conversations.history": {"channels:history", "groups:history"},
	"conversations.replies": {"channels:history", "groups:history"},
	// A private answer no channel takes: a direct message.
	"conversations.open": {"im:write"},
	// sessionbot check: the names behind the configured IDs.
	"users.info":         {"users:read"},
	"usergroups.list":    {"usergroups:read"},
	"conversations.info": {"channels:read", "groups:read"},
}

// FeatureScopes are the scopes of what Slack sends the bot rather than of
// a method it calls.
var FeatureScopes = []string{
	"commands",          // the slash command and the message shortcut
	"chat:write.public", // posting in public channels the bot is not in
	"app_mentions:read", // @sessionbot mentions (the app_mention event)
}

// scopeUse says, for an operator, what each scope is for.
var scopeUse = map[string]string{
	"commands":          "the slash command and the shortcut",
	"chat:write":        "posting answers and the journal",
	"chat:write.public": "posting in public channels without an invite",
	"app_mentions:read": "@sessionbot mentions",
	"reactions:write":   "outcome reactions and journal claims",
	"usergroups:read":   "ALLOWED_USERGROUPS",
	"channels:history":  "a public AUDIT_CHANNEL's journal, and finding posts whose answer was lost",
	"groups:history":    "a private AUDIT_CHANNEL's journal, and finding posts whose answer was lost",
	"im:write":          "private answers by direct message when the channel refuses them",
	"users:read":        "sessionbot check naming ALLOWED_USERS",
	"channels:read":     "sessionbot check naming public channels",
	"groups:read":       "sessionbot check naming private channels",
}

// Scopes is every bot scope sessionbot uses, sorted.
func Scopes() []string {
	set := map[string]bool{}
	for _, scopes := range MethodScopes {
		for _, s := range scopes {
			set[s] = true
		}
	}
	for _, s := range FeatureScopes {
		set[s] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// ScopeUse says what sessionbot uses scope for.
func ScopeUse(scope string) string { return scopeUse[scope] }

// Auth is what auth.test says of the bot token.
type Auth struct {
	User, UserID, Team, TeamID, URL string
	// Scopes are the token's, from the x-oauth-scopes header; nil when
	// Slack did not send it.
	Scopes []string
}

// CheckAuth checks the bot token with auth.test, and remembers who the bot
// is, as AuthTest does.
func (s *Slack) CheckAuth(ctx context.Context) (Auth, error) {
	who, err := s.AuthTest(ctx)
	if err != nil {
		return Auth{}, err
	}
	a := Auth{User: who.User, UserID: who.UserID, Team: who.Team, TeamID: who.TeamID, URL: who.URL}
	if h := who.Header.Get("X-OAuth-Scopes"); h != "" {
		for _, sc := range strings.Split(h, ",") {
			if sc = strings.TrimSpace(sc); sc != "" {
				a.Scopes = append(a.Scopes, sc)
			}
		}
	}
	return a, nil
}

// User is a Slack user, as check shows it.
type User struct {
	Name, RealName string
	Deleted, Bot   bool
}

// User looks up a user by ID (users.info).
func (s *Slack) User(ctx context.Context, id string) (User, error) {
	u, err := s.api.GetUserInfoContext(ctx, id, slack.GetUserInfoOptionIncludeLocale(false))
	if err != nil {
		return User{}, err
	}
	name := u.Profile.DisplayName
	if name == "" {
		name = u.Name
	}
	return User{Name: name, RealName: u.RealName, Deleted: u.Deleted, Bot: u.IsBot}, nil
}

// Usergroup is a user group, as check shows it.
type Usergroup struct {
	Handle, Name string
	Members      int
	Disabled     bool
}

// Usergroups lists the workspace's user groups, disabled ones included,
// with their member counts (usergroups.list), by ID.
func (s *Slack) Usergroups(ctx context.Context) (map[string]Usergroup, error) {
	gs, err := s.api.GetUserGroupsContext(ctx, slack.GetUserGroupsOptionIncludeCount(true), slack.GetUserGroupsOptionIncludeDisabled(true))
	if err != nil {
		return nil, err
	}
	out := make(map[string]Usergroup, len(gs))
	for _, g := range gs {
		out[g.ID] = Usergroup{Handle: g.Handle, Name: g.Name, Members: g.UserCount, Disabled: g.DateDelete != 0}
	}
	return out, nil
}

// Channel is a conversation, as check shows it.
type Channel struct {
	Name                      string
	Private, Archived, Member bool
}

// Channel looks up a conversation by ID (conversations.info). Slack says
// channel_not_found for a private channel the bot is not in.
func (s *Slack) Channel(ctx context.Context, id string) (Channel, error) {
	c, err := s.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: id})
	if err != nil {
		return Channel{}, err
	}
	return Channel{Name: c.Name, Private: c.IsPrivate, Archived: c.IsArchived, Member: c.IsMember}, nil
}

// ReadJournal reads the journal in channel as the bot's sweeper does,
// over the last minute, to prove it can.
func (s *Slack) ReadJournal(ctx context.Context, channel string) error {
	_, err := s.Journal(channel).Since(ctx, s.now().Add(-time.Minute))
	return err
}

// OpenSocket opens a Socket Mode connection with the app-level token,
// waits for Slack's hello, and closes it at once; it returns how many
// connections the app had open, this one included. Slack may hand an
// envelope to any open connection, so this one lives only until its hello.
func (s *Slack) OpenSocket(ctx context.Context) (connections int, err error) {
	ws, err := s.connect(ctx)
	if err != nil {
		return 0, err
	}
	defer ws.Close()
	if d, ok := ctx.Deadline(); ok {
		_ = ws.SetReadDeadline(d)
	} else {
		_ = ws.SetReadDeadline(time.Now().Add(handshakeTimeout))
	}
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return 0, fmt.Errorf("waiting for Slack's hello: %w", err)
		}
		var env envelope
		if json.Unmarshal(data, &env) == nil && env.Type == "hello" {
			_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
			return env.NumConnections, nil
		}
	}
}

// ErrorCode is Slack's error code in err ("channel_not_found", say), or "".
func ErrorCode(err error) string {
	if c := code(err); c != "" {
		return c
	}
	var ce *bot.ChannelError
	if errors.As(err, &ce) {
		for code, p := range channelProblems {
			if p == ce.Problem {
				return code
			}
		}
	}
	return ""
}

// MissingScope reports the scope Slack said a call needed, when it
// answered missing_scope.
func MissingScope(err error) (needed string, ok bool) {
	var slackErr slack.SlackErrorResponse
	if errors.As(err, &slackErr) && slackErr.Err == "missing_scope" {
		return slackErr.Needed, true
	}
	return "", false
}
