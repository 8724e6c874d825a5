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
		slack.NewOptionBlockObject(dryRunValue, plain(bot.FormDryRun), nil))
	in := slack.NewInputBlock(blockOptions, plain(bot.FormOptionsLabel), nil, box)
	in.Optional = true
	return in
}

// shortcutModal lists the hashes found in a message, all checked, with a
// field for more targets. Submitting it is the confirmation of what it
// counted.
func shortcutModal(hashes []string, meta formMeta) slack.ModalViewRequest {
	found := len(hashes)
	if len(hashes) > maxListed {
		hashes = hashes[:maxListed]
	}
	targets := make([]bot.Target, len(hashes))
	for i, h := range hashes {
		targets[i] = bot.Target{Hash: h}
	}
	blocks := []slack.Block{section(bot.ShortcutIntro(found, len(hashes)))}
	blocks = append(blocks, checkboxes(targets, bot.FormFoundLabel)...)
	text := slack.NewPlainTextInputBlockElement(plain(bot.FormMorePlaceholder), actionTargets)
	text.Multiline = true
	more := slack.NewInputBlock(blockTargets, plain(bot.FormMoreLabel), nil, text)
	more.Optional = len(hashes) > 0
	blocks = append(blocks, more, dryRunInput())
	meta.Counted = len(hashes)
	return slack.ModalViewRequest{
		Type: slack.VTModal, Title: plain(bot.FormTitle), Submit: plain(bot.FormSubmit), Close: plain(bot.FormClose),
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
			l = bot.ListLabel(label, i+1, i+len(part))
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
func confirmModal(req bot.Request, res bot.Result) slack.ModalViewRequest {
	targets := res.Targets
	meta := formMeta{Channel: req.Channel, Thread: req.Thread, Reply: req.ReplyTo, Counted: len(targets), Request: res.RequestID, Via: string(req.Via)}
	blocks := []slack.Block{section(bot.ConfirmIntro(len(targets), meta.Thread != ""))}
	blocks = append(blocks, checkboxes(targets, bot.FormToResetLabel)...)
	return slack.ModalViewRequest{
		Type: slack.VTModal, Title: plain(bot.FormConfirmTitle), Submit: plain(bot.ConfirmSubmit(len(targets))), Close: plain(bot.FormClose),
		CallbackID: formCallbackID, PrivateMetadata: meta.String(), Blocks: slack.Blocks{BlockSet: blocks},
	}
}

// pickerModal offers the sub-users as the user types. Without a channel
// (from the home tab), it asks for one.
func pickerModal(meta formMeta) slack.ModalViewRequest {
	blocks := []slack.Block{section(bot.PickerIntro(meta.Channel))}
	if meta.Channel == "" {
		sel := slack.NewOptionsSelectBlockElement(slack.OptTypeConversations, plain(bot.FormChannelPlaceholder), actionChannel)
		sel.Filter = &slack.SelectBlockElementFilter{Include: []string{"public", "private"}, ExcludeBotUsers: true}
		sel.ResponseURLEnabled = true // the submission carries a response_url for the channel picked
		blocks = append(blocks, slack.NewInputBlock(blockChannel, plain(bot.FormChannelLabel), nil, sel))
	}
	minQuery := 1
	pick := slack.NewOptionsMultiSelectBlockElement(slack.MultiOptTypeExternal, plain(bot.FormPickPlaceholder), actionSubusers)
	pick.MinQueryLength = &minQuery
	blocks = append(blocks, slack.NewInputBlock(blockTargets, plain(bot.FormPickLabel), nil, pick), dryRunInput())
	return slack.ModalViewRequest{
		Type: slack.VTModal, Title: plain(bot.FormTitle), Submit: plain(bot.FormSubmit), Close: plain(bot.FormClose),
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
			out[len(out)-1] = slack.NewOptionBlockObject(noOption, plain(bot.MoreOptions(len(opts)-i+1)), nil)
			break
		}
		out = append(out, opt)
	}
	return &slack.OptionsResponse{Options: out}
}

// optionsBudget keeps a picker's options well inside an ack's 20 KiB.
const optionsBudget = 16 << 10

// submission reads a submitted modal into the core's request.
func submission(cb slack.InteractionCallback) bot.Request {
	view := cb.View
	meta := parseMeta(view.PrivateMetadata)
	req := bot.Request{
		Via: bot.ViaShortcut, User: cb.User.ID, Channel: meta.Channel, Thread: meta.Thread, ReplyTo: meta.Reply,
		Names: map[string]string{}, Counted: meta.Counted, ID: meta.Request,
	}
	for _, u := range cb.ViewSubmissionCallback.ResponseURLs {
		if req.ReplyTo == "" && u.ResponseURL != "" {
			req.ReplyTo = u.ResponseURL
		}
	}
	if view.CallbackID == pickerCallbackID {
		req.Via = bot.ViaPicker
	}
	if v := bot.Via(meta.Via); v == bot.ViaShortcut || v == bot.ViaPicker {
		req.Via = v
	}
	if view.State == nil {
		return req
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
					req.Targets = append(req.Targets, o.Value)
					if o.Description != nil {
						req.Names[o.Value] = o.Description.Text
					}
				}
			case action == actionTargets:
				req.Targets = append(req.Targets, v.Value)
			case action == actionSubusers:
				for _, o := range v.SelectedOptions {
					if o.Value == noOption {
						continue
					}
					req.Targets = append(req.Targets, o.Value)
					if o.Text != nil {
						req.Names[o.Value] = o.Text.Text
					}
				}
			case action == actionChannel:
				req.Channel = v.SelectedConversation
			case action == actionDryRun:
				req.DryRun = len(v.SelectedOptions) > 0
			}
		}
	}
	return req
}

// formErrors shows a form's problem beside its field: keyed by an input
// block of the view, or Slack shows a generic error.
func formErrors(view slack.View, p *bot.FormProblem) *slack.ViewSubmissionResponse {
	var inputs []string
	for _, b := range view.Blocks.BlockSet {
		if in, ok := b.(*slack.InputBlock); ok {
			inputs = append(inputs, in.BlockID)
		}
	}
	block := blockTargets
	if p.Field == bot.FieldChannel && slices.Contains(inputs, blockChannel) {
		block = blockChannel
	}
	if !slices.Contains(inputs, block) && len(inputs) > 0 {
		block = inputs[0] // a confirmation has no targets field: its first list
	}
	return slack.NewErrorsViewSubmissionResponse(map[string]string{block: p.Text})
}

// homeView is the App Home tab for one user.
func homeView(h bot.Home) slack.HomeTabViewRequest {
	blocks := []slack.Block{slack.NewHeaderBlock(plain(bot.HomeTitle)), section(h.Access)}
	if h.Account != "" {
		blocks = append(blocks, section(h.Account))
	}
	if h.Allowed {
		open := slack.NewButtonBlockElement(openPickerAction, "open", plain(h.Button))
		open.Style = slack.StylePrimary
		blocks = append(blocks, slack.NewActionBlock("home_actions", open))
	}
	blocks = append(blocks, slack.NewDividerBlock(), section(h.Ways))
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: blocks}}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func clipRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
