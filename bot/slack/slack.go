// Package slack connects sessionbot's core to Slack: Socket Mode for
// commands, clicks, forms and events (socket.go, handlers.go), the Web API
// for posting (chat.go, journal.go), and Block Kit for laying out the
// core's words (blocks.go, views.go). Its double, slacktest, is beside it.
package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/slack-go/slack"

	"github.com/sessionbot/sessionbot/bot"
)

// Options configure the Socket Mode adapter.
type Options struct {
	AppToken string // xapp-..., for Socket Mode
	BotToken string // xoxb-..., for the Web API
	APIURL   string // Web API base, ending in "/"
	// MaxConcurrent bounds the requests handled at once; beyond it a request
	// is refused at once with a "busy, try again" message. Default 100. One
	// person may hold a tenth of it (at least one).
	MaxConcurrent int
	// HTTPClient for the Web API and response_url posts; default has a 15 s timeout.
	HTTPClient *http.Client
	Log        *slog.Logger
	Metrics    *Metrics
	Now        func() time.Time // the heartbeat's, the reconnect gate's and the envelope memory's clock; default time.Now
}

// Slack connects the core to Slack over Socket Mode. It implements
// bot.Chat and bot.GroupLister.
type Slack struct {
	// api makes the calls a person waits on, which give up after a few
	// retries; trail makes the calls that complete the trail of a decision
	// already made and may be made twice (updates, reactions), retried on
	// 5xx too; poster makes the calls that must happen once (posts,
	// claims), retried only when Slack says it did not do them (post.go).
	api     *slack.Client
	trail   *slack.Client
	poster  *slack.Client
	http    *http.Client
	log     *slog.Logger
	metrics *Metrics
	now     func() time.Time

	commands *admission // requests in flight, a tenth each at most
	asides   *admission // answers sent off the event loop
	views    *admission // views.open calls, apart: a trigger lasts 3 s
	homeMu   sync.Mutex
	homes    map[string]bool // home tabs being published, by user: true if asked for again
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

// Bounds of the work done off the event loop.
const (
	offLoopCapacity = 16 // answers, or views.open calls, in flight at once
	offLoopShare    = 2  // of them, for one user
)

// New builds the adapter; nothing connects until Run.
func New(o Options) *Slack {
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = 100
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 15 * time.Second}
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

	// Only what Slack certainly did not do is made again blindly: a 429,
	// or a connection it refused.
	once := retry
	once.Handlers = []slack.RetryHandler{slack.NewRateLimitErrorRetryHandler(once), refusedRetryHandler{}}

	s := &Slack{
		api:      client(retry),
		trail:    client(persistent),
		poster:   client(once),
		http:     o.HTTPClient,
		log:      o.Log,
		metrics:  o.Metrics,
		now:      o.Now,
		commands: newAdmission(o.MaxConcurrent, max(1, o.MaxConcurrent/10)),
		asides:   newAdmission(offLoopCapacity, offLoopShare),
		views:    newAdmission(offLoopCapacity, offLoopShare),
		homes:    map[string]bool{},
		tasks:    make(chan func()),
		quit:     make(chan struct{}),
		seen:     map[string]time.Time{},
	}
	s.beat()
	return s
}

// refusedRetryHandler makes a call again when its connection was refused:
// the call never reached Slack.
type refusedRetryHandler struct{}

func (refusedRetryHandler) ShouldRetry(state *slack.RetryState, _ *http.Request, resp *http.Response, err error) (bool, time.Duration) {
	if resp != nil || !errors.Is(err, syscall.ECONNREFUSED) || state.Attempt >= state.MaxRetries {
		return false, 0
	}
	return true, state.Backoff.Duration()
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
		s.metrics.Connected.Set(v)
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

// Run connects and serves requests until ctx ends, then lets the requests
// in flight finish (their replies are posted) for up to drain, and returns
// nil. Requests still running then are cancelled with bot.ErrStopping,
// and say so in their threads, within a few seconds, before Run returns.
// It returns an error early only when Slack refuses the app token.
func (s *Slack) Run(ctx context.Context, b *bot.Bot, drain time.Duration) error {
	// Requests outlive ctx: a SIGTERM stops new work, not work in progress.
	work, stopWork := context.WithCancelCause(context.WithoutCancel(ctx))
	defer stopWork(nil)
	defer close(s.quit)

	runErr := s.runSocket(ctx, b, work)
	s.setReady(false)

	done := make(chan struct{})
	go func() { s.inFlight.Wait(); close(done) }()
	drained := time.NewTimer(drain)
	defer drained.Stop()
	select {
	case <-done:
	case <-drained.C:
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

// duplicate remembers envelope IDs for ten minutes and reports repeats. It
// runs on the event loop, before the ack, so forgetting old IDs is a sweep
// at most once a minute, not a scan per envelope.
func (s *Slack) duplicate(id string) bool {
	now := s.now()
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
