package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sessionbot/sessionbot/iproyal"
)

// Every sentence a person reads is written here, in words*.go: the messages
// of every way in, the words of the forms and the home tab, and describe,
// the one place that says what a failure means and what to do. Per-team
// access, two-person approval, and the shell's and the command line's
// lines have files of their own (words_access.go, words_approval.go,
// words_terminal.go). The code that builds a message picks its words from
// here and fills them in; adapters lay words out and write none. Messages
// are mrkdwn (PlainText reads them where there is no markup).

// Help and usage.
const (
	sayHelp = "*%[6]s* resets the sticky sessions of IPRoyal residential users, so their proxies get fresh exit IPs.\n" +
		"• `%[1]s HASH [HASH...]` resets by residential user hash (26 characters, like `01H7YCG0R9GYY1YCPS2S4QA6WB`)\n" +
		"• `%[1]s USERNAME [...]` resets by sub-user username, matched exactly; hashes and usernames can be mixed\n" +
		"• separate targets with spaces, commas or new lines; at most %[2]d at once%[3]s\n" +
		"• `%[1]s find TEXT` lists the sub-users whose username contains TEXT, with their hashes\n" +
		"• `%[1]s --dry-run TARGET...` shows you what would be reset, and resets nothing\n" +
		"• `%[1]s status` shows the IPRoyal account's available traffic and sub-users\n" +
		"• `%[1]s help` shows this\n" +
		"A sub-user named like a keyword (`status`, `find`, `help`) is reset with `%[1]s -- status` or `%[1]s \"status\"`: " +
		"a quoted word, or any word after `--`, is always a target.\n" +
		"A word of 24 to 28 letters and digits that starts with a digit is taken for a mistyped hash and not looked up " +
		"(sub-user usernames like that are vanishingly rare; quote one to look it up anyway).\n" +
		"%[4]s%[5]s" +
		"Every request counts against your limit, this one included."
	sayHelpConfirm     = "\n• more than %d targets: you are asked to confirm before anything is reset"
	sayHelpInChannel   = "A reset is announced in this channel and its result is replied in the announcement's thread. "
	sayHelpInThread    = "A reset is announced in this thread, and its result is replied under it. "
	sayHelpOtherWaysIn = "*Other ways in:* `%[1]s` alone opens a form where you pick sub-users by typing part of a username. In a thread, where slash commands cannot go, mention the bot: `@sessionbot reset HASH`. On an alert's message, its *More actions* menu has *Reset sessions*, which lists the hashes in it. The bot's *Home* tab shows whether you may reset, and where.\n"
	sayKeywordAlone    = ":warning: Nothing was done: `%[2]s` takes nothing after it, and this has %[3]s more.\n*What to do:* to reset a sub-user named %[2]s, write `%[1]s -- %[2]s …` or quote it: `%[1]s \"%[2]s\" …`."
	sayFindUsage       = ":warning: `%[1]s find` needs one piece of text, the part of a username to look for: `%[1]s find scraper`."
	sayNoTargets       = ":warning: Nothing was reset: no targets given. Try `%s help`."
	sayTooMany         = ":warning: Nothing was reset: %d targets is more than the limit of %d per command.\nSplit them over several commands."
	sayDryRunNoIPRoyal = ":information_source: Dry run: IPRoyal is not called, so %s."
	sayNoStatusOffline = "there is no account status to show"
	sayNoSearchOffline = "sub-users cannot be searched"
	sayUnknownCommand  = "sessionbot only answers `%s`."
	sayWhatToDo        = "\n*What to do:* "
	sayRequestFooter   = "request `%s`"
	sayOr              = " or "
	sayMoreWhere       = "\n…and %d more: %s."
	sayMoreCounted     = "\n…and %d more."
	sayOneOfOthers     = "one of %d others"
	sayOtherChannels   = "%d other channels"
	sayOneResidential  = "residential user"
	sayManyResidential = "residential users"
	sayTargetNoHash    = "• sub-user `%s` (hash looked up on a real run)"
	sayTargetNamed     = "• `%s` (sub-user `%s`)"
	sayTargetHash      = "• `%s`"
	sayBadTargetLine   = "• %s: %s"
	sayListInThread    = "the full list is in the thread"
	sayListInAnnounced = "the full list is in the announcement's thread"
	sayDurationMillis  = "%d ms"
	sayDurationSeconds = "%.1f s"
	sayASecond         = "a second"
	sayInAMoment       = " in a moment."
	sayDidYouMean      = "; did you mean %s?"
	sayDidYouMeanOr    = "; did you mean %s or %s?"
	sayWordOne         = "word"
	sayWordMany        = "words"
)

// Targets that are not, and refusals.
const (
	sayNotATarget       = "not a residential user hash (26 characters, like 01H7YCG0R9GYY1YCPS2S4QA6WB) or a sub-user username"
	sayMistyped         = "probably a mistyped residential user hash: "
	sayMistypedLength   = "it has %d characters, and a hash has %d"
	sayMistypedLetter   = "it has `%c` at position %d, and hashes never contain I, L, O or U (Crockford's base32 leaves them out)"
	sayMistypedFirst    = "it starts with %c, and a hash starts with 0 to 7"
	sayUnknownUsername  = "not a hash, and no sub-user has this username"
	sayBadTargets       = ":warning: Nothing was reset: %s not valid.\n%s\nFix or remove them and run the command again."
	sayTargetIs         = "target is"
	sayTargetsAre       = "targets are"
	sayLookupFailed     = "Nothing was reset: sessionbot could not look up the sub-user usernames. "
	sayDeniedChannel    = ":no_entry: Sessions cannot be reset from this channel. Nothing was reset.\nRun the command in %s."
	sayDeniedLookup     = ":no_entry: sessionbot could not check your user group membership with Slack, so it refused to be safe. Nothing was reset.\nTry again in a minute; if it keeps happening, tell whoever runs sessionbot."
	sayDeniedUser       = ":no_entry: You are not allowed to reset IPRoyal sessions. Nothing was reset.\nAsk %s to run it for you, or to have you added to `ALLOWED_USERS` or `ALLOWED_USERGROUPS`."
	sayGroupMember      = "a member of <!subteam^%s>"
	sayWhyChannel       = "the command is not allowed in that channel (ALLOWED_CHANNELS)"
	sayWhyLookup        = "Slack could not say who is in ALLOWED_USERGROUPS, so sessionbot refused to be safe"
	sayWhyUsersOrGroups = "not in ALLOWED_USERS or a group in ALLOWED_USERGROUPS"
	sayWhyGroups        = "not in a group in ALLOWED_USERGROUPS"
	sayWhyUsers         = "not in ALLOWED_USERS"
	sayRateLimited      = ":hourglass: You have made %s in the last minute, the most allowed, so nothing was done. Every command counts, `help` included, and so does every click on a button.\n*What to do:* try again in %s."
	sayRequestOne       = "request"
	sayRequestMany      = "requests"
	sayBusy             = ":hourglass: sessionbot is handling too many commands right now. Nothing was reset.\n*What to do:* try again in a few seconds."
	sayAuditDenied      = ":no_entry: Refused <@%s> in <#%s>: %s."
	sayAuditDeniedMany  = ":no_entry: <@%s> was refused %d times in the last minute, last in <#%s>: %s."
)

// Find and status.
const (
	sayFindFailed    = "sessionbot could not search the sub-users. "
	sayFindNone      = ":mag: No sub-user's username contains %s."
	sayFindOne       = ":mag: 1 sub-user has %s in its username:\n"
	sayFindMany      = ":mag: %d sub-users have %s in their username:\n"
	sayFindMore      = "\n…and %d more: search for something longer to see them."
	sayFindResetOne  = "\nTo reset this sub-user: `%s %s`"
	sayFindResetMany = "\nTo reset these %d sub-users: `%s %s`"
	sayAccount       = ":bar_chart: IPRoyal account: *%s GB* of residential traffic available, %s."
	saySubuserOne    = "sub-user"
	saySubuserMany   = "sub-users"
	sayStatusFailed  = "sessionbot could not get the account status. "
)

// Confirmations and clicks.
const (
	sayConfirmation     = ":question: This resets the sessions of *%s*:\n%s\nConfirm within %s, or cancel. Nothing happens until you do."
	sayTooManyToConfirm = "Nothing was reset: %d targets are too many to confirm in one command."
	saySplitThem        = "split them over several commands."
	sayCannotConfirm    = "Nothing was reset: sessionbot could not make the confirmation for this command."
	sayTellOperator     = "tell whoever runs sessionbot."
	sayBadButton        = ":no_entry: This button is not valid, so nothing was reset. Run the command again."
	sayNotYours         = ":no_entry: Only <@%s>, who asked for this reset, can confirm or cancel it. Nothing was changed."
	sayConfirmed        = ":arrows_counterclockwise: Confirmed: resetting the sessions of %s. The result follows in the channel."
	sayCancelled        = ":heavy_multiplication_x: Cancelled: the sessions of %s were not reset."
	sayCancelledHere    = ":heavy_multiplication_x: Cancelled: this click reset nothing. If Confirm was clicked first, that reset's outcome is in <#%s>."
	sayExpired          = ":hourglass: This confirmation expired (they last %s), and nothing was reset. Run the command again."
	sayExpiredHere      = ":hourglass: This confirmation expired (they last %s), so this click changed nothing. To reset, run the command again."
	sayAlreadyConfirmed = ":information_source: This request was already confirmed, so this click changed nothing: the reset of %s ran, and its outcome is in <#%s>."
	sayAlreadyCancelled = ":information_source: This request was already cancelled, so nothing was reset. To reset the sessions of %s, run the command again."
	sayAlreadyRan       = ":information_source: This request was already confirmed, so this click changed nothing: the reset of %s ran (%s). Its outcome: %s."
	sayAnotherClick     = ":information_source: Another click on this confirmation decided first, so this one changed nothing. Its outcome is in the channel."
	sayAnotherClickNow  = ":information_source: Another click on this confirmation is being handled, so this one changed nothing."
	sayAlreadyExpired   = ":information_source: This confirmation already expired, and nothing was reset. Run the command again."
	sayAlreadyRefused   = ":information_source: This request was already refused (%s), and nothing was reset."
	sayTheAnnouncement  = "<%s|the announcement>"
	sayStateStarted     = "it is still in flight"
	sayStateReset       = "the sessions were reset"
	sayStateFailed      = "it failed"
	sayStateUnknown     = "its outcome is unknown"
	sayClickNotRecorded = "sessionbot could not record your click with Slack, so nothing happened yet."
	sayClickAgain       = "click again in a moment."
	sayNothingWaiting   = "Nothing is waiting for a yes or no. To reset a sub-user with that name, write -- %s."
	sayConfirmPrompt    = "Confirm? [y/N] "
)

// The trail: the announcement, its thread, the audit channel.
const (
	sayAnnouncement     = ":arrows_counterclockwise: <@%s> is resetting the sessions of %s:\n%s"
	sayFinalReset       = ":white_check_mark: <@%s> reset the sessions of %s (%s):"
	sayFinalUnknown     = ":warning: <@%s>'s reset of %s: outcome unknown, because %s. Details in the thread:"
	sayFinalFailed      = ":x: <@%s>'s reset of %s failed: %s. Details in the thread:"
	sayListPart         = "The %s of this reset (part %d of %d):\n%s"
	saySuccess          = ":white_check_mark: Reset the sessions of %s in %s. Their next requests get fresh exit IPs."
	sayDryRunRan        = ":information_source: Dry run: nothing was reset and IPRoyal was not called. A real run would reset the sessions of %s."
	sayDryRunPreview    = ":mag: Dry run: nothing was reset and nothing was posted. Without `--dry-run` this would reset the sessions of %s:\n%s"
	sayResetFailed      = "<@%s> the reset failed. %s"
	sayRunAgainHarmless = "run the command again; resetting the same sessions twice is harmless."
	sayRunAgain         = "run the command again."
	sayInterrupted      = "<@%s> sessionbot stopped (it is restarting) while IPRoyal had this reset, so the sessions may or may not have been reset."
	sayOrphan           = "<@%s> the outcome of this reset is unknown: sessionbot stopped while it was in flight, so the sessions may or may not have been reset."
	sayStoppedInFlight  = "sessionbot stopped while the reset was in flight"
	sayNotRunStopped    = "sessionbot stopped before it called IPRoyal, so nothing was reset"
	sayNotRunTimeout    = "the command ran out of time (COMMAND_TIMEOUT) before it called IPRoyal, so nothing was reset"
	sayNotRun           = "<@%s> %s."
	sayNothingReset     = "Nothing was reset: "
	sayAuditWho         = "<@%s>"
	sayAuditWhoCLI      = "`sessionbot reset` (run as `%s`)"
	sayAuditWhere       = " in <#%s>"
	sayAuditAwaiting    = ":hourglass_flowing_sand: %s asked to reset the sessions of %s%s, and has until %s to confirm."
	sayAuditStarted     = ":arrows_counterclockwise: %s is resetting the sessions of %s%s."
	sayAuditReset       = ":white_check_mark: %s reset the sessions of %s%s (%s)."
	sayAuditFailed      = ":x: %s's reset of %s%s failed: %s."
	sayAuditUnknown     = ":warning: %s's reset of %s%s: outcome unknown, because %s."
	sayAuditCancelled   = ":heavy_multiplication_x: %s cancelled a reset of %s%s; nothing was reset."
	sayAuditExpired     = ":hourglass: %s did not confirm a reset of %s%s in time; nothing was reset."
	sayAuditRefused     = ":no_entry: %s asked to reset the sessions of %s%s, but %s; nothing was reset."
	sayAuditLink        = " · <%s|announcement>"
	sayAuditFromCLI     = " · from the command line"
	sayAuditClock       = "15:04 UTC"
)

// What a failure means, and what to do: describe's words.
const (
	sayStoppedAnnouncing = "sessionbot stopped (it is restarting) before it could announce the reset."
	sayStoppedIPRoyal    = "sessionbot stopped (it is restarting) before IPRoyal answered."
	sayNotInChannel      = "every reset is announced in the channel it was asked in, and %s."
	sayInviteTheBot      = "invite the bot with `/invite @sessionbot`, or run the command in a channel it is in."
	sayWhyArchived       = "the channel is archived"
	sayWhyHidden         = "sessionbot cannot see the channel (it is private or a direct message, and the bot is not in it)"
	sayWhyNotMember      = "sessionbot is not a member of the channel"
	saySlackRateLimited  = "Slack is rate limiting sessionbot, so it could not announce the reset."
	sayTryInAMinute      = "try again in a minute."
	sayCouldNotAnnounce  = "sessionbot could not post the announcement in this channel."
	sayTryAgainThenTell  = "try again; if it keeps failing, tell whoever runs sessionbot."
	sayTokenRefused      = "IPRoyal refused sessionbot's API token (%s)."
	sayCheckToken        = "the bot's IPRoyal token is wrong, or API access is not enabled on the IPRoyal account. Whoever runs sessionbot should check `IPROYAL_API_TOKEN` and the account's API settings."
	sayRejected          = "IPRoyal rejected the request (%s)."
	sayCheckHashes       = "check that the hashes belong to this IPRoyal account; if they do, tell whoever runs sessionbot."
	sayIPRoyalLimits     = "IPRoyal is rate limiting sessionbot (%s)."
	sayTryAgainIn        = "try again in %s."
	sayAMinute           = "a minute"
	sayServerError       = "IPRoyal had a server error (%s)."
	sayTryInMinutes      = "try again in a few minutes; if it persists, check IPRoyal's status page."
	sayAnswered          = "IPRoyal answered %s."
	sayCheckURL          = "whoever runs sessionbot should check `IPROYAL_API_URL`."
	sayNoAnswerInTime    = "IPRoyal did not answer in time."
	sayMayHaveReset      = "the sessions may or may not have been reset; running the command again is safe."
	sayTryThenTell       = "try again in a minute; if it keeps happening, tell whoever runs sessionbot."
	sayStoppedBefore     = "sessionbot stopped before IPRoyal answered."
	sayTryInAMoment      = "try again in a moment."
	sayUnreachable       = "IPRoyal could not be reached."
	sayTryLaterThenTell  = "try again in a few minutes; if it keeps failing, tell whoever runs sessionbot."
)

// tableColumns head find's table of sub-users.
var tableColumns = [4]string{"USERNAME", "HASH", "USED GB", "AVAILABLE GB"}

// Numbers, durations and counts are written one way everywhere: the
// functions that put them in words are in say.go, and humanDuration here.

// humanDuration writes a duration in words, to the second: "2 minutes",
// "1 minute 30 seconds".
func humanDuration(d time.Duration) string {
	d = d.Round(time.Second)
	if d < time.Second {
		return sayASecond
	}
	var parts []string
	for _, u := range []struct {
		d         time.Duration
		one, many string
	}{{time.Hour, "hour", "hours"}, {time.Minute, "minute", "minutes"}, {time.Second, "second", "seconds"}} {
		if n := int(d / u.d); n > 0 {
			parts = append(parts, plural(n, u.one, u.many))
			d %= u.d
		}
	}
	return strings.Join(parts, " ")
}

// Operation is what sessionbot was doing when something failed: it decides
// what a person is told to do about it.
type Operation int

// The operations describe words.
const (
	OpReset    Operation = iota // DELETE /sessions
	OpLookup                    // finding a reset's sub-users by username
	OpFind                      // searching the sub-users
	OpStatus                    // GET /me
	OpAnnounce                  // posting a reset's announcement
	OpSubmit                    // checking a form's submission
)

// again is how a person tries op again.
func (op Operation) again() string {
	return [...]string{"run the command again", "run the command again", "search again", "ask again", "run the command again", "submit again"}[op]
}

// describe says what went wrong, and what to do, in words safe to show
// anyone: no token, no password, escaped. It knows a stop (ErrStopping), a
// channel the bot cannot post in, Slack's rate limit, and every class of
// IPRoyal's errors.
func describe(err error, op Operation) (what, todo string) {
	var apiErr *iproyal.APIError
	var chErr *ChannelError
	switch {
	case errors.Is(err, ErrStopping) && op == OpAnnounce:
		return sayStoppedAnnouncing, op.again() + sayInAMoment
	case errors.Is(err, ErrStopping):
		return sayStoppedIPRoyal, op.again() + sayInAMoment
	case errors.As(err, &chErr):
		return fmt.Sprintf(sayNotInChannel, cannotPostReason(chErr.Problem)), sayInviteTheBot
	case errors.As(err, new(*RateLimitedError)):
		return saySlackRateLimited, sayTryInAMinute
	case op == OpAnnounce:
		return sayCouldNotAnnounce, sayTryAgainThenTell
	case errors.As(err, &apiErr):
		status := fmt.Sprintf("`%d %s`", apiErr.StatusCode, apiErr.StatusText())
		if apiErr.Message != "" {
			status += ": " + outside(apiErr.Message)
		}
		switch {
		case errors.Is(err, iproyal.ErrUnauthorized):
			return fmt.Sprintf(sayTokenRefused, status), sayCheckToken
		case errors.Is(err, iproyal.ErrValidation):
			return fmt.Sprintf(sayRejected, status), sayCheckHashes
		case errors.Is(err, iproyal.ErrRateLimited):
			wait := sayAMinute
			if apiErr.RetryAfter > 0 {
				wait = humanDuration(apiErr.RetryAfter)
			}
			return fmt.Sprintf(sayIPRoyalLimits, status), fmt.Sprintf(sayTryAgainIn, wait)
		case errors.Is(err, iproyal.ErrServer):
			return fmt.Sprintf(sayServerError, status), sayTryInMinutes
		case errors.Is(err, iproyal.ErrNotFound):
			return fmt.Sprintf(sayAnswered, status), sayCheckURL
		}
		return fmt.Sprintf(sayAnswered, status), sayTellOperator
	case errors.Is(err, context.DeadlineExceeded) && op == OpReset:
		return sayNoAnswerInTime, sayMayHaveReset
	case errors.Is(err, context.DeadlineExceeded):
		return sayNoAnswerInTime, sayTryThenTell
	case errors.Is(err, context.Canceled) && op == OpReset:
		return sayStoppedBefore, sayMayHaveReset
	case errors.Is(err, context.Canceled):
		return sayStoppedBefore, sayTryInAMoment
	}
	return sayUnreachable, sayTryLaterThenTell
}

// cannotPostReason says why the bot cannot post in a channel.
func cannotPostReason(p ChannelProblem) string {
	switch p {
	case ChannelArchived:
		return sayWhyArchived
	case ChannelHidden:
		return sayWhyHidden
	}
	return sayWhyNotMember
}

// DescribeFailure is describe in plain words, for the command line.
func DescribeFailure(err error, op Operation) (what, todo string) {
	what, todo = describe(err, op)
	return PlainText(what), PlainText(todo)
}

// Forms, the picker and the home tab.
const (
	sayPickChannel    = "Pick the channel where the reset is announced."
	sayPickTargets    = "Pick or type at least one residential user."
	sayFormTooMany    = "%d targets is more than the limit of %d at once: split them."
	sayFormNotValid   = "%s not valid, so nothing was reset: "
	sayTooSlow        = "Checking this took too long, so nothing was reset. Submit again."
	sayPickNotAllowed = "You are not allowed to reset sessions here."
	sayPickType       = "Type part of a username."
	sayPickDryRun     = "Dry run: IPRoyal is not called."
	sayPickRetry      = " Type again to retry."
	sayPickNone       = "No sub-user's username contains that."
	sayPickMore       = "…and %d more: type more of the name"
	sayShortcutNone   = "No residential user hash in this message: type the targets below, hashes or sub-user usernames."
	sayShortcutFound  = "*%s* found in this message. Uncheck any to leave out, add more below, and submit to reset them: submitting is the confirmation."
	sayShortcutFirst  = " The first %d are listed; a reset takes at most that many at once."
	sayHashOne        = "residential user hash"
	sayHashMany       = "residential user hashes"
	sayInMessageTrail = "The announcement and the outcome go into the message's thread."
	sayInChannelTrail = "The announcement goes to the channel, and the outcome into its thread."
	sayConfirmForm    = ":question: This resets the sessions of *%s*. Uncheck any to leave out; submitting is the confirmation, and nothing happens until then.\n%s"
	sayConfirmSubmit  = "Reset %d"
	sayPickerIntro    = "Pick the sub-users whose sessions to reset; type part of a username to find them. Submitting is the confirmation.\n%s"
	sayPickerAnywhere = "The reset is announced in the channel you pick, and its outcome goes into the announcement's thread."
	sayPickerIn       = "The reset is announced in <#%s>, and its outcome goes into the announcement's thread."
	sayListRange      = "%s (%d to %d)"
	sayFormNotOpened  = ":warning: sessionbot could not open its form (Slack said: %s). Try again."
	sayHomeAllowed    = ":white_check_mark: *You may reset the sticky sessions of IPRoyal residential users*%s."
	sayHomeWhere      = ", in %s"
	sayHomeRefused    = ":no_entry: *You may not reset sessions*: %s. Ask whoever runs sessionbot to add you."
	sayHomeNoAccount  = ":warning: IPRoyal account status unavailable: "
	sayHomeConfirm    = " More than %d targets wait for your Confirm."
	sayHomeWays       = "*Ways to reset*\n" +
		"• `%[1]s HASH or USERNAME...` in a channel: announced there, the outcome in its thread; at most %[2]d at once.%[3]s\n" +
		"• `@sessionbot reset HASH...` in a channel or a thread, where slash commands cannot go: announced in that thread.\n" +
		"• *Reset sessions* in the menu of any message (⋮, then *More message shortcuts*): picks the hashes in it; the trail goes into its thread.\n" +
		"• `%[1]s` alone, or the button above: pick sub-users by name.\n" +
		"• `%[1]s find TEXT` lists sub-users; `%[1]s status` shows the account; `%[1]s help` says more."
	sayHomeButton = "Reset sessions…"
)

// The words of the forms and the home tab that the Slack adapter lays out
// as they are.
const (
	FormTitle              = "Reset sessions"
	FormSubmit             = "Reset"
	FormClose              = "Cancel"
	FormConfirmTitle       = "Confirm the reset"
	FormFoundLabel         = "Found in the message"
	FormToResetLabel       = "To reset"
	FormMoreLabel          = "More targets: hashes or usernames, separated by spaces"
	FormMorePlaceholder    = "01H7YCG0R9GYY1YCPS2S4QA6WB scraper-eu"
	FormOptionsLabel       = "Options"
	FormDryRun             = "Dry run: show me what would be reset, and reset nothing"
	FormChannelLabel       = "Announce in"
	FormChannelPlaceholder = "A channel"
	FormPickLabel          = "Sub-users"
	FormPickPlaceholder    = "Type part of a username"
	FormBusy               = "sessionbot is handling too many requests right now; submit again in a few seconds."
	PickBusy               = "sessionbot is busy: type again in a moment"
	HomeTitle              = "sessionbot"
	ButtonConfirm          = "Confirm"
	ButtonCancel           = "Cancel"
)

// The journal, first.
const (
	sayNothingResetReason = ", so nothing was reset"
	sayNotRunJournal      = "sessionbot could not record the reset in AUDIT_CHANNEL before sending it, so nothing was reset"
	sayJournalFailed      = "sessionbot could not write the request in AUDIT_CHANNEL, and it records every reset there before it announces or runs it."
)

// Invisible characters.
const sayInvisible = "has an invisible character, [U+%04X], at position %d: it is not a hash or a username as it looks. Type it again, or paste it without it"
