package slack

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/sessionbot/sessionbot/bot"
)

// The handlers turn Slack's envelopes into the core's Requests. Each
// acknowledges at once, on the event loop, and never waits on the Web API
// or IPRoyal there: what the core answers from memory (Triage) goes in the
// ack itself or off the loop; the rest runs on a worker, and its Result is
// rendered by answer (chat.go).

// slashCommand is the part of a slash command's payload sessionbot uses.
// Decoding it takes 3.6 µs and 11 allocations; slack.SlashCommand, whose
// own UnmarshalJSON decodes twice, takes 8.2 µs and 23 (a typical payload,
// go test -bench on this machine).
type slashCommand struct {
	Command     string `json:"command"`
	Text        string `json:"text"`
	UserID      string `json:"user_id"`
	ChannelID   string `json:"channel_id"`
	ResponseURL string `json:"response_url"`
	TriggerID   string `json:"trigger_id"`
}

// onSlashCommand handles /reset-sessions. With nothing after it, it opens
// the picker.
func (s *Slack) onSlashCommand(work context.Context, b *bot.Bot, c *socket, env envelope) {
	id := env.EnvelopeID
	var cmd slashCommand
	if err := json.Unmarshal(env.Payload, &cmd); err != nil {
		s.ack(c, id, nil)
		s.log.Warn("ignored a frame sessionbot cannot use", "type", env.Type, "envelope_id", id, "error", err)
		return
	}
	if s.duplicate(id) {
		s.ack(c, id, nil)
		s.log.Warn("ignored a repeated envelope", "envelope_id", id)
		return
	}
	if cmd.Command != b.Command() {
		s.ack(c, id, ephemeral(bot.UnknownCommand(b.Command())))
		s.log.Warn("ignored an unknown slash command", "command", cmd.Command)
		return
	}
	req := bot.Request{Via: bot.ViaSlash, User: cmd.UserID, Channel: cmd.ChannelID, Text: cmd.Text, ReplyTo: cmd.ResponseURL}
	if strings.TrimSpace(cmd.Text) == "" {
		req.Via = bot.ViaPicker
		if _, res, done := b.Triage(req); done {
			s.ack(c, id, ephemeral(res.Answer))
			return
		}
		s.ack(c, id, nil)
		s.openView(work, req, cmd.TriggerID, pickerModal(formMeta{Channel: req.Channel, Reply: req.ReplyTo}))
		return
	}
	req, res, done := b.Triage(req)
	if done {
		s.ack(c, id, ephemeral(res.Answer))
		return
	}
	if !s.commands.take(req.User) {
		s.ack(c, id, ephemeral(bot.BusyMessage()))
		s.refusedBusy(req.User)
		return
	}
	s.ack(c, id, nil)
	s.goHandle(work, req.User, func(ctx context.Context) { s.answer(ctx, req, b.Handle(ctx, req)) })
}

// onInteractive handles what people do in Slack's surfaces: a button, a
// message shortcut, a modal's submission, a picker's typing.
func (s *Slack) onInteractive(work context.Context, b *bot.Bot, c *socket, env envelope) {
	id := env.EnvelopeID
	var cb slack.InteractionCallback
	if err := json.Unmarshal(env.Payload, &cb); err != nil || s.duplicate(id) {
		s.ack(c, id, nil)
		s.log.Debug("ignored an interaction", "envelope_id", id, "error", err)
		return
	}
	switch cb.Type {
	case slack.InteractionTypeBlockActions:
		s.ack(c, id, nil)
		s.onBlockActions(work, b, cb)
	case slack.InteractionTypeMessageAction:
		s.ack(c, id, nil)
		s.onShortcut(work, b, cb)
	case slack.InteractionTypeViewSubmission:
		s.onSubmission(work, b, c, id, cb) // answered in the ack, once checked
	case slack.InteractionTypeBlockSuggestion:
		s.onSuggestion(work, b, c, id, cb) // answered in the ack
	default:
		s.ack(c, id, nil)
		s.log.Debug("ignored an interaction", "envelope_id", id, "type", cb.Type)
	}
}

// onBlockActions handles a click: Confirm or Cancel on a confirmation, or
// the home tab's button.
func (s *Slack) onBlockActions(work context.Context, b *bot.Bot, cb slack.InteractionCallback) {
	if len(cb.ActionCallback.BlockActions) == 0 {
		return
	}
	a := cb.ActionCallback.BlockActions[0]
	if a.ActionID == openPickerAction {
		req := bot.Request{Via: bot.ViaPicker, User: cb.User.ID}
		if _, res, done := b.Triage(req); done {
			s.aside(work, req, res) // no channel: said nowhere but the log
			return
		}
		s.openView(work, req, cb.TriggerID, pickerModal(formMeta{}))
		return
	}
	tok, confirm := joinToken(a.Value, a.BlockID, a.ActionID)
	if tok == "" {
		s.log.Debug("ignored a click on something else", "action_id", a.ActionID)
		return
	}
	req := bot.Request{Via: bot.ViaClick, User: cb.User.ID, Channel: cb.Channel.ID, Token: tok, Confirm: confirm, ReplyTo: cb.ResponseURL}
	req, admitted := s.admitAside(work, b, req)
	if !admitted {
		return
	}
	s.goHandle(work, req.User, func(ctx context.Context) {
		// A confirmed click replaces its buttons before the reset runs.
		req.Proceed = func(now bot.Result) bool { s.answer(ctx, req, now); return true }
		s.answer(ctx, req, b.Handle(ctx, req))
	})
}

// onEvent handles the Events API: mentions, and the home tab opening.
// Slack retries an event it thinks was not acknowledged, perhaps on another
// replica: a mention is claimed with a reaction on it, which Slack adds
// once, before it runs.
func (s *Slack) onEvent(work context.Context, b *bot.Bot, c *socket, env envelope) {
	s.ack(c, env.EnvelopeID, nil)
	ev, err := slackevents.ParseEvent(env.Payload, slackevents.OptionNoVerifyToken())
	if err != nil {
		s.log.Warn("ignored an event sessionbot cannot read", "envelope_id", env.EnvelopeID, "error", err)
		return
	}
	eventID := ""
	if cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent); ok {
		eventID = cb.EventID
	}
	if eventID != "" && s.duplicate("event:"+eventID) {
		s.log.Info("ignored a repeated event", "event_id", eventID, "retry_attempt", env.RetryAttempt, "retry_reason", env.RetryReason)
		return
	}
	switch e := ev.InnerEvent.Data.(type) {
	case *slackevents.AppMentionEvent:
		s.onMention(work, b, e, env)
	case *slackevents.AppHomeOpenedEvent:
		if e.Tab != "home" {
			return
		}
		s.publishHome(work, b, e.User)
	default:
		s.log.Debug("ignored an event", "type", ev.InnerEvent.Type)
	}
}

// onMention runs "@sessionbot reset TARGET..." (or help, status, find)
// where it was said: the trail goes into the mention's thread.
func (s *Slack) onMention(work context.Context, b *bot.Bot, e *slackevents.AppMentionEvent, env envelope) {
	self := s.self.Load()
	if e.BotID != "" || (self != nil && e.User == self.userID) {
		return // a bot's message: never answer bots, or two of them talk forever
	}
	thread := e.ThreadTimeStamp
	if thread == "" {
		thread = e.TimeStamp
	}
	name, botUser := "sessionbot", ""
	if self != nil {
		botUser = self.userID
		if self.name != "" {
			name = self.name
		}
	}
	text, ok := mentionText(e.Text, botUser)
	if !ok {
		s.log.Debug("ignored a mention that is not a command", "channel", e.Channel, "ts", e.TimeStamp)
		return
	}
	req := bot.Request{Via: bot.ViaMention, User: e.User, Channel: e.Channel, Text: text, Thread: thread, Prefix: "@" + name + " reset"}
	req, admitted := s.admitAside(work, b, req)
	if !admitted {
		return
	}
	s.goHandle(work, req.User, func(ctx context.Context) {
		// The claim: one reaction by one bot user, whichever replica asks.
		err := s.api.AddReactionContext(ctx, mentionClaim, slack.NewRefToMessage(e.Channel, e.TimeStamp))
		switch {
		case code(err) == "already_reacted":
			s.log.Info("ignored a mention another delivery took", "channel", e.Channel, "ts", e.TimeStamp, "retry_attempt", env.RetryAttempt)
			return
		case err != nil:
			s.log.Warn("could not mark the mention as seen; handling it anyway", "channel", e.Channel, "ts", e.TimeStamp, "error", err)
		}
		s.answer(ctx, req, b.Handle(ctx, req))
	})
}

// mentionClaim is the reaction that says sessionbot took a mention.
const mentionClaim = "eyes"

// mentionText is a mention's command: its text after the leading mention
// of the bot, without an optional "reset" before the targets. ok is false
// when the text does not start with the bot's mention ("thanks
// @sessionbot"): that is talk, not a command.
func mentionText(text, botUser string) (cmd string, ok bool) {
	text = strings.TrimSpace(text)
	rest, found := strings.CutPrefix(text, "<@"+botUser) // any user's, before auth.test said who the bot is
	if !found || rest == "" || botUser != "" && rest[0] != '>' && rest[0] != '|' {
		return "", false
	}
	end := strings.IndexByte(rest, '>')
	if end < 0 {
		return "", false
	}
	text = strings.TrimSpace(rest[end+1:])
	first, after, _ := strings.Cut(text, " ")
	if i := strings.IndexAny(first, "\n\t"); i >= 0 { // "reset\nHASH"
		first, after = first[:i], first[i+1:]+" "+after
	}
	if strings.EqualFold(first, "reset") {
		text = strings.TrimSpace(after)
	}
	return text, true
}

func (s *Slack) refusedBusy(user string) {
	s.log.Warn("refused a request: too many in flight, or this user's share of them", "user", user, "limit", s.commands.capacity, "per_user", s.commands.share)
	if s.metrics != nil {
		s.metrics.Busy.Inc()
	}
}
