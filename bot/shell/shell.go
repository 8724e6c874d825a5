// Package shell is sessionbot's terminal adapter: it runs the core on
// command lines read from a terminal or a pipe, and prints what the bot
// would post in Slack.
package shell

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"

	"github.com/sessionbot/sessionbot/bot"
)

// Shell is a bot.Chat that prints, as readable text, what the bot would post in
// Slack. It lets people try sessionbot, and its access rules, without Slack.
type Shell struct {
	// Prompt is printed before each command is read; empty when the input
	// is not a terminal.
	Prompt string

	mu      sync.Mutex
	out     io.Writer
	n       int
	pending string // token of a confirmation waiting for yes or no
}

// New returns a Shell that writes to out.
func New(out io.Writer) *Shell { return &Shell{out: out} }

var (
	userRef    = regexp.MustCompile(`<@([A-Z0-9]+)>`)
	channelRef = regexp.MustCompile(`<#([A-Z0-9]+)>`)
	groupRef   = regexp.MustCompile(`<!subteam\^([A-Z0-9]+)>`)
	unescaper  = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")
)

// plainText turns our mrkdwn into what a person would read in Slack.
func plainText(s string) string {
	s = userRef.ReplaceAllString(s, "@$1")
	s = channelRef.ReplaceAllString(s, "#$1")
	s = groupRef.ReplaceAllString(s, "@$1")
	s = unescaper.Replace(s)
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

func (s *Shell) print(header string, m bot.Message) {
	text := m.Text
	if m.Footer != "" {
		text += "\n" + m.Footer
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.out, "%s\n%s\n", header, plainText(text))
}

// Post implements Chat.
func (s *Shell) Post(_ context.Context, channel string, m bot.Message) (string, error) {
	s.mu.Lock()
	s.n++
	ts := fmt.Sprint(s.n)
	s.mu.Unlock()
	s.print(fmt.Sprintf("[#%s, message %s] sessionbot:", channel, ts), m)
	return ts, nil
}

// Reply implements Chat.
func (s *Shell) Reply(_ context.Context, channel, ts string, m bot.Message, broadcast bool) error {
	also := ""
	if broadcast {
		also = ", also sent to the channel"
	}
	s.print(fmt.Sprintf("[#%s, thread of message %s%s] sessionbot:", channel, ts, also), m)
	return nil
}

// Update implements Chat.
func (s *Shell) Update(_ context.Context, channel, ts string, m bot.Message) error {
	s.print(fmt.Sprintf("[#%s, message %s is now] sessionbot:", channel, ts), m)
	return nil
}

// Link implements Chat: the shell has no links.
func (s *Shell) Link(string, string) string { return "" }

// React implements Chat.
func (s *Shell) React(_ context.Context, channel, ts, emoji string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.out, "[#%s] sessionbot reacted :%s: to message %s\n", channel, emoji, ts)
	return nil
}

// Private implements Chat.
func (s *Shell) Private(_ context.Context, cmd bot.Command, m bot.Message) error {
	s.print(fmt.Sprintf("[only visible to @%s] sessionbot:", cmd.User), m)
	if m.Confirm != "" {
		s.mu.Lock()
		s.pending = m.Confirm
		s.mu.Unlock()
	}
	return nil
}

// Replace implements Chat.
func (s *Shell) Replace(_ context.Context, _ string, m bot.Message) error {
	s.print("[only visible to you, replacing the confirmation] sessionbot:", m)
	return nil
}

func (s *Shell) takePending() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := s.pending
	s.pending = ""
	return tok
}

// Run reads command lines ("/reset-sessions a b", or just "a b") from
// in and handles each as user in channel, until in ends or ctx is done. A
// confirmation becomes a yes/no question answered on the next line.
func Run(ctx context.Context, b *bot.Bot, sh *Shell, in io.Reader, user, channel string) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	fmt.Fprint(sh.out, sh.Prompt)
	for sc.Scan() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			fmt.Fprint(sh.out, sh.Prompt)
			continue
		}
		if rest, ok := strings.CutPrefix(line, b.Command()); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			line = rest
		}
		cmd := bot.Command{User: user, Channel: channel, Text: line}
		if answer, done := b.Triage(cmd); done {
			_ = sh.Private(ctx, cmd, answer)
		} else {
			b.Handle(ctx, cmd)
		}
		if tok := sh.takePending(); tok != "" {
			sh.confirm(ctx, b, sc, tok, user, channel)
		}
		fmt.Fprint(sh.out, sh.Prompt)
	}
	return sc.Err()
}

// confirm asks the confirmation as a yes/no question and clicks the answer.
func (sh *Shell) confirm(ctx context.Context, b *bot.Bot, sc *bufio.Scanner, tok, user, channel string) {
	fmt.Fprint(sh.out, "Confirm? [y/N] ")
	answer := ""
	if sc.Scan() {
		answer = strings.ToLower(strings.TrimSpace(sc.Text()))
	}
	fmt.Fprintln(sh.out)
	click := bot.Click{User: user, Channel: channel, Token: tok, Confirm: answer == "y" || answer == "yes"}
	if m, done := b.TriageClick(click); done {
		_ = sh.Private(ctx, bot.Command{User: user, Channel: channel}, m)
		return
	}
	b.HandleClick(ctx, click)
}
