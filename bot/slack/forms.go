package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/sessionbot/sessionbot/bot"
)

// The modals and the home tab: opening them, their submissions, the
// picker's options. Their Block Kit is in views.go.

// onShortcut opens the modal of the message shortcut "Reset sessions",
// with the hashes found in the message: at once, for the trigger lasts
// 3 s, so nothing is looked up first.
func (s *Slack) onShortcut(work context.Context, b *bot.Bot, cb slack.InteractionCallback) {
	if cb.CallbackID != ShortcutCallbackID {
		s.log.Debug("ignored a shortcut", "callback_id", cb.CallbackID)
		return
	}
	req := bot.Request{Via: bot.ViaShortcut, User: cb.User.ID, Channel: cb.Channel.ID, ReplyTo: cb.ResponseURL}
	if _, res, done := b.Triage(req); done {
		s.aside(work, req, res)
		return
	}
	thread := cb.Message.ThreadTimestamp
	if thread == "" {
		thread = cb.Message.Timestamp
	}
	s.openView(work, req, cb.TriggerID, shortcutModal(bot.FindHashes(messageText(cb.Message)), formMeta{Channel: req.Channel, Thread: thread, Reply: cb.ResponseURL}))
}

// messageText is all the text of a message: its text, its blocks' and its
// attachments'.
func messageText(m slack.Message) string {
	var b strings.Builder
	b.WriteString(m.Text)
	if raw, err := json.Marshal(m.Blocks); err == nil {
		b.WriteString("\n" + content(raw))
	}
	for _, a := range m.Attachments {
		b.WriteString("\n" + a.Pretext + "\n" + a.Title + "\n" + a.Text + "\n" + a.Fallback + "\n" + a.Footer)
		for _, f := range a.Fields {
			b.WriteString("\n" + f.Title + "\n" + f.Value)
		}
	}
	return b.String()
}

// content collects every "text" and "url" string of a JSON document, in
// the order they appear.
func content(raw json.RawMessage) string {
	type frame struct {
		object    bool
		expectKey bool
		key       string
	}
	var out []string
	var stack []frame
	dec := json.NewDecoder(bytes.NewReader(raw))
	for {
		tok, err := dec.Token()
		if err != nil {
			return strings.Join(out, "\n")
		}
		var top *frame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				if top != nil && top.object {
					top.expectKey = true // the next token after this value is a key
				}
				stack = append(stack, frame{object: d == '{', expectKey: d == '{'})
			default:
				stack = stack[:len(stack)-1]
			}
			continue
		}
		if top == nil || !top.object {
			continue // a value in an array, or at the top
		}
		if top.expectKey {
			top.key, _ = tok.(string)
			top.expectKey = false
			continue
		}
		if s, ok := tok.(string); ok && (top.key == "text" || top.key == "url") {
			out = append(out, s)
		}
		top.expectKey = true
	}
}

// openView opens a modal with a trigger, off the event loop; when Slack
// refuses, the person is told privately.
func (s *Slack) openView(work context.Context, to bot.Request, trigger string, view slack.ModalViewRequest) {
	s.offLoop(s.views, work, to.User, func(ctx context.Context) {
		if _, err := s.api.OpenViewContext(ctx, trigger, view); err != nil {
			s.log.Warn("could not open a modal", "user", to.User, "callback_id", view.CallbackID, "error", err)
			if to.Channel != "" || to.ReplyTo != "" {
				if err := s.private(ctx, to, bot.FormNotOpened(code(err))); err != nil {
					s.log.Warn("could not say the modal did not open", "user", to.User, "error", err)
				}
			}
		}
	})
}

// formTimeout bounds checking a submission or finding options: Slack wants
// the answer within 3 s of sending the envelope.
const formTimeout = 2500 * time.Millisecond

// onSubmission runs a submitted modal, answering in the ack once it is
// checked: errors beside its fields, a confirmation listing its targets,
// or nothing (the modal closes) as the reset goes on.
func (s *Slack) onSubmission(work context.Context, b *bot.Bot, c *socket, id string, cb slack.InteractionCallback) {
	if cb.View.CallbackID != formCallbackID && cb.View.CallbackID != pickerCallbackID {
		s.ack(c, id, nil)
		return
	}
	req := submission(cb)
	req.AnswerBy = s.now().Add(formTimeout)
	req, res, done := b.Triage(req)
	if done {
		s.ack(c, id, formAck(cb.View, req, res))
		return
	}
	if !s.commands.take(req.User) {
		s.refusedBusy(req.User)
		s.ack(c, id, formErrors(cb.View, &bot.FormProblem{Field: bot.FieldTargets, Text: bot.FormBusy}))
		return
	}
	s.goHandle(work, req.User, func(ctx context.Context) {
		acked := false
		req.Proceed = func(bot.Result) bool {
			s.ack(c, id, nil) // the modal closes; what follows is said privately
			acked = true
			return true
		}
		res := b.Handle(ctx, req)
		if !acked {
			s.ack(c, id, formAck(cb.View, req, res))
			return
		}
		s.answer(ctx, req, res)
	})
}

// formAck is the ack of a submission that did not proceed: its problem
// beside a field, or the confirmation that lists its targets.
func formAck(view slack.View, req bot.Request, res bot.Result) any {
	if res.Confirm {
		v := confirmModal(req, res)
		return slack.NewUpdateViewSubmissionResponse(&v)
	}
	p := res.Problem
	if p == nil {
		p = &bot.FormProblem{Field: bot.FieldTargets, Text: bot.PlainText(res.Answer.Text)}
	}
	return formErrors(view, p)
}

// onSuggestion answers a picker's typing with sub-users, within Slack's
// 3 s, or with an option that says why there are none. Typing does not
// count against the rate limit; each answer takes a slot for its moment.
func (s *Slack) onSuggestion(work context.Context, b *bot.Bot, c *socket, id string, cb slack.InteractionCallback) {
	user := cb.User.ID
	if !s.commands.take(user) {
		s.ack(c, id, options(nil, bot.PickBusy))
		return
	}
	channel := parseMeta(cb.View.PrivateMetadata).Channel
	s.goHandle(work, user, func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, formTimeout)
		defer cancel()
		s.ack(c, id, options(b.Suggest(ctx, user, channel, cb.Value)))
	})
}

// publishHome publishes user's home tab, once at a time per user. An open
// while one is being made is not dropped, since that one may already have
// read what it shows: it asks for one more publish after it, and any
// further opens meanwhile are answered by that one.
func (s *Slack) publishHome(work context.Context, b *bot.Bot, user string) {
	s.homeMu.Lock()
	if _, running := s.homes[user]; running {
		s.homes[user] = true
		s.homeMu.Unlock()
		s.log.Debug("the home tab is being published; it will be published again after", "user", user)
		return
	}
	s.homes[user] = false
	s.homeMu.Unlock()
	// again says whether another open came meanwhile, and if not, ends
	// this user's publishing.
	again := func() bool {
		s.homeMu.Lock()
		defer s.homeMu.Unlock()
		if s.homes[user] {
			s.homes[user] = false
			return true
		}
		delete(s.homes, user)
		return false
	}
	// Each publish has its own offLoopTimeout: a slow first one must not
	// leave the next none.
	started := s.offLoop(s.asides, work, user, func(context.Context) {
		for more := true; more; more = again() {
			ctx, cancel := context.WithTimeout(work, offLoopTimeout)
			h := b.Home(ctx, user)
			if _, err := s.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: user, View: homeView(h)}); err != nil {
				s.log.Warn("could not publish the home tab", "user", user, "error", err)
			}
			cancel()
		}
	})
	if !started {
		s.homeMu.Lock()
		delete(s.homes, user)
		s.homeMu.Unlock()
	}
}
