// Package shell is sessionbot's terminal adapter: it runs the core on
// command lines read from a terminal or a pipe, and prints what the bot
// would post in Slack.
package shell

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/sessionbot/sessionbot/bot"
)

// Shell is a bot.Chat that prints, as readable text, what the bot would post in
// Slack. It lets people try sessionbot, and its access rules, without Slack.
type Shell struct {
	mu  sync.Mutex
	out io.Writer
	n   int
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
func (s *Shell) Post(_ context.Context, channel, thread string, m bot.Message) (string, error) {
	s.mu.Lock()
	s.n++
	ts := fmt.Sprint(s.n)
	s.mu.Unlock()
	s.print(bot.ShellPosted(channel, ts, thread), m)
	return ts, nil
}

// Reply implements Chat.
func (s *Shell) Reply(_ context.Context, channel, ts string, m bot.Message, broadcast bool) error {
	s.print(bot.ShellReply(channel, ts, broadcast), m)
	return nil
}

// Update implements Chat.
func (s *Shell) Update(_ context.Context, channel, ts string, m bot.Message) error {
	s.print(bot.ShellUpdated(channel, ts), m)
	return nil
}

// Find implements Chat: the shell's posts never get lost.
func (s *Shell) Find(context.Context, string, string, bot.Tag, time.Time) (string, error) {
	return "", nil
}

// Link implements Chat: the shell has no links.
func (s *Shell) Link(string, string) string { return "" }

// React implements Chat.
func (s *Shell) React(_ context.Context, channel, ts, emoji string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintln(s.out, bot.ShellReacted(channel, ts, emoji))
	return nil
}

// Render prints what a Result tells its requester, only visible to them.
func (s *Shell) Render(user string, res bot.Result) {
	if res.Answer.Text != "" {
		s.print(bot.ShellPrivate(user, res.Replaces), res.Answer)
	}
}

// Input is where the shell reads: a terminal, with line editing and
// history, or a pipe, line by line.
type Input interface {
	// Command reads the next command line; io.EOF at the end.
	Command() (string, error)
	// Answer asks question and reads the answer on the next line.
	Answer(question string) (string, error)
	// Clear clears the screen, where there is one.
	Clear()
}

// Pipe reads lines from r, writing questions to out: no prompt before a
// command, so that a transcript reads cleanly.
func Pipe(r io.Reader, out io.Writer) Input {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	return &pipe{sc: sc, out: out}
}

type pipe struct {
	sc  *bufio.Scanner
	out io.Writer
}

func (p *pipe) Command() (string, error) {
	if p.sc.Scan() {
		return p.sc.Text(), nil
	}
	if err := p.sc.Err(); err != nil {
		return "", err
	}
	return "", io.EOF
}

func (p *pipe) Answer(question string) (string, error) {
	fmt.Fprint(p.out, question)
	line, err := p.Command()
	fmt.Fprintln(p.out)
	return line, err
}

func (p *pipe) Clear() {}

// Terminal reads from a terminal in raw mode with x/term's line editor:
// arrows move and recall history, Ctrl-D or Ctrl-C ends. Print through t
// too, so that output and the line being edited do not mix.
func Terminal(t *term.Terminal) Input { return &terminal{t: t} }

type terminal struct{ t *term.Terminal }

func (t *terminal) Command() (string, error) {
	t.t.SetPrompt("> ")
	return t.t.ReadLine()
}

func (t *terminal) Answer(question string) (string, error) {
	t.t.SetPrompt(question)
	history := t.t.History
	t.t.History = noHistory{} // a yes or no is not worth recalling
	defer func() { t.t.History = history }()
	return t.t.ReadLine()
}

func (t *terminal) Clear() { _, _ = io.WriteString(t.t, "\x1b[H\x1b[2J") }

type noHistory struct{}

func (noHistory) Add(string)    {}
func (noHistory) Len() int      { return 0 }
func (noHistory) At(int) string { return "" }

// Run reads command lines ("/reset-sessions a b", or just "a b") from in
// and handles each as user in channel, until in ends, quit or exit, or ctx
// is done. A confirmation becomes a yes/no question, and only the next
// line answers it.
func Run(ctx context.Context, b *bot.Bot, sh *Shell, in Input, user, channel string) error {
	for {
		raw, err := in.Command()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		line := strings.TrimSpace(raw)
		if rest, ok := strings.CutPrefix(line, b.Command()); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			line = strings.TrimSpace(rest)
		}
		switch strings.ToLower(line) {
		case "":
			continue
		case "quit", "exit":
			return nil
		case "clear":
			in.Clear()
			continue
		case "y", "yes", "n", "no":
			sh.say(bot.ShellNothingWaiting(line))
			continue
		}
		res := sh.handle(ctx, b, bot.Request{Via: bot.ViaShell, User: user, Channel: channel, Text: line})
		if tok := res.Answer.Confirm; tok != "" {
			if err := sh.confirm(ctx, b, in, tok, user, channel); err != nil {
				return err
			}
		}
	}
}

// handle takes a request through the core, as Slack would, and prints
// what its requester is told.
func (sh *Shell) handle(ctx context.Context, b *bot.Bot, req bot.Request) bot.Result {
	req.Proceed = func(now bot.Result) bool { sh.Render(req.User, now); return true }
	req, res, done := b.Triage(req)
	if !done {
		res = b.Handle(ctx, req)
	}
	sh.Render(req.User, res)
	return res
}

// say prints a line of the shell's own.
func (s *Shell) say(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintln(s.out, line)
}

// confirm asks the confirmation as a yes/no question and clicks the answer.
func (sh *Shell) confirm(ctx context.Context, b *bot.Bot, in Input, tok, user, channel string) error {
	answer, err := in.Answer(bot.ShellConfirmPrompt)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	answer = strings.ToLower(strings.TrimSpace(answer))
	sh.handle(ctx, b, bot.Request{Via: bot.ViaClick, User: user, Channel: channel, Token: tok, Confirm: answer == "y" || answer == "yes"})
	return nil
}
