package bot

import (
	"fmt"
	"regexp"
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

// ConfirmPrompt asks a confirmation's yes or no, in the shell and on the
// command line.
const ConfirmPrompt = sayConfirmPrompt

// ShellNothingWaiting answers a yes or no that nothing asked for.
func ShellNothingWaiting(line string) string { return fmt.Sprintf(sayNothingWaiting, line) }

// ShellPicker says what the slash command alone would open in Slack, and
// what to type in the shell instead.
func ShellPicker(command string) string { return fmt.Sprintf(sayShellPicker, command) }

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
	say := sayCLIReset
	if res.Outcome == OutcomeDryRun {
		say = sayCLIDryRun
	}
	return fmt.Sprintf(say, residentialUsers(len(res.Targets))) + commandLineTargets(res.Targets)
}

// CommandLineConfirm is what `sessionbot reset` says on a terminal before
// it asks to confirm (ConfirmPrompt) a reset of more than above targets
// (res: OutcomeConfirmAsked).
func CommandLineConfirm(res Result, above int) string {
	return fmt.Sprintf(sayCLIConfirm, residentialUsers(len(res.Targets)), above) + commandLineTargets(res.Targets)
}

// commandLineTargets lists targets one a line: the hash, and the username
// when one was given.
func commandLineTargets(targets []Target) string {
	var b strings.Builder
	for _, t := range targets {
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
	case res.Outcome == OutcomeCancelled:
		return sayCLICancelled
	case res.Outcome == OutcomeExpired:
		return sayCLIExpired
	case res.Outcome == OutcomeClickFailed, res.Outcome == OutcomeRepeatClick, res.Outcome == OutcomeBadClick:
		return sayCLINotDecided
	case res.Outcome == OutcomeTooMany, res.Outcome == OutcomeInvalid:
		return CommandLineAnswer(res)
	}
	return commandLineFailure(sayCLIResetFailed, res.Err, OpReset)
}

// CommandLineAnswer is what the requester was told, in one plain line, for
// the command line's answers that have no words of their own.
func CommandLineAnswer(res Result) string {
	return leadingEmoji.ReplaceAllString(strings.ReplaceAll(PlainText(res.Answer.Text), "\n", " "), "")
}

// CommandLineSearchFailed is what `sessionbot find` says when IPRoyal fails.
func CommandLineSearchFailed(err error) string {
	return commandLineFailure(sayCLISearchFailed, err, OpFind)
}

func commandLineFailure(doing string, err error, op Operation) string {
	what, todo := DescribeFailure(err, op)
	return fmt.Sprintf(sayCLIFailure, doing, what, upperFirst(todo))
}

// CommandLineFound is what `sessionbot find` prints: the table, and how
// many more matched.
func CommandLineFound(subs []iproyal.Subuser, more int) string {
	return SubuserTable(subs, func(s string) string { return s }) + CommandLineFindMore(more)
}

// CommandLineFindMore says how many more sub-users matched than find shows.
func CommandLineFindMore(more int) string {
	if more <= 0 {
		return ""
	}
	return fmt.Sprintf(sayCLIFindMore, more)
}

// CommandLineFindNone is what `sessionbot find` says when nothing matched.
func CommandLineFindNone(text string) string { return fmt.Sprintf(sayCLIFindNone, text) }

// CommandLineStatus is what `sessionbot status` prints: the account's
// traffic and sub-users, as Slack's status says them.
func CommandLineStatus(a iproyal.Account) string {
	return leadingEmoji.ReplaceAllString(PlainText(accountLine(a)), "") + "\n"
}

// leadingEmoji is the emoji a Slack message starts with, which a terminal
// shows as its code.
var leadingEmoji = regexp.MustCompile(`^:[a-z0-9_+-]+: `)

// CommandLineStatusFailed is what `sessionbot status` says when IPRoyal fails.
func CommandLineStatusFailed(err error) string {
	return commandLineFailure(sayCLIStatusFailed, err, OpStatus)
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
