package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/sessionbot/sessionbot/bot"
)

// Journal keeps the core's journal in a Slack channel (AUDIT_CHANNEL): each
// entry is its request's audit message there, and the entry itself rides on
// the message as metadata, which conversations.history gives back. Slack
// outlives our pods, and reactions.add, which answers already_reacted to a
// second identical reaction, arbitrates between replicas.
//
// Reading it needs the channels:history scope (groups:history for a
// private channel), and the bot must be a member of the channel.
type Journal struct {
	s       *Slack
	channel string
}

// Journal returns the journal kept in channel.
func (s *Slack) Journal(channel string) *Journal { return &Journal{s: s, channel: channel} }

// eventType marks sessionbot's journal entries among a message's metadata.
const eventType = "sessionbot_reset"

// maxTargetsField bounds the targets in an entry's metadata: usernames are
// dropped first (the hashes are what matter), to keep the payload small.
const maxTargetsField = 4000

// A sweep reads the journal's window a page at a time. At Slack's pace of
// about a message a second in a channel, a window of ten minutes is one
// page; maxHistoryPages bounds a sweep's calls whatever the channel holds.
const (
	historyPage     = 999
	maxHistoryPages = 10
)

// Write implements bot.Journal: the entry is posted once (post.go), looked
// for by its request ID when an answer is lost, until it is there or ctx
// ends.
func (j *Journal) Write(ctx context.Context, e bot.Entry, m bot.Message) (string, error) {
	opts := append(msgOptions(m), slack.MsgOptionMetadata(encodeEntry(e)))
	since := j.s.now()
	return j.s.once(ctx, "journal write", e.RequestID, true, func(ctx context.Context) (string, error) {
		_, ts, err := j.s.poster.PostMessageContext(ctx, j.channel, opts...)
		return ts, err
	}, func(ctx context.Context) (string, error) {
		entries, err := j.read(ctx, since.Add(-lookBack), 1)
		for _, found := range entries {
			if found.RequestID == e.RequestID {
				return found.Ref, nil
			}
		}
		return "", err
	})
}

// Rewrite implements bot.Journal: an update may be made twice, so it is
// made again, whatever the failure, until it is done or ctx ends; a 429
// waits out its Retry-After.
func (j *Journal) Rewrite(ctx context.Context, e bot.Entry, m bot.Message) error {
	opts := append(msgOptions(m), slack.MsgOptionMetadata(encodeEntry(e)))
	wait := retryInitial
	for {
		_, _, _, err := j.s.trail.UpdateMessageContext(ctx, j.channel, e.Ref, opts...)
		refused := !lostAnswer(err) && rateLimited(err) == 0 // Slack's final no: message_not_found, say
		if err == nil || refused || ctx.Err() != nil {
			return chatError(err)
		}
		pause := max(wait, rateLimited(err))
		if !sleep(ctx, pause) {
			return chatError(err)
		}
		wait = min(2*wait, retryMax)
	}
}

// Claim implements bot.Journal with a reaction: Slack adds it once, and
// answers already_reacted to the same bot user on every other replica.
// It is never made again blindly: a second reactions.add whose first
// answer was lost would answer already_reacted, and its claimant would
// believe another had won. A lost answer is an error: the claimant does
// not act, the entry stays open, and its click or its sweep comes again.
func (j *Journal) Claim(ctx context.Context, ref, mark string) (bool, error) {
	err := j.s.poster.AddReactionContext(ctx, mark, slack.NewRefToMessage(j.channel, ref))
	switch {
	case err == nil:
		return true, nil
	case code(err) == "already_reacted":
		return false, nil
	}
	return false, chatError(err)
}

// Read implements bot.Journal: the one message at ref.
func (j *Journal) Read(ctx context.Context, ref string) (bot.Entry, error) {
	resp, err := j.s.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
		ChannelID: j.channel, Latest: ref, Oldest: ref, Inclusive: true, Limit: 1, IncludeAllMetadata: true,
	})
	if err != nil {
		return bot.Entry{}, chatError(err)
	}
	for _, msg := range resp.Messages {
		if msg.Timestamp == ref {
			if e, ok := j.decode(msg); ok {
				return e, nil
			}
		}
	}
	return bot.Entry{}, bot.ErrNotFound
}

// Since implements bot.Journal: the window from t, at most
// maxHistoryPages calls.
func (j *Journal) Since(ctx context.Context, t time.Time) ([]bot.Entry, error) {
	entries, err := j.read(ctx, t, maxHistoryPages)
	if err != nil {
		return entries, fmt.Errorf("reading the journal in %s: %w", j.channel, err)
	}
	return entries, nil
}

// read returns the entries posted since t, newest first, reading at most
// pages pages.
func (j *Journal) read(ctx context.Context, t time.Time, pages int) ([]bot.Entry, error) {
	params := &slack.GetConversationHistoryParameters{
		ChannelID: j.channel, Oldest: slackTS(t), Limit: historyPage, IncludeAllMetadata: true,
	}
	var out []bot.Entry
	for page := range pages {
		resp, err := j.s.api.GetConversationHistoryContext(ctx, params)
		if err != nil {
			return out, chatError(err)
		}
		for _, msg := range resp.Messages {
			if e, ok := j.decode(msg); ok {
				out = append(out, e)
			}
		}
		if !resp.HasMore || resp.ResponseMetaData.NextCursor == "" {
			return out, nil
		}
		if page == pages-1 {
			j.s.log.Warn("the journal holds more than a sweep reads; the oldest open entries wait for the next", "channel", j.channel, "pages", pages)
		}
		params.Cursor = resp.ResponseMetaData.NextCursor
	}
	return out, nil
}

// decode reads a journal entry off a message of ours.
func (j *Journal) decode(msg slack.Message) (bot.Entry, bool) {
	if msg.Metadata.EventType != eventType {
		return bot.Entry{}, false
	}
	// Only our own entries: another app in the channel could write metadata
	// of the same type.
	if self := j.s.self.Load(); self != nil && msg.User != self.userID && msg.BotID != self.botID {
		return bot.Entry{}, false
	}
	e, err := decodeEntry(msg.Metadata.EventPayload)
	if err != nil {
		j.s.log.Warn("ignored a journal entry sessionbot cannot read", "channel", j.channel, "ts", msg.Timestamp, "error", err)
		return bot.Entry{}, false
	}
	e.Ref = msg.Timestamp
	e.Announced, _ = tsTime(e.Thread)
	return e, true
}

// tsTime reads a Slack timestamp ("1764158400.000100") as a time: when
// Slack posted the message, by its clock.
func tsTime(ts string) (time.Time, bool) {
	secs, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(secs, 10, 64)
	if err != nil || s <= 0 {
		return time.Time{}, false
	}
	var ns int64
	if frac != "" {
		frac = (frac + "000000000")[:9]
		if ns, err = strconv.ParseInt(frac, 10, 64); err != nil {
			return time.Time{}, false
		}
	}
	return time.Unix(s, ns), true
}

// The layout of an entry's metadata. Values are flat strings and numbers,
// which is what Slack's metadata accepts everywhere.
const entryVersion = 1

func encodeEntry(e bot.Entry) slack.SlackMetadata {
	p := map[string]any{
		"v":          entryVersion,
		"request_id": e.RequestID,
		"state":      string(e.State),
		"source":     e.Source,
		"user":       e.User,
		"channel":    e.Channel,
		"thread_ts":  e.Thread,
		"root_ts":    e.Root,
		"targets":    encodeTargets(e.Targets),
		"started":    e.Started.Unix(),
	}
	if !e.Expires.IsZero() {
		p["expires"] = e.Expires.Unix()
	}
	if e.Took > 0 {
		p["took_ms"] = e.Took.Milliseconds()
	}
	if e.Reason != "" {
		p["reason"] = e.Reason
	}
	if e.Trail != "" {
		p["trail"] = string(e.Trail)
	}
	if len(e.Approvers) > 0 {
		sets := make([]string, len(e.Approvers))
		for i, set := range e.Approvers {
			sets[i] = strings.Join(set, " ")
		}
		p["approvers"] = strings.Join(sets, "|")
		p["why"] = e.Why
	}
	if e.Decider != "" {
		p["decider"] = e.Decider
		p["decided"] = e.Decided.Unix()
	}
	return slack.SlackMetadata{EventType: eventType, EventPayload: p}
}

// encodeTargets writes "HASH:username HASH ...", without the usernames when
// they would make it too long.
func encodeTargets(ts []bot.Target) string {
	var b strings.Builder
	for _, withNames := range []bool{true, false} {
		b.Reset()
		for i, t := range ts {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(t.Hash)
			if withNames && t.Username != "" {
				b.WriteString(":" + t.Username)
			}
		}
		if b.Len() <= maxTargetsField {
			break
		}
	}
	return b.String()
}

func decodeEntry(p map[string]any) (bot.Entry, error) {
	str := func(k string) string { s, _ := p[k].(string); return s }
	num := func(k string) int64 {
		switch v := p[k].(type) {
		case float64:
			return int64(v)
		case json.Number:
			n, _ := v.Int64()
			return n
		case string:
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
		return 0
	}
	if v := num("v"); v != entryVersion {
		return bot.Entry{}, fmt.Errorf("journal entry version %d, want %d", v, entryVersion)
	}
	e := bot.Entry{
		RequestID: str("request_id"),
		State:     bot.State(str("state")),
		Source:    str("source"),
		User:      str("user"),
		Channel:   str("channel"),
		Thread:    str("thread_ts"),
		Root:      str("root_ts"),
		Started:   time.Unix(num("started"), 0),
		Took:      time.Duration(num("took_ms")) * time.Millisecond,
		Reason:    str("reason"),
		Trail:     bot.Trail(str("trail")),
	}
	if exp := num("expires"); exp > 0 {
		e.Expires = time.Unix(exp, 0)
	}
	if sets := str("approvers"); sets != "" {
		for _, set := range strings.Split(sets, "|") {
			e.Approvers = append(e.Approvers, strings.Fields(set))
		}
		e.Why = str("why")
	}
	if e.Decider = str("decider"); e.Decider != "" {
		e.Decided = time.Unix(num("decided"), 0)
	}
	for _, w := range strings.Fields(str("targets")) {
		hash, name, _ := strings.Cut(w, ":")
		e.Targets = append(e.Targets, bot.Target{Hash: hash, Username: name})
	}
	if e.RequestID == "" || e.State == "" {
		return bot.Entry{}, fmt.Errorf("journal entry without a request ID or a state")
	}
	return e, nil
}
