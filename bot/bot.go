// Package bot is sessionbot's core: it takes a request from any way in
// (a slash command, a mention, a form, a click, the shell, the command
// line) through one path, from parsed targets to outcome, and says what
// happened in plain types of its own. It knows nothing of Slack or of any
// transport: the adapters in bot/slack (Socket Mode) and bot/shell (a
// terminal), and the command line, translate.
//
// To follow a reset: request.go (what comes in and what comes out),
// triage.go (what memory alone answers), reset.go (the one path), trail.go
// (the announcement, the journal, the DELETE, the outcome), words.go
// (everything a person reads).
package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// ErrStopping is the cause a transport cancels requests with when
// sessionbot shuts down before they finished: they tell their threads so.
var ErrStopping = errors.New("sessionbot is shutting down")

// DefaultCommandTimeout bounds one request when Config does not say.
const DefaultCommandTimeout = 2 * time.Minute

// Config is the core's behaviour; zero values get sensible defaults.
type Config struct {
	Command      string // the slash command, for help texts; default /reset-sessions
	MaxTargets   int    // most targets in one request; default 100
	AuditChannel string // if set, refusals are mirrored here
	// Journal, if set, keeps every accepted request where it outlives this
	// process (Slack: in AuditChannel). Without it a crash can leave an
	// announcement without an outcome, and a click cannot be checked against
	// the other replicas'.
	Journal Journal
	// CommandTimeout bounds everything one request does; default 2m.
	CommandTimeout time.Duration
	// DryRun makes every reset a dry run that does not call IPRoyal at all
	// (the shell's offline mode); usernames are then not looked up.
	DryRun bool
	// ConfirmAbove: requests with more targets wait for the requester to
	// click Confirm. Zero or less: never ask.
	ConfirmAbove int
	// ConfirmTTL is how long a confirmation can be clicked; default 5m.
	ConfirmTTL time.Duration
	// ConfirmKey signs confirmations. Every replica must have the same key;
	// when it is empty a random one is made, which suits a single process.
	ConfirmKey []byte
	// TokenLimit bounds a confirmation's token, what the transport's
	// buttons carry; default MaxTokenLen (Slack's). The shell holds tokens
	// in memory and takes any length.
	TokenLimit int
	// RateLimitPerMinute bounds each user's requests; zero or less: no limit.
	RateLimitPerMinute int
	// Observe is told what the core does, for metrics.
	Observe Observer
	Now     func() time.Time
	NewID   func() string
	Log     *slog.Logger
}

// Observer is told what the core does, for metrics; any of its functions
// may be nil.
type Observer struct {
	Outcome func(Outcome) // a request ended so
	Backlog func(n int)   // writes waiting behind requests for the journal
	Dropped func()        // a write dropped: the backlog was full
	// Approval counts an approval's result (ApprovalResults); Pending is
	// how many requests wait for approval, as the journal said last.
	Approval func(result string)
	Pending  func(n int)
}

// Bot handles requests. It is safe for concurrent use. Close it when its
// transport has stopped, to finish what requests left running behind them.
type Bot struct {
	cfg     Config
	auth    *Authorizer // nil: nobody is allowed but the command line
	iproyal IPRoyal
	finder  SubuserFinder // iproyal, behind a minute's cache of usernames
	chat    Chat
	log     *slog.Logger
	limiter *userLimiter
	denials *denialMirror
	acct    *account // the home tab's cache of GET /me
	clicks  *cache[string, bool]
	mine    *cache[string, Entry] // the requests this process runs or ran, by ID
	wake    chan struct{}         // asks the sweeper to read the journal again now
	longest atomic.Int64          // the longest wait for approval of any policy this process enforced
	swept   atomic.Bool           // a sweep has read the journal: the first reads back as far as any request can wait

	life    context.Context // ends at Close: what requests left running
	endLife context.CancelCauseFunc
	behind  sync.WaitGroup // posts requests started and did not wait for
	mu      sync.Mutex
	closed  bool
	backlog int // writes behind requests, waiting for the journal
}

// New returns a Bot. ipr may be nil when cfg.DryRun is set; auth may be nil
// for a bot that only serves the command line.
func New(cfg Config, auth *Authorizer, ipr IPRoyal, chat Chat) *Bot {
	if cfg.Command == "" {
		cfg.Command = "/reset-sessions"
	}
	if cfg.MaxTargets <= 0 {
		cfg.MaxTargets = 100
	}
	if cfg.CommandTimeout <= 0 {
		cfg.CommandTimeout = DefaultCommandTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NewID == nil {
		cfg.NewID = newRequestID
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.ConfirmTTL <= 0 {
		cfg.ConfirmTTL = 5 * time.Minute
	}
	if cfg.TokenLimit <= 0 {
		cfg.TokenLimit = MaxTokenLen
	}
	if len(cfg.ConfirmKey) == 0 {
		cfg.ConfirmKey = make([]byte, 32)
		_, _ = rand.Read(cfg.ConfirmKey)
	}
	b := &Bot{
		cfg: cfg, auth: auth, iproyal: ipr, chat: chat, log: cfg.Log,
		limiter: newUserLimiter(cfg.RateLimitPerMinute, cfg.Now),
		clicks:  newCache[string, bool](maxRememberedClicks, cfg.Now),
		mine:    newCache[string, Entry](maxMine, cfg.Now),
		wake:    make(chan struct{}, 1),
	}
	b.life, b.endLife = context.WithCancelCause(context.Background())
	b.denials = newDenialMirror(b)
	if ipr != nil {
		b.finder = newCachedFinder(ipr, cfg.Now)
		b.acct = newAccount(ipr, cfg.Now)
	}
	return b
}

// Command returns the slash command the bot answers to.
func (b *Bot) Command() string { return b.cfg.Command }

// Close finishes what requests left running behind them (the refusal
// mirror's counts and posts), waiting until ctx ends at most, then stops
// it. Call it once the transport has stopped taking requests.
func (b *Bot) Close(ctx context.Context) {
	b.denials.flush() // the counts of the windows still open
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	done := make(chan struct{})
	go func() { b.behind.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		b.endLife(ErrStopping)
		<-done
	}
	b.endLife(ErrStopping)
}

// goBehind runs f on its own goroutine, owned by the Bot: Close waits for
// it, and ends its context. It reports false, and runs nothing, once the
// Bot is closed.
func (b *Bot) goBehind(timeout time.Duration, f func(ctx context.Context)) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	b.behind.Add(1)
	go func() {
		defer b.behind.Done()
		ctx, cancel := context.WithTimeout(b.life, timeout)
		defer cancel()
		f(ctx)
	}()
	return true
}

func newRequestID() string {
	var buf [4]byte
	_, _ = rand.Read(buf[:])
	return hex.EncodeToString(buf[:])
}

// stopping reports whether sessionbot is shutting down under ctx.
func stopping(ctx context.Context) bool {
	return errors.Is(context.Cause(ctx), ErrStopping)
}

// link is the address of a message, if the transport has one.
func (b *Bot) link(channel, ts string) string {
	if b.chat == nil || channel == "" || ts == "" {
		return ""
	}
	return b.chat.Link(channel, ts)
}
