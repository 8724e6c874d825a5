package bot

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSplitText(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		limit int
		want  []string
	}{
		{"fits", "a b c", 5, []string{"a b c"}},
		{"on a line", "aaaa\nbbbb\ncccc", 10, []string{"aaaa\nbbbb", "cccc"}},
		{"on a word", "aaaa bbbb cccc", 10, []string{"aaaa bbbb", "cccc"}},
		{"a line before a word", "aa\nbb cc dd", 9, []string{"aa", "bb cc dd"}},
		{"hard, with nothing to cut at", "aaaaaaaaaa", 4, []string{"aaaa", "aaaa", "aa"}},
		{"not inside an entity", "aaaaa&amp;bbb", 8, []string{"aaaaa", "&amp;bbb"}},
		{"not inside a mention", "aaaa<@U123|bob>", 8, []string{"aaaa", "<@U123|b", "ob>"}},
		{"not at a space inside a link", "see <https://x.example|a long label> now", 33, []string{"see", "<https://x.example|a long label>", "now"}},
		{"not inside a character", "ééééé", 3, []string{"ééé", "éé"}},
		{"markup longer than the limit is cut anyway", "<!subteam^S0123456789>", 10, []string{"<!subteam^", "S012345678", "9>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SplitText(tt.in, tt.limit)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("SplitText(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
			}
		})
	}
}

// FuzzSplitText: whatever the text, every piece fits, is valid UTF-8 when
// the text was, and the pieces add up to the text but for the separators
// cut at.
func FuzzSplitText(f *testing.F) {
	for _, s := range []string{"a b\nc", "&amp;&lt;&gt;", "<@U1> <#C1|x y> <!here>", "ééé ü", strings.Repeat("x", 100)} {
		f.Add(s, 7)
	}
	f.Fuzz(func(t *testing.T, s string, limit int) {
		if limit < 1 || limit > 1000 {
			return
		}
		pieces := SplitText(s, limit)
		total := 0
		for _, p := range pieces {
			if n := utf8.RuneCountInString(p); n > limit {
				t.Fatalf("a piece of %d characters, over %d", n, limit)
			}
			if utf8.ValidString(s) && !utf8.ValidString(p) {
				t.Fatalf("piece %q is not UTF-8", p)
			}
			total += len(p)
		}
		if cut := len(s) - total; cut < 0 || cut > len(pieces)-1 {
			t.Fatalf("pieces of %d bytes from %d", total, len(s))
		}
		if joined := strings.Join(pieces, ""); !strings.HasPrefix(s, pieces[0]) || len(joined) > len(s) {
			t.Fatalf("pieces %q do not come from %q", pieces, s)
		}
	})
}
