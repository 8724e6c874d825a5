// Package shell is sessionbot's terminal adapter: it runs the core on
// command lines read from a terminal or a pipe, and prints what the bot
// would post in Slack.
package shell

import (
	"bufio"
	"bytes"
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

// Terminal reads from a terminal in raw mode (rw) with x/term's line
// editor: arrows move and recall history, Ctrl-D or Ctrl-C ends. It
// returns the writer to print through too, so that output and the line
// being edited do not mix. At a confirmation, Ctrl-C or Ctrl-D answers no
// (see keys).
func Terminal(rw io.ReadWriter) (Input, io.Writer) {
	k := &keys{r: rw}
	t := term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{k, rw}, "> ")
	return &terminal{t: t, keys: k}, t
}

type terminal struct {
	t    *term.Terminal
	keys *keys
}

func (t *terminal) Command() (string, error) {
	t.t.SetPrompt("> ")
	return t.t.ReadLine()
}

func (t *terminal) Answer(question string) (string, error) {
	t.t.SetPrompt(question)
	history := t.t.History
	t.t.History = noHistory{} // a yes or no is not worth recalling
	t.keys.answering, t.keys.interrupted = true, false
	defer func() { t.t.History, t.keys.answering = history, false }()
	line, err := t.t.ReadLine()
	if t.keys.interrupted {
		return "", nil // no
	}
	return line, err
}

func (t *terminal) Clear() { _, _ = io.WriteString(t.t, "\x1b[H\x1b[2J") }

// keys is what the line editor reads. At a confirmation, it turns Ctrl-C
// and Ctrl-D into "clear the line, Enter": an answer of no that leaves the
// editor at a new line, ready for the next command. (x/term reads both as
// the end of input, which would end the shell, and leaves its prompt on
// the screen, to be drawn again under whatever is printed next.)
type keys struct {
	r                      io.Reader
	answering, interrupted bool // only the reading goroutine uses them
	pending                []byte
}

// clearAndEnter is Ctrl-A (to the line's start), Ctrl-K (erase to its
// end), Enter.
var clearAndEnter = []byte{1, 11, '\r'}

func (k *keys) Read(p []byte) (int, error) {
	if len(k.pending) == 0 {
		n, err := k.r.Read(p)
		if !k.answering || !bytes.ContainsAny(p[:n], "\x03\x04") {
			return n, err
		}
		for _, c := range p[:n] {
			if c == 3 || c == 4 {
				k.interrupted = true
				k.pending = append(k.pending, clearAndEnter...)
				continue
			}
			k.pending = append(k.pending, c)
		}
		if err != nil && len(k.pending) == 0 {
			return 0, err
		}
	}
	n := copy(p, k.pending)
	k.pending = k.pending[n:]
	return n, nil
}

type noHistory struct{}

func (noHistory) Add(string)    {}
func (noHistory) Len() int      { return 0 }
func (noHistory) At(int) string { return "" }

// Run reads command lines and handles each as user in channel, as Slack
// would (see commandText), until in ends, quit or exit, or ctx is done. A
// confirmation becomes a yes/no question, and only the next line answers
// it.
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
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		line, slash := commandText(raw, b.Command())
		if slash && line == "" {
			sh.say(bot.ShellPicker(b.Command()))
			continue
		}
		switch strings.ToLower(line) { // "" is help, as a bare mention is in Slack
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

// commandText is a line's command text as Slack would read it, in any of
// the forms the README teaches. After the slash command, the rest as typed
// (slash: empty is the picker, which the shell does not have). After a
// mention of the bot, or bare, the rest without a first "reset", as a
// mention is read: "@sessionbot reset scraper-eu" and "reset scraper-eu"
// reset scraper-eu, never a sub-user named reset (that is "-- reset").
func commandText(line, command string) (text string, slash bool) {
	if rest, ok := cutWord(line, command); ok {
		return rest, true
	}
	if rest, ok := cutWord(line, "@sessionbot"); ok {
		line = rest
	}
	if rest, ok := cutWord(line, "reset"); ok {
		line = rest
	}
	return line, false
}

// cutWord cuts word, in any case, from the start of line, when it is a
// whole word there.
func cutWord(line, word string) (rest string, ok bool) {
	if len(line) < len(word) || !strings.EqualFold(line[:len(word)], word) {
		return line, false
	}
	rest = line[len(word):]
	if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return line, false
	}
	return strings.TrimSpace(rest), true
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
	answer, err := in.Answer(bot.ConfirmPrompt)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	answer = strings.ToLower(strings.TrimSpace(answer))
	sh.handle(ctx, b, bot.Request{Via: bot.ViaClick, User: user, Channel: channel, Token: tok, Confirm: answer == "y" || answer == "yes"})
	return nil
}
