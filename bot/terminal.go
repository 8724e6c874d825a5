package bot

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sessionbot/sessionbot/bot/policy"
	"github.com/sessionbot/sessionbot/iproyal"
)

// What the shell and the command line print, with the words of words.go.

// The shell prints each chat call under a header that says where it went.

// ShellPosted heads a message posted in channel as ts (in the thread of thread).
func ShellPosted(channel, ts, thread string) string {
	if thread != "" {
		return fmt.Sprintf(sayShellPostedIn, channel, ts, thread)
	}
	return fmt.Sprintf(sayShellPosted, channel, ts)
}

// ShellReply heads a thread reply.
func ShellReply(channel, ts string, broadcast bool) string {
	if broadcast {
		return fmt.Sprintf(sayShellBroadcast, channel, ts)
	}
	return fmt.Sprintf(sayShellReply, channel, ts)
}

// ShellUpdated heads a message's new version.
func ShellUpdated(channel, ts string) string { return fmt.Sprintf(sayShellUpdated, channel, ts) }

// ShellReacted is a reaction, as the shell prints it.
func ShellReacted(channel, ts, emoji string) string {
	return fmt.Sprintf(sayShellReacted, channel, emoji, ts)
}

// ShellPrivate heads an answer only user sees; replacing, one that replaces
// the confirmation it answers.
func ShellPrivate(user string, replacing bool) string {
	if replacing {
		return sayShellReplaced
	}
	return fmt.Sprintf(sayShellPrivate, user)
}

// ShellConfirmPrompt asks a confirmation's yes or no.
const ShellConfirmPrompt = sayConfirmPrompt

// ShellNothingWaiting answers a yes or no that nothing asked for.
func ShellNothingWaiting(line string) string { return fmt.Sprintf(sayNothingWaiting, line) }

// ShellBanner is what the shell says when it starts: who you play, where,
// and what differs from Slack here.
func ShellBanner(command, user, channel string, p *policy.Policy, anyone, offline bool) string {
	lines := []string{fmt.Sprintf(sayShellWelcome, command, user, channel)}
	if anyone {
		lines = append(lines, fmt.Sprintf(sayShellAnyone, user))
	}
	if len(p.Groups()) > 0 {
		lines = append(lines, sayShellNoGroups)
	}
	if p.FromEnvironment() {
		if chans := p.Grants[0].Channels; len(chans) > 0 && !slices.Contains(chans, channel) {
			lines = append(lines, fmt.Sprintf(sayShellNotHere, strings.Join(chans, ", "), channel, chans[0]))
		}
	}
	if offline {
		lines = append(lines, sayShellOffline)
	}
	return strings.Join(append(lines, sayShellNoSlack), "\n") + "\n"
}

// CommandLineReport is what `sessionbot reset` prints of a reset that was
// done or would be (a dry run): the targets, one a line.
func CommandLineReport(res Result) string {
	var b strings.Builder
	say := sayCLIReset
	if res.Outcome == OutcomeDryRun {
		say = sayCLIDryRun
	}
	fmt.Fprintf(&b, say, residentialUsers(len(res.Targets)))
	for _, t := range res.Targets {
		b.WriteString("  " + t.Hash)
		if t.Username != "" {
			b.WriteString("  " + t.Username)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// CommandLineProblem is what `sessionbot reset` says of a reset that was
// not done, in one line: the bad targets, or IPRoyal's failure worded as
// in Slack.
func CommandLineProblem(res Result) string {
	switch {
	case len(res.Bad) > 0:
		parts := make([]string, len(res.Bad))
		for i, b := range res.Bad {
			parts[i] = fmt.Sprintf(sayCLIBad, b.Input, PlainText(b.Reason))
		}
		if len(parts) == 1 {
			return sayCLINothingReset + parts[0]
		}
		return sayCLINothingReset + fmt.Sprintf(sayCLIBadMany, len(parts), strings.Join(parts, "; "))
	case res.Outcome == OutcomeLookupFailed:
		return commandLineFailure(sayCLILookupFailed, res.Err, OpLookup)
	}
	return commandLineFailure(sayCLIResetFailed, res.Err, OpReset)
}

// CommandLineSearchFailed is what `sessionbot find` says when IPRoyal fails.
func CommandLineSearchFailed(err error) string {
	return commandLineFailure(sayCLISearchFailed, err, OpFind)
}

func commandLineFailure(doing string, err error, op Operation) string {
	what, todo := DescribeFailure(err, op)
	return fmt.Sprintf(sayCLIFailure, doing, what, upperFirst(todo))
}

// CommandLineFound is what `sessionbot find` prints: the table, or that
// nothing matched, and how many more there are.
func CommandLineFound(text string, subs []iproyal.Subuser, total int) string {
	if len(subs) == 0 {
		return fmt.Sprintf(sayCLIFindNone, text)
	}
	out := SubuserTable(subs, func(s string) string { return s })
	if more := total - len(subs); more > 0 {
		out += fmt.Sprintf(sayCLIFindMore, more)
	}
	return out
}

// PolicySummary is what `sessionbot policy check` prints of a valid file:
// a line for it, and one per grant.
func PolicySummary(file string, p *policy.Policy) string {
	var b strings.Builder
	fmt.Fprintf(&b, sayPolicyValid, file, plural(len(p.Grants), sayGrantOne, sayGrantMany), shortSum(p.SHA256))
	for _, g := range p.Grants {
		subs := strings.Join(g.Subusers, " ")
		if slices.Contains(g.Subusers, "*") {
			subs = sayEverySubuser
		}
		where := sayPolicyAnywhere
		if len(g.Channels) > 0 {
			where = fmt.Sprintf(sayPolicyOnlyIn, strings.Join(g.Channels, " "))
		}
		if g.MaxTargets > 0 {
			where += fmt.Sprintf(sayGrantMax, g.MaxTargets)
		}
		approval := ""
		if a := g.Approval; a != nil {
			approval = fmt.Sprintf(sayPolicyApproval, strings.Join(append(slices.Clone(a.Users), a.Usergroups...), " "), approvalWhen(a))
		}
		fmt.Fprintf(&b, sayPolicySummary, g.Name, g.Line, subs, strings.Join(append(slices.Clone(g.Users), g.Usergroups...), " "), where, approval)
	}
	return b.String()
}

// PolicyCan is what `sessionbot policy can` prints: for each target, the
// grant that allows it for req, or that none does; allowed says whether
// every target is.
func PolicyCan(p *policy.Policy, req policy.Requester, targets []string) (out string, allowed bool) {
	ts := make([]policy.Target, len(targets))
	for i, t := range targets {
		if h, err := iproyal.ParseHash(t); err == nil {
			ts[i] = policy.Target{Hash: h} // offline, a hash is only a hash
		} else {
			ts[i] = policy.Target{Username: t}
		}
	}
	d := p.Decide(req, ts)
	var b strings.Builder
	for i, t := range targets {
		gi := d.Grant[i]
		if gi < 0 {
			fmt.Fprintf(&b, sayPolicyDeny, t, req.User)
			continue
		}
		g := &p.Grants[gi]
		switch {
		case slices.Contains(d.Over, g.Name):
			fmt.Fprintf(&b, sayPolicyDenyOver, t, g.Name, g.MaxTargets)
		case g.Approval != nil && g.Approval.Needs(ts, d, gi):
			fmt.Fprintf(&b, sayPolicyAllowWait, t, g.Name, strings.Join(append(slices.Clone(g.Approval.Users), g.Approval.Usergroups...), ", "))
		default:
			fmt.Fprintf(&b, sayPolicyAllow, t, g.Name)
		}
	}
	return b.String(), d.Allowed()
}

// approvalWhen says when an approval is needed.
func approvalWhen(a *policy.Approval) string {
	var when []string
	if a.Above == 0 && len(a.Subusers) == 0 {
		return sayApprovalAlways
	}
	if a.Above >= 0 {
		when = append(when, fmt.Sprintf(sayApprovalAbove, a.Above))
	}
	if len(a.Subusers) > 0 {
		when = append(when, fmt.Sprintf(sayApprovalFor, strings.Join(a.Subusers, " ")))
	}
	return strings.Join(when, sayOr)
}
