package slack

import (
	"strings"

	"github.com/slack-go/slack"

	"github.com/sessionbot/sessionbot/bot"
)

// Slack's limits on what the adapter renders.
const (
	maxSectionText = 2900 // a section's text: 3,000 characters
	maxValueLen    = 2000 // a button's value
	maxIDLen       = 255  // an action_id or a block_id
	maxFallback    = 3900 // the top-level text, which should stay under 4,000
)

// blocks renders a core message as Block Kit: its body in sections (split on
// line boundaries), its footer in a context block, and the buttons of a
// confirmation.
func blocks(m bot.Message) []slack.Block {
	var out []slack.Block
	for _, chunk := range bot.SplitText(m.Text, maxSectionText) {
		out = append(out, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, chunk, false, false), nil, nil))
	}
	if m.Footer != "" {
		out = append(out, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, m.Footer, false, false)))
	}
	switch {
	case m.Confirm != "":
		out = append(out, buttons(m.Confirm, confirmPrefix, bot.ButtonConfirm, cancelPrefix, bot.ButtonCancel, ""))
	case m.Approve != "":
		out = append(out, buttons(m.Approve, approvePrefix, bot.ButtonApprove, denyPrefix, bot.ButtonDeny, slack.StyleDanger))
	}
	return out
}

// buttons is a decision's pair of buttons, yes (primary) and no, which
// both carry the token.
func buttons(tok, yesPrefix, yes, noPrefix, no string, noStyle slack.Style) *slack.ActionBlock {
	value, blockID, rest := splitToken(tok)
	y := slack.NewButtonBlockElement(yesPrefix+rest, value, slack.NewTextBlockObject(slack.PlainTextType, yes, false, false))
	y.Style = slack.StylePrimary
	n := slack.NewButtonBlockElement(noPrefix+rest, value, slack.NewTextBlockObject(slack.PlainTextType, no, false, false))
	n.Style = noStyle
	return slack.NewActionBlock(blockID, y, n)
}

// fallbackText is the message's top-level text, which Slack shows in
// notifications and where blocks cannot be shown.
func fallbackText(m bot.Message) string {
	text := m.Text
	if m.Footer != "" {
		text += "\n" + m.Footer
	}
	return bot.SplitText(text, maxFallback)[0]
}

// A decision's token does not fit in a button's value (2,000 characters),
// but every click payload also carries the clicked button's action_id and
// its block's block_id (255 characters each), so the token is spread over
// the three. The action_id's prefix says which button was clicked: Confirm
// or Cancel on a confirmation, Approve or Deny on a request waiting for
// approval (the token itself says which of the two it is).
const (
	confirmPrefix = "confirm."
	cancelPrefix  = "cancel."
	approvePrefix = "approve."
	denyPrefix    = "deny."
	blockIDPrefix = "req."
)

// tokenCapacity is how many characters of token fit in one button: the
// longest prefix decides.
const tokenCapacity = maxValueLen + (maxIDLen - len(blockIDPrefix)) + (maxIDLen - max(len(confirmPrefix), len(approvePrefix)))

// splitToken spreads a token over a button's value, its block's block_id
// and the rest, which follows each button's action_id prefix.
func splitToken(tok string) (value, blockID, rest string) {
	value, rest = cut(tok, maxValueLen)
	inBlock, rest := cut(rest, maxIDLen-len(blockIDPrefix))
	return value, blockIDPrefix + inBlock, rest
}

// joinToken reassembles what splitToken spread, from a click, and says
// whether the click was the yes (Confirm, Approve). A click on anything
// else gives a token that does not open.
func joinToken(value, blockID, actionID string) (tok string, yes bool) {
	inBlock, okBlock := strings.CutPrefix(blockID, blockIDPrefix)
	if !okBlock {
		return "", false
	}
	for _, b := range []struct {
		prefix string
		yes    bool
	}{{confirmPrefix, true}, {cancelPrefix, false}, {approvePrefix, true}, {denyPrefix, false}} {
		if rest, ok := strings.CutPrefix(actionID, b.prefix); ok {
			return value + inBlock + rest, b.yes
		}
	}
	return "", false
}

func cut(s string, n int) (string, string) {
	if len(s) <= n {
		return s, ""
	}
	return s[:n], s[n:]
}
