package bot

import (
	"context"
	"fmt"
	"strings"

	"github.com/sessionbot/sessionbot/iproyal"
)

// Handle takes a request to its end and returns how it ended, for the
// adapter to render. A typed command's verb decides what it is (help,
// status, find, or a reset); a click decides its confirmation; a form's or
// the command line's targets are reset (the command line's find and status
// come as text). Every reset, whatever the way in,
// takes the one path in reset.go. Handle is bounded by
// Config.CommandTimeout; when ctx is cancelled with ErrStopping, a reset in
// flight says what that means for it before Handle returns.
func (b *Bot) Handle(ctx context.Context, req Request) Result {
	r := b.begin(ctx, req)
	defer b.end(r)
	switch {
	case r.Via == ViaClick:
		b.click(r)
	case r.Via.typed(), r.Via == ViaCLI && r.Text != "":
		b.command(r)
	default:
		b.reset(r)
	}
	return r.res
}

// command runs a typed command: its verb, as Triage parsed it.
func (b *Bot) command(r *request) {
	if !r.triaged {
		r.cmd = parseCommand(r.Text)
	}
	c := r.cmd
	command := r.prefix(b.cfg.Command)
	switch c.verb {
	case verbHelp:
		r.answer(OutcomeHelp, b.help(r), nil)
		return
	case verbCan:
		if len(c.extra) > 0 {
			r.answer(OutcomeInvalid, keywordAloneMessage(command, "can", len(c.extra)), nil)
			return
		}
		b.can(r) // anyone may ask what they may do
		return
	}
	if !b.authorize(r) {
		return
	}
	switch c.verb {
	case verbStatus:
		if len(c.extra) > 0 {
			r.answer(OutcomeInvalid, keywordAloneMessage(command, "status", len(c.extra)), nil)
			return
		}
		b.status(r)
	case verbFind:
		if c.search == "" || len(c.extra) > 0 {
			r.answer(OutcomeInvalid, findUsageMessage(command), nil)
			return
		}
		b.find(r, c.search)
	default:
		r.DryRun = r.DryRun || c.dryRun
		b.reset(r)
	}
}

// HelpMessage explains every form of the command to whoever asked, with
// examples written as they write it (prefix: the slash command, or a
// mention). In Slack (inSlack), it also names the other ways in.
func HelpMessage(prefix, command string, inSlack bool, maxTargets, confirmAbove int, approval bool) Message {
	confirm, ways, where := "", "", sayHelpInChannel
	if confirmAbove > 0 {
		confirm = fmt.Sprintf(sayHelpConfirm, confirmAbove)
	}
	if approval {
		confirm += fmt.Sprintf(sayHelpApproval, prefix)
	}
	if prefix != command {
		where = sayHelpInThread
	}
	if inSlack {
		ways = fmt.Sprintf(sayHelpOtherWaysIn, command)
	}
	return message(fmt.Sprintf(sayHelp, prefix, maxTargets, confirm, ways, where, command), "")
}

func (b *Bot) status(r *request) {
	if b.cfg.DryRun {
		r.answer(OutcomeDryRun, message(fmt.Sprintf(sayDryRunNoIPRoyal, sayNoStatusOffline), ""), nil)
		return
	}
	acct, err := b.iproyal.Me(r.work)
	if err != nil {
		r.fail(OutcomeStatusFailed, err, statusFailedMessage(r.id, r.cause(err)), nil)
		return
	}
	r.res.Account = &acct
	r.answer(OutcomeStatus, statusMessage(acct), nil)
}

func accountLine(a iproyal.Account) string {
	return fmt.Sprintf(sayAccount, gb(a.AvailableTraffic), plural(a.SubusersCount, saySubuserOne, saySubuserMany))
}

// maxFound bounds the sub-users find shows.
const maxFound = 20

// find shows the requester the sub-users whose username contains text.
func (b *Bot) find(r *request, text string) {
	if b.cfg.DryRun {
		r.answer(OutcomeDryRun, message(fmt.Sprintf(sayDryRunNoIPRoyal, sayNoSearchOffline), ""), nil)
		return
	}
	limit := maxFound
	if b.auth != nil && !b.auth.Policy().FromEnvironment() {
		limit = maxOptions // some may be another team's: look further
	}
	subs, total, err := b.iproyal.SearchSubusers(r.work, text, limit)
	if err != nil {
		r.fail(OutcomeFindFailed, err, findFailedMessage(r.id, r.cause(err)), nil)
		return
	}
	if limit != maxFound {
		mine := b.scopeFilter(r.check, r.User, subs)
		total = len(mine) // what this search saw of theirs; never a count of the others'
		subs = mine[:min(len(mine), maxFound)]
	}
	r.res.Found, r.res.More = subs, max(total-len(subs), 0)
	r.answer(OutcomeFound, findMessage(r.prefix(b.cfg.Command), text, subs, total), nil)
}

// findMessage lists the sub-users a search found, as a table whose hashes
// can be copied into a reset, with the reset ready to copy.
func findMessage(command, text string, subs []iproyal.Subuser, total int) Message {
	q := showInput(text)
	if len(subs) == 0 {
		return message(fmt.Sprintf(sayFindNone, q), "")
	}
	var b strings.Builder
	if total == 1 {
		fmt.Fprintf(&b, sayFindOne, q)
	} else {
		fmt.Fprintf(&b, sayFindMany, total, q)
	}
	b.WriteString("```\n" + SubuserTable(subs, escape) + "```")
	if more := total - len(subs); more > 0 {
		fmt.Fprintf(&b, sayFindMore, more)
	}
	var hashes []string
	for _, s := range subs {
		if _, err := iproyal.ParseHash(s.Hash); err == nil {
			hashes = append(hashes, s.Hash)
		}
	}
	switch {
	case len(hashes) == 1:
		fmt.Fprintf(&b, sayFindResetOne, command, hashes[0])
	case len(hashes) > 1:
		fmt.Fprintf(&b, sayFindResetMany, len(hashes), command, strings.Join(hashes, " "))
	}
	return message(b.String(), "")
}

// SubuserTable is find's table of sub-users, in Slack (esc escapes what
// is shown) as on the command line.
func SubuserTable(subs []iproyal.Subuser, esc func(string) string) string {
	names := make([]string, len(subs))
	width := len(tableColumns[0])
	for i, s := range subs {
		names[i] = s.Username
		if !validUsername(names[i]) {
			names[i] = esc(names[i])
		}
		width = max(width, len([]rune(names[i])))
	}
	var b strings.Builder
	row := func(name, hash, used, available string) {
		fmt.Fprintf(&b, "%-*s  %-26s  %9s  %12s\n", width, name, hash, used, available)
	}
	row(tableColumns[0], tableColumns[1], tableColumns[2], tableColumns[3])
	for i, s := range subs {
		row(names[i], esc(s.Hash), gb(s.TrafficUsed), gb(s.TrafficAvailable))
	}
	return b.String()
}

func keywordAloneMessage(command, keyword string, extra int) Message {
	return message(fmt.Sprintf(sayKeywordAlone, command, keyword, plural(extra, sayWordOne, sayWordMany)), "")
}

func findUsageMessage(command string) Message {
	return message(fmt.Sprintf(sayFindUsage, command), "")
}

func statusMessage(a iproyal.Account) Message { return message(accountLine(a), "") }

func statusFailedMessage(id string, err error) Message {
	what, todo := describe(err, OpStatus)
	return problem("warning", sayStatusFailed+what, todo, id)
}

func findFailedMessage(id string, err error) Message {
	what, todo := describe(err, OpFind)
	return problem("warning", sayFindFailed+what, todo, id)
}
