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

	"golang.org/x/term"

	"github.com/sessionbot/sessionbot/bot"
)

// Shell is a bot.Chat that prints, as readable text, what the bot would post in
// Slack. It lets people try sessionbot, and its access rules, without Slack.
type Shell struct {
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
func (s *Shell) Post(_ context.Context, channel, thread string, m bot.Message) (string, error) {
	s.mu.Lock()
	s.n++
	ts := fmt.Sprint(s.n)
	s.mu.Unlock()
	where := fmt.Sprintf("[#%s, message %s]", channel, ts)
	if thread != "" {
		where = fmt.Sprintf("[#%s, message %s, in the thread of message %s]", channel, ts, thread)
	}
	s.print(where+" sessionbot:", m)
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
			sh.say("Nothing is waiting for a yes or no. To reset a sub-user with that name, write -- " + line + ".")
			continue
		}
		cmd := bot.Command{User: user, Channel: channel, Text: line, Via: "shell"}
		if answer, done := b.Triage(cmd); done {
			_ = sh.Private(ctx, cmd, answer)
		} else {
			b.Handle(ctx, cmd)
		}
		if tok := sh.takePending(); tok != "" {
			if err := sh.confirm(ctx, b, in, tok, user, channel); err != nil {
				return err
			}
		}
	}
}

// say prints a line of the shell's own.
func (s *Shell) say(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintln(s.out, line)
}

// confirm asks the confirmation as a yes/no question and clicks the answer.
func (sh *Shell) confirm(ctx context.Context, b *bot.Bot, in Input, tok, user, channel string) error {
	answer, err := in.Answer("Confirm? [y/N] ")
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	answer = strings.ToLower(strings.TrimSpace(answer))
	click := bot.Click{User: user, Channel: channel, Token: tok, Confirm: answer == "y" || answer == "yes"}
	if m, done := b.TriageClick(click); done {
		_ = sh.Private(ctx, bot.Command{User: user, Channel: channel}, m)
		return nil
	}
	b.HandleClick(ctx, click)
	return nil
}
