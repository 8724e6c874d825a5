package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sessionbot/sessionbot/bot"
	"github.com/sessionbot/sessionbot/bot/slack"
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
	if err != nil {
		return usagef("%v", err)
	}
	if err := cfg.validateBot(); err != nil {
		return usagef("%v", err)
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
		"allowed_channels", len(cfg.AllowedChannels), "gogc", gcPercent(), "gomemlimit", gcMemoryLimit())

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("HTTP_ADDR %q: %w", cfg.HTTPAddr, err)
	}
	srv := &http.Server{Handler: opsHandler(sl, reg), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("health and metrics listener stopped", "error", err)
		}
	}()
	log.Info("serving health and metrics", "addr", ln.Addr().String())

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

// opsHandler serves /healthz, /readyz and /metrics.
func opsHandler(sl *slack.Slack, reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
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

// slackStartError explains why Slack would not let the bot start.
func slackStartError(variable string, cfg config, err error) error {
	if code, refused := slack.TokenRefused(err); refused {
		return fmt.Errorf("%s was refused by Slack (%s): check the token, and that the app is installed in the workspace", variable, code)
	}
	return fmt.Errorf("could not reach Slack at SLACK_API_URL %q: %s", cfg.SlackAPIURL, mask(err.Error(), cfg.secrets()))
}
