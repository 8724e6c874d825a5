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
	if res.Replaces && to.ReplyTo != "" {
		err = s.replace(ctx, to, res.Answer)
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

// Post implements bot.Chat: once (post.go). A post a person waits on
// gives up when Slack keeps rate limiting it, and the person is told; a
// post of the audit channel's (a refusal's mirror) waits it out.
func (s *Slack) Post(ctx context.Context, channel, thread string, m bot.Message) (string, error) {
	return s.post(ctx, channel, thread, m, m.Tag.Kind == bot.KindRefusal)
}

// Reply implements bot.Chat: once (post.go), until ctx ends: it completes
// the trail of a decision made.
func (s *Slack) Reply(ctx context.Context, channel, ts string, m bot.Message, broadcast bool) error {
	var extra []slack.MsgOption
	if broadcast {
		extra = append(extra, slack.MsgOptionBroadcast())
	}
	_, err := s.post(ctx, channel, ts, m, true, extra...)
	return err
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

// private shows m to the requester only, by the first way that works:
//
//  1. an ephemeral message in the request's thread (when it has one, or
//     no response_url), which keeps the answer where it was asked;
//  2. its response_url, which reaches the requester even where the bot is
//     not a member, tried again on a 5xx, a 429 or a lost connection;
//  3. an ephemeral message in the channel, when the response_url failed
//     (expired after 30 minutes or 5 uses, or Slack errs);
//  4. a direct message, when the bot cannot post in the channel either.
func (s *Slack) private(ctx context.Context, to bot.Request, m bot.Message) error {
	ephemeral := func(ctx context.Context) error {
		if to.Channel == "" {
			return errors.New("no channel")
		}
		opts := append(msgOptions(m), slack.MsgOptionTS(to.Thread)) // an empty thread is none
		_, err := s.api.PostEphemeralContext(ctx, to.Channel, to.User, opts...)
		return chatError(err)
	}
	viaURL := func(ctx context.Context) error {
		if to.ReplyTo == "" {
			return errors.New("no response_url")
		}
		return s.respond(ctx, to.ReplyTo, &slack.WebhookMessage{
			ResponseType: slack.ResponseTypeEphemeral,
			Text:         fallbackText(m),
			Blocks:       &slack.Blocks{BlockSet: blocks(m)},
		})
	}
	dm := func(ctx context.Context) error { return s.direct(ctx, to.User, m) }
	ways := []answerWay{{"the response_url", viaURL}, {"an ephemeral message", ephemeral}, {"a direct message", dm}}
	if to.ReplyTo == "" || to.Thread != "" {
		ways[0], ways[1] = ways[1], ways[0]
	}
	return s.firstWay(ctx, to.User, ways)
}

// replace replaces the message a click came from, through the click's
// response_url (tried again like private's); when that fails, the answer
// reaches the requester privately another way.
func (s *Slack) replace(ctx context.Context, to bot.Request, m bot.Message) error {
	viaURL := func(ctx context.Context) error {
		return s.respond(ctx, to.ReplyTo, &slack.WebhookMessage{
			ResponseType:    slack.ResponseTypeEphemeral,
			ReplaceOriginal: true,
			Text:            fallbackText(m),
			Blocks:          &slack.Blocks{BlockSet: blocks(m)},
		})
	}
	err := viaURL(ctx)
	if err == nil {
		return nil
	}
	s.log.Info("could not replace the confirmation; answering privately another way", "user", to.User, "error", err)
	to.ReplyTo = "" // it failed: the others
	return s.private(ctx, to, m)
}

// answerWay is one way of reaching a requester privately.
type answerWay struct {
	name string
	try  func(context.Context) error
}

// firstWay tries each way in turn until one works.
func (s *Slack) firstWay(ctx context.Context, user string, ways []answerWay) error {
	var errs []error
	for i, w := range ways {
		err := w.try(ctx)
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", w.name, err))
		if i+1 < len(ways) && ctx.Err() == nil {
			s.log.Info("could not answer privately; trying another way", "user", user, "way", w.name, "next", ways[i+1].name, "error", err)
		}
	}
	return errors.Join(errs...)
}

// responseTries bounds posts to one response_url: Slack takes five.
const responseTries = 3

// respond posts to a response_url, again on a 5xx, a 429 or a lost
// connection (a duplicate private answer is better than none), not on a
// 4xx (expired, or used five times). That URL lets anyone post as the bot
// in its conversation for 30 minutes, so it never reaches an error (and so
// a log line): net/http's errors carry the URL they failed on.
func (s *Slack) respond(ctx context.Context, responseURL string, m *slack.WebhookMessage) error {
	wait := retryInitial
	for attempt := 1; ; attempt++ {
		err := slack.PostWebhookCustomHTTPContext(ctx, responseURL, s.http, m)
		if err == nil {
			return nil
		}
		var status slack.StatusCodeError
		final := errors.As(err, &status) && status.Code < 500 && status.Code != http.StatusTooManyRequests
		if final || attempt == responseTries || ctx.Err() != nil {
			return responseError(err, responseURL)
		}
		if !sleep(ctx, max(wait, rateLimited(err))) {
			return responseError(err, responseURL)
		}
		wait *= 2
	}
}

// responseError is err without the response_url it may carry.
func responseError(err error, responseURL string) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return fmt.Errorf("posting to the response_url: %w", urlErr.Err)
	}
	return errors.New(strings.ReplaceAll(err.Error(), responseURL, "[response_url]"))
}

// direct sends m to user in a direct message with the bot.
func (s *Slack) direct(ctx context.Context, user string, m bot.Message) error {
	im, _, _, err := s.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{user}, ReturnIM: true})
	if err != nil {
		return chatError(err)
	}
	_, err = s.post(ctx, im.ID, "", m, false)
	return err
}

// GroupMembers implements bot.GroupLister.
func (s *Slack) GroupMembers(ctx context.Context, group string) ([]string, error) {
	return s.api.GetUserGroupMembersContext(ctx, group)
}

func msgOptions(m bot.Message) []slack.MsgOption {
	opts := []slack.MsgOption{
		slack.MsgOptionText(fallbackText(m), false),
		slack.MsgOptionBlocks(blocks(m)...),
		slack.MsgOptionDisableLinkUnfurl(),
	}
	if md, ok := tagMetadata(m); ok {
		opts = append(opts, slack.MsgOptionMetadata(md))
	}
	return opts
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

// channelProblems are Slack's error codes for a channel the bot cannot
// post in, in the core's terms.
var channelProblems = map[string]bot.ChannelProblem{
	"not_in_channel":    bot.ChannelNotMember,
	"channel_not_found": bot.ChannelHidden,
	"is_archived":       bot.ChannelArchived,
}

// chatError turns slack-go's errors into the ones the core understands.
func chatError(err error) error {
	if err == nil {
		return nil
	}
	if p, ok := channelProblems[code(err)]; ok {
		return &bot.ChannelError{Problem: p}
	}
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return &bot.RateLimitedError{Err: err}
	}
	return err
}
