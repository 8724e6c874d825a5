package bot

// Per-team access's words: part of the one place for words (words.go), in
// a file of their own for length.

// Per-team access: refusals, what a policy lets someone reset, the audit
// channel's and the home tab's words, a reload, policy check and policy
// can, and when an approval is needed.
const (
	sayWhyNoGrant         = "no grant of the policy lets them reset"
	sayWhyGrantChannel    = "their grants do not allow it in that channel"
	sayWhyTargets         = "no grant of theirs covers every target there"
	sayDeniedNoGrant      = ":no_entry: No grant of sessionbot's policy lets you reset IPRoyal sessions. Nothing was reset."
	sayDeniedGrantChannel = ":no_entry: Your grants do not let you reset sessions from this channel. Nothing was reset. The command `can` shows where they do."
	sayAskOperator        = "*What to do:* ask whoever runs sessionbot."
	sayAskContact         = "*What to do:* %s."
	sayDeniedTargets      = ":no_entry: Nothing was reset: your grants do not cover every target here."
	sayDeniedTooMany      = ":no_entry: Nothing was reset."
	sayDeniedTheseHere    = "\nYou may not reset %s here:\n%s"
	sayTargetOne          = "this target"
	sayTargetMany         = "these %d targets"
	sayTargetTyped        = "• `%s`"
	sayDeniedOthersFine   = "\nThe others you may: run the command without these."
	sayDeniedNoSuchHash   = "\nIPRoyal knows no sub-user with a hash you gave, and your grants go by username, so it was refused: check the hash (`find` lists them)."
	sayDeniedUnknownNames = "\nIPRoyal could not say which sub-user a hash is, and your grants go by username, so it was refused: try again in a minute."
	sayDeniedOver         = "\nYour grant *%s* allows at most %d targets at once: split them over several commands."
	sayCanNothing         = ":no_entry: No grant of sessionbot's policy lets you reset sessions, here or anywhere."
	sayCanNotHere         = ":information_source: Here, in <#%s>, you may reset nothing."
	sayCanHere            = ":white_check_mark: Here, in <#%s>, you may reset:\n%s"
	sayCanElsewhere       = "\nElsewhere:\n%s"
	sayEverySubuser       = "every sub-user"
	sayGrantLine          = "• *%s*: %s"
	sayGrantIn            = ", in %s"
	sayGrantMax           = ", at most %d at once"
	sayAuditGrants        = " · grants: %s"
	sayHomeGrants         = ":white_check_mark: *You may reset the sticky sessions of IPRoyal residential users*, under your grants:\n%s"
	sayPolicyChanged      = ":scroll: Policy changed: %s, sha256 `%s…`. It applies to every request from now on."
	sayPolicyRefused      = ":warning: The policy file changed (sha256 `%s…`), but it is not valid, so the policy in force (sha256 `%s…`) stays: %s"
	sayGrantOne           = "grant"
	sayGrantMany          = "grants"
	sayPolicyValid        = "%s is valid: %s, sha256 %s…\n"
	sayPolicySummary      = "  %s (line %d): %s for %s%s%s\n"
	sayPolicyAnywhere     = ", any channel"
	sayPolicyOnlyIn       = ", only in %s"
	sayPolicyApproval     = ", approval by %s (%s)"
	sayPolicyAllow        = "allow %s (grant %s)\n"
	sayPolicyAllowWait    = "allow %s (grant %s, needs approval by %s)\n"
	sayPolicyDeny         = "deny %s (no grant for %s covers it here)\n"
	sayPolicyDenyOver     = "deny %s (grant %s allows at most %d at once)\n"
	sayApprovalAlways     = "every request"
	sayApprovalAbove      = "more than %d targets"
	sayApprovalFor        = "any of %s"
)
