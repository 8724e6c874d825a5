package bot

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/sessionbot/sessionbot/iproyal"
)

// Forms (Slack's modals) are a way in like any other: their submission is a
// Request of Via ViaShortcut or ViaPicker, with its targets as typed or
// picked, and takes the one reset path. What is particular to them is
// here: how a problem shows beside a field, and the picker's options.

// The fields of a form a problem is about.
const (
	FieldTargets = "targets"
	FieldChannel = "channel"
)

// FormProblem is what a form must say beside one of its fields before it
// can be submitted. Text is plain text.
type FormProblem struct {
	Field string
	Text  string
}

// maxProblem bounds a form's error text: it shows under one field.
const maxProblem = 300

func clip(s string) string { return clipRunes(s, maxProblem) }

// Option is a sub-user a picker offers.
type Option struct {
	Label string // the username
	Value string // the hash
}

// maxOptions is how many options a picker may offer at once (Slack's limit).
const maxOptions = 100

// Suggest offers the sub-users whose username contains text, for a picker
// as its user types. Typing does not count against the rate limit, but
// only the allowed see sub-users. When it cannot offer any, problem says
// why, in plain words.
func (b *Bot) Suggest(ctx context.Context, user, channel, text string) (opts []Option, problem string) {
	reason, known := b.auth.Decided(user, channel)
	if !known {
		reason, _ = b.auth.Authorize(ctx, user, channel)
	}
	switch {
	case reason != "":
		return nil, sayPickNotAllowed
	case strings.TrimSpace(text) == "":
		return nil, sayPickType
	case b.cfg.DryRun:
		return nil, sayPickDryRun
	}
	subs, total, err := b.iproyal.SearchSubusers(ctx, text, maxOptions)
	if err != nil {
		what, _ := describe(err, OpFind)
		return nil, PlainText(what) + sayPickRetry
	}
	if !b.auth.Policy().FromEnvironment() {
		subs = b.scopeFilter(ctx, user, subs) // only theirs, and never how many others there are
		total = len(subs)
	}
	if len(subs) == 0 {
		return nil, sayPickNone
	}
	for _, s := range subs {
		if _, err := iproyal.ParseHash(s.Hash); err == nil {
			opts = append(opts, Option{Label: s.Username, Value: s.Hash})
		}
	}
	if total > len(opts) && len(opts) == maxOptions {
		opts[maxOptions-1] = Option{Label: MoreOptions(total - maxOptions + 1), Value: "!"}
	}
	return opts, ""
}

// MoreOptions is the picker's last option when more sub-users match than
// it can show.
func MoreOptions(n int) string { return fmt.Sprintf(sayPickMore, n) }

// hashPattern finds residential user hashes in any text, in any case.
var hashPattern = regexp.MustCompile(`(?i)\b[0-7][0-9A-HJKMNP-TV-Z]{25}\b`)

// FindHashes returns the residential user hashes in text, upper-cased, each
// once, in the order they first appear.
func FindHashes(text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range hashPattern.FindAllString(text, -1) {
		h, err := iproyal.ParseHash(m)
		if err == nil && !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}

// ShortcutIntro opens the shortcut's form: the hashes found in the message
// (listed of them shown), or how to type targets when there are none.
func ShortcutIntro(found, listed int) string {
	if found == 0 {
		return sayShortcutNone + "\n" + sayInMessageTrail
	}
	intro := fmt.Sprintf(sayShortcutFound, plural(found, sayHashOne, sayHashMany))
	if listed < found {
		intro += fmt.Sprintf(sayShortcutFirst, listed)
	}
	return intro + "\n" + sayInMessageTrail
}

// ConfirmIntro opens a form's confirmation of n targets.
func ConfirmIntro(n int, inThread bool) string {
	where := sayInChannelTrail
	if inThread {
		where = sayInMessageTrail
	}
	return fmt.Sprintf(sayConfirmForm, residentialUsers(n), where)
}

// ConfirmSubmit labels the submit button of a confirmation of n targets.
func ConfirmSubmit(n int) string { return fmt.Sprintf(sayConfirmSubmit, n) }

// PickerIntro opens the picker, which announces in channel, or in the
// channel picked when there is none yet.
func PickerIntro(channel string) string {
	where := sayPickerAnywhere
	if channel != "" {
		where = fmt.Sprintf(sayPickerIn, channel)
	}
	return fmt.Sprintf(sayPickerIntro, where)
}

// ListLabel labels part of a long list of checkboxes.
func ListLabel(label string, from, to int) string { return fmt.Sprintf(sayListRange, label, from, to) }

// FormNotOpened says a form could not be opened, and what Slack said.
func FormNotOpened(code string) Message {
	return message(fmt.Sprintf(sayFormNotOpened, escape(code)), "")
}

// UnknownCommand answers a slash command that is not ours.
func UnknownCommand(command string) Message {
	return message(fmt.Sprintf(sayUnknownCommand, command), "")
}
