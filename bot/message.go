package bot

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Message is something the bot says, in parts every transport can render:
// Slack turns them into Block Kit, the shell into plain text. Text and
// Footer are mrkdwn (Slack's markup, which the shell also reads). Every
// sentence in one is written in words.go.
type Message struct {
	Text   string `json:"text"`             // the body
	Footer string `json:"footer,omitempty"` // small print: the request ID
	// Confirm, when set, asks for a decision: a Confirm and a Cancel button
	// that both carry this signed token (see confirm.go).
	Confirm string `json:"confirm,omitempty"`
	// Approve, when set, asks an approver for a decision: an Approve and a
	// Deny button that both carry this signed token.
	Approve string `json:"approve,omitempty"`
	// Tag says which request the message belongs to, and what it is to
	// it, so that a transport can find it again: a post whose answer was
	// lost may have been made, and is looked for before it is made again.
	Tag Tag `json:"-"`
}

// Tag names a message of a request's trail.
type Tag struct {
	RequestID string
	Kind      Kind
}

// Kind is what a message is to its request.
type Kind string

// The kinds of message a request's trail has.
const (
	KindAnnouncement Kind = "announcement"
	KindOutcome      Kind = "outcome"
	KindList         Kind = "list"    // a part of a long target list
	KindRefusal      Kind = "refusal" // a refusal, mirrored in the audit channel
)

// Sizes every message keeps to, whatever the input, so that it fits every
// transport: Slack rejects a message whose blocks add up to roughly 11,000
// characters, and a section over 3,000.
const (
	// MaxText bounds a message's body.
	MaxText = 8000
	// listBudget bounds a list of targets or bad words in one message; the
	// rest is counted ("and 12 more").
	listBudget = 6000
	// maxOutsideText bounds text from outside (IPRoyal's error messages)
	// before it is escaped.
	maxOutsideText = 300
	// maxShown bounds a word the user typed when it is shown back.
	maxShown = 60
)

// message builds a Message of a body and an optional footer. A body over
// MaxText is cut on a line or word boundary: every caller bounds its own
// lists, so this only guards against a mistake.
func message(text, footer string) Message {
	if utf8.RuneCountInString(text) > MaxText {
		text = SplitText(text, MaxText-1)[0] + "…"
	}
	return Message{Text: text, Footer: footer}
}

var (
	escaper   = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	unescaper = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")
)

// escape makes text from outside inert in mrkdwn.
func escape(s string) string { return escaper.Replace(s) }

// clipRunes cuts s to at most n characters, the last one an ellipsis.
func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// outside renders text that came from outside (IPRoyal): clipped to
// maxOutsideText characters first, so that escaping never splits an
// entity, then escaped.
func outside(s string) string { return escape(clipRunes(s, maxOutsideText)) }

// showInput renders a word the user typed so that it can never become live
// markup: Slack sends typed text with &, < and > already escaped but control
// sequences such as <!channel> raw, so unescape once and escape once, then
// quote it in a code span.
func showInput(s string) string {
	s = unescaper.Replace(s)
	if r := []rune(s); len(r) > maxShown {
		s = string(r[:maxShown]) + "…"
	}
	s = strings.ReplaceAll(s, "`", "'")
	return "`" + escape(visible(s)) + "`"
}

// visible shows the invisible characters of s by their code points
// ("U+202E"): bidi controls (an RLO would reverse the rest of the line),
// zero-width spaces and joiners, and the other format characters, which
// would make what is shown differ from what was typed.
func visible(s string) string {
	if strings.IndexFunc(s, invisible) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if invisible(r) {
			fmt.Fprintf(&b, "[U+%04X]", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// invisible reports whether r is a format character (Unicode's Cf: bidi
// controls, zero-width characters, the BOM, the soft hyphen).
func invisible(r rune) bool { return unicode.Is(unicode.Cf, r) }

// fitLines joins lines while they fit in budget characters, and says how
// many did not fit.
func fitLines(lines []string, budget int) (shown string, more int) {
	var b strings.Builder
	used := 0
	for i, l := range lines {
		n := utf8.RuneCountInString(l) + 1
		if used+n > budget {
			return b.String(), len(lines) - i
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(l)
		used += n
	}
	return b.String(), 0
}

// PlainText turns the core's mrkdwn into plain text, for places that show
// no markup (a form's errors, a terminal): code spans and emphasis
// unwrapped, mentions named as people read them (@user, #channel,
// @group), entities decoded.
func PlainText(s string) string {
	s = mentionRef.ReplaceAllStringFunc(s, func(ref string) string {
		m := mentionRef.FindStringSubmatch(ref)
		if m[1] == "#" {
			return "#" + m[2]
		}
		return "@" + m[2]
	})
	return unescaper.Replace(unmarker.Replace(s))
}

var unmarker = strings.NewReplacer("`", "", "*", "")

var mentionRef = regexp.MustCompile(`<([@#!])(?:subteam\^)?([A-Z0-9]+)>`)

// splitLines groups lines into parts of at most budget characters each
// (a line longer than budget is a part of its own).
func splitLines(lines []string, budget int) []string {
	var parts []string
	for len(lines) > 0 {
		shown, more := fitLines(lines, budget)
		if more == len(lines) {
			shown, more = lines[0], more-1
		}
		parts = append(parts, shown)
		lines = lines[len(lines)-more:]
	}
	return parts
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
