package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Two-person approval: a grant's approval block says which of its
// requests wait for a second person (more targets than Above, or one of
// Subusers), who that may be (Users, or members of Usergroups, never the
// requester), and for how long (TTL).

// Needs reports whether the targets that d attributes to grant gi need
// this approval: more of them than Above, or one that Subusers covers.
func (a *Approval) Needs(targets []Target, d Decision, gi int) bool {
	n, sensitive := a.Why(targets, d, gi)
	return len(sensitive) > 0 || (a.Above >= 0 && n > a.Above)
}

// Why says what of a request falls under grant gi for this approval: how
// many of its targets d attributes to the grant, and which of those (by
// index) Subusers covers.
func (a *Approval) Why(targets []Target, d Decision, gi int) (n int, sensitive []int) {
	for i, g := range d.Grant {
		if g != gi {
			continue
		}
		n++
		if len(a.Subusers) > 0 && a.match.Covers(targets[i]) {
			sensitive = append(sensitive, i)
		}
	}
	return n, sensitive
}

// Approvals returns the grants, by index, whose approval the request of
// targets, decided d, needs.
func (p *Policy) Approvals(targets []Target, d Decision) []int {
	var out []int
	for gi := range p.Grants {
		if a := p.Grants[gi].Approval; a != nil && a.Needs(targets, d, gi) {
			out = append(out, gi)
		}
	}
	return out
}

// Approves reports whether user is one of a's approvers: listed, or a
// member of a listed group (member says; a group it cannot say of counts
// as not).
func (a *Approval) Approves(user string, member func(group string) bool) bool {
	if slices.Contains(a.Users, user) {
		return true
	}
	for _, g := range a.Usergroups {
		if member != nil && member(g) {
			return true
		}
	}
	return false
}

// Approvers are a's approvers' IDs, users then groups.
func (a *Approval) Approvers() []string { return append(slices.Clone(a.Users), a.Usergroups...) }

// HasApprovals reports whether any grant asks for approval.
func (p *Policy) HasApprovals() bool { return p.LongestTTL() > 0 }

// LongestTTL is the longest any request of p can wait for approval; 0
// when no grant asks for it.
func (p *Policy) LongestTTL() time.Duration {
	var d time.Duration
	for _, g := range p.Grants {
		if g.Approval != nil {
			d = max(d, g.Approval.TTL)
		}
	}
	return d
}

// WithApproval returns a copy of p whose every grant asks for a: the
// environment's APPROVAL_ABOVE, APPROVERS and APPROVAL_TTL on the
// ALLOWED_* variables' grant.
func (p *Policy) WithApproval(a Approval) *Policy {
	q := &Policy{Contact: p.Contact, Grants: slices.Clone(p.Grants), SHA256: p.SHA256}
	for i := range q.Grants {
		a := a
		q.Grants[i].Approval = &a
	}
	q.compile()
	return q
}

// EnvApproval is the approval of the environment's variables: above (-1:
// none is set, and no approval is asked for), approvers (user and user
// group IDs) and ttl. It checks them as a policy file's are.
func EnvApproval(above int, approvers []string, ttl time.Duration) (*Approval, error) {
	var problems []string
	a := &Approval{Above: above, TTL: ttl}
	for _, id := range approvers {
		switch {
		case IsSlackID(id, "UW"):
			a.Users = append(a.Users, id)
		case IsSlackID(id, "S"):
			a.Usergroups = append(a.Usergroups, id)
		default:
			problems = append(problems, fmt.Sprintf("APPROVERS: %q is not a user ID (U…) or a user group ID (S…)", id))
		}
	}
	if len(approvers) == 0 {
		problems = append(problems, "APPROVAL_ABOVE is set but APPROVERS is not: name who may approve (user and user group IDs, comma-separated)")
	}
	if ttl < minTTL || ttl > maxTTL {
		problems = append(problems, fmt.Sprintf("APPROVAL_TTL must be from 1s to 24h, not %v", ttl))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return a, nil
}

// DefaultTTL is how long a request waits for approval when no ttl is
// given, and MaxTTL the longest it may.
const (
	DefaultTTL = defaultTTL
	MaxTTL     = maxTTL
)
