package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sessionbot/sessionbot/bot/policy"
	"github.com/sessionbot/sessionbot/iproyal"
)

// Per-team access: the policy decides on each target of a request, once
// they are resolved, and every way in meets it here (reset.go's decision
// step). With the ALLOWED_* variables there is one grant of everything,
// and nothing more to decide than authorize did.

// decide applies the policy to the request's targets: each must be
// covered by a grant that matches the requester here, and no grant may
// have more than its max_targets. A target typed as a hash is matched
// against username globs by its username, which IPRoyal is asked for when
// a matching grant has globs; when IPRoyal cannot say, the target is
// refused. A refusal names only the requester's own targets, as typed.
func (b *Bot) decide(r *request) bool {
	if r.Via == ViaCLI {
		return true // the token holder's own tool: no policy
	}
	p := b.auth.Policy()
	if p.FromEnvironment() && !p.HasApprovals() {
		return true // one grant of everything: authorize decided
	}
	targets := make([]policy.Target, len(r.res.Targets))
	for i, t := range r.res.Targets {
		targets[i] = policy.Target{Hash: t.Hash, Username: t.Username}
	}
	unknown := map[int]bool{} // targets whose username IPRoyal could not give
	unheard := 0              // of them, those IPRoyal knows no sub-user of
	member, _ := b.auth.member(r.check, r.User)
	if p.NeedsNames(policy.Requester{User: r.User, Channel: r.Channel, Member: member}) {
		for i := range targets {
			if targets[i].Username != "" || targets[i].Hash == "" {
				continue
			}
			name, err := b.username(r.check, targets[i].Hash)
			if err != nil {
				unknown[i] = true
				if errors.Is(err, iproyal.ErrNotFound) {
					unheard++
				}
				r.res.Err = err
				continue
			}
			targets[i].Username = name
		}
	}
	d, lookupErr := b.auth.Decide(r.check, r.User, r.Channel, targets)
	if !p.FromEnvironment() {
		r.grants = p.Names(d)
	}
	if d.Allowed() && len(unknown) == 0 {
		r.approval = approvalOf(p, targets, r.res.Targets, d)
		return true
	}
	var refused []Target
	for i, g := range d.Grant {
		if g < 0 || unknown[i] {
			refused = append(refused, r.res.Targets[i])
		}
	}
	if r.res.Err == nil {
		r.res.Err = lookupErr
	}
	m := targetsDeniedMessage(refused, len(unknown) > unheard, unheard > 0, len(refused) < len(targets), d.Over, p)
	r.answer(OutcomeDenied, m, r.formProblem(FieldTargets, m))
	b.denials.mirror(r.id, r.User, r.Channel, DeniedTargets)
	if r.ref != "" {
		e := r.entry(StateRefused)
		e.Reason = deniedReason(DeniedTargets, p)
		b.journal(r, &e)
	}
	return false
}

// username is the username of the sub-user hash, from the usernames seen
// in the last minute or from IPRoyal.
func (b *Bot) username(ctx context.Context, hash string) (string, error) {
	if b.finder == nil {
		return "", errors.New("usernames are not looked up offline")
	}
	s, err := b.finder.Subuser(ctx, hash)
	return s.Username, err
}

// targetsDeniedMessage refuses the targets no grant of the requester's
// covers here, as the requester typed them (a username without its hash, a
// hash without the username learnt for it: neither says more of another
// team's sub-user than was typed): some did (partly), or a grant would
// have too many (over). unknown says IPRoyal could not say the username
// of some hash (it failed), unheard that it knows no sub-user of some.
func targetsDeniedMessage(refused []Target, unknown, unheard, partly bool, over []string, p *policy.Policy) Message {
	var b strings.Builder
	if len(refused) == 0 {
		b.WriteString(sayDeniedTooMany)
	} else {
		b.WriteString(sayDeniedTargets)
		lines := make([]string, len(refused))
		for i, t := range refused {
			typed := t.Username
			if typed == "" {
				typed = t.Hash
			}
			lines[i] = fmt.Sprintf(sayTargetTyped, typed)
		}
		shown, more := fitLines(lines, listBudget)
		these := sayTargetOne
		if len(refused) > 1 {
			these = fmt.Sprintf(sayTargetMany, len(refused))
		}
		fmt.Fprintf(&b, sayDeniedTheseHere, these, shown)
		if more > 0 {
			fmt.Fprintf(&b, sayMoreCounted, more)
		}
		if partly {
			b.WriteString(sayDeniedOthersFine)
		}
	}
	if unheard {
		b.WriteString(sayDeniedNoSuchHash)
	}
	if unknown {
		b.WriteString(sayDeniedUnknownNames)
	}
	for _, name := range over {
		fmt.Fprintf(&b, sayDeniedOver, escape(name), maxTargetsOf(p, name))
	}
	b.WriteString(contact(p))
	return message(b.String(), "")
}

func maxTargetsOf(p *policy.Policy, name string) int {
	for _, g := range p.Grants {
		if g.Name == name {
			return g.MaxTargets
		}
	}
	return 0
}

// can answers privately what the requester may reset here, in words, from
// the grants that match them: the verb can.
func (b *Bot) can(r *request) {
	here := b.auth.Scope(r.check, r.User, r.Channel)
	anywhere := b.auth.Scope(r.check, r.User, "")
	r.answer(OutcomeHelp, message(canText(r.Channel, here, anywhere), ""), nil)
}

// canText says what a scope lets its requester reset, here and elsewhere.
func canText(channel string, here, anywhere policy.Scope) string {
	if anywhere.Empty() {
		return sayCanNothing
	}
	var b strings.Builder
	if here.Empty() {
		fmt.Fprintf(&b, sayCanNotHere, channel)
	} else {
		fmt.Fprintf(&b, sayCanHere, channel, grantsText(here))
	}
	if elsewhere := grantsElsewhere(here, anywhere); elsewhere != "" {
		fmt.Fprintf(&b, sayCanElsewhere, elsewhere)
	}
	return b.String()
}

// grantsElsewhere describes the grants of anywhere that here has not.
func grantsElsewhere(here, anywhere policy.Scope) string {
	in := map[string]bool{}
	for _, g := range here.Grants() {
		in[g.Name] = true
	}
	var lines []string
	for _, g := range anywhere.Grants() {
		if !in[g.Name] {
			lines = append(lines, grantLine(g))
		}
	}
	return strings.Join(lines, "\n")
}

// grantsText describes a scope's grants, one a line.
func grantsText(s policy.Scope) string {
	var lines []string
	for _, g := range s.Grants() {
		lines = append(lines, grantLine(g))
	}
	return strings.Join(lines, "\n")
}

// grantLine describes one grant: what it covers, where, how many at once.
func grantLine(g *policy.Grant) string {
	subs := make([]string, len(g.Subusers))
	for i, s := range g.Subusers {
		subs[i] = "`" + escape(s) + "`"
		if s == "*" {
			subs[i] = sayEverySubuser
		}
	}
	line := fmt.Sprintf(sayGrantLine, escape(g.Name), strings.Join(subs, ", "))
	if len(g.Channels) > 0 {
		chans := make([]string, len(g.Channels))
		for i, c := range g.Channels {
			chans[i] = "<#" + c + ">"
		}
		line += fmt.Sprintf(sayGrantIn, strings.Join(chans, ", "))
	}
	if g.MaxTargets > 0 {
		line += fmt.Sprintf(sayGrantMax, g.MaxTargets)
	}
	if a := g.Approval; a != nil {
		line += fmt.Sprintf(sayGrantApproval, approvalWhenText(a), approversText([][]string{a.Approvers()}))
	}
	return line
}

// approvalWhenText says which requests an approval block holds back.
func approvalWhenText(a *policy.Approval) string {
	var when []string
	if a.Above == 0 {
		return sayGrantWhenAlways
	}
	if a.Above > 0 {
		when = append(when, fmt.Sprintf(sayGrantWhenAbove, a.Above))
	}
	if len(a.Subusers) > 0 {
		subs := make([]string, len(a.Subusers))
		for i, s := range a.Subusers {
			subs[i] = "`" + escape(s) + "`"
		}
		when = append(when, fmt.Sprintf(sayGrantWhenFor, strings.Join(subs, ", ")))
	}
	return strings.Join(when, sayGrantWhenOr)
}

// scopeFilter keeps the sub-users user may reset somewhere: what find, the
// picker and the home tab show under a policy file.
func (b *Bot) scopeFilter(ctx context.Context, user string, subs []iproyal.Subuser) []iproyal.Subuser {
	if b.auth.Policy().FromEnvironment() {
		return subs
	}
	scope := b.auth.Scope(ctx, user, "")
	out := subs[:0:0]
	for _, s := range subs {
		if scope.Covers(policy.Target{Hash: s.Hash, Username: s.Username}) {
			out = append(out, s)
		}
	}
	return out
}

// scopedFinder is the finder a request's usernames are resolved with:
// under a policy file, the suggestions for a username IPRoyal does not know
// name only sub-users the requester may reset somewhere, never another
// team's.
func (b *Bot) scopedFinder(r *request) SubuserFinder {
	if b.finder == nil || b.auth == nil || r.Via == ViaCLI || b.auth.Policy().FromEnvironment() {
		return b.finder
	}
	return scopedFinder{b.finder, func() policy.Scope { return b.auth.Scope(r.check, r.User, "") }}
}

type scopedFinder struct {
	SubuserFinder
	scope func() policy.Scope
}

func (f scopedFinder) FindSubusers(ctx context.Context, usernames []string) (iproyal.Lookup, error) {
	l, err := f.SubuserFinder.FindSubusers(ctx, usernames)
	if err != nil || len(l.Suggestions) == 0 {
		return l, err
	}
	scope, mine := f.scope(), make(map[string][]string, len(l.Suggestions))
	for u, names := range l.Suggestions {
		for _, n := range names {
			if scope.Covers(policy.Target{Username: n}) {
				mine[u] = append(mine[u], n)
			}
		}
	}
	l.Suggestions = mine
	return l, nil
}

// SetPolicy puts p in force for every request from now on, atomically, and
// says so once in the audit channel: a policy file reloaded.
func (b *Bot) SetPolicy(p *policy.Policy) {
	b.auth.SetPolicy(p)
	b.log.Info("the policy changed", "grants", len(p.Grants), "sha256", p.SHA256)
	b.auditPost(message(fmt.Sprintf(sayPolicyChanged, plural(len(p.Grants), sayGrantOne, sayGrantMany), shortSum(p.SHA256)), ""))
}

// PolicyRefused says, once in the audit channel, that a new version of the
// policy file was refused, and the policy in force stays.
func (b *Bot) PolicyRefused(err error, sum string) {
	b.log.Error("the policy file changed but is not valid: the policy in force stays", "error", err, "sha256", sum)
	b.auditPost(message(fmt.Sprintf(sayPolicyRefused, shortSum(sum), shortSum(b.auth.Policy().SHA256), escape(err.Error())), ""))
}

func shortSum(sum string) string { return sum[:min(len(sum), 12)] }

// auditPost posts m in the audit channel, behind the request that caused
// it, if there is an audit channel.
func (b *Bot) auditPost(m Message) {
	if b.cfg.AuditChannel == "" || b.chat == nil {
		return
	}
	b.behindWrite(func(ctx context.Context) {
		if _, err := b.chat.Post(ctx, b.cfg.AuditChannel, "", m); err != nil {
			b.log.ErrorContext(ctx, "could not post in the audit channel", "channel", b.cfg.AuditChannel, "error", err)
		}
	})
}
