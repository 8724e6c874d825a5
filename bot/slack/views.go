package slack

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/slack-go/slack"

	"github.com/sessionbot/sessionbot/bot"
)

// The modals and the home tab, and what their submissions carry. Their
// IDs are a contract with Slack's payloads: the shortcut's callback_id is
// in the app manifest.
const (
	// ShortcutCallbackID is the message shortcut "Reset sessions".
	ShortcutCallbackID = "reset_sessions"

	formCallbackID   = "reset_sessions_form" // the shortcut's modal
	pickerCallbackID = "reset_sessions_pick" // the picker modal

	openPickerAction = "open_picker" // the home tab's button

	blockFound   = "found"   // checkboxes of the hashes found: found_0, found_1, ...
	blockTargets = "targets" // typed targets (the shortcut), or the picked sub-users (the picker)
	blockChannel = "channel" // where to announce, when the picker opens from the home tab
	blockOptions = "options" // the dry-run checkbox

	actionHashes   = "hashes"
	actionTargets  = "targets"
	actionSubusers = "subusers"
	actionChannel  = "channel"
	actionDryRun   = "dry_run"

	dryRunValue = "dry_run"
	// noOption is the value of a picker option that only says something
	// (IPRoyal is slow, nothing matched): picking it picks nothing.
	noOption = "!"
)

// Block Kit's limits on views, and ours.
const (
	maxCheckboxes = 10 // options in one checkbox group
	maxOptionText = 75 // characters of an option's text
	// maxListed is how many targets a modal lists as checkboxes: 10
	// groups, well within a modal's 100 blocks.
	maxListed = 100
)

// formMeta is what a modal carries back in its private_metadata: where the
// reset it opens goes, and the response_url that reaches its requester
// privately wherever they are (a DM, a channel the bot is not in). Only the
// app sees private_metadata; it is never logged.
type formMeta struct {
	Channel string `json:"c,omitempty"`
	Thread  string `json:"t,omitempty"`
	Reply   string `json:"r,omitempty"`
	Counted int    `json:"n,omitempty"` // targets the modal listed, counted
	Request string `json:"i,omitempty"` // the request a confirmation continues
	Via     string `json:"v,omitempty"` // the way in a confirmation continues
}

func (m formMeta) String() string {
	b, _ := json.Marshal(m)
	return string(b)
}

func parseMeta(s string) formMeta {
	var m formMeta
	_ = json.Unmarshal([]byte(s), &m)
	return m
}

func plain(text string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, text, false, false)
}

func mrkdwn(text string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, text, false, false)
}

func section(text string) *slack.SectionBlock { return slack.NewSectionBlock(mrkdwn(text), nil, nil) }

// dryRunInput is the checkbox that makes a form's reset a dry run.
func dryRunInput() *slack.InputBlock {
	box := slack.NewCheckboxGroupsBlockElement(actionDryRun,
		slack.NewOptionBlockObject(dryRunValue, plain("Dry run: show me what would be reset, and reset nothing"), nil))
	in := slack.NewInputBlock(blockOptions, plain("Options"), nil, box)
	in.Optional = true
	return in
}

// shortcutModal lists the hashes found in a message, all checked, with a
// field for more targets. Submitting it is the confirmation of what it
// counted.
func shortcutModal(hashes []string, meta formMeta) slack.ModalViewRequest {
	intro := "No residential user hash in this message: type the targets below, hashes or sub-user usernames."
	if n := len(hashes); n > 0 {
		intro = fmt.Sprintf("*%s* found in this message. Uncheck any to leave out, add more below, and submit to reset them:"+
			" submitting is the confirmation.", plural(n, "residential user hash", "residential user hashes"))
	}
	if len(hashes) > maxListed {
		intro += fmt.Sprintf(" The first %d are listed; a reset takes at most that many at once.", maxListed)
		hashes = hashes[:maxListed]
	}
	targets := make([]bot.Target, len(hashes))
	for i, h := range hashes {
		targets[i] = bot.Target{Hash: h}
	}
	blocks := []slack.Block{section(intro + "\nThe announcement and the outcome go into the message's thread.")}
	blocks = append(blocks, checkboxes(targets, "Found in the message")...)
	text := slack.NewPlainTextInputBlockElement(plain("01H7YCG0R9GYY1YCPS2S4QA6WB scraper-eu"), actionTargets)
	text.Multiline = true
	more := slack.NewInputBlock(blockTargets, plain("More targets: hashes or usernames, separated by spaces"), nil, text)
	more.Optional = len(hashes) > 0
	blocks = append(blocks, more, dryRunInput())
	meta.Counted = len(hashes)
	return slack.ModalViewRequest{
		Type: slack.VTModal, Title: plain("Reset sessions"), Submit: plain("Reset"), Close: plain("Cancel"),
		CallbackID: formCallbackID, PrivateMetadata: meta.String(), Blocks: slack.Blocks{BlockSet: blocks},
	}
}

// checkboxes lists targets as checked checkboxes, maxCheckboxes a group:
// the hash, and the username when there is one.
func checkboxes(targets []bot.Target, label string) []slack.Block {
	var blocks []slack.Block
	for i := 0; i < len(targets); i += maxCheckboxes {
		part := targets[i:min(i+maxCheckboxes, len(targets))]
		opts := make([]*slack.OptionBlockObject, len(part))
		for j, t := range part {
			var name *slack.TextBlockObject
			if t.Username != "" {
				name = plain(clipRunes(t.Username, maxOptionText))
			}
			opts[j] = slack.NewOptionBlockObject(t.Hash, mrkdwn("`"+t.Hash+"`"), name)
		}
		box := slack.NewCheckboxGroupsBlockElement(actionHashes, opts...)
		box.InitialOptions = opts
		l := label
		if len(targets) > maxCheckboxes {
			l = fmt.Sprintf("%s (%d to %d)", label, i+1, i+len(part))
		}
		in := slack.NewInputBlock(fmt.Sprintf("%s_%02d", blockFound, i/maxCheckboxes), plain(l), nil, box)
		in.Optional = true
		blocks = append(blocks, in)
	}
	return blocks
}

// confirmModal replaces a submitted form that resets more than
// CONFIRM_ABOVE targets it did not count: it lists them all, counted and
// checked, and submitting it is the confirmation.
func confirmModal(c *bot.Checked, f bot.Form) slack.ModalViewRequest {
	targets := c.Targets()
	meta := formMeta{Channel: f.Channel, Thread: f.Thread, Reply: f.ReplyTo, Counted: len(targets), Request: c.RequestID(), Via: f.Via}
	where := "The announcement goes to the channel, and the outcome into its thread."
	if meta.Thread != "" {
		where = "The announcement and the outcome go into the message's thread."
	}
	blocks := []slack.Block{section(fmt.Sprintf(":question: This resets the sessions of *%s*. Uncheck any to leave out; "+
		"submitting is the confirmation, and nothing happens until then.\n%s", plural(len(targets), "residential user", "residential users"), where))}
	blocks = append(blocks, checkboxes(targets, "To reset")...)
	return slack.ModalViewRequest{
		Type: slack.VTModal, Title: plain("Confirm the reset"), Submit: plain(fmt.Sprintf("Reset %d", len(targets))), Close: plain("Cancel"),
		CallbackID: formCallbackID, PrivateMetadata: meta.String(), Blocks: slack.Blocks{BlockSet: blocks},
	}
}

// pickerModal offers the sub-users as the user types. Without a channel
// (from the home tab), it asks for one.
func pickerModal(meta formMeta) slack.ModalViewRequest {
	var blocks []slack.Block
	where := "The reset is announced in the channel you pick, and its outcome goes into the announcement's thread."
	if meta.Channel != "" {
		where = fmt.Sprintf("The reset is announced in <#%s>, and its outcome goes into the announcement's thread.", meta.Channel)
	}
	blocks = append(blocks, section("Pick the sub-users whose sessions to reset; type part of a username to find them. Submitting is the confirmation.\n"+where))
	if meta.Channel == "" {
		sel := slack.NewOptionsSelectBlockElement(slack.OptTypeConversations, plain("A channel"), actionChannel)
		sel.Filter = &slack.SelectBlockElementFilter{Include: []string{"public", "private"}, ExcludeBotUsers: true}
		sel.ResponseURLEnabled = true // the submission carries a response_url for the channel picked
		blocks = append(blocks, slack.NewInputBlock(blockChannel, plain("Announce in"), nil, sel))
	}
	minQuery := 1
	pick := slack.NewOptionsMultiSelectBlockElement(slack.MultiOptTypeExternal, plain("Type part of a username"), actionSubusers)
	pick.MinQueryLength = &minQuery
	blocks = append(blocks, slack.NewInputBlock(blockTargets, plain("Sub-users"), nil, pick), dryRunInput())
	return slack.ModalViewRequest{
		Type: slack.VTModal, Title: plain("Reset sessions"), Submit: plain("Reset"), Close: plain("Cancel"),
		CallbackID: pickerCallbackID, PrivateMetadata: meta.String(), Blocks: slack.Blocks{BlockSet: blocks},
	}
}

// options renders a picker's options, or one that says why there are none.
func options(opts []bot.Option, problem string) *slack.OptionsResponse {
	if problem != "" {
		return &slack.OptionsResponse{Options: []*slack.OptionBlockObject{slack.NewOptionBlockObject(noOption, plain(clipRunes(problem, maxOptionText)), nil)}}
	}
	out := make([]*slack.OptionBlockObject, 0, len(opts))
	size := 0
	for i, o := range opts {
		opt := slack.NewOptionBlockObject(o.Value, plain(clipRunes(o.Label, maxOptionText)), nil)
		b, _ := json.Marshal(opt)
		if size += len(b) + 1; size > optionsBudget {
			// Long names in many scripts: what fits, and how to see the rest.
			out[len(out)-1] = slack.NewOptionBlockObject(noOption, plain(fmt.Sprintf("…and %d more: type more of the name", len(opts)-i+1)), nil)
			break
		}
		out = append(out, opt)
	}
	return &slack.OptionsResponse{Options: out}
}

// optionsBudget keeps a picker's options well inside an ack's 20 KiB.
const optionsBudget = 16 << 10

func clipRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// submission reads a submitted modal into a core form.
func submission(cb slack.InteractionCallback) bot.Form {
	view := cb.View
	meta := parseMeta(view.PrivateMetadata)
	f := bot.Form{
		User: cb.User.ID, Channel: meta.Channel, Thread: meta.Thread, ReplyTo: meta.Reply, Via: "shortcut",
		Names: map[string]string{}, Counted: meta.Counted, RequestID: meta.Request,
	}
	for _, u := range cb.ViewSubmissionCallback.ResponseURLs {
		if f.ReplyTo == "" && u.ResponseURL != "" {
			f.ReplyTo = u.ResponseURL
		}
	}
	if view.CallbackID == pickerCallbackID {
		f.Via = "picker"
	}
	if meta.Via != "" {
		f.Via = meta.Via
	}
	if view.State == nil {
		return f
	}
	// The checked hashes first, in the modal's order, then what was typed.
	blocks := slices.Sorted(maps.Keys(view.State.Values))
	slices.SortStableFunc(blocks, func(a, b string) int {
		return cmp.Compare(boolInt(!strings.HasPrefix(a, blockFound)), boolInt(!strings.HasPrefix(b, blockFound)))
	})
	for _, block := range blocks {
		for action, v := range view.State.Values[block] {
			switch {
			case action == actionHashes && strings.HasPrefix(block, blockFound):
				for _, o := range v.SelectedOptions {
					f.Targets = append(f.Targets, o.Value)
					if o.Description != nil {
						f.Names[o.Value] = o.Description.Text
					}
				}
			case action == actionTargets:
				f.Targets = append(f.Targets, v.Value)
			case action == actionSubusers:
				for _, o := range v.SelectedOptions {
					if o.Value == noOption {
						continue
					}
					f.Targets = append(f.Targets, o.Value)
					if o.Text != nil {
						f.Names[o.Value] = o.Text.Text
					}
				}
			case action == actionChannel:
				f.Channel = v.SelectedConversation
			case action == actionDryRun:
				f.DryRun = len(v.SelectedOptions) > 0
			}
		}
	}
	return f
}

// formErrors turns a form's problems into Slack's inline errors: each
// keyed by an input block of the view, or Slack shows a generic error.
func formErrors(view slack.View, problems []bot.FormProblem) *slack.ViewSubmissionResponse {
	var inputs []string
	for _, b := range view.Blocks.BlockSet {
		if in, ok := b.(*slack.InputBlock); ok {
			inputs = append(inputs, in.BlockID)
		}
	}
	errs := map[string]string{}
	for _, p := range problems {
		block := blockTargets
		if p.Field == bot.FieldChannel && slices.Contains(inputs, blockChannel) {
			block = blockChannel
		}
		if !slices.Contains(inputs, block) && len(inputs) > 0 {
			block = inputs[0] // a confirmation has no targets field: its first list
		}
		if prev, ok := errs[block]; ok {
			p.Text = prev + " " + p.Text
		}
		errs[block] = p.Text
	}
	return slack.NewErrorsViewSubmissionResponse(errs)
}

// homeView is the App Home tab for one user.
func homeView(h bot.Home) slack.HomeTabViewRequest {
	blocks := []slack.Block{slack.NewHeaderBlock(plain("sessionbot"))}
	where := ""
	if len(h.Channels) > 0 {
		chans := make([]string, len(h.Channels))
		for i, c := range h.Channels {
			chans[i] = "<#" + c + ">"
		}
		where = ", in " + strings.Join(chans, ", ")
	}
	if h.Allowed {
		blocks = append(blocks, section(":white_check_mark: *You may reset the sticky sessions of IPRoyal residential users*"+where+"."))
		switch {
		case h.Account != nil:
			blocks = append(blocks, section(fmt.Sprintf(":bar_chart: IPRoyal account: *%s GB* of residential traffic available, %s.",
				trimFloat(h.Account.AvailableTraffic), plural(h.Account.SubusersCount, "sub-user", "sub-users"))))
		case h.AccountProblem != "":
			blocks = append(blocks, section(":warning: IPRoyal account status unavailable: "+escapeText(h.AccountProblem)))
		}
		open := slack.NewButtonBlockElement(openPickerAction, "open", plain("Reset sessions…"))
		open.Style = slack.StylePrimary
		blocks = append(blocks, slack.NewActionBlock("home_actions", open))
	} else {
		blocks = append(blocks, section(":no_entry: *You may not reset sessions*: "+escapeText(h.Reason)+". Ask whoever runs sessionbot to add you."))
	}
	confirm := ""
	if h.ConfirmAbove > 0 {
		confirm = fmt.Sprintf(" More than %d targets wait for your Confirm.", h.ConfirmAbove)
	}
	blocks = append(blocks, slack.NewDividerBlock(), section(fmt.Sprintf("*Ways to reset*\n"+
		"• `%[1]s HASH or USERNAME...` in a channel: announced there, the outcome in its thread; at most %[2]d at once.%[3]s\n"+
		"• `@sessionbot reset HASH...` in a channel or a thread, where slash commands cannot go: announced in that thread.\n"+
		"• *Reset sessions* in the menu of any message (⋮, then *More message shortcuts*): picks the hashes in it; the trail goes into its thread.\n"+
		"• `%[1]s` alone, or the button above: pick sub-users by name.\n"+
		"• `%[1]s find TEXT` lists sub-users; `%[1]s status` shows the account; `%[1]s help` says more.",
		h.Command, h.MaxTargets, confirm)))
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: blocks}}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func trimFloat(f float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", f), "0"), ".")
}

var textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func escapeText(s string) string { return textEscaper.Replace(s) }
