package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/slack-go/slack"

	"github.com/sessionbot/sessionbot/bot"
)

// The Web API side: the core's Chat (the trail), and the private answers
// the adapter renders from a Result.

// answer tells a requester privately what the core's Result says, if
// anything: an ephemeral message, or, for a click, the message the click
// came from, replaced. It has its own few seconds even when ctx has ended
// (a shutdown): the request's last words.
func (s *Slack) answer(ctx context.Context, to bot.Request, res bot.Result) {
	if res.Answer.Text == "" {
		return
	}
	ctx, cancel := bot.AnswerContext(ctx)
	defer cancel()
	var err error
	if res.Replaces {
		err = s.replace(ctx, to.ReplyTo, res.Answer)
	} else {
		err = s.private(ctx, to, res.Answer)
	}
	if err != nil {
		s.log.Warn("private reply failed", "request_id", res.RequestID, "user", to.User, "error", err)
	}
}

// aside answers what Triage answered from memory, off the event loop,
// which must never wait on the Web API.
func (s *Slack) aside(work context.Context, to bot.Request, res bot.Result) {
	if to.Channel == "" && to.ReplyTo == "" {
		s.log.Info("an answer with nowhere to go", "user", to.User, "answer", res.Answer.Text)
		return
	}
	s.offLoop(s.asides, work, to.User, func(ctx context.Context) { s.answer(ctx, to, res) })
}

type ackPayload struct {
	ResponseType string        `json:"response_type"`
	Text         string        `json:"text"`
	Blocks       []slack.Block `json:"blocks,omitempty"`
}

func ephemeral(m bot.Message) ackPayload {
	return ackPayload{ResponseType: slack.ResponseTypeEphemeral, Text: fallbackText(m), Blocks: blocks(m)}
}

// Post implements bot.Chat.
func (s *Slack) Post(ctx context.Context, channel, thread string, m bot.Message) (string, error) {
	opts := msgOptions(m)
	if thread != "" {
		opts = append(opts, slack.MsgOptionTS(thread))
	}
	_, ts, err := s.api.PostMessageContext(ctx, channel, opts...)
	return ts, chatError(err)
}

// Reply implements bot.Chat.
func (s *Slack) Reply(ctx context.Context, channel, ts string, m bot.Message, broadcast bool) error {
	opts := append(msgOptions(m), slack.MsgOptionTS(ts))
	if broadcast {
		opts = append(opts, slack.MsgOptionBroadcast())
	}
	_, _, err := s.trail.PostMessageContext(ctx, channel, opts...)
	return chatError(err)
}

// Update implements bot.Chat.
func (s *Slack) Update(ctx context.Context, channel, ts string, m bot.Message) error {
	_, _, _, err := s.trail.UpdateMessageContext(ctx, channel, ts, msgOptions(m)...)
	return chatError(err)
}

// React implements bot.Chat.
func (s *Slack) React(ctx context.Context, channel, ts, emoji string) error {
	err := s.trail.AddReactionContext(ctx, emoji, slack.NewRefToMessage(channel, ts))
	if code(err) == "already_reacted" {
		return nil // a retry after a lost answer, or another replica's
	}
	return chatError(err)
}

// Link implements bot.Chat: the message's permalink, built from the
// workspace's address as auth.test gave it (no call per message).
func (s *Slack) Link(channel, ts string) string {
	self := s.self.Load()
	if self == nil || self.url == "" || channel == "" || ts == "" {
		return ""
	}
	return strings.TrimSuffix(self.url, "/") + "/archives/" + channel + "/p" + strings.ReplaceAll(ts, ".", "")
}

// private shows m to the requester only: an ephemeral message in the
// request's thread when it has one, else through its response_url, which
// reaches the requester even where the bot is not a member (and is the
// fallback when the thread cannot be reached).
func (s *Slack) private(ctx context.Context, to bot.Request, m bot.Message) error {
	if to.ReplyTo == "" || to.Thread != "" {
		opts := append(msgOptions(m), slack.MsgOptionTS(to.Thread)) // an empty thread is none
		_, err := s.api.PostEphemeralContext(ctx, to.Channel, to.User, opts...)
		if err == nil || to.ReplyTo == "" {
			return chatError(err)
		}
		s.log.Info("could not answer in the thread; answering through the response_url", "user", to.User, "channel", to.Channel, "error", err)
	}
	return respond(ctx, s.http, to.ReplyTo, &slack.WebhookMessage{
		ResponseType: slack.ResponseTypeEphemeral,
		Text:         fallbackText(m),
		Blocks:       &slack.Blocks{BlockSet: blocks(m)},
	})
}

// replace replaces the message a click came from.
func (s *Slack) replace(ctx context.Context, replyTo string, m bot.Message) error {
	return respond(ctx, s.http, replyTo, &slack.WebhookMessage{
		ResponseType:    slack.ResponseTypeEphemeral,
		ReplaceOriginal: true,
		Text:            fallbackText(m),
		Blocks:          &slack.Blocks{BlockSet: blocks(m)},
	})
}

// respond posts to a response_url. That URL lets anyone post as the bot in
// its conversation for 30 minutes, so it never reaches an error (and so a
// log line): net/http's errors carry the URL they failed on.
func respond(ctx context.Context, hc *http.Client, responseURL string, m *slack.WebhookMessage) error {
	err := slack.PostWebhookCustomHTTPContext(ctx, responseURL, hc, m)
	if err == nil {
		return nil
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return fmt.Errorf("posting to the response_url: %w", urlErr.Err)
	}
	return errors.New(strings.ReplaceAll(err.Error(), responseURL, "[response_url]"))
}

// GroupMembers implements bot.GroupLister.
func (s *Slack) GroupMembers(ctx context.Context, group string) ([]string, error) {
	return s.api.GetUserGroupMembersContext(ctx, group)
}

func msgOptions(m bot.Message) []slack.MsgOption {
	return []slack.MsgOption{
		slack.MsgOptionText(fallbackText(m), false),
		slack.MsgOptionBlocks(blocks(m)...),
		slack.MsgOptionDisableLinkUnfurl(),
	}
}

// TokenRefused reports whether err is Slack refusing a token, and Slack's
// error code.
func TokenRefused(err error) (code string, refused bool) {
	var slackErr slack.SlackErrorResponse
	if !errors.As(err, &slackErr) {
		return "", false
	}
	switch slackErr.Err {
	case "invalid_auth", "not_authed", "token_revoked", "account_inactive", "not_allowed_token_type":
		return slackErr.Err, true
	}
	return slackErr.Err, false
}

// code is Slack's error code in err, or "".
func code(err error) string {
	var slackErr slack.SlackErrorResponse
	if errors.As(err, &slackErr) {
		return slackErr.Err
	}
	return ""
}

// chatError turns slack-go's errors into the ones the core understands.
func chatError(err error) error {
	if err == nil {
		return nil
	}
	switch code(err) {
	case "not_in_channel":
		return &bot.ChannelError{Problem: bot.ChannelNotMember}
	case "channel_not_found":
		return &bot.ChannelError{Problem: bot.ChannelHidden}
	case "is_archived":
		return &bot.ChannelError{Problem: bot.ChannelArchived}
	}
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return &bot.RateLimitedError{Err: err}
	}
	return err
}
