package bot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

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

// message builds a Message of a body and an optional footer.
func message(text, footer string) Message {
	return Message{Text: text, Footer: footer}
}

var (
	escaper   = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	unescaper = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")
)

// escape makes text from outside (IPRoyal's messages) inert in mrkdwn.
func escape(s string) string { return escaper.Replace(s) }

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

func targetLines(targets []Target) string {
	var b strings.Builder
	for i, t := range targets {
		if i > 0 {
			b.WriteByte('\n')
		}
		switch {
		case t.Hash == "":
			fmt.Fprintf(&b, "• sub-user `%s` (hash looked up on a real run)", t.Username)
		case t.Username != "":
			fmt.Fprintf(&b, "• `%s` (sub-user `%s`)", t.Hash, t.Username)
		default:
			fmt.Fprintf(&b, "• `%s`", t.Hash)
		}
	}
	return b.String()
}

// humanDuration writes whole minutes and seconds as words: "5 minutes".
func humanDuration(d time.Duration) string {
	switch {
	case d >= time.Minute && d%time.Minute == 0:
		return plural(int(d/time.Minute), "minute", "minutes")
	case d >= time.Second && d%time.Second == 0:
		return plural(int(d/time.Second), "second", "seconds")
	}
	return d.String()
}

func formatDuration(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// HelpMessage explains every form of the command to whoever asked.
func HelpMessage(command string, maxTargets, confirmAbove int) Message {
	confirm := ""
	if confirmAbove > 0 {
		confirm = fmt.Sprintf("\n• more than %d targets: you are asked to confirm before anything is reset", confirmAbove)
	}
	return message(fmt.Sprintf("*%[1]s* resets the sticky sessions of IPRoyal residential users, so their proxies get fresh exit IPs.\n"+
		"• `%[1]s HASH [HASH...]` resets by residential user hash (26 characters, like `01H7YCG0R9GYY1YCPS2S4QA6WB`)\n"+
		"• `%[1]s USERNAME [...]` resets by sub-user username; hashes and usernames can be mixed\n"+
		"• separate targets with spaces, commas or new lines; at most %[2]d at once%[3]s\n"+
		"• `%[1]s --dry-run TARGET...` shows you what would be reset, and resets nothing\n"+
		"• `%[1]s status` shows the IPRoyal account's available traffic and sub-users\n"+
		"• `%[1]s help` shows this\n"+
		"A reset is announced in this channel and its result is replied in the announcement's thread.", command, maxTargets, confirm), "")
}

func rateLimitedMessage(perMinute int, retryIn time.Duration) Message {
	secs := int(retryIn.Round(time.Second) / time.Second)
	return message(fmt.Sprintf(":hourglass: You have run %d commands in the last minute, the most allowed. Nothing was reset.\n*What to do:* try again in %s.",
		perMinute, plural(max(secs, 1), "second", "seconds")), "")
}

func dryRunPreviewMessage(id string, targets []Target) Message {
	return message(fmt.Sprintf(":mag: Dry run: nothing was reset and nothing was posted. Without `--dry-run` this would reset the sessions of %s:\n%s",
		plural(len(targets), "residential user", "residential users"), targetLines(targets)), requestContext(id))
}

func statusMessage(a iproyal.Account) Message {
	return message(fmt.Sprintf(":bar_chart: IPRoyal account: *%s GB* of residential traffic available, %s.",
		strconv.FormatFloat(a.AvailableTraffic, 'f', -1, 64), plural(a.SubusersCount, "sub-user", "sub-users")), "")
}

func statusFailedMessage(id string, err error) Message {
	what, todo := describeFailure(err)
	return message(":warning: sessionbot could not get the account status. "+what+"\n*What to do:* "+todo, requestContext(id))
}

func tooManyToConfirmMessage(n int) Message {
	return message(fmt.Sprintf(":warning: Nothing was reset: %d targets are too many to confirm in one command.\n*What to do:* split them over several commands.", n), "")
}

// confirmationMessage asks the requester to confirm a large reset. The
// buttons carry the signed request (see confirm.go).
func confirmationMessage(id string, targets []Target, ttl time.Duration, token string) Message {
	m := message(fmt.Sprintf(":question: This resets the sessions of *%s*:\n%s\nConfirm within %s, or cancel. Nothing happens until you do.",
		plural(len(targets), "residential user", "residential users"), targetLines(targets), humanDuration(ttl)), requestContext(id))
	m.Confirm = token
	return m
}

func deniedMessage(reason DenialReason, p Policy) Message {
	switch reason {
	case DeniedChannel:
		chans := make([]string, len(p.Channels))
		for i, c := range p.Channels {
			chans[i] = "<#" + c + ">"
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
	return message(":no_entry: You are not allowed to reset IPRoyal sessions. Nothing was reset.\n"+
		"Ask "+strings.Join(who, " or ")+" to run it for you, or to have you added to `ALLOWED_USERS` or `ALLOWED_USERGROUPS`.", "")
}

func badTargetsMessage(bad []BadTarget) Message {
	var b strings.Builder
	fmt.Fprintf(&b, ":warning: Nothing was reset: %s not valid.", plural(len(bad), "target is", "targets are"))
	for _, t := range bad {
		fmt.Fprintf(&b, "\n• %s: %s", showInput(t.Input), t.Reason)
	}
	b.WriteString("\nFix or remove them and run the command again.")
	return message(b.String(), "")
}

func tooManyMessage(n, limit int) Message {
	return message(fmt.Sprintf(":warning: Nothing was reset: %d targets is more than the limit of %d per command.\nSplit them over several commands.", n, limit), "")
}

func noTargetsMessage(command string) Message {
	return message(fmt.Sprintf(":warning: Nothing was reset: no targets given. Try `%s help`.", command), "")
}

func lookupFailedMessage(id string, err error) Message {
	what, todo := describeFailure(err)
	return message(":warning: Nothing was reset: sessionbot could not look up the sub-user usernames. "+what+"\n*What to do:* "+todo, requestContext(id))
}

func cannotPostMessage(code string) Message {
	var why string
	switch code {
	case "is_archived":
		why = "this channel is archived"
	case "channel_not_found":
		why = "sessionbot cannot see this channel (it is private or a direct message, and the bot is not in it)"
	default:
		why = "sessionbot is not a member of this channel"
	}
	return message(":warning: Nothing was reset: every reset is announced in the channel it was asked in, and "+why+".\n"+
		"*What to do:* invite the bot with `/invite @sessionbot`, or run the command in a channel it is in.", "")
}

func slackFailedMessage(err error) Message {
	var rl *RateLimitedError
	if errors.As(err, &rl) {
		return message(":warning: Nothing was reset: Slack is rate limiting sessionbot, so it could not announce the reset.\n*What to do:* try again in a minute.", "")
	}
	return message(":warning: Nothing was reset: sessionbot could not post the announcement in this channel.\n*What to do:* try again; if it keeps failing, tell whoever runs sessionbot.", "")
}

// BusyMessage refuses a command because too many are in flight.
func BusyMessage() Message {
	return message(":hourglass: sessionbot is handling too many commands right now. Nothing was reset.\n*What to do:* try again in a few seconds.", "")
}

// AnnouncementMessage is posted in the channel before IPRoyal is called.
func AnnouncementMessage(id, user string, targets []Target) Message {
	return message(fmt.Sprintf(":arrows_counterclockwise: <@%s> is resetting the sessions of %s:\n%s",
		user, plural(len(targets), "residential user", "residential users"), targetLines(targets)), requestContext(id))
}

func successMessage(id string, n int, took time.Duration) Message {
	return message(fmt.Sprintf(":white_check_mark: Reset the sessions of %s in %s. Their next requests get fresh exit IPs.",
		plural(n, "residential user", "residential users"), formatDuration(took)), requestContext(id))
}

func dryRunMessage(id string, n int) Message {
	return message(fmt.Sprintf(":information_source: Dry run: nothing was reset and IPRoyal was not called. A real run would reset the sessions of %s.",
		plural(n, "residential user", "residential users")), requestContext(id))
}

func failureMessage(id, user string, err error) Message {
	what, todo := describeFailure(err)
	return message(fmt.Sprintf(":x: <@%s> the reset failed. %s\n*What to do:* %s", user, what, todo), requestContext(id))
}

func auditDeniedMessage(id, user, channel string, reason DenialReason) Message {
	return message(fmt.Sprintf(":no_entry: Refused a session reset for <@%s> in <#%s>: %s.", user, channel, reason), requestContext(id))
}

func auditOutcomeMessage(id, user, channel, outcome string, took time.Duration) Message {
	return message(fmt.Sprintf("Session reset for <@%s> in <#%s>: *%s* after %s.", user, channel, outcome, formatDuration(took)), requestContext(id))
}

// describeFailure says what went wrong with IPRoyal, and what to do, in
// words safe to show anyone: no token, no password, escaped.
func describeFailure(err error) (what, todo string) {
	var apiErr *iproyal.APIError
	switch {
	case errors.As(err, &apiErr):
		status := fmt.Sprintf("`%d %s`", apiErr.StatusCode, http.StatusText(apiErr.StatusCode))
		if apiErr.Message != "" {
			status += ": " + escape(apiErr.Message)
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
				wait = apiErr.RetryAfter.String()
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
		return "IPRoyal did not answer in time.",
			"the sessions may or may not have been reset; running the command again is safe."
	case errors.Is(err, context.Canceled):
		return "sessionbot stopped before IPRoyal answered.",
			"the sessions may or may not have been reset; running the command again is safe."
	}
	return "IPRoyal could not be reached.", "try again in a few minutes; if it keeps failing, tell whoever runs sessionbot."
}
