package bot

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		text    string
		verb    verb
		targets string // literal ones starred
		search  string
		extra   int
		dryRun  bool
	}{
		{text: "", verb: verbHelp},
		{text: "  help ", verb: verbHelp},
		{text: "HELP me", verb: verbHelp},
		{text: "-h", verb: verbHelp},
		{text: "--dry-run", verb: verbReset, dryRun: true},
		{text: "status", verb: verbStatus},
		{text: "Status abc", verb: verbStatus, extra: 1},
		{text: "find scraper", verb: verbFind, search: "scraper"},
		{text: "find", verb: verbFind},
		{text: "find a b", verb: verbFind, search: "a", extra: 1},
		{text: "a, b\nc", verb: verbReset, targets: "a b c"},
		{text: "a --dry-run a", verb: verbReset, targets: "a", dryRun: true},
		{text: "-- status", verb: verbReset, targets: "status*"},
		{text: "-- --dry-run help", verb: verbReset, targets: "--dry-run* help*"},
		{text: `"status"`, verb: verbReset, targets: "status*"},
		{text: `“help” x`, verb: verbReset, targets: "help* x"},
		{text: `'find'`, verb: verbReset, targets: "find*"},
		{text: `x "status"`, verb: verbReset, targets: "x status*"},
		{text: `""`, verb: verbReset, targets: `""`},
		{text: "01h7ycg0r9gyy1ycps2s4qa6wb 01H7YCG0R9GYY1YCPS2S4QA6WB", verb: verbReset, targets: "01h7ycg0r9gyy1ycps2s4qa6wb"},
	}
	for _, tt := range tests {
		c := parseCommand(tt.text)
		var got []string
		for _, w := range c.targets {
			s := w.text
			if w.literal {
				s += "*"
			}
			got = append(got, s)
		}
		if c.verb != tt.verb || strings.Join(got, " ") != tt.targets || c.search != tt.search || len(c.extra) != tt.extra || c.dryRun != tt.dryRun {
			t.Errorf("parseCommand(%q) = %s %q search %q extra %d dry %v; want %s %q search %q extra %d dry %v",
				tt.text, c.verb, got, c.search, len(c.extra), c.dryRun, tt.verb, tt.targets, tt.search, tt.extra, tt.dryRun)
		}
	}
}

func TestMistypedHash(t *testing.T) {
	tests := []struct {
		word string
		want []string // every part of the reason; none: not a mistyped hash
	}{
		{"01H7YCG0R9GYY1YCPS2S4QA6W", []string{"it has 25 characters, and a hash has 26"}},
		{"01H7YCG0R9GYY1YCPS2S4QA6WBB", []string{"it has 27 characters"}},
		{"01H7YCG0R9GYY1YCPS2S4QA6WO", []string{"it has `O` at position 26", "I, L, O or U"}},
		{"01h7ycg0r9gyy1ycps2s4qa6wl", []string{"`l` at position 26"}},
		{"91H7YCG0R9GYY1YCPS2S4QA6WB", []string{"it starts with 9, and a hash starts with 0 to 7"}},
		{"91H7YCG0R9GYY1YCPS2S4QA6U", []string{"25 characters", "`U` at position 25", "starts with 9"}},
		{"01H7YCG0R9GYY1YCPS2S4QA6WB", nil}, // a valid hash
		{"scraper-eu", nil},                 // a username
		{"1abcdefghijklmnopqrstuvw", []string{"it has 24 characters"}},
		{"1abcdefghijklmnopqrstuv", nil},       // 23: a username, perhaps
		{"a1H7YCG0R9GYY1YCPS2S4QA6WB", nil},    // starts with a letter
		{"01H7YCG0R9GYY1YCPS2S4QA6-B", nil},    // a dash: a username
		{"01H7YCG0R9GYY1YCPS2S4QA6WBBBB", nil}, // 29
	}
	for _, tt := range tests {
		got := mistypedHash(tt.word)
		if (got == "") != (tt.want == nil) {
			t.Errorf("mistypedHash(%q) = %q", tt.word, got)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("mistypedHash(%q) = %q, want it to say %q", tt.word, got, w)
			}
		}
	}
}

func TestDidYouMean(t *testing.T) {
	tests := map[string][]string{
		"":                                nil,
		"; did you mean `scraper-eu`?":    {"scraper-eu"},
		"; did you mean `a` or `b`?":      {"a", "b"},
		"; did you mean `a`, `b` or `c`?": {"a", "b", "c"},
		"; did you mean `ok`?":            {"<!here>", "ok"}, // what could not be typed is not echoed
		fmt.Sprintf("; did you mean `%s`?", "x.y"): {"x.y"},
	}
	for want, names := range tests {
		if got := didYouMean(names); got != want {
			t.Errorf("didYouMean(%q) = %q, want %q", names, got, want)
		}
	}
}
