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

// Block Kit's limits on views.
const (
	maxCheckboxes = 10 // options in one checkbox group
	maxOptionText = 75 // characters of an option's text
)

// formMeta is what a modal carries back in its private_metadata: where the
// reset it opens goes.
type formMeta struct {
	Channel string `json:"c,omitempty"`
	Thread  string `json:"t,omitempty"`
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
// field for more targets. Submitting it is the confirmation.
func shortcutModal(hashes []string, meta formMeta) slack.ModalViewRequest {
	var blocks []slack.Block
	intro := "No residential user hash in this message: type the targets below, hashes or sub-user usernames."
	if n := len(hashes); n > 0 {
		intro = fmt.Sprintf("*%s* found in this message. Uncheck any to leave out, add more below, and submit to reset them:"+
			" submitting is the confirmation.", plural(n, "residential user hash", "residential user hashes"))
	}
	blocks = append(blocks, section(intro+"\nThe announcement and the outcome go into the message's thread."))
	for i := 0; i < len(hashes); i += maxCheckboxes {
		part := hashes[i:min(i+maxCheckboxes, len(hashes))]
		opts := make([]*slack.OptionBlockObject, len(part))
		for j, h := range part {
			opts[j] = slack.NewOptionBlockObject(h, mrkdwn("`"+h+"`"), nil)
		}
		box := slack.NewCheckboxGroupsBlockElement(actionHashes, opts...)
		box.InitialOptions = opts
		label := "Found in the message"
		if len(hashes) > maxCheckboxes {
			label = fmt.Sprintf("Found in the message (%d to %d)", i+1, i+len(part))
		}
		in := slack.NewInputBlock(fmt.Sprintf("%s_%02d", blockFound, i/maxCheckboxes), plain(label), nil, box)
		in.Optional = true
		blocks = append(blocks, in)
	}
	text := slack.NewPlainTextInputBlockElement(plain("01H7YCG0R9GYY1YCPS2S4QA6WB scraper-eu"), actionTargets)
	text.Multiline = true
	more := slack.NewInputBlock(blockTargets, plain("More targets: hashes or usernames, separated by spaces"), nil, text)
	more.Optional = len(hashes) > 0
	blocks = append(blocks, more, dryRunInput())
	return slack.ModalViewRequest{
		Type: slack.VTModal, Title: plain("Reset sessions"), Submit: plain("Reset"), Close: plain("Cancel"),
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
	out := make([]*slack.OptionBlockObject, len(opts))
	for i, o := range opts {
		out[i] = slack.NewOptionBlockObject(o.Value, plain(clipRunes(o.Label, maxOptionText)), nil)
	}
	return &slack.OptionsResponse{Options: out}
}

func clipRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// submission reads a submitted modal into a core form.
func submission(view slack.View, user string) bot.Form {
	meta := parseMeta(view.PrivateMetadata)
	f := bot.Form{User: user, Channel: meta.Channel, Thread: meta.Thread, Via: "shortcut", Names: map[string]string{}}
	if view.CallbackID == pickerCallbackID {
		f.Via = "picker"
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
	errs := map[string]string{}
	for _, p := range problems {
		block := blockTargets
		if p.Field == bot.FieldChannel && view.CallbackID == pickerCallbackID && parseMeta(view.PrivateMetadata).Channel == "" {
			block = blockChannel
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
