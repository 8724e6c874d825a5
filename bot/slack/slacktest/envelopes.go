package slacktest

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// SlashCommand is the payload of a slash_commands envelope.
type SlashCommand struct {
	TeamID      string `json:"team_id"`
	TeamDomain  string `json:"team_domain"`
	ChannelID   string `json:"channel_id"`
	ChannelName string `json:"channel_name"`
	UserID      string `json:"user_id"`
	UserName    string `json:"user_name"`
	Command     string `json:"command"`
	Text        string `json:"text"`
	APIAppID    string `json:"api_app_id"`
	ResponseURL string `json:"response_url"`
	TriggerID   string `json:"trigger_id"`
	Token       string `json:"token"`
	// IsEnterpriseInstall is a string, as Slack sends it in slash commands.
	IsEnterpriseInstall string `json:"is_enterprise_install,omitempty"`
}

// SendSlashCommand delivers a slash command envelope to one connection
// (round-robin, as Slack spreads envelopes over an app's connections) and
// returns its envelope ID. Empty fields get realistic values.
func (s *Server) SendSlashCommand(cmd SlashCommand) (string, error) {
	s.mu.Lock()
	s.envelopes++
	id := fmt.Sprintf("env-%06d", s.envelopes)
	s.mu.Unlock()
	if cmd.TeamID == "" {
		cmd.TeamID = TeamID
	}
	if cmd.APIAppID == "" {
		cmd.APIAppID = AppID
	}
	if cmd.Command == "" {
		cmd.Command = "/reset-sessions"
	}
	if cmd.ResponseURL == "" {
		cmd.ResponseURL = s.issueResponseURL(id, cmd.ChannelID)
	}
	if cmd.TriggerID == "" {
		cmd.TriggerID = s.trigger(id)
	}
	if cmd.IsEnterpriseInstall == "" {
		cmd.IsEnterpriseInstall = "false"
	}
	payload, err := json.Marshal(cmd)
	if err != nil {
		return "", err
	}
	return id, s.SendEnvelope(id, "slash_commands", payload)
}

// SendClick delivers the interactive envelope Slack sends when user clicks
// button in a message of channel, and returns its envelope ID. The click's
// response_url is the double's, like a command's.
func (s *Server) SendClick(user, channel string, button Button) (string, error) {
	s.mu.Lock()
	s.envelopes++
	id := fmt.Sprintf("env-%06d", s.envelopes)
	s.mu.Unlock()
	payload, err := json.Marshal(map[string]any{
		"type":         "block_actions",
		"team":         map[string]any{"id": TeamID},
		"user":         map[string]any{"id": user, "username": strings.ToLower(user), "team_id": TeamID},
		"api_app_id":   AppID,
		"container":    map[string]any{"type": "message", "message_ts": "1764158400.000000", "channel_id": channel, "is_ephemeral": true},
		"trigger_id":   s.trigger(id),
		"channel":      map[string]any{"id": channel, "name": "general"},
		"response_url": s.issueResponseURL(id, channel),
		"actions": []map[string]any{{
			"type": "button", "action_id": button.ActionID, "block_id": button.BlockID, "value": button.Value,
			"text":      map[string]any{"type": "plain_text", "text": button.Text},
			"action_ts": "1764158401.000000",
		}},
	})
	if err != nil {
		return "", err
	}
	return id, s.SendEnvelope(id, "interactive", payload)
}

// SendViewClick delivers the interactive envelope Slack sends when user
// clicks button in a view (the home tab, a modal), and returns its envelope
// ID. Unlike a click in a message it carries no response_url and no channel.
func (s *Server) SendViewClick(user string, view View, button Button) (string, error) {
	id := s.nextEnvelope()
	payload, err := json.Marshal(map[string]any{
		"type":       "block_actions",
		"team":       map[string]any{"id": TeamID},
		"user":       map[string]any{"id": user, "username": strings.ToLower(user), "team_id": TeamID},
		"api_app_id": AppID,
		"container":  map[string]any{"type": "view", "view_id": view.ID},
		"trigger_id": s.trigger(id),
		"view":       map[string]any{"id": view.ID, "type": view.Type, "callback_id": view.CallbackID, "private_metadata": view.PrivateMetadata},
		"actions": []map[string]any{{
			"type": "button", "action_id": button.ActionID, "block_id": button.BlockID, "value": button.Value,
			"text":      map[string]any{"type": "plain_text", "text": button.Text},
			"action_ts": "1764158401.000000",
		}},
	})
	if err != nil {
		return "", err
	}
	return id, s.SendEnvelope(id, "interactive", payload)
}

// trigger hands out a trigger ID, valid for views.open for 3 s.
func (s *Server) trigger(envelopeID string) string {
	id := "trig-" + envelopeID
	s.mu.Lock()
	defer s.mu.Unlock()
	s.triggers[id] = time.Now()
	return id
}

func (s *Server) nextEnvelope() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.envelopes++
	return fmt.Sprintf("env-%06d", s.envelopes)
}

// Mention is an app_mention event: someone wrote @sessionbot.
type Mention struct {
	User, Channel, Text string
	TS                  string // the mention's own message; default: a new one
	ThreadTS            string // set when the mention is a reply in a thread
	BotID               string // set when a bot wrote it
}

// SendMention delivers an app_mention event as Slack does over Socket Mode,
// and returns its event ID; the mention's message exists in the channel,
// so the app can react to it.
func (s *Server) SendMention(m Mention) (eventID string, err error) {
	s.mu.Lock()
	if m.TS == "" {
		m.TS = s.stamp(m.Channel)
	}
	msg := Message{Channel: m.Channel, TS: m.TS, Text: m.Text, ThreadTS: m.ThreadTS, User: m.User, BotID: m.BotID}
	s.store(msg) // someone's message, unless it exists already
	s.envelopes++
	eventID = fmt.Sprintf("Ev%06d", s.envelopes)
	s.mu.Unlock()
	event := map[string]any{"type": "app_mention", "user": m.User, "text": m.Text, "ts": m.TS, "channel": m.Channel, "event_ts": m.TS}
	if m.ThreadTS != "" {
		event["thread_ts"] = m.ThreadTS
	}
	if m.BotID != "" {
		event["bot_id"] = m.BotID
	}
	return eventID, s.SendEvent(eventID, event, 0)
}

// SendHomeOpened delivers the app_home_opened event of user opening the
// app's home tab.
func (s *Server) SendHomeOpened(user string) (eventID string, err error) {
	eventID = "Ev" + s.nextEnvelope()
	return eventID, s.SendEvent(eventID, map[string]any{"type": "app_home_opened", "user": user, "channel": DM(user), "tab": "home", "event_ts": "1764158400.000100"}, 0)
}

// SendEvent delivers an events_api envelope carrying event, as delivery
// retry (0 for the first): a retry has a new envelope ID, the same event
// ID, and retry_attempt and retry_reason, as Slack sends it when it thinks
// the first was not acknowledged.
func (s *Server) SendEvent(eventID string, event map[string]any, retry int) error {
	payload, err := json.Marshal(map[string]any{
		"token": "verification-token", "team_id": TeamID, "api_app_id": AppID, "event": event,
		"type": "event_callback", "event_id": eventID, "event_time": 1764158400,
		"authorizations": []map[string]any{{"team_id": TeamID, "user_id": BotUser, "is_bot": true}},
	})
	if err != nil {
		return err
	}
	extra := map[string]any{}
	if retry > 0 {
		extra["retry_attempt"], extra["retry_reason"] = retry, "timeout"
	}
	return s.sendEnvelope(s.nextEnvelope(), "events_api", payload, extra)
}

// Shortcut is a message shortcut used on a message.
type Shortcut struct {
	User, Channel string
	CallbackID    string  // default reset_sessions
	Message       Message // the message it was used on: TS, Text, Blocks, ThreadTS
	Attachments   []map[string]any
}

// SendShortcut delivers the message_action envelope of a message shortcut
// and returns its envelope ID. Its trigger lasts 3 s.
func (s *Server) SendShortcut(sc Shortcut) (string, error) {
	id := s.nextEnvelope()
	if sc.Message.TS == "" {
		sc.Message = s.AddMessage(sc.Channel, sc.Message.Text)
	}
	if sc.CallbackID == "" {
		sc.CallbackID = "reset_sessions"
	}
	if sc.Message.User == "" {
		sc.Message.User = someone
	}
	msg := map[string]any{"type": "message", "user": sc.Message.User, "ts": sc.Message.TS, "text": sc.Message.Text}
	if sc.Message.Blocks != nil {
		msg["blocks"] = sc.Message.Blocks
	}
	if sc.Message.ThreadTS != "" {
		msg["thread_ts"] = sc.Message.ThreadTS
	}
	if sc.Attachments != nil {
		msg["attachments"] = sc.Attachments
	}
	payload, err := json.Marshal(map[string]any{
		"type": "message_action", "callback_id": sc.CallbackID, "trigger_id": s.trigger(id),
		"message_ts": sc.Message.TS, "response_url": s.issueResponseURL(id, sc.Channel),
		"message": msg, "user": map[string]any{"id": sc.User, "name": strings.ToLower(sc.User), "team_id": TeamID},
		"channel": map[string]any{"id": sc.Channel, "name": "alerts"}, "team": map[string]any{"id": TeamID, "domain": "sessionbot-tests"},
		"token": "verification-token", "action_ts": "1764158401.000000",
	})
	if err != nil {
		return "", err
	}
	return id, s.SendEnvelope(id, "interactive", payload)
}

// SendSuggestion delivers the block_suggestion envelope of user typing
// value in an external select of view, and returns its envelope ID; the
// options come back in the ack.
func (s *Server) SendSuggestion(user string, view View, actionID, blockID, value string) (string, error) {
	id := s.nextEnvelope()
	payload, err := json.Marshal(map[string]any{
		"type": "block_suggestion", "user": map[string]any{"id": user, "team_id": TeamID}, "api_app_id": AppID,
		"container": map[string]any{"type": "view", "view_id": view.ID}, "action_id": actionID, "block_id": blockID, "value": value,
		"team": map[string]any{"id": TeamID}, "token": "verification-token",
		"view": map[string]any{"id": view.ID, "type": view.Type, "callback_id": view.CallbackID, "private_metadata": view.PrivateMetadata},
	})
	if err != nil {
		return "", err
	}
	return id, s.SendEnvelope(id, "interactive", payload)
}

// SubmitView delivers the view_submission envelope of user submitting view
// with values (block ID, then action ID, then the element's state, as
// Slack sends it), and returns its envelope ID; the answer is in the ack.
func (s *Server) SubmitView(user string, view View, values map[string]map[string]any) (string, error) {
	id := s.nextEnvelope()
	s.mu.Lock()
	s.submitted[id] = view.ID
	s.mu.Unlock()
	// A conversation picked in a select with response_url_enabled gets a
	// response_url, as Slack gives one.
	var blocks []struct {
		Type    string `json:"type"`
		BlockID string `json:"block_id"`
		Element struct {
			Type               string `json:"type"`
			ActionID           string `json:"action_id"`
			ResponseURLEnabled bool   `json:"response_url_enabled"`
		} `json:"element"`
	}
	_ = json.Unmarshal(view.Blocks, &blocks)
	urls := []any{}
	for _, b := range blocks {
		if b.Type != "input" || !b.Element.ResponseURLEnabled || b.Element.Type != "conversations_select" {
			continue
		}
		state, _ := values[b.BlockID][b.Element.ActionID].(map[string]any)
		if ch, _ := state["selected_conversation"].(string); ch != "" {
			urls = append(urls, map[string]any{"block_id": b.BlockID, "action_id": b.Element.ActionID, "channel_id": ch,
				"response_url": s.issueResponseURL(id, ch)})
		}
	}
	payload, err := json.Marshal(map[string]any{
		"type": "view_submission", "team": map[string]any{"id": TeamID}, "user": map[string]any{"id": user, "team_id": TeamID},
		"api_app_id": AppID, "token": "verification-token", "trigger_id": s.trigger(id),
		"view": map[string]any{
			"id": view.ID, "type": view.Type, "callback_id": view.CallbackID, "private_metadata": view.PrivateMetadata,
			"blocks": view.Blocks, "state": map[string]any{"values": values}, "hash": "h-" + id,
		},
		"response_urls": urls,
	})
	if err != nil {
		return "", err
	}
	return id, s.SendEnvelope(id, "interactive", payload)
}
