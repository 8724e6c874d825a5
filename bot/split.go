package bot

import (
	"strings"
	"unicode/utf8"
)

// SplitText cuts mrkdwn text into pieces of at most limit characters (code
// points), for transports that bound a block of text. It cuts at the last
// line break that fits, else at the last space, and only where the cut
// cannot break markup: never inside a <...> mention or link, never inside
// an &amp; entity, never inside a UTF-8 character. The separator it cut at
// is dropped. Text of limit characters or fewer comes back whole.
func SplitText(s string, limit int) []string {
	if limit <= 0 {
		return []string{s}
	}
	var out []string
	for utf8.RuneCountInString(s) > limit {
		end := byteOffset(s, limit)
		cut, skip := boundary(s, end)
		out = append(out, s[:cut])
		s = s[cut+skip:]
	}
	return append(out, s)
}

// byteOffset is where the n-th code point of s starts.
func byteOffset(s string, n int) int {
	i := 0
	for range n {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return i
}

// boundary finds where to cut s before end: the byte offset of the cut and
// how many separator bytes to drop after it.
func boundary(s string, end int) (cut, skip int) {
	for _, sep := range []byte{'\n', ' '} {
		for i := strings.LastIndexByte(s[:end], sep); i > 0; i = strings.LastIndexByte(s[:i], sep) {
			if !insideMarkup(s, i) {
				return i, 1
			}
		}
	}
	// No separator: cut hard, but back off to before any markup the cut
	// would break. end is on a code point boundary already.
	cut = end
	if open := strings.LastIndexByte(s[:cut], '<'); open >= 0 && insideMarkup(s, cut) {
		cut = open
	}
	if amp := strings.LastIndexByte(s[:cut], '&'); amp >= 0 && insideEntity(s[amp:cut]) {
		cut = amp
	}
	if cut == 0 { // one piece of markup longer than limit: nothing better to do
		cut = end
	}
	return cut, 0
}

// insideMarkup reports whether offset i of s is inside a <...> sequence.
func insideMarkup(s string, i int) bool {
	open := strings.LastIndexByte(s[:i], '<')
	return open >= 0 && strings.IndexByte(s[open:i], '>') < 0
}

// insideEntity reports whether s, which starts with '&', is the unfinished
// start of an entity such as &amp; or &#39;.
func insideEntity(s string) bool {
	if len(s) > 8 {
		return false
	}
	for _, c := range []byte(s[1:]) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '#') {
			return false
		}
	}
	return true
}
