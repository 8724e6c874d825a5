package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/net/netutil"
	"golang.org/x/sync/errgroup"

	"github.com/sessionbot/sessionbot/bot"
	"github.com/sessionbot/sessionbot/bot/slack"
	"github.com/sessionbot/sessionbot/iproyal"
)

// runBot runs the Slack bot until SIGTERM or SIGINT, then drains.
//
// Start-up rides out outages, as a pod should that waits for its
// dependencies rather than crash-looping: every configuration problem is
// listed at once (exit 2), HTTP_ADDR is bound before anything connects (so
// /healthz answers 200 and /readyz 503 while it waits), and Slack and
// IPRoyal are retried, spaced and jittered, until they answer. Only a
// token Slack refuses ends start-up early (exit 2); a SIGTERM ends it
// cleanly (exit 0).
func runBot(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	if err := rejectFlags(args); err != nil {
		return err
	}
	if len(args) > 0 {
		return usagef("the bot takes no arguments; it is configured from the environment")
	}
	cfg, err := loadConfig(getenv)
	if err := configErrors(err, cfg.validateBot()); err != nil {
		return err
	}
	log := newLogger(stderr, cfg)

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := newMetrics(reg)
	metrics.exportAtZero()
	journalReadable := newJournalReadable(reg)
	var watch *policyWatch
	if cfg.PolicyFile != "" {
		watch = newPolicyWatch(cfg.PolicyFile, cfg.AuditChannel != "", log, reg)
		defer watch.stop()
	}

	ipr, err := newIPRoyal(cfg, metrics.instrumentIPRoyal(pooledTransport()))
	if err != nil {
		return usagef("%w", err)
	}
	sl := slack.New(slack.Options{
		AppToken:      cfg.SlackAppToken,
		BotToken:      cfg.SlackBotToken,
		APIURL:        cfg.SlackAPIURL,
		MaxConcurrent: cfg.MaxConcurrent,
		HTTPClient:    &http.Client{Timeout: 15 * time.Second, Transport: pooledTransport()},
		Log:           log,
		Metrics:       metrics.slack,
	})

	ln, err := listen(cfg.HTTPAddr)
	if err != nil {
		return err
	}
	loop := &startingLoop{Slack: sl}
	loop.turn()
	srv := opsServer(opsHandler(loop, reg))
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := srv.Serve(netutil.LimitListener(ln, maxOpsConns)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("health and metrics listener stopped", "error", err)
		}
	}()
	defer func() {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
		<-served
	}()
	log.Info("serving health and metrics", "addr", ln.Addr().String())

	who, err := waitForSlack(ctx, sl, cfg, log, loop.turn)
	if err != nil {
		return err
	}
	if who == nil {
		log.Info("sessionbot stopped before it had connected to Slack")
		return nil
	}
	log.Info("sessionbot starting", "version", version, "bot", who.User, "bot_user_id", who.UserID,
		"team", who.Team, "team_id", who.TeamID, "command", cfg.SlashCommand,
		"allowed_users", len(cfg.AllowedUsers), "allowed_usergroups", len(cfg.AllowedUsergroups),
		"allowed_channels", len(cfg.AllowedChannels), "gogc", gcPercent(), "gomemlimit", gcMemoryLimit(), "gomaxprocs", runtime.GOMAXPROCS(0))

	allowed, err := cfg.policy() // checked with the configuration: it may have changed since
	if err != nil {
		return &configError{[]string{err.Error()}}
	}
	var journal bot.Journal
	if cfg.AuditChannel != "" {
		journal = watchedJournal{Journal: sl.Journal(cfg.AuditChannel), readable: journalReadable}
	}
	b := bot.New(bot.Config{
		Command:            cfg.SlashCommand,
		MaxTargets:         cfg.MaxHashes,
		AuditChannel:       cfg.AuditChannel,
		Journal:            journal,
		CommandTimeout:     cfg.CommandTimeout,
		ConfirmAbove:       cfg.ConfirmAbove,
		ConfirmTTL:         cfg.ConfirmTTL,
		ConfirmKey:         cfg.confirmKey(),
		RateLimitPerMinute: cfg.RateLimit,
		Observe:            metrics.observer(),
		Log:                log,
	}, bot.NewAuthorizer(allowed, sl, nil), ipr, sl)

	// The socket, the sweep and the token check live and die together:
	// the socket's end (a SIGTERM, or Slack refusing the app token) ends
	// the others.
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		checkIPRoyalToken(gctx, ipr, log)
		return nil
	})
	g.Go(func() error {
		b.RunSweeper(gctx)
		return nil
	})
	if watch != nil {
		g.Go(func() error {
			watch.run(gctx, b, allowed)
			return nil
		})
	}
	g.Go(func() error {
		if err := sl.Run(gctx, b, cfg.ShutdownTimeout); err != nil {
			return err
		}
		return errStopped
	})
	runErr := g.Wait()

	// What requests left behind them (the refusal mirror's counts, the
	// journal's last words) goes out in the grace period's last seconds.
	closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b.Close(closeCtx)
	if runErr != nil && !errors.Is(runErr, errStopped) {
		return slackRunError(cfg, runErr)
	}
	log.Info("sessionbot stopped")
	return nil
}

// errStopped ends the bot's goroutines when the socket stopped as asked.
var errStopped = errors.New("sessionbot stopped")

// startRetryCap bounds the wait between two tries at start-up.
const startRetryCap = 30 * time.Second

// startBackoff spaces the tries at start-up: 1 s, 2 s, 4 s... up to
// startRetryCap, each jittered (half of it fixed, half random), so
// replicas that start together do not knock on Slack together.
type startBackoff struct{ n int }

func (b *startBackoff) next() time.Duration {
	d := min(time.Second<<min(b.n, 5), startRetryCap)
	b.n++
	return d/2 + rand.N(d/2+1)
}

// waitForSlack checks SLACK_BOT_TOKEN with auth.test until Slack answers.
// It returns nil, nil when ctx ends first (a SIGTERM during start-up), and
// a configuration error when Slack refuses the token.
func waitForSlack(ctx context.Context, sl *slack.Slack, cfg config, log *slog.Logger, turn func()) (*slack.Auth, error) {
	var backoff startBackoff
	for attempt := 1; ; attempt++ {
		turn()
		authCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
		who, err := sl.CheckAuth(authCtx)
		cancel()
		switch {
		case err == nil:
			return &who, nil
		case ctx.Err() != nil:
			return nil, nil
		}
		if code, refused := slack.TokenRefused(err); refused {
			return nil, tokenRefused("SLACK_BOT_TOKEN", code)
		}
		wait := backoff.next()
		log.Warn("could not check SLACK_BOT_TOKEN with Slack; trying again (egress, DNS or a proxy may not be ready yet)",
			"error", unreachable("Slack", "SLACK_API_URL", cfg.SlackAPIURL, err, cfg), "attempt", attempt, "retry_in", wait.Round(time.Millisecond).String())
		if !sleep(ctx, wait, turn) {
			return nil, nil
		}
	}
}

// sleep waits d, turning the start-up heartbeat meanwhile, and reports
// false when ctx ended first.
func sleep(ctx context.Context, d time.Duration, turn func()) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		turn()
		return true
	}
}

// startingLoop is the event loop /healthz and /readyz ask about. Until the
// Slack adapter runs, start-up's own retries make it turn: a process
// waiting for Slack is alive (healthz 200), just not ready (readyz 503).
type startingLoop struct {
	*slack.Slack
	lastTurn atomic.Int64 // unix nanoseconds of start-up's last turn
}

func (l *startingLoop) turn() { l.lastTurn.Store(time.Now().UnixNano()) }

// Healthy is the adapter's heartbeat, or start-up's while it is more recent.
func (l *startingLoop) Healthy() (bool, time.Time) {
	ok, last := l.Slack.Healthy()
	if started := time.Unix(0, l.lastTurn.Load()); started.After(last) {
		return time.Since(started) <= slack.HeartbeatBound, started
	}
	return ok, last
}

// listen binds HTTP_ADDR, before anything connects: a port in use is a
// configuration problem, found at once.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	switch {
	case err == nil:
		return ln, nil
	case errors.Is(err, syscall.EADDRINUSE):
		return nil, &configError{[]string{fmt.Sprintf("HTTP_ADDR %q is already in use (another sessionbot, or another program, listens there): stop it, or set HTTP_ADDR to a free port", addr)}}
	case errors.Is(err, syscall.EACCES):
		return nil, &configError{[]string{fmt.Sprintf("HTTP_ADDR %q needs privileges this process does not have: use a port above 1023, like :8080", addr)}}
	}
	return nil, &configError{[]string{fmt.Sprintf("cannot listen on HTTP_ADDR %q (%v): use an address of this machine, like :8080 or 127.0.0.1:8080", addr, err)}}
}

// The listener for /healthz, /readyz and /metrics is bounded: Prometheus
// and the kubelet need a few connections, and nobody needs hundreds.
const (
	// maxOpsConns bounds open connections (with netutil.LimitListener):
	// about 20 KiB each, so they stay under 6 MiB.
	maxOpsConns = 256
	// Above shedIdleAbove open connections, a connection that goes idle is
	// closed at once instead of kept alive, so a crowd of idle ones cannot
	// hold the limit and leave the kubelet's probes waiting.
	shedIdleAbove  = maxOpsConns / 2
	opsIdleTimeout = 15 * time.Second
)

// opsServer is the HTTP server of the health and metrics listener, with
// every timeout set: a slow or idle client is closed, never kept.
func opsServer(h http.Handler) *http.Server {
	var open atomic.Int64
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       opsIdleTimeout,
		MaxHeaderBytes:    16 << 10,
		ConnState: func(c net.Conn, state http.ConnState) {
			switch state {
			case http.StateNew:
				open.Add(1)
			case http.StateClosed, http.StateHijacked:
				open.Add(-1)
			case http.StateIdle:
				if open.Load() > shedIdleAbove {
					_ = c.Close()
				}
			}
		},
	}
}

// checkIPRoyalToken asks IPRoyal, at start, whether it accepts the token,
// so a wrong one is found before the first reset; it keeps asking, spaced
// like Slack's start-up tries, until IPRoyal answers. The answer also sets
// sessionbot_iproyal_token_valid. Readiness does not depend on it: IPRoyal
// is not ours, and the bot still answers help and refusals.
func checkIPRoyalToken(ctx context.Context, ipr *iproyal.Client, log *slog.Logger) {
	var backoff startBackoff
	for attempt := 1; ; attempt++ {
		attemptCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err := ipr.Me(attemptCtx)
		cancel()
		switch {
		case ctx.Err() != nil: // sessionbot is stopping
			return
		case err == nil:
			log.Info("IPRoyal accepts IPROYAL_API_TOKEN")
			return
		case errors.Is(err, iproyal.ErrUnauthorized):
			log.Error("IPRoyal refused IPROYAL_API_TOKEN: every reset will fail until it is fixed; check the token in the IPRoyal dashboard, and that API access is enabled on the account", "error", err)
			return
		}
		wait := backoff.next()
		log.Warn("could not check IPROYAL_API_TOKEN with IPRoyal; trying again, and resets will say if it still fails", "error", err, "attempt", attempt, "retry_in", wait.Round(time.Millisecond).String())
		if !sleep(ctx, wait, func() {}) {
			return
		}
	}
}

// heartbeat is what /healthz asks: whether the event loop still turns.
type heartbeat interface {
	Healthy() (ok bool, last time.Time)
}

// opsHandler serves /healthz, /readyz and /metrics.
func opsHandler(sl interface {
	heartbeat
	Ready() bool
}, reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		if ok, last := sl.Healthy(); !ok {
			http.Error(w, fmt.Sprintf("stuck: the Slack event loop last turned %s ago", time.Since(last).Round(time.Second)), http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !sl.Ready() {
			http.Error(w, "not connected to Slack", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return mux
}

// slackStartError explains why Slack would not let a command start.
func slackStartError(variable string, cfg config, err error) error {
	if code, refused := slack.TokenRefused(err); refused {
		return tokenRefused(variable, code)
	}
	return fmt.Errorf("could not reach Slack at SLACK_API_URL %q: %s", redactURL(cfg.SlackAPIURL), mask(err.Error(), cfg.secrets()))
}

// slackRunError explains why the bot stopped serving before it was told to.
func slackRunError(cfg config, err error) error {
	if code, refused := slack.TokenRefused(err); refused {
		return tokenRefused("SLACK_APP_TOKEN", code)
	}
	return fmt.Errorf("the Slack connection ended: %s", mask(err.Error(), cfg.secrets()))
}

// tokenRefused is Slack refusing a token: a configuration problem.
func tokenRefused(variable, code string) error {
	return &configError{[]string{fmt.Sprintf("%s was refused by Slack (%s): check the token, and that the app is installed in the workspace", variable, code)}}
}

// unreachable says in words that a service did not answer, without
// secrets: where sessionbot tried, and what happened.
func unreachable(service, variable, base string, err error, cfg config) string {
	raw := mask(err.Error(), cfg.secrets())
	if words := netWords(err); words != "" {
		return fmt.Sprintf("%s did not answer at %s %s: %s (%s)", service, variable, redactURL(base), words, raw)
	}
	return fmt.Sprintf("%s did not answer at %s %s: %s", service, variable, redactURL(base), raw)
}

// netWords says what a network error means, for the failures met when
// egress, DNS or a proxy is not ready; "" when it is none of them.
func netWords(err error) string {
	var dns *net.DNSError
	var ne net.Error
	switch {
	case errors.As(err, &dns):
		return fmt.Sprintf("the name %s does not resolve (DNS)", dns.Name)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "the connection was refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the connection was closed before an answer"
	case errors.As(err, &ne) && ne.Timeout():
		return "no answer in time"
	}
	return ""
}
