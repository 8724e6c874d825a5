// Package slack connects sessionbot's core to Slack: Socket Mode for
// commands and clicks, the Web API for posting, and Block Kit for rendering
// the core's plain messages. Its double, slacktest, is beside it.
package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/sessionbot/sessionbot/bot"
)

// Options configure the Socket Mode adapter.
type Options struct {
	AppToken string // xapp-..., for Socket Mode
	BotToken string // xoxb-..., for the Web API
	APIURL   string // Web API base, ending in "/"
	// MaxConcurrent bounds the commands handled at once; beyond it a command
	// is refused at once with a "busy, try again" message. Default 100.
	MaxConcurrent int
	// HTTPClient for the Web API and response_url posts; default has a 15 s timeout.
	HTTPClient *http.Client
	Log        *slog.Logger
	Metrics    *bot.Metrics
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
	sm      *socketmode.Client
	http    *http.Client
	log     *slog.Logger
	metrics *bot.Metrics

	sem       chan struct{}
	tasks     chan func()   // to a worker waiting for one
	quit      chan struct{} // closed when Run returns: idle workers exit
	workers   atomic.Int32  // running or waiting
	inFlight  sync.WaitGroup
	ready     atomic.Bool
	seen      map[string]time.Time // envelope IDs handled recently
	nextSweep time.Time            // when duplicate next forgets old IDs

	self atomic.Pointer[identity] // who the bot is, from AuthTest
}

// identity is the bot's own, as auth.test tells it.
type identity struct {
	userID, botID string
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
	api := client(retry)

	// About a minute of retries (the caller's context decides), 5xx
	// included: a decision is made, and its trail must reach Slack.
	persistent := retry
	persistent.MaxRetries = 12
	persistent.BackoffInitial = 250 * time.Millisecond
	persistent.BackoffMax = 8 * time.Second
	persistent.BackoffJitter = 250 * time.Millisecond
	persistent.Handlers = append(slack.AllBuiltinRetryHandlers(persistent), slack.NewServerErrorRetryHandler(persistent))

	return &Slack{
		api:     api,
		trail:   client(persistent),
		sm:      socketmode.New(api),
		http:    o.HTTPClient,
		log:     o.Log,
		metrics: o.Metrics,
		sem:     make(chan struct{}, o.MaxConcurrent),
		tasks:   make(chan func()),
		quit:    make(chan struct{}),
		seen:    map[string]time.Time{},
	}
}

// AuthTest checks the bot token and says which bot and team it belongs to.
// The adapter remembers the answer: it links to messages with the
// workspace's address, and trusts only its own journal entries.
func (s *Slack) AuthTest(ctx context.Context) (*slack.AuthTestResponse, error) {
	who, err := s.api.AuthTestContext(ctx)
	if err == nil {
		s.self.Store(&identity{userID: who.UserID, botID: who.BotID, url: who.URL})
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
	errc := make(chan error, 1)
	go func() { errc <- s.sm.RunContext(ctx) }()

	var runErr error
loop:
	for {
		select {
		case evt := <-s.sm.Events:
			s.dispatch(work, b, evt)
		case runErr = <-errc:
			break loop
		}
	}
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
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("slack socket mode: %w", runErr)
}

func (s *Slack) dispatch(work context.Context, b *bot.Bot, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		s.setReady(false)
		s.log.Debug("connecting to Slack")
	case socketmode.EventTypeConnectionError:
		s.setReady(false)
		if e, ok := evt.Data.(*slack.ConnectionErrorEvent); ok {
			s.log.Warn("Slack connection failed; retrying", "attempt", e.Attempt, "backoff", e.Backoff, "error", e.ErrorObj)
		}
	case socketmode.EventTypeConnected:
		if e, ok := evt.Data.(*socketmode.ConnectedEvent); ok && e.ConnectionCount > 0 && s.metrics != nil {
			s.metrics.SlackReconnects.Inc()
		}
	case socketmode.EventTypeHello:
		s.setReady(true)
		s.log.Info("connected to Slack", "connections", evt.Request.NumConnections)
	case socketmode.EventTypeInvalidAuth:
		s.setReady(false)
		s.log.Error("Slack refused the app-level token (SLACK_APP_TOKEN)")
	case socketmode.EventTypeSlashCommand:
		s.onSlashCommand(work, b, evt)
	case socketmode.EventTypeInteractive:
		s.onInteractive(work, b, evt)
	case socketmode.EventTypeEventsAPI:
		// Not ours to handle, but acknowledged so Slack does not retry.
		s.ack(evt.Request.EnvelopeID, nil)
		s.log.Debug("ignored envelope", "type", evt.Type, "envelope_id", evt.Request.EnvelopeID)
	case socketmode.EventTypeErrorBadMessage:
		e, _ := evt.Data.(*socketmode.ErrorBadMessage)
		var env struct {
			EnvelopeID string `json:"envelope_id"`
			Type       string `json:"type"`
		}
		if e != nil {
			_ = json.Unmarshal(e.Message, &env)
		}
		if env.EnvelopeID != "" {
			s.ack(env.EnvelopeID, nil)
		}
		s.log.Warn("ignored a frame sessionbot cannot use", "type", env.Type, "envelope_id", env.EnvelopeID, "error", errorOf(e))
	case socketmode.EventTypeIncomingError:
		if e, ok := evt.Data.(*slack.IncomingEventError); ok {
			s.log.Warn("bad frame from Slack", "error", e.ErrorObj)
		}
	case socketmode.EventTypeErrorWriteFailed:
		if e, ok := evt.Data.(*socketmode.ErrorWriteFailed); ok {
			s.log.Error("could not write an ack to Slack", "envelope_id", e.Response.EnvelopeID, "error", e.Cause)
		}
	}
}

func errorOf(e *socketmode.ErrorBadMessage) error {
	if e == nil {
		return nil
	}
	return e.Cause
}

// onSlashCommand acknowledges at once and handles the command on its own
// goroutine: nothing here waits on IPRoyal or the Web API.
func (s *Slack) onSlashCommand(work context.Context, b *bot.Bot, evt socketmode.Event) {
	id := evt.Request.EnvelopeID
	cmd, ok := evt.Data.(slack.SlashCommand)
	if !ok {
		s.ack(id, nil)
		return
	}
	if s.duplicate(id) {
		s.ack(id, nil)
		s.log.Warn("ignored a repeated envelope", "envelope_id", id)
		return
	}
	if cmd.Command != b.Command() {
		s.ack(id, ephemeral(bot.Message{Text: fmt.Sprintf("sessionbot only answers `%s`.", b.Command())}))
		s.log.Warn("ignored an unknown slash command", "command", cmd.Command)
		return
	}
	select {
	case s.sem <- struct{}{}:
	default:
		s.ack(id, ephemeral(bot.BusyMessage()))
		s.log.Warn("refused a command: too many in flight", "user", cmd.UserID, "limit", cap(s.sem))
		if s.metrics != nil {
			s.metrics.Commands.WithLabelValues(string(bot.OutcomeBusy)).Inc()
		}
		return
	}
	s.ack(id, nil)
	s.goHandle(work, func(ctx context.Context) {
		b.Handle(ctx, bot.Command{User: cmd.UserID, Channel: cmd.ChannelID, Text: cmd.Text, ReplyTo: cmd.ResponseURL})
	})
}

// onInteractive acknowledges a button click at once and handles it on its
// own goroutine, like a command.
func (s *Slack) onInteractive(work context.Context, b *bot.Bot, evt socketmode.Event) {
	id := evt.Request.EnvelopeID
	s.ack(id, nil)
	cb, ok := evt.Data.(slack.InteractionCallback)
	if !ok || cb.Type != slack.InteractionTypeBlockActions || len(cb.ActionCallback.BlockActions) == 0 || s.duplicate(id) {
		s.log.Debug("ignored an interaction", "envelope_id", id)
		return
	}
	a := cb.ActionCallback.BlockActions[0]
	tok, confirm := joinToken(a.Value, a.BlockID, a.ActionID)
	click := bot.Click{User: cb.User.ID, Channel: cb.Channel.ID, Token: tok, Confirm: confirm, ReplyTo: cb.ResponseURL}
	select {
	case s.sem <- struct{}{}:
	default:
		s.log.Warn("refused a click: too many commands in flight", "user", click.User, "limit", cap(s.sem))
		// Not in this loop: it must never wait on the Web API.
		go func() {
			ctx, cancel := context.WithTimeout(work, 15*time.Second)
			defer cancel()
			_ = s.Private(ctx, bot.Command{User: click.User, ReplyTo: click.ReplyTo}, bot.BusyMessage())
		}()
		return
	}
	s.goHandle(work, func(ctx context.Context) { b.HandleClick(ctx, click) })
}

// goHandle runs f on a worker, counted as in flight (the core bounds its
// time); the caller holds a slot of s.sem, which f's end releases.
func (s *Slack) goHandle(work context.Context, f func(context.Context)) {
	s.inFlight.Add(1)
	if s.metrics != nil {
		s.metrics.InFlight.Inc()
	}
	task := func() {
		defer func() {
			<-s.sem
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

func (s *Slack) ack(envelopeID string, payload any) {
	if err := s.sm.Ack(socketmode.Request{EnvelopeID: envelopeID}, payload); err != nil {
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
func (s *Slack) Post(ctx context.Context, channel string, m bot.Message) (string, error) {
	_, ts, err := s.api.PostMessageContext(ctx, channel, msgOptions(m)...)
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

// Private implements Chat through the command's response_url, which reaches
// the requester even where the bot is not a member.
func (s *Slack) Private(ctx context.Context, cmd bot.Command, m bot.Message) error {
	if cmd.ReplyTo == "" {
		_, err := s.api.PostEphemeralContext(ctx, cmd.Channel, cmd.User, msgOptions(m)...)
		return chatError(err)
	}
	return slack.PostWebhookCustomHTTPContext(ctx, cmd.ReplyTo, s.http, &slack.WebhookMessage{
		ResponseType: slack.ResponseTypeEphemeral,
		Text:         fallbackText(m),
		Blocks:       &slack.Blocks{BlockSet: blocks(m)},
	})
}

// Replace implements Chat: it replaces the message a click came from.
func (s *Slack) Replace(ctx context.Context, replyTo string, m bot.Message) error {
	return slack.PostWebhookCustomHTTPContext(ctx, replyTo, s.http, &slack.WebhookMessage{
		ResponseType:    slack.ResponseTypeEphemeral,
		ReplaceOriginal: true,
		Text:            fallbackText(m),
		Blocks:          &slack.Blocks{BlockSet: blocks(m)},
	})
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
