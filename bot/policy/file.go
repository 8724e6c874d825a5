package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// A policy file, as README's "Per-team access" shows it:
//
//	contact: "ask in #proxy-admins"
//	grants:
//	  - name: eu-scrapers
//	    users: [U0123ABCD]
//	    usergroups: [S0456EFGH]
//	    channels: [C0789IJKL]
//	    subusers: ["scraper-eu-*", "01HQ5K3P97DY8EX9Y90YT1K6XA"]
//	    max_targets: 20
//
// Parse reads one strictly: an unknown key, a name where an ID belongs, a
// pattern path.Match rejects, a duplicate grant name are errors that say
// on which line.

// Error is a mistake in a policy file, at a line of it.
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return e.Msg
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

func errAt(n *yaml.Node, format string, args ...any) error {
	return &Error{Line: n.Line, Msg: fmt.Sprintf(format, args...)}
}

// Parse reads a policy file's content.
func Parse(content []byte) (*Policy, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(content, &doc); err != nil {
		return nil, yamlError(err)
	}
	if len(doc.Content) == 0 {
		return nil, &Error{Msg: "the file is empty: it needs at least one grant"}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, errAt(root, "the file must be a mapping with contact and grants")
	}
	sum := sha256.Sum256(content)
	p := &Policy{SHA256: hex.EncodeToString(sum[:])}
	var grants *yaml.Node
	err := fields(root, func(key string, k, v *yaml.Node) error {
		switch key {
		case "contact":
			return str(v, &p.Contact)
		case "grants":
			grants = v
			return nil
		}
		return errAt(k, "unknown key %q: a policy file has contact and grants", key)
	})
	if err != nil {
		return nil, err
	}
	if grants == nil || grants.Kind != yaml.SequenceNode || len(grants.Content) == 0 {
		at := root
		if grants != nil {
			at = grants
		}
		return nil, errAt(at, "grants: a list of at least one grant is needed; deny is the default")
	}
	names := map[string]int{}
	for _, g := range grants.Content {
		grant, err := parseGrant(g)
		if err != nil {
			return nil, err
		}
		if first, dup := names[grant.Name]; dup {
			return nil, errAt(g, "grant %q is named twice (first on line %d): names must be unique", grant.Name, first)
		}
		names[grant.Name] = grant.Line
		p.Grants = append(p.Grants, grant)
	}
	p.compile()
	return p, nil
}

// yamlError gives a YAML syntax error its line, as our own errors have.
func yamlError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, after, ok := strings.Cut(rest, ": "); ok {
			if line, err := strconv.Atoi(n); err == nil {
				return &Error{Line: line, Msg: after}
			}
		}
	}
	return &Error{Msg: msg}
}

// grantKeys are the keys a grant may have.
var grantKeys = []string{"name", "users", "usergroups", "channels", "subusers", "max_targets", "approval"}

func parseGrant(n *yaml.Node) (Grant, error) {
	g := Grant{Line: n.Line}
	if n.Kind != yaml.MappingNode {
		return g, errAt(n, "a grant is a mapping: name, users, usergroups, channels, subusers, max_targets, approval")
	}
	err := fields(n, func(key string, k, v *yaml.Node) error {
		switch key {
		case "name":
			return str(v, &g.Name)
		case "users":
			return ids(v, &g.Users, "users", "UW", "a user ID like U0123ABCD (in Slack: the profile's ⋮ menu, Copy member ID)")
		case "usergroups":
			return ids(v, &g.Usergroups, "usergroups", "S", "a user group ID like S0456EFGH (in Slack: the group's page, its ID in the address)")
		case "channels":
			return ids(v, &g.Channels, "channels", "CGD", "a channel ID like C0789IJKL (in Slack: the channel's details, at the bottom)")
		case "subusers":
			return patterns(v, &g.Subusers)
		case "max_targets":
			if err := number(v, &g.MaxTargets); err != nil || g.MaxTargets < 1 {
				return errAt(v, "max_targets must be a whole number of at least 1, not %q", v.Value)
			}
			return nil
		case "approval":
			a, err := parseApproval(v)
			g.Approval = a
			return err
		}
		return errAt(k, "unknown key %q in a grant: a grant has %s", key, strings.Join(grantKeys, ", "))
	})
	switch {
	case err != nil:
		return g, err
	case strings.TrimSpace(g.Name) == "":
		return g, errAt(n, "a grant needs a name: refusals, audit entries and policy can name it")
	case len(g.Users) == 0 && len(g.Usergroups) == 0:
		return g, errAt(n, "grant %q has neither users nor usergroups, so it grants nothing to anyone", g.Name)
	case len(g.Subusers) == 0:
		return g, errAt(n, "grant %q has no subusers: list username globs or hashes, or \"*\" for all", g.Name)
	}
	return g, nil
}

// Approval bounds for its ttl.
const (
	minTTL     = time.Second
	maxTTL     = 24 * time.Hour
	defaultTTL = 30 * time.Minute
)

func parseApproval(n *yaml.Node) (*Approval, error) {
	a := &Approval{Line: n.Line, Above: -1, TTL: defaultTTL}
	if n.Kind != yaml.MappingNode {
		return nil, errAt(n, "approval is a mapping: above, subusers, approvers, ttl")
	}
	err := fields(n, func(key string, k, v *yaml.Node) error {
		switch key {
		case "above":
			if err := number(v, &a.Above); err != nil || a.Above < 0 {
				return errAt(v, "approval above must be a whole number, 0 or more, not %q", v.Value)
			}
			return nil
		case "subusers":
			return patterns(v, &a.Subusers)
		case "approvers":
			return fields(v, func(key string, k, v *yaml.Node) error {
				switch key {
				case "users":
					return ids(v, &a.Users, "approvers users", "UW", "a user ID like U0123ABCD")
				case "usergroups":
					return ids(v, &a.Usergroups, "approvers usergroups", "S", "a user group ID like S0456EFGH")
				}
				return errAt(k, "unknown key %q in approvers: they have users and usergroups", key)
			})
		case "ttl":
			d, err := time.ParseDuration(v.Value)
			if err != nil || d < minTTL || d > maxTTL {
				return errAt(v, "approval ttl must be a duration from 1s to 24h, like 30m, not %q", v.Value)
			}
			a.TTL = d
			return nil
		}
		return errAt(k, "unknown key %q in approval: it has above, subusers, approvers, ttl", key)
	})
	switch {
	case err != nil:
		return nil, err
	case len(a.Users) == 0 && len(a.Usergroups) == 0:
		return nil, errAt(n, "approval needs approvers: users or usergroups")
	}
	if a.Above < 0 && len(a.Subusers) == 0 {
		a.Above = 0 // neither: every request needs approval
	}
	return a, nil
}

// fields calls f for each key of mapping n, in order.
func fields(n *yaml.Node, f func(key string, k, v *yaml.Node) error) error {
	if n.Kind != yaml.MappingNode {
		return errAt(n, "expected a mapping of keys and values")
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			return errAt(k, "key %q appears twice", k.Value)
		}
		seen[k.Value] = true
		if err := f(k.Value, k, v); err != nil {
			return err
		}
	}
	return nil
}

func str(n *yaml.Node, out *string) error {
	if n.Kind != yaml.ScalarNode {
		return errAt(n, "expected text")
	}
	*out = n.Value
	return nil
}

func number(n *yaml.Node, out *int) error {
	if n.Kind != yaml.ScalarNode {
		return errAt(n, "expected a number")
	}
	v, err := strconv.Atoi(n.Value)
	*out = v
	return err
}

func list(n *yaml.Node) ([]*yaml.Node, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, errAt(n, "expected a list, like [a, b]")
	}
	for _, item := range n.Content {
		if item.Kind != yaml.ScalarNode {
			return nil, errAt(item, "expected text in the list")
		}
	}
	return n.Content, nil
}

// ids reads a list of Slack IDs starting with one of prefixes: a name
// (@ana, #ops, sre-team) is an error that says to use the ID.
func ids(n *yaml.Node, out *[]string, what, prefixes, example string) error {
	items, err := list(n)
	if err != nil {
		return err
	}
	for _, item := range items {
		if !IsSlackID(item.Value, prefixes) {
			return errAt(item, "%s: %q is not a Slack ID; use the ID, %s, not a name", what, item.Value, example)
		}
		if !slices.Contains(*out, item.Value) {
			*out = append(*out, item.Value)
		}
	}
	return nil
}

// IsSlackID reports whether id looks like a Slack ID (capital letters and
// digits) beginning with one of prefixes: "UW" users, "S" user groups,
// "CGD" conversations.
func IsSlackID(id, prefixes string) bool {
	if len(id) < 2 || len(id) > 24 || !strings.ContainsRune(prefixes, rune(id[0])) {
		return false
	}
	for _, c := range id {
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// patterns reads username globs (path.Match's syntax) and hashes.
func patterns(n *yaml.Node, out *[]string) error {
	items, err := list(n)
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return errAt(n, "the list is empty: give username globs, hashes, or \"*\" for all")
	}
	for _, item := range items {
		p := strings.TrimSpace(item.Value)
		if p == "" {
			return errAt(item, "an empty pattern matches no sub-user")
		}
		if _, err := path.Match(strings.ToLower(p), ""); errors.Is(err, path.ErrBadPattern) {
			return errAt(item, "%q is not a valid pattern (Go's path.Match: *, ?, [a-z])", p)
		}
		*out = append(*out, p)
	}
	return nil
}
