package slack

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/slack-go/slack"

	"github.com/sessionbot/sessionbot/bot"
)

// Posting when Slack is slow. chat.postMessage has no idempotency key: a
// call whose answer was lost (a timeout, a reset connection, a 5xx from a
// proxy) may still have posted, and posting again blindly posts twice. So
// every message of a request's trail carries its tag in its metadata, and
// a post whose answer was lost is looked for by that tag before it is made
// again. A 429 or a rate_limited is Slack saying it did not post: it is
// waited out (Retry-After) and made again. Slack refusing (not_in_channel,
// msg_too_long...) is final.

// tagType marks the metadata of a tagged message of ours.
const tagType = "sessionbot_message"

// Pacing of posts made again.
const (
	settleWait   = time.Second      // a lost call may land a moment after its answer was lost
	retryInitial = time.Second      // the first wait before posting again
	retryMax     = 30 * time.Second // the longest
	lookBack     = 10 * time.Second // clock skew between Slack and us, when looking
)

// tagMetadata is the metadata that tags m, if it has a tag.
func tagMetadata(m bot.Message) (slack.SlackMetadata, bool) {
	if m.Tag.RequestID == "" {
		return slack.SlackMetadata{}, false
	}
	return slack.SlackMetadata{EventType: tagType, EventPayload: map[string]any{
		"request_id": m.Tag.RequestID, "kind": string(m.Tag.Kind),
	}}, true
}

// post posts m in channel (in the thread of thread, when set) once: see
// above. It returns when the message is there, or when ctx ends, or when
// Slack refuses it; or, unless persist, when Slack is still rate limiting
// after slack-go's few retries (a person waits on the answer).
func (s *Slack) post(ctx context.Context, channel, thread string, m bot.Message, persist bool, extra ...slack.MsgOption) (string, error) {
	start := s.now()
	opts := append(msgOptions(m), extra...)
	if thread != "" {
		opts = append(opts, slack.MsgOptionTS(thread))
	}
	find := func(ctx context.Context) (string, error) {
		return s.Find(ctx, channel, thread, m.Tag, start)
	}
	return s.once(ctx, "chat.postMessage", m.Tag.RequestID, persist, func(ctx context.Context) (string, error) {
		_, ts, err := s.poster.PostMessageContext(ctx, channel, opts...)
		return ts, err
	}, find)
}

// once makes a call that must happen once (a post) until it is known to
// have happened, looking for it with find when its answer was lost. id
// names the request, for the log; a call without one is not looked for,
// and not made again when its answer was lost. Unless persist, Slack's
// rate limit ends it too.
func (s *Slack) once(ctx context.Context, what, id string, persist bool, call, find func(context.Context) (string, error)) (string, error) {
	wait := retryInitial
	for {
		ts, err := call(ctx)
		if err == nil {
			return ts, nil
		}
		if ctx.Err() != nil {
			return "", chatError(err)
		}
		pause := wait
		switch {
		case rateLimited(err) > 0 && !persist:
			return "", chatError(err)
		case rateLimited(err) > 0:
			pause = rateLimited(err)
		case !lostAnswer(err):
			return "", chatError(err) // Slack said no: nothing was posted
		case id == "":
			return "", chatError(err)
		default:
			s.log.Warn("Slack's answer was lost; looking for what it may have done before doing it again", "call", what, "request_id", id, "error", err)
			if !sleep(ctx, settleWait) {
				return "", chatError(err)
			}
			if ts, ferr := find(ctx); ferr != nil {
				s.log.Warn("could not look for it; doing it again, which may do it twice", "call", what, "request_id", id, "error", ferr)
			} else if ts != "" {
				return ts, nil
			}
		}
		if !sleep(ctx, pause/2+rand.N(pause/2+1)) {
			return "", chatError(err)
		}
		wait = min(2*wait, retryMax)
	}
}

// rateLimited is how long Slack asked to wait, when err is its rate limit
// (an HTTP 429 after slack-go's own retries, or rate_limited), or 0.
func rateLimited(err error) time.Duration {
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return max(rl.RetryAfter, time.Second)
	}
	if code(err) == "rate_limited" || code(err) == "ratelimited" {
		return retryInitial
	}
	return 0
}

// lostAnswer reports whether err leaves open whether Slack did the call:
// anything but Slack's own answer (ok:false) or its rate limit.
func lostAnswer(err error) bool {
	var answered slack.SlackErrorResponse
	return !errors.As(err, &answered) && rateLimited(err) == 0
}

// sleep waits d, or until ctx ends: false then.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Find implements bot.Chat: the message tagged tag in channel (in the
// thread of thread) since t, by its metadata.
func (s *Slack) Find(ctx context.Context, channel, thread string, tag bot.Tag, since time.Time) (string, error) {
	if tag.RequestID == "" {
		return "", nil
	}
	oldest := slackTS(since.Add(-lookBack))
	var msgs []slack.Message
	if thread == "" {
		resp, err := s.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
			ChannelID: channel, Oldest: oldest, Limit: historyPage, IncludeAllMetadata: true,
		})
		if err != nil {
			return "", chatError(err)
		}
		msgs = resp.Messages
	} else {
		replies, _, _, err := s.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
			ChannelID: channel, Timestamp: thread, Oldest: oldest, Limit: historyPage, IncludeAllMetadata: true,
		})
		if err != nil {
			return "", chatError(err)
		}
		msgs = replies
	}
	for _, msg := range msgs {
		if !s.ours(msg) || msg.Metadata.EventType != tagType {
			continue
		}
		p := msg.Metadata.EventPayload
		if id, _ := p["request_id"].(string); id != tag.RequestID {
			continue
		}
		if kind, _ := p["kind"].(string); kind == string(tag.Kind) {
			return msg.Timestamp, nil
		}
	}
	return "", nil
}

// ours reports whether msg was posted by this bot.
func (s *Slack) ours(msg slack.Message) bool {
	self := s.self.Load()
	return self == nil || msg.User == self.userID || msg.BotID == self.botID
}

// slackTS writes t as a Slack timestamp, "seconds.micros".
func slackTS(t time.Time) string { return fmt.Sprintf("%d.%06d", t.Unix(), t.Nanosecond()/1000) }
