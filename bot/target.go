package bot

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/sessionbot/sessionbot/iproyal"
)

// Target is one residential user whose sessions a command resets.
type Target struct {
	Hash string
	// Username is set when the requester named the sub-user rather than its hash.
	Username string
}

// String is the hash, with the username in brackets when one was given.
func (t Target) String() string {
	switch {
	case t.Hash == "":
		return t.Username
	case t.Username == "":
		return t.Hash
	}
	return t.Hash + " (" + t.Username + ")"
}

// BadTarget is a word of the command that is not something we can reset.
type BadTarget struct {
	Input  string // as the user typed it; escape before showing
	Reason string // safe to show
}

// validUsername says whether s could be a sub-user's username. It is
// deliberately narrow: whatever passes is echoed back to Slack verbatim.
func validUsername(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '-', c == '.':
		default:
			return false
		}
	}
	return true
}

// ResolveTargets turns words into targets. Hashes are validated locally;
// anything else that could be a username is looked up with finder, all in
// one call, unless finder is nil (a dry run without IPRoyal), in which case
// the username is kept without a hash. Words that are neither, and usernames
// IPRoyal does not know, come back as bad targets. err is set only when
// IPRoyal itself failed, and then the other results are meaningless.
func ResolveTargets(ctx context.Context, finder SubuserFinder, words []string) (targets []Target, bad []BadTarget, err error) {
	ws := make([]word, len(words))
	for i, w := range words {
		ws[i] = word{text: w}
	}
	return resolve(ctx, finder, ws)
}

func resolve(ctx context.Context, finder SubuserFinder, words []word) (targets []Target, bad []BadTarget, err error) {
	type slot struct {
		t   Target
		bad *BadTarget
	}
	slots := make([]slot, len(words))
	var lookup []string // the usernames to look up, and where they go
	var at []int
	for i, lw := range words {
		w := lw.text
		if at := strings.IndexFunc(w, invisible); at >= 0 {
			r, _ := utf8.DecodeRuneInString(w[at:])
			slots[i].bad = &BadTarget{Input: w, Reason: fmt.Sprintf(sayInvisible, r, utf8.RuneCountInString(w[:at])+1)}
			continue
		}
		if h, err := iproyal.ParseHash(w); err == nil {
			slots[i].t = Target{Hash: h}
			continue
		}
		if why := mistypedHash(w); why != "" && !lw.literal {
			slots[i].bad = &BadTarget{Input: w, Reason: why}
			continue
		}
		if !validUsername(w) {
			slots[i].bad = &BadTarget{Input: w, Reason: sayNotATarget}
			continue
		}
		slots[i].t = Target{Username: w}
		if finder != nil {
			lookup, at = append(lookup, w), append(at, i)
		}
	}
	if len(lookup) > 0 {
		l, err := finder.FindSubusers(ctx, lookup)
		if err != nil {
			return nil, nil, err
		}
		for k, w := range lookup {
			if sub, ok := l.Found[w]; ok {
				slots[at[k]].t.Hash = sub.Hash
				continue
			}
			slots[at[k]].bad = &BadTarget{Input: w, Reason: sayUnknownUsername + didYouMean(l.Suggestions[w])}
		}
	}

	byHash := make(map[string]int, len(slots))
	for _, s := range slots {
		switch {
		case s.bad != nil:
			bad = append(bad, *s.bad)
		case s.t.Hash == "":
			targets = append(targets, s.t)
		default:
			if i, dup := byHash[s.t.Hash]; dup {
				if targets[i].Username == "" {
					targets[i].Username = s.t.Username
				}
				continue
			}
			byHash[s.t.Hash] = len(targets)
			targets = append(targets, s.t)
		}
	}
	return targets, bad, nil
}

// didYouMean offers the usernames IPRoyal's search found instead.
func didYouMean(names []string) string {
	var shown []string
	for _, n := range names {
		if validUsername(n) { // echoed verbatim: only what could be typed
			shown = append(shown, "`"+n+"`")
		}
	}
	switch len(shown) {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf(sayDidYouMean, shown[0])
	}
	return fmt.Sprintf(sayDidYouMeanOr, strings.Join(shown[:len(shown)-1], ", "), shown[len(shown)-1])
}

// Hashes returns the targets' hashes in order.
func Hashes(targets []Target) []string {
	out := make([]string, 0, len(targets))
	for _, t := range targets {
		if t.Hash != "" {
			out = append(out, t.Hash)
		}
	}
	return out
}

func targetLine(t Target) string {
	switch {
	case t.Hash == "":
		return fmt.Sprintf(sayTargetNoHash, t.Username)
	case t.Username != "":
		return fmt.Sprintf(sayTargetNamed, t.Hash, t.Username)
	}
	return fmt.Sprintf(sayTargetHash, t.Hash)
}

func targetLines(targets []Target) []string {
	lines := make([]string, len(targets))
	for i, t := range targets {
		lines[i] = targetLine(t)
	}
	return lines
}

// targetList shows as many targets as fit in a message; where, if set,
// says where the rest can be read.
func targetList(targets []Target, where string) string {
	shown, more := fitLines(targetLines(targets), listBudget)
	switch {
	case more > 0 && where != "":
		shown += fmt.Sprintf(sayMoreWhere, more, where)
	case more > 0:
		shown += fmt.Sprintf(sayMoreCounted, more)
	}
	return shown
}
