// Package slack connects sessionbot's core to Slack: Socket Mode for
// commands and clicks, the Web API for posting, and Block Kit for rendering
// the core's plain messages. Its double, slacktest, is beside it.
package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/sessionbot/sessionbot/bot"
)

// Options configure the Socket Mode adapter.
type Options struct {
	AppToken string // xapp-..., for Socket Mode
	BotToken string // xoxb-..., for the Web API
	APIURL   string // Web API base, ending in "/"
	// MaxConcurrent bounds the commands handled at once; beyond it a command
	// is refused at once with a "busy, try again" message. Default 100. One
	// person may hold a tenth of it (at least one).
	MaxConcurrent int
	// HTTPClient for the Web API and response_url posts; default has a 15 s timeout.
	HTTPClient *http.Client
	Log        *slog.Logger
	Metrics    *bot.Metrics
	Now        func() time.Time // the heartbeat's clock; default time.Now
}

// Slack connects the core to Slack over Socket Mode. It implements
// bot.Chat and bot.GroupLister.
type Slack struct {
	// api makes the calls a person waits on, which give up after a few
	// retries; trail makes the calls that complete the trail of a decision
	// already made (thread replies, updates, reactions), which are retried
	// on 5xx too, until their context ends.
	api     *slack.Client
	trail   *slack.Client
	http    *http.Client
	log     *slog.Logger
	metrics *bot.Metrics
	now     func() time.Time

	sem      chan struct{} // a slot per command in flight
	perUser  int           // the most slots one user may hold
	slotMu   sync.Mutex
	slots    map[string]int  // slots held, by user
	asides   chan struct{}   // answers sent off the event loop, bounded
	views    chan struct{}   // views.open calls, bounded apart: a trigger lasts 3 s
	offUser  map[string]int  // asides and views in flight, by user (under slotMu)
	homes    map[string]bool // home tabs being published, by user: true if asked for again (under slotMu)
	tasks    chan func()     // to a worker waiting for one
	quit     chan struct{}   // closed when Run returns: idle workers exit
	workers  atomic.Int32    // running or waiting
	inFlight sync.WaitGroup
	ready    atomic.Bool
	lastBeat atomic.Int64 // unix nanoseconds of the event loop's last turn

	seen      map[string]time.Time // envelope IDs handled recently; the event loop's only
	nextSweep time.Time            // when duplicate next forgets old IDs

	self atomic.Pointer[identity] // who the bot is, from AuthTest
}

// identity is the bot's own, as auth.test tells it.
type identity struct {
	userID, botID string
	name          string // the bot user's name, for "@name reset" in answers
	url           string // the workspace, https://team.slack.com/
}

// New builds the adapter; nothing connects until Run.
func New(o Options) *Slack {
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = 100
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 15 * time.Second, Transport: bot.PooledTransport()}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	client := func(retry slack.RetryConfig) *slack.Client {
		return slack.New(o.BotToken,
			slack.OptionAppLevelToken(o.AppToken),
			slack.OptionAPIURL(o.APIURL),
			slack.OptionHTTPClient(o.HTTPClient),
			// After OptionHTTPClient, so the retries wrap that client: 429s
			// honour Retry-After, connection errors back off.
			slack.OptionRetryConfig(retry),
		)
	}
	retry := slack.DefaultRetryConfig()
	retry.MaxRetries = 3
	retry.RetryAfterJitter = 250 * time.Millisecond
	retry.Handlers = slack.AllBuiltinRetryHandlers(retry)

	// About a minute of retries (the caller's context decides), 5xx
	// included: a decision is made, and its trail must reach Slack.
	persistent := retry
	persistent.MaxRetries = 12
	persistent.BackoffInitial = 250 * time.Millisecond
	persistent.BackoffMax = 8 * time.Second
	persistent.BackoffJitter = 250 * time.Millisecond
	persistent.Handlers = append(slack.AllBuiltinRetryHandlers(persistent), slack.NewServerErrorRetryHandler(persistent))

	s := &Slack{
		api:     client(retry),
		trail:   client(persistent),
		http:    o.HTTPClient,
		log:     o.Log,
		metrics: o.Metrics,
		now:     o.Now,
		sem:     make(chan struct{}, o.MaxConcurrent),
		perUser: max(1, o.MaxConcurrent/10),
		slots:   map[string]int{},
		asides:  make(chan struct{}, 16),
		views:   make(chan struct{}, 16),
		offUser: map[string]int{},
		homes:   map[string]bool{},
		tasks:   make(chan func()),
		quit:    make(chan struct{}),
		seen:    map[string]time.Time{},
	}
	s.beat()
	return s
}

// AuthTest checks the bot token and says which bot and team it belongs to.
// The adapter remembers the answer: it links to messages with the
// workspace's address, and trusts only its own journal entries.
func (s *Slack) AuthTest(ctx context.Context) (*slack.AuthTestResponse, error) {
	who, err := s.api.AuthTestContext(ctx)
	if err == nil {
		s.self.Store(&identity{userID: who.UserID, botID: who.BotID, name: who.User, url: who.URL})
	}
	return who, err
}

// Ready reports whether the Socket Mode connection is up.
func (s *Slack) Ready() bool { return s.ready.Load() }

func (s *Slack) setReady(ok bool) {
	s.ready.Store(ok)
	if s.metrics != nil {
		v := 0.0
		if ok {
			v = 1
		}
		s.metrics.SlackConnected.Set(v)
	}
}

// HeartbeatBound is how long the event loop may go without turning before
// Healthy says the process is stuck. A live loop turns at every frame and
// every ping from Slack (every few seconds), and at least every minute
// while it waits to reconnect.
const HeartbeatBound = 90 * time.Second

// beat records that the event loop turned.
func (s *Slack) beat() { s.lastBeat.Store(s.now().UnixNano()) }

// Healthy reports whether the event loop turned within HeartbeatBound,
// and when it last did.
func (s *Slack) Healthy() (ok bool, last time.Time) {
	last = time.Unix(0, s.lastBeat.Load())
	return s.now().Sub(last) <= HeartbeatBound, last
}

// Run connects and serves commands until ctx ends, then lets the commands
// in flight finish (their replies are posted) for up to drain, and returns
// nil. Commands still running then are cancelled with bot.ErrStopping,
// and say so in their threads, within a few seconds, before Run returns.
// It returns an error early only when Slack refuses the app token.
func (s *Slack) Run(ctx context.Context, b *bot.Bot, drain time.Duration) error {
	// Commands outlive ctx: a SIGTERM stops new work, not work in progress.
	work, stopWork := context.WithCancelCause(context.WithoutCancel(ctx))
	defer stopWork(nil)
	defer close(s.quit)

	runErr := s.runSocket(ctx, b, work)
	s.setReady(false)

	done := make(chan struct{})
	go func() { s.inFlight.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(drain):
		s.log.Warn("shutdown timeout: stopping the commands still in flight; each tells its thread", "timeout", drain)
		stopWork(bot.ErrStopping)
		<-done
	}
	if runErr == nil {
		return nil
	}
	return fmt.Errorf("slack socket mode: %w", runErr)
}

// dispatch handles one envelope, on the connection's reader: it must never
// wait on the Web API or on IPRoyal.
func (s *Slack) dispatch(work context.Context, b *bot.Bot, c *socket, env envelope) {
	switch env.Type {
	case "slash_commands":
		s.onSlashCommand(work, b, c, env)
	case "interactive":
		s.onInteractive(work, b, c, env)
	case "events_api":
		s.onEvent(work, b, c, env)
	default:
		if env.EnvelopeID != "" {
			s.ack(c, env.EnvelopeID, nil)
		}
		s.log.Warn("ignored a frame sessionbot cannot use", "type", env.Type, "envelope_id", env.EnvelopeID)
	}
}

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

// onSlashCommand acknowledges at once and handles the command on a worker:
// nothing here waits on IPRoyal or the Web API. What the core can answer
// from memory (a rate limit, help, a refusal) goes in the ack itself, and
// takes no slot.
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
		s.ack(c, id, ephemeral(bot.Message{Text: fmt.Sprintf("sessionbot only answers `%s`.", b.Command())}))
		s.log.Warn("ignored an unknown slash command", "command", cmd.Command)
		return
	}
	req := bot.Command{User: cmd.UserID, Channel: cmd.ChannelID, Text: cmd.Text, ReplyTo: cmd.ResponseURL}
	if strings.TrimSpace(cmd.Text) == "" {
		// No arguments: the picker, a modal to choose sub-users by name.
		if answer, done := b.TriageForm(req.User, req.Channel, "picker"); done {
			s.ack(c, id, ephemeral(answer))
			return
		}
		s.ack(c, id, nil)
		s.openView(work, req, cmd.TriggerID, pickerModal(formMeta{Channel: req.Channel, Reply: req.ReplyTo}))
		return
	}
	if answer, done := b.Triage(req); done {
		s.ack(c, id, ephemeral(answer))
		return
	}
	if !s.take(req.User) {
		s.ack(c, id, ephemeral(bot.BusyMessage()))
		s.refusedBusy(req.User)
		return
	}
	s.ack(c, id, nil)
	s.goHandle(work, req.User, func(ctx context.Context) { b.Handle(ctx, req) })
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
		if answer, done := b.TriageForm(cb.User.ID, "", "picker"); done {
			s.aside(work, bot.Command{User: cb.User.ID}, answer) // no channel: said nowhere but the log
			return
		}
		s.openView(work, bot.Command{User: cb.User.ID}, cb.TriggerID, pickerModal(formMeta{}))
		return
	}
	tok, confirm := joinToken(a.Value, a.BlockID, a.ActionID)
	if tok == "" {
		s.log.Debug("ignored a click on something else", "action_id", a.ActionID)
		return
	}
	click := bot.Click{User: cb.User.ID, Channel: cb.Channel.ID, Token: tok, Confirm: confirm, ReplyTo: cb.ResponseURL}
	if answer, done := b.TriageClick(click); done {
		s.aside(work, bot.Command{User: click.User, ReplyTo: click.ReplyTo}, answer)
		return
	}
	if !s.take(click.User) {
		s.refusedBusy(click.User)
		s.aside(work, bot.Command{User: click.User, ReplyTo: click.ReplyTo}, bot.BusyMessage())
		return
	}
	s.goHandle(work, click.User, func(ctx context.Context) { b.HandleClick(ctx, click) })
}

// onShortcut opens the modal of the message shortcut "Reset sessions",
// with the hashes found in the message: at once, for the trigger lasts
// 3 s, so nothing is looked up first.
func (s *Slack) onShortcut(work context.Context, b *bot.Bot, cb slack.InteractionCallback) {
	if cb.CallbackID != ShortcutCallbackID {
		s.log.Debug("ignored a shortcut", "callback_id", cb.CallbackID)
		return
	}
	to := bot.Command{User: cb.User.ID, Channel: cb.Channel.ID, ReplyTo: cb.ResponseURL}
	if answer, done := b.TriageForm(to.User, to.Channel, "shortcut"); done {
		s.aside(work, to, answer)
		return
	}
	thread := cb.Message.ThreadTimestamp
	if thread == "" {
		thread = cb.Message.Timestamp
	}
	s.openView(work, to, cb.TriggerID, shortcutModal(bot.FindHashes(messageText(cb.Message)), formMeta{Channel: to.Channel, Thread: thread, Reply: cb.ResponseURL}))
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
func (s *Slack) openView(work context.Context, to bot.Command, trigger string, view slack.ModalViewRequest) {
	s.offLoopIn(s.views, "view:"+to.User, work, to.User, func(ctx context.Context) {
		if _, err := s.api.OpenViewContext(ctx, trigger, view); err != nil {
			s.log.Warn("could not open a modal", "user", to.User, "callback_id", view.CallbackID, "error", err)
			if to.Channel != "" || to.ReplyTo != "" {
				_ = s.Private(ctx, to, bot.Message{Text: ":warning: sessionbot could not open its form (Slack said: " + escapeText(code(err)) + "). Try again."})
			}
		}
	})
}

// formTimeout bounds checking a submission or finding options: Slack wants
// the answer within 3 s.
const formTimeout = 2500 * time.Millisecond

// onSubmission checks a submitted modal and answers in the ack: errors
// beside its fields, or nothing (the modal closes) and the reset runs.
func (s *Slack) onSubmission(work context.Context, b *bot.Bot, c *socket, id string, cb slack.InteractionCallback) {
	if cb.View.CallbackID != formCallbackID && cb.View.CallbackID != pickerCallbackID {
		s.ack(c, id, nil)
		return
	}
	form := submission(cb)
	if !s.take(form.User) {
		s.refusedBusy(form.User)
		s.ack(c, id, formErrors(cb.View, []bot.FormProblem{{Field: bot.FieldTargets, Text: "sessionbot is handling too many requests right now; submit again in a few seconds."}}))
		return
	}
	s.goHandle(work, form.User, func(ctx context.Context) {
		check, cancel := context.WithTimeout(ctx, formTimeout)
		checked, problems := b.CheckForm(check, form)
		late := check.Err() != nil
		cancel()
		switch {
		case len(problems) > 0:
			s.ack(c, id, formErrors(cb.View, problems))
			return
		case late:
			// Slack has shown the requester an error by now: running it
			// anyway would reset what they may well submit again.
			s.log.Warn("a form's checks took too long; nothing was run", "user", form.User)
			s.ack(c, id, formErrors(cb.View, []bot.FormProblem{{Field: bot.FieldTargets, Text: "Checking this took too long, so nothing was reset. Submit again."}}))
			return
		case checked.Confirm:
			view := confirmModal(checked, form)
			s.ack(c, id, slack.NewUpdateViewSubmissionResponse(&view))
			return
		}
		s.ack(c, id, nil)
		b.RunForm(ctx, checked)
	})
}

// onSuggestion answers a picker's typing with sub-users, within Slack's
// 3 s, or with an option that says why there are none. Typing does not
// count against the rate limit; each answer takes a slot for its moment.
func (s *Slack) onSuggestion(work context.Context, b *bot.Bot, c *socket, id string, cb slack.InteractionCallback) {
	user := cb.User.ID
	if !s.take(user) {
		s.ack(c, id, options(nil, "sessionbot is busy: type again in a moment"))
		return
	}
	channel := parseMeta(cb.View.PrivateMetadata).Channel
	s.goHandle(work, user, func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, formTimeout)
		defer cancel()
		s.ack(c, id, options(b.Suggest(ctx, user, channel, cb.Value)))
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
	name := "sessionbot"
	if self != nil && self.name != "" {
		name = self.name
	}
	botUser := ""
	if self != nil {
		botUser = self.userID
	}
	text, ok := mentionText(e.Text, botUser)
	if !ok {
		s.log.Debug("ignored a mention that is not a command", "channel", e.Channel, "ts", e.TimeStamp)
		return
	}
	cmd := bot.Command{User: e.User, Channel: e.Channel, Text: text, Thread: thread, Via: "mention", Prefix: "@" + name + " reset"}
	if answer, done := b.Triage(cmd); done {
		s.aside(work, cmd, answer)
		return
	}
	if !s.take(cmd.User) {
		s.refusedBusy(cmd.User)
		s.aside(work, cmd, bot.BusyMessage())
		return
	}
	s.goHandle(work, cmd.User, func(ctx context.Context) {
		// The claim: one reaction by one bot user, whichever replica asks.
		err := s.api.AddReactionContext(ctx, mentionClaim, slack.NewRefToMessage(e.Channel, e.TimeStamp))
		switch {
		case code(err) == "already_reacted":
			s.log.Info("ignored a mention another delivery took", "channel", e.Channel, "ts", e.TimeStamp, "retry_attempt", env.RetryAttempt)
			return
		case err != nil:
			s.log.Warn("could not mark the mention as seen; handling it anyway", "channel", e.Channel, "ts", e.TimeStamp, "error", err)
		}
		b.Handle(ctx, cmd)
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

// aside answers privately off the event loop, which must never wait on the
// Web API.
func (s *Slack) aside(work context.Context, to bot.Command, m bot.Message) {
	if to.Channel == "" && to.ReplyTo == "" {
		s.log.Info("an answer with nowhere to go", "user", to.User, "answer", m.Text)
		return
	}
	s.offLoop(work, to.User, func(ctx context.Context) {
		if err := s.Private(ctx, to, m); err != nil {
			s.log.Warn("private answer failed", "user", to.User, "error", err)
		}
	})
}

// offLoop runs one Web API call's worth of work off the event loop. At
// most cap(s.asides) run at once, and offShare for one user; past that,
// under a flood, one is dropped and logged.
func (s *Slack) offLoop(work context.Context, user string, f func(context.Context)) bool {
	return s.offLoopIn(s.asides, user, work, user, f)
}

// offShare is how many off-loop calls one user may have in flight.
const offShare = 2

// offLoopIn is offLoop in pool, with key counting against the user's
// share there. It says whether f was started.
func (s *Slack) offLoopIn(pool chan struct{}, key string, work context.Context, user string, f func(context.Context)) bool {
	s.slotMu.Lock()
	if s.offUser[key] >= offShare {
		s.slotMu.Unlock()
		s.log.Warn("dropped an answer: this user has too many in flight", "user", user)
		return false
	}
	select {
	case pool <- struct{}{}:
		s.offUser[key]++
		s.slotMu.Unlock()
	default:
		s.slotMu.Unlock()
		s.log.Warn("dropped an answer: too many in flight", "user", user)
		return false
	}
	go func() {
		defer func() {
			s.slotMu.Lock()
			if s.offUser[key]--; s.offUser[key] <= 0 {
				delete(s.offUser, key)
			}
			s.slotMu.Unlock()
			<-pool
		}()
		ctx, cancel := context.WithTimeout(work, offLoopTimeout)
		defer cancel()
		f(ctx)
	}()
	return true
}

// offLoopTimeout bounds one piece of work done off the event loop.
const offLoopTimeout = 15 * time.Second

// publishHome publishes user's home tab, once at a time per user. An open
// while one is being made is not dropped, since that one may already have
// read what it shows: it asks for one more publish after it, and any
// further opens meanwhile are answered by that one.
func (s *Slack) publishHome(work context.Context, b *bot.Bot, user string) {
	s.slotMu.Lock()
	if _, running := s.homes[user]; running {
		s.homes[user] = true
		s.slotMu.Unlock()
		s.log.Debug("the home tab is being published; it will be published again after", "user", user)
		return
	}
	s.homes[user] = false
	s.slotMu.Unlock()
	// again says whether another open came meanwhile, and if not, ends
	// this user's publishing.
	again := func() bool {
		s.slotMu.Lock()
		defer s.slotMu.Unlock()
		if s.homes[user] {
			s.homes[user] = false
			return true
		}
		delete(s.homes, user)
		return false
	}
	// Each publish has its own offLoopTimeout: a slow first one must not
	// leave the next none.
	started := s.offLoop(work, user, func(context.Context) {
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
		s.slotMu.Lock()
		delete(s.homes, user)
		s.slotMu.Unlock()
	}
}

func (s *Slack) refusedBusy(user string) {
	s.log.Warn("refused a request: too many in flight, or this user's share of them", "user", user, "limit", cap(s.sem), "per_user", s.perUser)
	if s.metrics != nil {
		s.metrics.Commands.WithLabelValues(string(bot.OutcomeBusy)).Inc()
	}
}

// take gives user a slot, unless all are taken or user holds their share:
// one person, allowed or not, never holds more than a tenth of them.
func (s *Slack) take(user string) bool {
	s.slotMu.Lock()
	defer s.slotMu.Unlock()
	if s.slots[user] >= s.perUser {
		return false
	}
	select {
	case s.sem <- struct{}{}:
		s.slots[user]++
		return true
	default:
		return false
	}
}

func (s *Slack) release(user string) {
	s.slotMu.Lock()
	if s.slots[user]--; s.slots[user] <= 0 {
		delete(s.slots, user)
	}
	s.slotMu.Unlock()
	<-s.sem
}

// goHandle runs f on a worker, counted as in flight (the core bounds its
// time); the caller took a slot for user, which f's end releases.
func (s *Slack) goHandle(work context.Context, user string, f func(context.Context)) {
	s.inFlight.Add(1)
	if s.metrics != nil {
		s.metrics.InFlight.Inc()
	}
	task := func() {
		defer func() {
			s.release(user)
			if s.metrics != nil {
				s.metrics.InFlight.Dec()
			}
			s.inFlight.Done()
		}()
		f(work)
	}
	select {
	case s.tasks <- task: // an idle worker takes it
	default:
		go s.worker(task, s.quit)
	}
}

// workerIdle is how long a worker waits for another command before it exits.
const workerIdle = 10 * time.Second

// worker runs task, then each task handed to it, until it has waited
// workerIdle for one or quit is closed. Reusing goroutines saves about 5% of
// the CPU per command (BENCHMARKS.md): slack-go's JSON encoding grows a
// command's stack to tens of KiB, and a new goroutine per command paid for
// that growth every time.
func (s *Slack) worker(task func(), quit <-chan struct{}) {
	s.workers.Add(1)
	defer s.workers.Add(-1)
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		task()
		idle.Reset(workerIdle)
		select {
		case task = <-s.tasks:
		case <-idle.C:
			return
		case <-quit:
			return
		}
	}
}

// duplicate remembers envelope IDs for ten minutes and reports repeats. It
// runs on the event loop, before the ack, so forgetting old IDs is a sweep
// at most once a minute, not a scan per envelope.
func (s *Slack) duplicate(id string) bool {
	now := time.Now()
	if _, ok := s.seen[id]; ok {
		return true
	}
	if now.After(s.nextSweep) {
		for k, t := range s.seen {
			if now.Sub(t) > 10*time.Minute {
				delete(s.seen, k)
			}
		}
		s.nextSweep = now.Add(time.Minute)
	}
	s.seen[id] = now
	return false
}

func (s *Slack) ack(c *socket, envelopeID string, payload any) {
	if err := c.ack(envelopeID, payload); err != nil {
		s.log.Error("could not acknowledge an envelope", "envelope_id", envelopeID, "error", err)
	}
}

type ackPayload struct {
	ResponseType string        `json:"response_type"`
	Text         string        `json:"text"`
	Blocks       []slack.Block `json:"blocks,omitempty"`
}

func ephemeral(m bot.Message) ackPayload {
	return ackPayload{ResponseType: slack.ResponseTypeEphemeral, Text: fallbackText(m), Blocks: blocks(m)}
}

// Post implements Chat.
func (s *Slack) Post(ctx context.Context, channel, thread string, m bot.Message) (string, error) {
	opts := msgOptions(m)
	if thread != "" {
		opts = append(opts, slack.MsgOptionTS(thread))
	}
	_, ts, err := s.api.PostMessageContext(ctx, channel, opts...)
	return ts, chatError(err)
}

// Reply implements Chat.
func (s *Slack) Reply(ctx context.Context, channel, ts string, m bot.Message, broadcast bool) error {
	opts := append(msgOptions(m), slack.MsgOptionTS(ts))
	if broadcast {
		opts = append(opts, slack.MsgOptionBroadcast())
	}
	_, _, err := s.trail.PostMessageContext(ctx, channel, opts...)
	return chatError(err)
}

// Update implements Chat.
func (s *Slack) Update(ctx context.Context, channel, ts string, m bot.Message) error {
	_, _, _, err := s.trail.UpdateMessageContext(ctx, channel, ts, msgOptions(m)...)
	return chatError(err)
}

// React implements Chat.
func (s *Slack) React(ctx context.Context, channel, ts, emoji string) error {
	err := s.trail.AddReactionContext(ctx, emoji, slack.NewRefToMessage(channel, ts))
	if code(err) == "already_reacted" {
		return nil // a retry after a lost answer, or another replica's
	}
	return chatError(err)
}

// Link implements Chat: the message's permalink, built from the workspace's
// address as auth.test gave it (no call per message).
func (s *Slack) Link(channel, ts string) string {
	self := s.self.Load()
	if self == nil || self.url == "" || channel == "" || ts == "" {
		return ""
	}
	return strings.TrimSuffix(self.url, "/") + "/archives/" + channel + "/p" + strings.ReplaceAll(ts, ".", "")
}

// Private implements Chat: an ephemeral message in the command's thread
// when it has one, else through its response_url, which reaches the
// requester even where the bot is not a member (and is the fallback when
// the thread cannot be reached).
func (s *Slack) Private(ctx context.Context, cmd bot.Command, m bot.Message) error {
	if cmd.ReplyTo == "" || cmd.Thread != "" {
		opts := append(msgOptions(m), slack.MsgOptionTS(cmd.Thread)) // an empty thread is none
		_, err := s.api.PostEphemeralContext(ctx, cmd.Channel, cmd.User, opts...)
		if err == nil || cmd.ReplyTo == "" {
			return chatError(err)
		}
		s.log.Info("could not answer in the thread; answering through the response_url", "user", cmd.User, "channel", cmd.Channel, "error", err)
	}
	return respond(ctx, s.http, cmd.ReplyTo, &slack.WebhookMessage{
		ResponseType: slack.ResponseTypeEphemeral,
		Text:         fallbackText(m),
		Blocks:       &slack.Blocks{BlockSet: blocks(m)},
	})
}

// Replace implements Chat: it replaces the message a click came from.
func (s *Slack) Replace(ctx context.Context, replyTo string, m bot.Message) error {
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

// GroupMembers implements GroupLister.
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
	switch c := code(err); c {
	case "not_in_channel", "channel_not_found", "is_archived":
		return &bot.ChannelError{Code: c}
	}
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return &bot.RateLimitedError{Err: err}
	}
	return err
}
