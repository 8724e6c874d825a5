package bot

// Two-person approval's words: part of the one place for words (words.go),
// in a file of their own for length.

// The request, waiting.
const (
	sayWaiting          = ":raised_hand: <@%s> asks to reset the sessions of %s: *waiting for approval*.\n*Why:* %s\n*Who may approve:* %s, until %s (%s).\n%s"
	sayWaitingFooter    = " · <@%s> may withdraw it with Deny"
	sayWaitingPrivately = ":hourglass_flowing_sand: Your request waits for approval by %s, until %s. Nothing is reset until one of them clicks Approve; to withdraw it, click Deny on it."
	sayWhyCount         = "%d targets under *%s*, more than %d"
	sayWhyEvery         = "every request under *%s* needs it"
	sayWhyCountEnv      = "%d targets, more than %d (APPROVAL_ABOVE)"
	sayWhyEveryEnv      = "every request needs it (APPROVAL_ABOVE is 0)"
	sayWhySensitive     = "%s under *%s* needs it"
	sayWhyAnd           = "; "
	sayApproverOr       = " or "
	sayApproverAnd      = ", and also "
	sayApproverGroup    = "a member of <!subteam^%s>"
	sayDryRunApproval   = "\nIt would wait for approval by %s (%s)."
	sayHelpApproval     = "\n• some requests wait for a second person to approve them before anything is reset: `%s can` says which"
	sayGrantApproval    = "; a request %s waits for approval by %s"
	sayGrantWhenAlways  = "of any size"
	sayGrantWhenAbove   = "of more than %d"
	sayGrantWhenFor     = "for %s"
	sayGrantWhenOr      = " or "
	sayApprovalNow      = ":no_entry_sign: This request needs approval now (the policy changed since it was asked), so confirming it reset nothing. Run the command again: it will wait for an approver."
	sayWhyApprovalNow   = "it needs approval since the policy changed, and was confirmed instead"
)

// Buttons and clicks.
const (
	ButtonApprove       = "Approve"
	ButtonDeny          = "Deny"
	sayApprovedPrivate  = ":white_check_mark: You approved <@%s>'s reset of %s. The result follows in the thread."
	sayDeniedPrivate    = ":no_entry: You denied <@%s>'s request: nothing was reset."
	sayWithdrawnPrivate = ":leftwards_arrow_with_hook: You withdrew your request: nothing was reset."
	sayExpiredPrivate   = ":hourglass: This request expired at %s without approval: nothing was reset."
	sayNotApprover      = ":no_entry: Only an approver can decide this request: %s. Nothing changed."
	saySelfApproval     = ":no_entry: You cannot approve your own request: another approver must (%s). Nothing changed. To withdraw it, click Deny."
	sayApproverUnknown  = "sessionbot could not ask Slack who is in the approvers' user groups, so nothing changed."
	sayRefusedAtClick   = ":no_entry_sign: Refused at approval: %s. Nothing was reset."
	sayChangedSince     = ":no_entry: This request is not what was journalled, so nothing changed. Ask <@%s> to run the command again."
	sayAlreadyApproved  = ":information_source: Already approved by <@%s> at %s: %s."
	sayAlreadyDenied    = ":information_source: Already denied by <@%s> at %s: nothing was reset."
	sayAlreadyWithdrawn = ":information_source: Already withdrawn by <@%s> at %s: nothing was reset."
	sayAlreadyTimedOut  = ":information_source: Already expired without approval: nothing was reset."
	sayBeingDecided     = ":information_source: Another click on this request is being decided, so this one changed nothing. If Slack lost that click's answer, nobody can decide it any more: it closes as expired, with nothing reset, by %s; then run the command again."
	sayAlreadyDecided   = ":information_source: Already decided: %s, so this click changed nothing."
)

// The announcement and the thread, once decided.
const (
	sayApprovedLine    = "\n:white_check_mark: Approved by <@%s> at %s."
	sayFinalDenied     = ":no_entry: <@%s> denied <@%s>'s request to reset the sessions of %s at %s: nothing was reset."
	sayFinalWithdrawn  = ":leftwards_arrow_with_hook: <@%s> withdrew the request to reset the sessions of %s at %s: nothing was reset."
	sayFinalTimedOut   = ":hourglass: <@%s>'s request to reset the sessions of %s expired at %s without approval: nothing was reset."
	sayFinalRefusedAt  = ":no_entry_sign: <@%s>'s request to reset the sessions of %s was refused at approval: %s. Nothing was reset."
	sayDeniedReply     = "<@%s> <@%s> denied your request: nothing was reset."
	sayTimedOutReply   = "<@%s> your request expired without approval: nothing was reset. To reset, run the command again, and ask an approver (%s) to look in time."
	sayRefusedAtReply  = "<@%s> your request was refused at approval: %s. Nothing was reset."
	sayRequesterGone   = "<@%s> may no longer reset these sub-users here, by the policy in force"
	sayAuditTried      = ":no_entry: <@%s> clicked %s at %s, but %s: nothing changed."
	sayTriedNotOne     = "is not an approver"
	sayTriedOwn        = "it is their own request"
	sayAuditAwaitingOK = ":raised_hand: %s asked to reset the sessions of %s%s: waiting for approval by %s until %s."
	sayAuditApproved   = " Approved by <@%s> at %s."
	sayAuditDeniedBy   = ":no_entry: %s's request to reset the sessions of %s%s was denied by <@%s> at %s; nothing was reset."
	sayAuditWithdrawn  = ":leftwards_arrow_with_hook: %s withdrew a request to reset the sessions of %s%s; nothing was reset."
	sayAuditRefusedAt  = ":no_entry_sign: %s's request to reset the sessions of %s%s was refused at approval: %s; nothing was reset."
	sayAuditTimedOut   = ":hourglass: %s's request to reset the sessions of %s%s expired without approval; nothing was reset."
)
