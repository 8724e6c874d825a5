package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
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

	"github.com/sessionbot/sessionbot/bot"
	"github.com/sessionbot/sessionbot/bot/slack"
	"github.com/sessionbot/sessionbot/iproyal"
)

// runBot runs the Slack bot until SIGTERM or SIGINT, then drains.
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
	metrics := bot.NewMetrics(reg)

	ipr, err := newIPRoyal(cfg, metrics.InstrumentIPRoyal(bot.PooledTransport()))
	if err != nil {
		return usagef("%v", err)
	}
	sl := slack.New(slack.Options{
		AppToken:      cfg.SlackAppToken,
		BotToken:      cfg.SlackBotToken,
		APIURL:        cfg.SlackAPIURL,
		MaxConcurrent: cfg.MaxConcurrent,
		Log:           log,
		Metrics:       metrics,
	})

	authCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	who, err := sl.AuthTest(authCtx)
	cancel()
	if err != nil {
		return slackStartError("SLACK_BOT_TOKEN", cfg, err)
	}
	log.Info("sessionbot starting", "version", version, "bot", who.User, "bot_user_id", who.UserID,
		"team", who.Team, "team_id", who.TeamID, "command", cfg.SlashCommand,
		"allowed_users", len(cfg.AllowedUsers), "allowed_usergroups", len(cfg.AllowedUsergroups),
		"allowed_channels", len(cfg.AllowedChannels), "gogc", gcPercent(), "gomemlimit", gcMemoryLimit(), "gomaxprocs", runtime.GOMAXPROCS(0))

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("HTTP_ADDR %q: %w", cfg.HTTPAddr, err)
	}
	srv := opsServer(opsHandler(sl, reg))
	go func() {
		if err := srv.Serve(netutil.LimitListener(ln, maxOpsConns)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("health and metrics listener stopped", "error", err)
		}
	}()
	log.Info("serving health and metrics", "addr", ln.Addr().String())
	checkCtx, stopChecking := context.WithCancel(ctx)
	checked := make(chan struct{})
	go func() {
		defer close(checked)
		checkIPRoyalToken(checkCtx, ipr, log)
	}()
	defer func() {
		stopChecking()
		<-checked
	}()

	var journal bot.Journal
	if cfg.AuditChannel != "" {
		journal = sl.Journal(cfg.AuditChannel)
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
		Log:                log,
		Metrics:            metrics,
	}, bot.NewAuthorizer(bot.Policy{
		Users: cfg.AllowedUsers, Groups: cfg.AllowedUsergroups, Channels: cfg.AllowedChannels,
	}, sl, nil), ipr, sl)

	sweepCtx, stopSweeping := context.WithCancel(ctx)
	sweeping := make(chan struct{})
	go func() {
		defer close(sweeping)
		b.RunSweeper(sweepCtx)
	}()
	runErr := sl.Run(ctx, b, cfg.ShutdownTimeout)
	stopSweeping()
	<-sweeping

	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	if runErr != nil {
		return slackStartError("SLACK_APP_TOKEN", cfg, runErr)
	}
	log.Info("sessionbot stopped")
	return nil
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

// checkIPRoyalToken asks IPRoyal once, at start, whether it accepts the
// token, so a wrong one is found before the first reset. IPRoyal's answer
// also sets sessionbot_iproyal_token_valid. Readiness does not depend on
// it: IPRoyal is not ours, and the bot still answers help and refusals.
func checkIPRoyalToken(ctx context.Context, ipr *iproyal.Client, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err := ipr.Me(ctx)
	switch {
	case ctx.Err() != nil: // sessionbot is stopping
	case err == nil:
		log.Info("IPRoyal accepts IPROYAL_API_TOKEN")
	case errors.Is(err, iproyal.ErrUnauthorized):
		log.Error("IPRoyal refused IPROYAL_API_TOKEN: every reset will fail until it is fixed; check the token in the IPRoyal dashboard, and that API access is enabled on the account", "error", err)
	default:
		log.Warn("could not check IPROYAL_API_TOKEN with IPRoyal at start; resets will tell", "error", err)
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

// tokenRefused is Slack refusing a token: a configuration problem.
func tokenRefused(variable, code string) error {
	return &configError{[]string{fmt.Sprintf("%s was refused by Slack (%s): check the token, and that the app is installed in the workspace", variable, code)}}
}

// unreachable says in words that a service did not answer, without
// secrets: where sessionbot tried, and what happened.
func unreachable(service, variable, base string, err error, cfg config) string {
	return fmt.Sprintf("%s did not answer at %s %s: %s", service, variable, redactURL(base), mask(err.Error(), cfg.secrets()))
}
