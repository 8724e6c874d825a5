package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/sessionbot/sessionbot/bot"
)

// runFind is "sessionbot find [--json] TEXT": the sub-users whose username
// contains TEXT, with their hashes, ready to copy into a reset; with
// --json, one object a sub-user. It asks the core, as Slack's find does.
// Nothing found is exit 1, so that a script can tell.
func runFind(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	args, asJSON := takeFlag(args, "--json", "-json")
	if err := rejectFlags(args); err != nil {
		return err
	}
	args = operands(args)
	if len(args) != 1 || strings.TrimSpace(args[0]) == "" {
		return usagef("find needs one TEXT, the part of a username to look for")
	}
	text := strings.TrimSpace(args[0])
	if strings.ContainsAny(text, " \t\n,") {
		return usagef("find takes one TEXT, part of a username, with no spaces or commas; got %q", text)
	}
	b, who, err := queryBot(getenv, stderr)
	if err != nil {
		return err
	}
	res := b.Handle(ctx, bot.Request{Via: bot.ViaCLI, User: who, Text: "find -- " + text})
	switch {
	case res.Outcome == bot.OutcomeFindFailed:
		return &failure{bot.CommandLineSearchFailed(res.Err), res.Err}
	case res.Outcome != bot.OutcomeFound:
		return &inputError{bot.CommandLineAnswer(res)}
	case len(res.Found) == 0:
		return &failure{bot.CommandLineFindNone(text), nil}
	case !asJSON:
		fmt.Fprint(stdout, bot.CommandLineFound(res.Found, res.More))
		return nil
	}
	enc := json.NewEncoder(stdout)
	for _, s := range res.Found {
		if err := enc.Encode(subuserRecord{s.Username, s.Hash, s.TrafficUsed, s.TrafficAvailable}); err != nil {
			return err
		}
	}
	fmt.Fprint(stderr, bot.CommandLineFindMore(res.More)) // for people: stdout is the objects
	return nil
}

// subuserRecord is one sub-user of find --json. Its field names are a
// contract (README.md, "Commands"): add fields, never rename one.
type subuserRecord struct {
	Username           string  `json:"username"`
	Hash               string  `json:"hash"`
	TrafficUsedGB      float64 `json:"traffic_used_gb"`
	TrafficAvailableGB float64 `json:"traffic_available_gb"`
}

// runStatus is "sessionbot status": the IPRoyal account's available
// traffic and sub-user count, as Slack's status shows them.
func runStatus(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if err := rejectFlags(args); err != nil {
		return err
	}
	if len(operands(args)) > 0 {
		return usagef("status takes no arguments")
	}
	b, who, err := queryBot(getenv, stderr)
	if err != nil {
		return err
	}
	res := b.Handle(ctx, bot.Request{Via: bot.ViaCLI, User: who, Text: "status"})
	if res.Account == nil {
		return &failure{bot.CommandLineStatusFailed(res.Err), res.Err}
	}
	fmt.Fprint(stdout, bot.CommandLineStatus(*res.Account))
	return nil
}

// queryBot is the core as find and status use it from the command line:
// no allow-list (the token holder's own tool), no chat, no journal. Its
// audit log line is written only when LOG_LEVEL asks for it: the answer is
// the output.
func queryBot(getenv func(string) string, stderr io.Writer) (b *bot.Bot, who string, err error) {
	cfg, client, err := iproyalFor(getenv)
	if err != nil {
		return nil, "", err
	}
	log := newLogger(io.Discard, cfg)
	if getenv("LOG_LEVEL") != "" {
		log = newLogger(stderr, cfg)
	}
	who, _ = operator(cfg.Operator, getenv)
	return bot.New(bot.Config{MaxTargets: cfg.MaxHashes, CommandTimeout: cfg.CommandTimeout, Log: log}, nil, client, nil), who, nil
}
