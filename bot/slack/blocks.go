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
	if m.Confirm != "" {
		value, blockID, confirmID, cancelID := splitToken(m.Confirm)
		confirm := slack.NewButtonBlockElement(confirmID, value, slack.NewTextBlockObject(slack.PlainTextType, bot.ButtonConfirm, false, false))
		confirm.Style = slack.StylePrimary
		cancel := slack.NewButtonBlockElement(cancelID, value, slack.NewTextBlockObject(slack.PlainTextType, bot.ButtonCancel, false, false))
		out = append(out, slack.NewActionBlock(blockID, confirm, cancel))
	}
	return out
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

// A confirmation's token does not fit in a button's value (2,000
// characters), but every click payload also carries the clicked button's
// action_id and its block's block_id (255 characters each), so the token is
// spread over the three.
const (
	confirmPrefix = "confirm."
	cancelPrefix  = "cancel."
	blockIDPrefix = "req."
)

// tokenCapacity is how many characters of token fit in one button.
const tokenCapacity = maxValueLen + (maxIDLen - len(blockIDPrefix)) + (maxIDLen - len(confirmPrefix))

// splitToken spreads a token over a button's value, its block's block_id
// and the confirm and cancel buttons' action_ids.
func splitToken(tok string) (value, blockID, confirmID, cancelID string) {
	value, rest := cut(tok, maxValueLen)
	inBlock, rest := cut(rest, maxIDLen-len(blockIDPrefix))
	return value, blockIDPrefix + inBlock, confirmPrefix + rest, cancelPrefix + rest
}

// joinToken reassembles what splitToken spread, from a click, and says
// whether the click was Confirm. A click on anything else gives a token
// that does not open.
func joinToken(value, blockID, actionID string) (tok string, confirm bool) {
	inBlock, okBlock := strings.CutPrefix(blockID, blockIDPrefix)
	rest, confirm := strings.CutPrefix(actionID, confirmPrefix)
	if !confirm {
		var okCancel bool
		if rest, okCancel = strings.CutPrefix(actionID, cancelPrefix); !okCancel {
			return "", false
		}
	}
	if !okBlock {
		return "", false
	}
	return value + inBlock + rest, confirm
}

func cut(s string, n int) (string, string) {
	if len(s) <= n {
		return s, ""
	}
	return s[:n], s[n:]
}
