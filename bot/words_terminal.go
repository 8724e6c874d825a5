package bot

// The shell's and the command line's words (words.go has the rest): what
// terminal.go builds their lines from. Plain text, no mrkdwn.

// The shell.
const (
	sayShellPosted    = "[#%s, message %s] sessionbot:"
	sayShellPostedIn  = "[#%s, message %s, in the thread of message %s] sessionbot:"
	sayShellReply     = "[#%s, thread of message %s] sessionbot:"
	sayShellBroadcast = "[#%s, thread of message %s, also sent to the channel] sessionbot:"
	sayShellUpdated   = "[#%s, message %s is now] sessionbot:"
	sayShellReacted   = "[#%s] sessionbot reacted :%s: to message %s"
	sayShellPrivate   = "[only visible to @%s] sessionbot:"
	sayShellReplaced  = "[only visible to you, replacing the confirmation] sessionbot:"
	sayShellWelcome   = "sessionbot shell: type %s TARGET..., @sessionbot reset TARGET... or just the targets; help; quit. You are @%s in #%s."
	sayShellAnyone    = "No ALLOWED_USERS or ALLOWED_USERGROUPS set: @%s is allowed here (the bot would refuse to start without an allow-list)."
	sayShellNoGroups  = "User groups cannot be looked up without Slack: ALLOWED_USERGROUPS allows nobody here."
	sayShellNotHere   = "ALLOWED_CHANNELS allows only %s, so every command in #%s will be refused: pass --channel %s to try one of them."
	sayShellOffline   = "Dry run: IPRoyal is never called; usernames are not looked up and nothing is reset."
	sayShellNoSlack   = "Slack is not used: what the bot would post is printed below."
	sayShellPicker    = "In Slack, %[1]s alone opens a form where you pick sub-users by typing part of a username, and the channel to announce in; submitting it resets them. The shell has no forms: type %[1]s find TEXT to list sub-users, then %[1]s TARGET... to reset them."
)

// The command line.
const (
	sayCLIDryRun       = "Dry run: no DELETE was sent. A real run would reset the sessions of %s:\n"
	sayCLIReset        = "Reset the sessions of %s:\n"
	sayCLIConfirm      = "This resets the sessions of %s, more than CONFIRM_ABOVE (%d), so it asks first (--yes would not):\n"
	sayCLIBad          = "%q is %s"
	sayCLIBadMany      = "%d targets are not valid: %s"
	sayCLINothingReset = "nothing was reset: "
	sayCLILookupFailed = "nothing was reset, looking up the sub-users"
	sayCLIResetFailed  = "reset failed"
	sayCLICancelled    = "cancelled: nothing was reset"
	sayCLIExpired      = "nothing was reset: the confirmation expired (it lasts %s); run the command again"
	sayCLINotDecided   = "nothing was reset: sessionbot could not record the answer in AUDIT_CHANNEL; run the command again"
	sayCLISearchFailed = "could not search the sub-users"
	sayCLIStatusFailed = "could not get the account status"
	sayCLIFailure      = "%s: %s What to do: %s"
	sayCLIFindNone     = "no sub-user's username contains %q"
	sayCLIFindMore     = "...and %d more: search for something longer to see them.\n"
)
