package bot

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/sessionbot/sessionbot/iproyal"
)

// verb is what a command asks for.
type verb string

const (
	verbReset  verb = "reset"
	verbHelp   verb = "help"
	verbStatus verb = "status"
	verbFind   verb = "find"
	verbCan    verb = "can"
)

// command is a command's text, parsed.
type command struct {
	verb    verb
	targets []word // reset: what to resolve, repeats dropped
	search  string // find: the text to look for
	extra   []word // words after a verb that takes none, or one too many
	dryRun  bool
}

// word is one word of a command. A literal word, quoted or after "--", is
// a target whatever it looks like: never a keyword, a flag, or a mistyped
// hash.
type word struct {
	text    string
	literal bool
}

// quotes are the pairs a word may be wrapped in to be taken literally;
// phones turn straight quotes into curly ones.
var quotes = [][2]rune{{'"', '"'}, {'“', '”'}, {'\'', '\''}, {'‘', '’'}}

// splitWords splits text on spaces, commas and new lines.
func splitWords(text string) []word {
	fields := strings.FieldsFunc(text, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	out := make([]word, 0, len(fields))
	literal := false
	for _, f := range fields {
		if f == "--" && !literal {
			literal = true // everything after is a target
			continue
		}
		w := word{text: f, literal: literal}
		for _, q := range quotes {
			r := []rune(f)
			if len(r) >= 3 && r[0] == q[0] && r[len(r)-1] == q[1] {
				w = word{text: string(r[1 : len(r)-1]), literal: true}
				break
			}
		}
		out = append(out, w)
	}
	return out
}

// parseCommand reads a command's text: a keyword first (help, status,
// find) unless it is quoted or after "--"; the dry-run flag anywhere.
func parseCommand(text string) command {
	var c command
	var words []word
	for _, w := range splitWords(text) {
		if !w.literal && isDryRunFlag(w.text) {
			c.dryRun = true
			continue
		}
		words = append(words, w)
	}
	if len(words) == 0 {
		c.verb = verbHelp
		if c.dryRun {
			c.verb = verbReset // "--dry-run" alone: no targets given
		}
		return c
	}
	first := words[0]
	switch {
	case first.literal:
		c.verb = verbReset
	case isHelp(first.text):
		c.verb = verbHelp
		return c
	case strings.EqualFold(first.text, string(verbStatus)):
		c.verb, c.extra = verbStatus, words[1:]
		return c
	case strings.EqualFold(first.text, string(verbCan)):
		c.verb, c.extra = verbCan, words[1:]
		return c
	case strings.EqualFold(first.text, string(verbFind)):
		c.verb = verbFind
		if len(words) > 1 {
			c.search, c.extra = words[1].text, words[2:]
		}
		return c
	default:
		c.verb = verbReset
	}
	c.targets = dedupe(words)
	return c
}

// dedupe drops repeated targets (hashes compared in any case), keeping the
// first.
func dedupe(words []word) []word {
	seen := make(map[string]bool, len(words))
	out := words[:0]
	for _, w := range words {
		key := w.text
		if h, err := iproyal.ParseHash(w.text); err == nil {
			key = h
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, w)
		}
	}
	return out
}

func isDryRunFlag(w string) bool {
	switch strings.ToLower(w) {
	// Phones and Macs turn "--" into a dash, so those spellings count too.
	case "--dry-run", "—dry-run", "–dry-run", "--dryrun", "-n":
		return true
	}
	return false
}

func isHelp(w string) bool {
	switch strings.ToLower(w) {
	case "help", "-h", "--help", "?":
		return true
	}
	return false
}

// SplitTargets splits command text into targets, as a reset reads them:
// on spaces, commas and new lines, a quoted word unquoted, repeats (hashes
// compared in any case) dropped.
func SplitTargets(text string) []string {
	words := dedupe(splitWords(text))
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = w.text
	}
	return out
}

// mistypedHash says why a word is probably a residential user hash with a
// typo: 24 to 28 letters and digits, starting with a digit, but no valid
// hash. Such a word is not looked up as a username: sub-users named like
// that are vanishingly rare (quote one to look it up anyway).
func mistypedHash(w string) string {
	if len(w) < iproyal.HashLen-2 || len(w) > iproyal.HashLen+2 || w[0] < '0' || w[0] > '9' {
		return ""
	}
	for _, c := range w {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return ""
		}
	}
	if _, err := iproyal.ParseHash(w); err == nil {
		return ""
	}
	return mistypedWhy(w, len(w), strings.IndexAny(strings.ToUpper(w), "ILOU"), w[0])
}

// mistypedWhy says which of a hash's checks a word failed.
func mistypedWhy(w string, length, badAt int, first byte) string {
	var why []string
	if length != iproyal.HashLen {
		why = append(why, fmt.Sprintf(sayMistypedLength, length, iproyal.HashLen))
	}
	if badAt >= 0 {
		why = append(why, fmt.Sprintf(sayMistypedLetter, w[badAt], badAt+1))
	}
	if first > '7' {
		why = append(why, fmt.Sprintf(sayMistypedFirst, first))
	}
	return sayMistyped + strings.Join(why, "; ")
}
