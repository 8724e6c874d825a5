package slacktest

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// The workspace behind the double: its users, user groups and channels,
// and the scopes of the bot token. sessionbot check reads them through
// users.info, usergroups.list and conversations.info, and the double
// answers those as strictly as Slack: the same error codes, the scopes
// enforced once SetScopes has said which the token has, private channels
// hidden from a bot that is not in them.

// User is a member of the workspace.
type User struct {
	ID       string
	Name     string // the username, @name
	RealName string
	Deleted  bool // deactivated
	IsBot    bool
}

// Usergroup is a user group (S...); its members are SetUsergroup's.
type Usergroup struct {
	ID       string
	Handle   string // @handle
	Name     string
	Disabled bool
}

// Channel is a conversation of the workspace.
type Channel struct {
	ID       string
	Name     string
	Private  bool
	Archived bool
	// Member: the bot is in it. Slack hides a private channel from a bot
	// that is not, and a bot reads history only where it is a member.
	Member bool
}

// workspace is the state those methods read; the Server's mu guards it.
type workspace struct {
	users      map[string]User
	usergroups map[string]Usergroup
	channels   map[string]Channel
	scopes     []string // nil: not set, every scope is granted
}

// AddUser adds a user that users.info finds.
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ws.users == nil {
		s.ws.users = map[string]User{}
	}
	s.ws.users[u.ID] = u
}

// AddUsergroup adds a user group with its members (usergroups.list and
// usergroups.users.list find it).
func (s *Server) AddUsergroup(g Usergroup, members ...string) {
	s.mu.Lock()
	if s.ws.usergroups == nil {
		s.ws.usergroups = map[string]Usergroup{}
	}
	s.ws.usergroups[g.ID] = g
	s.mu.Unlock()
	s.SetUsergroup(g.ID, members...)
}

// AddChannel adds a conversation that conversations.info finds (when the
// bot may see it), and whose history needs the bot as a member.
func (s *Server) AddChannel(c Channel) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ws.channels == nil {
		s.ws.channels = map[string]Channel{}
	}
	s.ws.channels[c.ID] = c
}

// SetScopes sets the bot token's scopes: auth.test lists them in its
// x-oauth-scopes header, and the workspace's methods refuse a call without
// the scope it needs (missing_scope), as Slack does. Until it is called,
// no header is sent and nothing is refused.
func (s *Server) SetScopes(scopes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ws.scopes = append([]string{}, scopes...)
}

// workspaceAPI answers the workspace's methods, and reports whether it
// did; the other methods are webAPI's. The token has been checked.
func (s *Server) workspaceAPI(w http.ResponseWriter, method string, params url.Values) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch method {
	case "auth.test":
		if s.ws.scopes != nil {
			w.Header().Set("X-OAuth-Scopes", strings.Join(s.ws.scopes, ","))
		}
		return false // webAPI answers it
	case "users.info":
		if s.refuseScope(w, "users:read") {
			return true
		}
		u, ok := s.ws.users[params.Get("user")]
		if !ok {
			writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "user_not_found"})
			return true
		}
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "user": map[string]any{
			"id": u.ID, "team_id": TeamID, "name": u.Name, "real_name": u.RealName, "deleted": u.Deleted, "is_bot": u.IsBot,
			"profile": map[string]any{"real_name": u.RealName, "display_name": u.Name},
		}})
		return true
	case "usergroups.list":
		if s.refuseScope(w, "usergroups:read") {
			return true
		}
		out := []map[string]any{}
		for _, id := range slices.Sorted(maps.Keys(s.ws.usergroups)) {
			g := s.ws.usergroups[id]
			if g.Disabled && !isTrue(params.Get("include_disabled")) {
				continue
			}
			entry := map[string]any{"id": g.ID, "team_id": TeamID, "is_usergroup": true, "name": g.Name, "handle": g.Handle, "date_delete": 0}
			if g.Disabled {
				entry["date_delete"] = 1764158400
			}
			if isTrue(params.Get("include_count")) {
				entry["user_count"] = len(s.groups[g.ID])
			}
			if isTrue(params.Get("include_users")) {
				entry["users"] = s.groups[g.ID]
			}
			out = append(out, entry)
		}
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "usergroups": out})
		return true
	case "conversations.info":
		c, ok := s.ws.channels[params.Get("channel")]
		if ok && s.refuseScope(w, channelScope(c, "read")) {
			return true
		}
		if !ok || (c.Private && !c.Member) {
			writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "channel_not_found"})
			return true
		}
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "channel": map[string]any{
			"id": c.ID, "name": c.Name, "is_channel": !c.Private, "is_group": c.Private, "is_private": c.Private,
			"is_archived": c.Archived, "is_member": c.Member,
		}})
		return true
	case "conversations.history", "conversations.replies":
		c, ok := s.ws.channels[params.Get("channel")]
		if !ok {
			return false // a channel the tests did not describe: webAPI serves it
		}
		if s.refuseScope(w, channelScope(c, "history")) {
			return true
		}
		switch {
		case c.Private && !c.Member:
			writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "channel_not_found"})
			return true
		case !c.Member:
			writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "not_in_channel"})
			return true
		}
		return false
	}
	return false
}

// refuseScope answers missing_scope, as Slack does, when the token lacks
// scope. Call with mu held.
func (s *Server) refuseScope(w http.ResponseWriter, scope string) bool {
	if s.ws.scopes == nil || slices.Contains(s.ws.scopes, scope) {
		return false
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "missing_scope", "needed": scope, "provided": strings.Join(s.ws.scopes, ",")})
	return true
}

// channelScope is the scope of a kind of access to c: channels:read for a
// public channel, groups:history for a private one, and so on.
func channelScope(c Channel, access string) string {
	if c.Private {
		return "groups:" + access
	}
	return "channels:" + access
}

func isTrue(v string) bool { return v == "true" || v == "1" }
