// Command naivebot is the benchmark's foil: the same bot core, wired the way
// many bots are written, doing the work first and acknowledging after. It
// exists only so BENCHMARKS.md can show why sessionbot acknowledges first.
// Never deploy it.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/sessionbot/sessionbot/bot"
	"github.com/sessionbot/sessionbot/bot/policy"
	adapter "github.com/sessionbot/sessionbot/bot/slack"
	"github.com/sessionbot/sessionbot/iproyal"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "naivebot:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ipr, err := iproyal.NewClient(iproyal.WithBaseURL(os.Getenv("IPROYAL_API_URL")), iproyal.WithToken(os.Getenv("IPROYAL_API_TOKEN")))
	if err != nil {
		return err
	}
	chat := adapter.New(adapter.Options{
		AppToken: os.Getenv("SLACK_APP_TOKEN"), BotToken: os.Getenv("SLACK_BOT_TOKEN"), APIURL: os.Getenv("SLACK_API_URL"),
	})
	b := bot.New(bot.Config{}, bot.NewAuthorizer(policy.Everything([]string{os.Getenv("ALLOWED_USERS")}, nil, nil), nil, nil), ipr, chat)

	api := slack.New(os.Getenv("SLACK_BOT_TOKEN"), slack.OptionAppLevelToken(os.Getenv("SLACK_APP_TOKEN")), slack.OptionAPIURL(os.Getenv("SLACK_API_URL")))
	sm := socketmode.New(api)
	go func() {
		for evt := range sm.Events {
			if evt.Type != socketmode.EventTypeSlashCommand {
				continue
			}
			cmd := evt.Data.(slack.SlashCommand)
			// The naive order: all the work, then the ack.
			b.Handle(ctx, bot.Request{Via: bot.ViaSlash, User: cmd.UserID, Channel: cmd.ChannelID, Text: cmd.Text, ReplyTo: cmd.ResponseURL})
			_ = sm.Ack(*evt.Request)
		}
	}()
	// RunContext returns only with an error: the context's, on SIGTERM.
	if err := sm.RunContext(ctx); ctx.Err() == nil {
		return err
	}
	return nil
}
