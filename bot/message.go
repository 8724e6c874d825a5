package bot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sessionbot/sessionbot/iproyal"
)

// Message is something the bot says, in parts every transport can render:
// Slack turns them into Block Kit, the shell into plain text. Text and
// Footer are mrkdwn (Slack's markup, which the shell also reads).
type Message struct {
	Text   string `json:"text"`             // the body
	Footer string `json:"footer,omitempty"` // small print: the request ID
	// Confirm, when set, asks for a decision: a Confirm and a Cancel button
	// that both carry this signed token (see confirm.go).
	Confirm string `json:"confirm,omitempty"`
}

// Sizes every message keeps to, whatever the input, so that it fits every
// transport: Slack rejects a message whose blocks add up to roughly 11,000
// characters, and a section over 3,000.
const (
	// MaxText bounds a message's body.
	MaxText = 8000
	// listBudget bounds a list of targets or bad words in one message; the
	// rest is counted ("and 12 more").
	listBudget = 6000
	// maxOutsideText bounds text from outside (IPRoyal's error messages)
	// before it is escaped.
	maxOutsideText = 300
)

// message builds a Message of a body and an optional footer. A body over
// MaxText is cut on a line or word boundary: every caller bounds its own
// lists, so this only guards against a mistake.
func message(text, footer string) Message {
	if utf8.RuneCountInString(text) > MaxText {
		text = SplitText(text, MaxText-1)[0] + "…"
	}
	return Message{Text: text, Footer: footer}
}

var (
	escaper   = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	unescaper = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")
)

// escape makes text from outside inert in mrkdwn.
func escape(s string) string { return escaper.Replace(s) }

// outside renders text that came from outside (IPRoyal): clipped to
// maxOutsideText characters first, so that escaping never splits an
// entity, then escaped.
func outside(s string) string {
	if utf8.RuneCountInString(s) > maxOutsideText {
		s = string([]rune(s)[:maxOutsideText-1]) + "…"
	}
	return escape(s)
}

// showInput renders a word the user typed so that it can never become live
// markup: Slack sends typed text with &, < and > already escaped but control
// sequences such as <!channel> raw, so unescape once and escape once, then
// quote it in a code span.
func showInput(s string) string {
	s = unescaper.Replace(s)
	if r := []rune(s); len(r) > 60 {
		s = string(r[:60]) + "…"
	}
	s = strings.ReplaceAll(s, "`", "'")
	return "`" + escape(s) + "`"
}

func requestContext(id string) string { return "request `" + id + "`" }

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func residentialUsers(n int) string { return plural(n, "residential user", "residential users") }

func targetLine(t Target) string {
	switch {
	case t.Hash == "":
		return fmt.Sprintf("• sub-user `%s` (hash looked up on a real run)", t.Username)
	case t.Username != "":
		return fmt.Sprintf("• `%s` (sub-user `%s`)", t.Hash, t.Username)
	}
	return fmt.Sprintf("• `%s`", t.Hash)
}

// fitLines joins lines while they fit in budget characters, and says how
// many did not fit.
func fitLines(lines []string, budget int) (shown string, more int) {
	var b strings.Builder
	used := 0
	for i, l := range lines {
		n := utf8.RuneCountInString(l) + 1
		if used+n > budget {
			return b.String(), len(lines) - i
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(l)
		used += n
	}
	return b.String(), 0
}

// targetList shows as many targets as fit in a message; where, if set,
// says where the rest can be read.
func targetList(targets []Target, where string) string {
	lines := make([]string, len(targets))
	for i, t := range targets {
		lines[i] = targetLine(t)
	}
	shown, more := fitLines(lines, listBudget)
	if more > 0 {
		shown += fmt.Sprintf("\n…and %d more", more)
		if where != "" {
			shown += ": " + where
		}
		shown += "."
	}
	return shown
}

// humanDuration writes a duration in words, to the second: "2 minutes",
// "1 minute 30 seconds".
func humanDuration(d time.Duration) string {
	d = d.Round(time.Second)
	if d < time.Second {
		return "a second"
	}
	h, m, s := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	var parts []string
	if h > 0 {
		parts = append(parts, plural(h, "hour", "hours"))
	}
	if m > 0 {
		parts = append(parts, plural(m, "minute", "minutes"))
	}
	if s > 0 {
		parts = append(parts, plural(s, "second", "seconds"))
	}
	return strings.Join(parts, " ")
}

// formatDuration is how long a reset took, as every message says it.
func formatDuration(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// HelpMessage explains every form of the command to whoever asked, with
// examples written as they write it (prefix: the slash command, or a
// mention). In Slack (inSlack), it also names the other ways in.
func HelpMessage(prefix, command string, inSlack bool, maxTargets, confirmAbove int) Message {
	confirm := ""
	if confirmAbove > 0 {
		confirm = fmt.Sprintf("\n• more than %d targets: you are asked to confirm before anything is reset", confirmAbove)
	}
	where := "A reset is announced in this channel and its result is replied in the announcement's thread. "
	if prefix != command {
		where = "A reset is announced in this thread, and its result is replied under it. "
	}
	ways := ""
	if inSlack {
		ways = fmt.Sprintf("*Other ways in:* `%[1]s` alone opens a form where you pick sub-users by typing part of a username. "+
			"In a thread, where slash commands cannot go, mention the bot: `@sessionbot reset HASH`. "+
			"On an alert's message, its *More actions* menu has *Reset sessions*, which lists the hashes in it. "+
			"The bot's *Home* tab shows whether you may reset, and where.\n", command)
	}
	return message(fmt.Sprintf("*%[6]s* resets the sticky sessions of IPRoyal residential users, so their proxies get fresh exit IPs.\n"+
		"• `%[1]s HASH [HASH...]` resets by residential user hash (26 characters, like `01H7YCG0R9GYY1YCPS2S4QA6WB`)\n"+
		"• `%[1]s USERNAME [...]` resets by sub-user username, matched exactly; hashes and usernames can be mixed\n"+
		"• separate targets with spaces, commas or new lines; at most %[2]d at once%[3]s\n"+
		"• `%[1]s find TEXT` lists the sub-users whose username contains TEXT, with their hashes\n"+
		"• `%[1]s --dry-run TARGET...` shows you what would be reset, and resets nothing\n"+
		"• `%[1]s status` shows the IPRoyal account's available traffic and sub-users\n"+
		"• `%[1]s help` shows this\n"+
		"A sub-user named like a keyword (`status`, `find`, `help`) is reset with `%[1]s -- status` or `%[1]s \"status\"`: "+
		"a quoted word, or any word after `--`, is always a target.\n"+
		"A word of 24 to 28 letters and digits that starts with a digit is taken for a mistyped hash and not looked up "+
		"(sub-user usernames like that are vanishingly rare; quote one to look it up anyway).\n"+
		"%[4]s%[5]s"+
		"Every request counts against your limit, this one included.", prefix, maxTargets, confirm, ways, where, command), "")
}

// keywordAloneMessage refuses words after a keyword that takes none.
func keywordAloneMessage(command, keyword string, extra []word) Message {
	return message(fmt.Sprintf(":warning: Nothing was done: `%[2]s` takes nothing after it, and this has %[3]s more.\n"+
		"*What to do:* to reset a sub-user named %[2]s, write `%[1]s -- %[2]s …` or quote it: `%[1]s \"%[2]s\" …`.",
		command, keyword, plural(len(extra), "word", "words")), "")
}

func findUsageMessage(command string) Message {
	return message(fmt.Sprintf(":warning: `%[1]s find` needs one piece of text, the part of a username to look for: `%[1]s find scraper`.", command), "")
}

func findFailedMessage(id string, err error, stopped bool) Message {
	what, todo := describeFailure(err, OpLookup)
	if stopped {
		what, todo = "sessionbot stopped (it is restarting) before IPRoyal answered.", "search again in a moment."
	}
	return message(":warning: sessionbot could not search the sub-users. "+what+"\n*What to do:* "+todo, requestContext(id))
}

// findMessage lists the sub-users a search found, as a table whose hashes
// can be copied into a reset, with the reset ready to copy.
func findMessage(command, text string, subs []iproyal.Subuser, total int) Message {
	q := showInput(text)
	if len(subs) == 0 {
		return message(fmt.Sprintf(":mag: No sub-user's username contains %s.", q), "")
	}
	names := make([]string, len(subs))
	width := len("USERNAME")
	for i, s := range subs {
		names[i] = s.Username
		if !validUsername(names[i]) {
			names[i] = escape(names[i])
		}
		width = max(width, utf8.RuneCountInString(names[i]))
	}
	var b strings.Builder
	if total == 1 {
		fmt.Fprintf(&b, ":mag: 1 sub-user has %s in its username:\n```\n", q)
	} else {
		fmt.Fprintf(&b, ":mag: %d sub-users have %s in their username:\n```\n", total, q)
	}
	fmt.Fprintf(&b, "%-*s  %-26s  %9s  %12s\n", width, "USERNAME", "HASH", "USED GB", "AVAILABLE GB")
	hashes := make([]string, 0, len(subs))
	for i, s := range subs {
		fmt.Fprintf(&b, "%-*s  %-26s  %9s  %12s\n", width, names[i], escape(s.Hash), gb(s.TrafficUsed), gb(s.TrafficAvailable))
		if _, err := iproyal.ParseHash(s.Hash); err == nil {
			hashes = append(hashes, s.Hash)
		}
	}
	b.WriteString("```")
	if more := total - len(subs); more > 0 {
		fmt.Fprintf(&b, "\n…and %d more: search for something longer to see them.", more)
	}
	switch {
	case len(hashes) == 1:
		fmt.Fprintf(&b, "\nTo reset this sub-user: `%s %s`", command, hashes[0])
	case len(hashes) > 1:
		fmt.Fprintf(&b, "\nTo reset these %d sub-users: `%s %s`", len(hashes), command, strings.Join(hashes, " "))
	}
	return message(b.String(), "")
}

func gb(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

func rateLimitedMessage(perMinute int, retryIn time.Duration) Message {
	return message(fmt.Sprintf(":hourglass: You have made %s in the last minute, the most allowed, so nothing was done. Every command counts, `help` included, and so does every click on a button.\n*What to do:* try again in %s.",
		plural(perMinute, "request", "requests"), humanDuration(max(retryIn, time.Second))), "")
}

func dryRunPreviewMessage(id string, targets []Target) Message {
	return message(fmt.Sprintf(":mag: Dry run: nothing was reset and nothing was posted. Without `--dry-run` this would reset the sessions of %s:\n%s",
		residentialUsers(len(targets)), targetList(targets, "")), requestContext(id))
}

func statusMessage(a iproyal.Account) Message {
	return message(fmt.Sprintf(":bar_chart: IPRoyal account: *%s GB* of residential traffic available, %s.",
		strconv.FormatFloat(a.AvailableTraffic, 'f', -1, 64), plural(a.SubusersCount, "sub-user", "sub-users")), "")
}

func statusFailedMessage(id string, err error, stopped bool) Message {
	what, todo := describeFailure(err, OpStatus)
	if stopped {
		what, todo = "sessionbot stopped (it is restarting) before IPRoyal answered.", "ask again in a moment."
	}
	return message(":warning: sessionbot could not get the account status. "+what+"\n*What to do:* "+todo, requestContext(id))
}

func tooManyToConfirmMessage(n int) Message {
	return message(fmt.Sprintf(":warning: Nothing was reset: %d targets are too many to confirm in one command.\n*What to do:* split them over several commands.", n), "")
}

// confirmationMessage asks the requester to confirm a large reset. The
// buttons carry the signed request (see confirm.go).
func confirmationMessage(id string, targets []Target, ttl time.Duration, token string) Message {
	m := message(fmt.Sprintf(":question: This resets the sessions of *%s*:\n%s\nConfirm within %s, or cancel. Nothing happens until you do.",
		residentialUsers(len(targets)), targetList(targets, ""), humanDuration(ttl)), requestContext(id))
	m.Confirm = token
	return m
}

func notYoursMessage(requester string) Message {
	return message(fmt.Sprintf(":no_entry: Only <@%s>, who asked for this reset, can confirm or cancel it. Nothing was changed.", requester), "")
}

func confirmedMessage(id string, n int) Message {
	return message(fmt.Sprintf(":arrows_counterclockwise: Confirmed: resetting the sessions of %s. The result follows in the channel.", residentialUsers(n)), requestContext(id))
}

// cancelledMessage answers the first Cancel. Only the journal can say that
// no Confirm came first on another replica, or before a restart.
func cancelledMessage(id string, n int, known bool, channel string) Message {
	if known {
		return message(fmt.Sprintf(":heavy_multiplication_x: Cancelled: the sessions of %s were not reset.", residentialUsers(n)), requestContext(id))
	}
	return message(fmt.Sprintf(":heavy_multiplication_x: Cancelled: this click reset nothing. If Confirm was clicked first, that reset's outcome is in <#%s>.", channel), requestContext(id))
}

func expiredMessage(id string, ttl time.Duration, known bool) Message {
	if known {
		return message(fmt.Sprintf(":hourglass: This confirmation expired (they last %s), and nothing was reset. Run the command again.", humanDuration(ttl)), requestContext(id))
	}
	return message(fmt.Sprintf(":hourglass: This confirmation expired (they last %s), so this click changed nothing. To reset, run the command again.", humanDuration(ttl)), requestContext(id))
}

// decidedHereMessage answers a click that contradicts the one this process
// acted on.
func decidedHereMessage(id string, confirmed bool, p pending) Message {
	if confirmed {
		return message(fmt.Sprintf(":information_source: This request was already confirmed, so this click changed nothing: the reset of %s ran, and its outcome is in <#%s>.", residentialUsers(len(p.Targets)), p.Channel), requestContext(id))
	}
	return message(fmt.Sprintf(":information_source: This request was already cancelled, so nothing was reset. To reset the sessions of %s, run the command again.", residentialUsers(len(p.Targets))), requestContext(id))
}

// decidedElsewhereMessage answers a click that another one beat: it says
// what the journal holds.
func decidedElsewhereMessage(id string, e Entry, err error, link string) Message {
	see := fmt.Sprintf("<#%s>", e.Channel)
	if link != "" {
		see = "<" + link + "|the announcement>"
	}
	n := residentialUsers(len(e.Targets))
	var text string
	switch {
	case err != nil:
		text = ":information_source: Another click on this confirmation decided first, so this one changed nothing. Its outcome is in the channel."
	case e.State == StateAwaiting:
		text = ":information_source: Another click on this confirmation is being handled, so this one changed nothing."
	case e.State == StateCancelled:
		text = fmt.Sprintf(":information_source: This request was already cancelled, so nothing was reset. To reset the sessions of %s, run the command again.", n)
	case e.State == StateExpired:
		text = ":information_source: This confirmation already expired, and nothing was reset. Run the command again."
	case e.State == StateRefused:
		text = fmt.Sprintf(":information_source: This request was already refused (%s), and nothing was reset.", e.Reason)
	default:
		text = fmt.Sprintf(":information_source: This request was already confirmed, so this click changed nothing: the reset of %s ran (%s). Its outcome: %s.", n, stateWords(e.State), see)
	}
	return message(text, requestContext(id))
}

func stateWords(s State) string {
	switch s {
	case StateStarted:
		return "it is still in flight"
	case StateReset:
		return "the sessions were reset"
	case StateFailed:
		return "it failed"
	case StateUnknown:
		return "its outcome is unknown"
	}
	return string(s)
}

func clickNotRecordedMessage(id string) Message {
	return message(":warning: sessionbot could not record your click with Slack, so nothing happened yet.\n*What to do:* click again in a moment.", requestContext(id))
}

// deniedReason says in words why a requester was refused, for the audit
// channel and the journal.
func deniedReason(reason DenialReason, p Policy) string {
	switch reason {
	case DeniedChannel:
		return "the command is not allowed in that channel (ALLOWED_CHANNELS)"
	case DeniedGroupLookup:
		return "Slack could not say who is in ALLOWED_USERGROUPS, so sessionbot refused to be safe"
	}
	switch {
	case len(p.Users) > 0 && len(p.Groups) > 0:
		return "not in ALLOWED_USERS or a group in ALLOWED_USERGROUPS"
	case len(p.Groups) > 0:
		return "not in a group in ALLOWED_USERGROUPS"
	}
	return "not in ALLOWED_USERS"
}

// maxNamed bounds how many allowed people or groups a refusal names.
const maxNamed = 10

func deniedMessage(reason DenialReason, p Policy) Message {
	switch reason {
	case DeniedChannel:
		chans := make([]string, 0, len(p.Channels))
		for _, c := range p.Channels {
			chans = append(chans, "<#"+c+">")
		}
		if len(chans) > maxNamed {
			chans = append(chans[:maxNamed], fmt.Sprintf("%d other channels", len(p.Channels)-maxNamed))
		}
		return message(":no_entry: Sessions cannot be reset from this channel. Nothing was reset.\nRun the command in "+strings.Join(chans, ", ")+".", "")
	case DeniedGroupLookup:
		return message(":no_entry: sessionbot could not check your user group membership with Slack, so it refused to be safe. Nothing was reset.\nTry again in a minute; if it keeps happening, tell whoever runs sessionbot.", "")
	}
	var who []string
	for _, u := range p.Users {
		who = append(who, "<@"+u+">")
	}
	for _, g := range p.Groups {
		who = append(who, "a member of <!subteam^"+g+">")
	}
	if len(who) > maxNamed {
		who = append(who[:maxNamed], fmt.Sprintf("one of %d others", len(who)-maxNamed))
	}
	return message(":no_entry: You are not allowed to reset IPRoyal sessions. Nothing was reset.\n"+
		"Ask "+strings.Join(who, " or ")+" to run it for you, or to have you added to `ALLOWED_USERS` or `ALLOWED_USERGROUPS`.", "")
}

func badTargetsMessage(bad []BadTarget) Message {
	lines := make([]string, len(bad))
	for i, t := range bad {
		lines[i] = fmt.Sprintf("• %s: %s", showInput(t.Input), t.Reason)
	}
	shown, more := fitLines(lines, listBudget)
	if more > 0 {
		shown += fmt.Sprintf("\n…and %d more.", more)
	}
	return message(fmt.Sprintf(":warning: Nothing was reset: %s not valid.\n%s\nFix or remove them and run the command again.",
		plural(len(bad), "target is", "targets are"), shown), "")
}

func tooManyMessage(n, limit int) Message {
	return message(fmt.Sprintf(":warning: Nothing was reset: %d targets is more than the limit of %d per command.\nSplit them over several commands.", n, limit), "")
}

func noTargetsMessage(command string) Message {
	return message(fmt.Sprintf(":warning: Nothing was reset: no targets given. Try `%s help`.", command), "")
}

func lookupFailedMessage(id string, err error, stopped bool) Message {
	what, todo := describeFailure(err, OpLookup)
	if stopped {
		what, todo = "sessionbot stopped (it is restarting) before IPRoyal answered.", "run the command again in a moment."
	}
	return message(":warning: Nothing was reset: sessionbot could not look up the sub-user usernames. "+what+"\n*What to do:* "+todo, requestContext(id))
}

// cannotPostReason says why the bot cannot post in a channel.
func cannotPostReason(code string) string {
	switch code {
	case "is_archived":
		return "the channel is archived"
	case "channel_not_found":
		return "sessionbot cannot see the channel (it is private or a direct message, and the bot is not in it)"
	}
	return "sessionbot is not a member of the channel"
}

func cannotPostMessage(id, code string) Message {
	return message(":warning: Nothing was reset: every reset is announced in the channel it was asked in, and "+cannotPostReason(code)+".\n"+
		"*What to do:* invite the bot with `/invite @sessionbot`, or run the command in a channel it is in.", requestContext(id))
}

func slackFailedMessage(id string, err error) Message {
	var rl *RateLimitedError
	if errors.As(err, &rl) {
		return message(":warning: Nothing was reset: Slack is rate limiting sessionbot, so it could not announce the reset.\n*What to do:* try again in a minute.", requestContext(id))
	}
	return message(":warning: Nothing was reset: sessionbot could not post the announcement in this channel.\n*What to do:* try again; if it keeps failing, tell whoever runs sessionbot.", requestContext(id))
}

func stoppedBeforeAnnouncingMessage(id string) Message {
	return message(":warning: Nothing was reset: sessionbot stopped (it is restarting) before it could announce the reset.\n*What to do:* run the command again in a moment.", requestContext(id))
}

// BusyMessage refuses a command because too many are in flight.
func BusyMessage() Message {
	return message(":hourglass: sessionbot is handling too many commands right now. Nothing was reset.\n*What to do:* try again in a few seconds.", "")
}

const inThread = "the full list is in the thread"

// AnnouncementMessage is posted in the channel before IPRoyal is called.
func AnnouncementMessage(id, user string, targets []Target) Message {
	return message(fmt.Sprintf(":arrows_counterclockwise: <@%s> is resetting the sessions of %s:\n%s",
		user, residentialUsers(len(targets)), targetList(targets, inThread)), requestContext(id))
}

// finalAnnouncement is what the announcement becomes once the outcome is
// known, so the channel shows it without opening the thread.
func finalAnnouncement(e Entry) Message {
	n := residentialUsers(len(e.Targets))
	var head string
	switch e.State {
	case StateReset:
		head = fmt.Sprintf(":white_check_mark: <@%s> reset the sessions of %s (%s):", e.User, n, formatDuration(e.Took))
	case StateUnknown:
		head = fmt.Sprintf(":warning: <@%s>'s reset of %s: outcome unknown, because %s. Details in the thread:", e.User, n, e.Reason)
	default:
		head = fmt.Sprintf(":x: <@%s>'s reset of %s failed: %s Details in the thread:", e.User, n, strings.TrimSuffix(e.Reason, ".")+".")
	}
	return message(head+"\n"+targetList(e.Targets, inThread), requestContext(e.RequestID))
}

// targetListReplies are the thread replies that list every target, when
// the announcement could not show them all; none otherwise.
func targetListReplies(id string, targets []Target) []Message {
	lines := make([]string, len(targets))
	for i, t := range targets {
		lines[i] = targetLine(t)
	}
	if _, more := fitLines(lines, listBudget); more == 0 {
		return nil
	}
	var parts []string
	for len(lines) > 0 {
		shown, more := fitLines(lines, listBudget)
		parts = append(parts, shown)
		lines = lines[len(lines)-more:]
	}
	out := make([]Message, len(parts))
	for i, p := range parts {
		out[i] = message(fmt.Sprintf("The %s of this reset (part %d of %d):\n%s", residentialUsers(len(targets)), i+1, len(parts), p), requestContext(id))
	}
	return out
}

func successMessage(id string, n int, took time.Duration) Message {
	return message(fmt.Sprintf(":white_check_mark: Reset the sessions of %s in %s. Their next requests get fresh exit IPs.",
		residentialUsers(n), formatDuration(took)), requestContext(id))
}

func dryRunMessage(id string, n int) Message {
	return message(fmt.Sprintf(":information_source: Dry run: nothing was reset and IPRoyal was not called. A real run would reset the sessions of %s.",
		residentialUsers(n)), requestContext(id))
}

func failureMessage(id, user string, err error) Message {
	what, todo := describeFailure(err, OpReset)
	return message(fmt.Sprintf(":x: <@%s> the reset failed. %s\n*What to do:* %s", user, what, todo), requestContext(id))
}

const runAgain = "run the command again; resetting the same sessions twice is harmless."

// interruptedMessage is the outcome of a reset that sessionbot stopped
// while IPRoyal had it.
func interruptedMessage(id, user string) Message {
	return message(fmt.Sprintf(":warning: <@%s> sessionbot stopped (it is restarting) while IPRoyal had this reset, so the sessions may or may not have been reset.\n*What to do:* %s", user, runAgain), requestContext(id))
}

// orphanMessage is posted by another process, or after a restart, in the
// thread of a reset whose process stopped without a word.
func orphanMessage(id, user string) Message {
	return message(fmt.Sprintf(":warning: <@%s> the outcome of this reset is unknown: sessionbot stopped while it was in flight, so the sessions may or may not have been reset.\n*What to do:* %s", user, runAgain), requestContext(id))
}

func notRunReason(stopped bool) string {
	if stopped {
		return "sessionbot stopped before it called IPRoyal, so nothing was reset"
	}
	return "the command ran out of time (COMMAND_TIMEOUT) before it called IPRoyal, so nothing was reset"
}

func notRunMessage(id, user string, stopped bool) Message {
	return message(fmt.Sprintf(":x: <@%s> %s.\n*What to do:* run the command again.", user, upperFirst(notRunReason(stopped))), requestContext(id))
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// auditMessage is what the audit channel shows of a journal entry: one
// message per request, updated as it goes.
func (b *Bot) auditMessage(e Entry) Message {
	who := fmt.Sprintf("<@%s>", e.User)
	if e.Source == SourceCLI {
		who = "`sessionbot reset` (run as `" + escape(e.User) + "`)"
	}
	where := ""
	if e.Channel != "" {
		where = fmt.Sprintf(" in <#%s>", e.Channel)
	}
	n := residentialUsers(len(e.Targets))
	var head string
	switch e.State {
	case StateAwaiting:
		head = fmt.Sprintf(":hourglass_flowing_sand: %s asked to reset the sessions of %s%s, and has until %s to confirm.", who, n, where, e.Expires.UTC().Format("15:04 UTC"))
	case StateStarted:
		head = fmt.Sprintf(":arrows_counterclockwise: %s is resetting the sessions of %s%s.", who, n, where)
	case StateReset:
		head = fmt.Sprintf(":white_check_mark: %s reset the sessions of %s%s (%s).", who, n, where, formatDuration(e.Took))
	case StateFailed:
		head = fmt.Sprintf(":x: %s's reset of %s%s failed: %s", who, n, where, strings.TrimSuffix(e.Reason, ".")+".")
	case StateUnknown:
		head = fmt.Sprintf(":warning: %s's reset of %s%s: outcome unknown, because %s.", who, n, where, e.Reason)
	case StateCancelled:
		head = fmt.Sprintf(":heavy_multiplication_x: %s cancelled a reset of %s%s; nothing was reset.", who, n, where)
	case StateExpired:
		head = fmt.Sprintf(":hourglass: %s did not confirm a reset of %s%s in time; nothing was reset.", who, n, where)
	case StateRefused:
		head = fmt.Sprintf(":no_entry: %s asked to reset the sessions of %s%s, but %s; nothing was reset.", who, n, where, e.Reason)
	}
	rest := ""
	if e.Thread != "" {
		rest = "the full list is in the announcement's thread"
	}
	footer := requestContext(e.RequestID)
	if link := b.link(e.Channel, e.Thread); link != "" {
		footer += " · <" + link + "|announcement>"
	}
	if e.Source == SourceCLI {
		footer += " · from the command line"
	}
	return message(head+"\n"+targetList(e.Targets, rest), footer)
}

// auditDeniedMessage mirrors one user's refusals in the audit channel.
func auditDeniedMessage(user, channel, reason string, count int) Message {
	if count > 1 {
		return message(fmt.Sprintf(":no_entry: <@%s> was refused %d times in the last minute, last in <#%s>: %s.", user, count, channel, reason), "")
	}
	return message(fmt.Sprintf(":no_entry: Refused <@%s> in <#%s>: %s.", user, channel, reason), "")
}

// Operation is what sessionbot was doing with IPRoyal when it failed.
type Operation int

// The operations whose failures DescribeFailure words.
const (
	OpReset  Operation = iota // DELETE /sessions
	OpLookup                  // finding sub-users by username, or searching them
	OpStatus                  // GET /me
)

// describeFailure says what went wrong with IPRoyal, and what to do, in
// words safe to show anyone: no token, no password, escaped.
func describeFailure(err error, op Operation) (what, todo string) {
	var apiErr *iproyal.APIError
	switch {
	case errors.As(err, &apiErr):
		status := fmt.Sprintf("`%d %s`", apiErr.StatusCode, http.StatusText(apiErr.StatusCode))
		if apiErr.Message != "" {
			status += ": " + outside(apiErr.Message)
		}
		switch {
		case errors.Is(err, iproyal.ErrUnauthorized):
			return "IPRoyal refused sessionbot's API token (" + status + ").",
				"the bot's IPRoyal token is wrong, or API access is not enabled on the IPRoyal account. Whoever runs sessionbot should check `IPROYAL_API_TOKEN` and the account's API settings."
		case errors.Is(err, iproyal.ErrValidation):
			return "IPRoyal rejected the request (" + status + ").",
				"check that the hashes belong to this IPRoyal account; if they do, tell whoever runs sessionbot."
		case errors.Is(err, iproyal.ErrRateLimited):
			wait := "a minute"
			if apiErr.RetryAfter > 0 {
				wait = humanDuration(apiErr.RetryAfter)
			}
			return "IPRoyal is rate limiting sessionbot (" + status + ").", "try again in " + wait + "."
		case errors.Is(err, iproyal.ErrServer):
			return "IPRoyal had a server error (" + status + ").",
				"try again in a few minutes; if it persists, check IPRoyal's status page."
		case errors.Is(err, iproyal.ErrNotFound):
			return "IPRoyal answered " + status + ".", "whoever runs sessionbot should check `IPROYAL_API_URL`."
		}
		return "IPRoyal answered " + status + ".", "tell whoever runs sessionbot."
	case errors.Is(err, context.DeadlineExceeded):
		if op == OpReset {
			return "IPRoyal did not answer in time.",
				"the sessions may or may not have been reset; running the command again is safe."
		}
		return "IPRoyal did not answer in time.", "try again in a minute; if it keeps happening, tell whoever runs sessionbot."
	case errors.Is(err, context.Canceled):
		if op == OpReset {
			return "sessionbot stopped before IPRoyal answered.",
				"the sessions may or may not have been reset; running the command again is safe."
		}
		return "sessionbot stopped before IPRoyal answered.", "try again in a moment."
	}
	return "IPRoyal could not be reached.", "try again in a few minutes; if it keeps failing, tell whoever runs sessionbot."
}
