// Package policy says who may reset which sub-users, and where: grants,
// each of some people (users, members of user groups), perhaps only in
// some channels, over some sub-users (username globs or hashes). It is
// deny by default: a request is allowed only when every target is covered
// by a grant that matches the requester and the channel, each target
// attributed to the first such grant in file order. It reads policy files
// (file.go) and knows nothing of Slack or IPRoyal: who is in a group, and
// a hash's username, are told it.
package policy

import (
	"path"
	"strings"
	"time"

	"github.com/sessionbot/sessionbot/iproyal"
)

// Policy is a set of grants, in the order they are tried.
type Policy struct {
	Contact string // shown to anyone refused; optional
	Grants  []Grant
	SHA256  string // of the file it came from; empty for the environment's

	byUser  map[string][]int // grants by user, in file order
	byGroup map[string][]int // grants by user group
	groups  []string         // every group any grant names, once
}

// Grant lets some people reset some sub-users, perhaps only somewhere.
type Grant struct {
	Name       string
	Users      []string // Slack user IDs
	Usergroups []string // Slack user group IDs: their members
	Channels   []string // only there; none: any channel
	Subusers   []string // username globs (path.Match, case-insensitive) or hashes; "*": all
	MaxTargets int      // at most this many targets a request under this grant; 0: no bound
	Approval   *Approval
	Line       int // where it is in its file

	all      bool            // "*"
	hashes   map[string]bool // the hashes listed
	prefixes []string        // "scraper-eu-*", lower-cased, without the star: a prefix is all they ask
	globs    []glob          // the other patterns, lower-cased
	channels map[string]bool // nil: any channel
}

// glob is a pattern with the literal text it starts with, which a name
// must start with too before path.Match is worth asking.
type glob struct {
	pattern, literal string
}

// Approval says when a grant's requests wait for a second person.
type Approval struct {
	Above      int      // more targets than this need approval; -1: no count does
	Subusers   []string // any of these targets needs approval, whatever the count
	Users      []string // who may approve
	Usergroups []string
	TTL        time.Duration // how long a request waits
	Line       int

	match Grant // Subusers, compiled as a grant's
}

// Everything is the policy of the environment's ALLOWED_USERS,
// ALLOWED_USERGROUPS and ALLOWED_CHANNELS: one grant of every sub-user.
func Everything(users, usergroups, channels []string) *Policy {
	p := &Policy{Grants: []Grant{{Name: EverythingName, Users: users, Usergroups: usergroups, Channels: channels, Subusers: []string{"*"}}}}
	p.compile()
	return p
}

// EverythingName names the one grant of the ALLOWED_* variables.
const EverythingName = "ALLOWED_USERS/ALLOWED_USERGROUPS"

// FromEnvironment reports whether p is the ALLOWED_* variables' policy.
func (p *Policy) FromEnvironment() bool { return p.SHA256 == "" }

// compile indexes the grants, for evaluating them quickly whatever their
// number.
func (p *Policy) compile() {
	p.byUser, p.byGroup = map[string][]int{}, map[string][]int{}
	seen := map[string]bool{}
	for i := range p.Grants {
		g := &p.Grants[i]
		g.compile()
		for _, u := range g.Users {
			p.byUser[u] = append(p.byUser[u], i)
		}
		for _, s := range g.Usergroups {
			p.byGroup[s] = append(p.byGroup[s], i)
			if !seen[s] {
				seen[s] = true
				p.groups = append(p.groups, s)
			}
		}
		if g.Approval != nil {
			g.Approval.match = Grant{Subusers: g.Approval.Subusers}
			g.Approval.match.compile()
		}
	}
}

func (g *Grant) compile() {
	g.hashes = map[string]bool{}
	g.prefixes, g.globs = nil, nil
	for _, s := range g.Subusers {
		if h, err := iproyal.ParseHash(s); err == nil {
			g.hashes[h] = true
			continue
		}
		s = strings.ToLower(s)
		switch {
		case s == "*":
			g.all = true
		case strings.HasSuffix(s, "*") && !strings.ContainsAny(s[:len(s)-1], `*?[\`):
			g.prefixes = append(g.prefixes, s[:len(s)-1])
		default:
			literal := s
			if i := strings.IndexAny(s, `*?[\`); i >= 0 {
				literal = s[:i]
			}
			g.globs = append(g.globs, glob{s, literal})
		}
	}
	if len(g.Channels) > 0 {
		g.channels = make(map[string]bool, len(g.Channels))
		for _, c := range g.Channels {
			g.channels[c] = true
		}
	}
}

// Groups are the user groups any grant names: whose members a requester's
// grants depend on.
func (p *Policy) Groups() []string { return p.groups }

// Requester is who asks, and where. Member says whether they are in a
// user group: a group it cannot say of counts as not (fail closed).
type Requester struct {
	User    string
	Channel string // "": anywhere (the home tab, find, the picker before a channel)
	Member  func(group string) bool
}

// Target is a sub-user a request names: its hash, and its username when
// it is known.
type Target struct {
	Hash     string
	Username string
}

// matching returns the indexes of the grants that match req, in file
// order: req's user is one of their users, or in one of their groups, and
// the channel is one of theirs (any, when req has none).
func (p *Policy) matching(req Requester) []int {
	var out []int
	add := func(i int) {
		g := &p.Grants[i]
		if req.Channel != "" && g.channels != nil && !g.channels[req.Channel] {
			return
		}
		out = append(out, i)
	}
	for _, i := range p.byUser[req.User] {
		add(i)
	}
	for _, s := range p.groups {
		if req.Member != nil && req.Member(s) {
			for _, i := range p.byGroup[s] {
				add(i)
			}
		}
	}
	if len(out) > 1 {
		sortUnique(&out)
	}
	return out
}

// sortUnique sorts a short list of indexes and drops repeats.
func sortUnique(xs *[]int) {
	s := *xs
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	*xs = out
}

// Covers reports whether g covers t: its hash is listed, or its username
// matches one of the globs (case-insensitive). A target whose username is
// unknown is covered only by its hash, or by "*".
func (g *Grant) Covers(t Target) bool { return g.covers(t.Hash, strings.ToLower(t.Username)) }

// covers is Covers of a username already lower-cased: asked of many
// grants, a name is lowered once.
func (g *Grant) covers(hash, name string) bool {
	if g.all || len(g.hashes) > 0 && g.hashes[hash] {
		return true
	}
	if name == "" {
		return false
	}
	for _, p := range g.prefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	for _, glob := range g.globs {
		if !strings.HasPrefix(name, glob.literal) {
			continue
		}
		if ok, _ := path.Match(glob.pattern, name); ok {
			return true
		}
	}
	return false
}

// NeedsNames reports whether deciding on a hash for req needs its
// username: some grant that matches req has globs, so a hash alone may
// not say whether it is covered.
func (p *Policy) NeedsNames(req Requester) bool {
	for _, i := range p.matching(req) {
		g := &p.Grants[i]
		if !g.all && (len(g.prefixes) > 0 || len(g.globs) > 0) {
			return true
		}
	}
	return false
}

// Decision is what a policy says of one request.
type Decision struct {
	// Grant is, for each target, the index in Policy.Grants of the grant
	// it is attributed to, or -1 when none covers it.
	Grant []int
	// Over names the grants with more targets than their max_targets.
	Over []string
}

// Allowed reports whether every target is attributed, and no grant is over
// its bound.
func (d Decision) Allowed() bool {
	for _, g := range d.Grant {
		if g < 0 {
			return false
		}
	}
	return len(d.Over) == 0
}

// Decide attributes each target to the first grant, in file order, that
// matches req and covers it.
func (p *Policy) Decide(req Requester, targets []Target) Decision {
	grants := p.matching(req)
	d := Decision{Grant: make([]int, len(targets))}
	count := map[int]int{}
	for i, t := range targets {
		d.Grant[i] = -1
		name := strings.ToLower(t.Username)
		for _, gi := range grants {
			if p.Grants[gi].covers(t.Hash, name) {
				d.Grant[i] = gi
				count[gi]++
				break
			}
		}
	}
	for _, gi := range grants {
		if m := p.Grants[gi].MaxTargets; m > 0 && count[gi] > m {
			d.Over = append(d.Over, p.Grants[gi].Name)
		}
	}
	return d
}

// Names are the names of the grants d attributes targets to, once each,
// in file order.
func (p *Policy) Names(d Decision) []string {
	used := map[int]bool{}
	for _, g := range d.Grant {
		if g >= 0 {
			used[g] = true
		}
	}
	var out []string
	for i := range p.Grants {
		if used[i] {
			out = append(out, p.Grants[i].Name)
		}
	}
	return out
}

// Scope is what one requester may reset: the grants that match them. It
// is found once, and asked of many sub-users (find, the picker, the home
// tab list only those).
type Scope struct {
	p      *Policy
	grants []int
}

// Scope returns what req may reset (anywhere, when req has no channel).
func (p *Policy) Scope(req Requester) Scope { return Scope{p, p.matching(req)} }

// Empty reports whether req may reset nothing at all.
func (s Scope) Empty() bool { return len(s.grants) == 0 }

// Covers reports whether a grant of the scope covers t.
func (s Scope) Covers(t Target) bool {
	name := strings.ToLower(t.Username)
	for _, gi := range s.grants {
		if s.p.Grants[gi].covers(t.Hash, name) {
			return true
		}
	}
	return false
}

// Grants are the scope's grants, in file order.
func (s Scope) Grants() []*Grant {
	out := make([]*Grant, len(s.grants))
	for i, gi := range s.grants {
		out[i] = &s.p.Grants[gi]
	}
	return out
}
