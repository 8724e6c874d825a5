package main

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionbot/sessionbot/bot/slack/slacktest"
	"github.com/sessionbot/sessionbot/iproyal/iproyaltest"
)

// repliesIn is every message posted in the thread whose first message is root.
func repliesIn(messages []slacktest.Message, channel, root string) []slacktest.Message {
	var out []slacktest.Message
	for _, m := range messages {
		if m.Channel == channel && m.ThreadTS == root {
			out = append(out, m)
		}
	}
	return out
}

// waitThread waits until root's thread holds n messages, and returns them.
func (h *harness) waitThread(channel, root string, n int) []slacktest.Message {
	h.t.Helper()
	var got []slacktest.Message
	if err := h.slack.WaitFor(wait, func(s *slacktest.State) bool {
		got = repliesIn(s.Messages(), channel, root)
		return len(got) >= n
	}); err != nil {
		h.t.Fatalf("the thread of %s holds %d messages, want %d: %+v\nlogs:\n%s", root, len(got), n, got, h.logs)
	}
	return got
}

// waitView waits for the n-th (1-based) view opened or published.
func (h *harness) waitView(n int) slacktest.View {
	h.t.Helper()
	var v slacktest.View
	if err := h.slack.WaitFor(wait, func(s *slacktest.State) bool {
		if vs := s.Views(); len(vs) >= n {
			v = vs[n-1]
			return true
		}
		return false
	}); err != nil {
		h.t.Fatalf("no view %d; logs:\n%s", n, h.logs)
	}
	return v
}

// ackOf waits for envelope id's ack and decodes its payload into v.
func (h *harness) ackOf(id string, v any) {
	h.t.Helper()
	var payload json.RawMessage
	if err := h.slack.WaitFor(wait, func(s *slacktest.State) bool {
		for _, a := range s.Acks() {
			if a.EnvelopeID == id {
				payload = a.Payload
				return true
			}
		}
		return false
	}); err != nil {
		h.t.Fatalf("%s was never acknowledged; logs:\n%s", id, h.logs)
	}
	if len(payload) > 0 && v != nil {
		if err := json.Unmarshal(payload, v); err != nil {
			h.t.Fatalf("ack payload %s: %v", payload, err)
		}
	}
}

func (h *harness) ephemeral(user string) slacktest.Ephemeral {
	h.t.Helper()
	var e slacktest.Ephemeral
	if err := h.slack.WaitFor(wait, func(s *slacktest.State) bool {
		for _, x := range s.Ephemerals() {
			if x.User == user {
				e = x
				return true
			}
		}
		return false
	}); err != nil {
		h.t.Fatalf("no ephemeral message for %s; logs:\n%s", user, h.logs)
	}
	return e
}

func TestMentionAtTopLevelAndInAThread(t *testing.T) {
	t.Parallel()
	h := startBot(t, withAudit)
	alert := h.slack.AddMessage(channel, "residential user 01HQ5K3P97DY8EX9Y90YT1K6XA is getting blocked")
	cases := []struct {
		name   string
		thread string // where the mention is
	}{
		{"at top level", ""},
		{"in an alert's thread", alert.TS},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mention := slacktest.Mention{User: allowedUser, Channel: channel, Text: "<@" + slacktest.BotUser + "> reset " + hashA + " scraper-eu", ThreadTS: tc.thread}
			mention.TS = h.slack.AddMessage(channel, mention.Text).TS
			if _, err := h.slack.SendMention(mention); err != nil {
				t.Fatal(err)
			}
			root := tc.thread
			if root == "" {
				root = mention.TS
			}
			thread := h.waitThread(channel, root, 2) // the announcement, then the outcome
			assertContains(t, "announcement", thread[0].Content(), "<@"+allowedUser+"> is resetting the sessions of 2 residential users", hashA, "`"+hashB+"` (sub-user `scraper-eu`)")
			assertContains(t, "outcome", thread[1].Text, "Reset the sessions of 2 residential users")
			for _, m := range h.slack.State().Messages() {
				if m.Channel == channel && m.ThreadTS == "" && m.TS != alert.TS {
					t.Errorf("something was posted at top level: %q", m.Text)
				}
			}
			waitReaction(t, h.slack, channel, thread[0].TS, "white_check_mark")
			waitReaction(t, h.slack, channel, mention.TS, "eyes") // claimed
			if n := len(h.ipr.Resets()); n != i+1 {
				t.Errorf("%d resets", n)
			}
			_, entry := h.journalEntry(requestID(t, thread[0]), "reset")
			if entry["root_ts"] != root || entry["thread_ts"] != thread[0].TS {
				t.Errorf("journal entry = %v", entry)
			}
		})
	}
}

func TestMentionHelpAndRefusalAreEphemeralInTheThread(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	alert := h.slack.AddMessage(channel, "an alert")
	if _, err := h.slack.SendMention(slacktest.Mention{User: otherUser, Channel: channel, Text: "<@" + slacktest.BotUser + "> reset " + hashA, ThreadTS: alert.TS}); err != nil {
		t.Fatal(err)
	}
	e := h.ephemeral(otherUser)
	if e.ThreadTS != alert.TS || !strings.Contains(e.Text, "not allowed to reset") {
		t.Errorf("refusal = %+v", e)
	}
	if _, err := h.slack.SendMention(slacktest.Mention{User: allowedUser, Channel: channel, Text: "<@" + slacktest.BotUser + "|sessionbot> help", ThreadTS: alert.TS}); err != nil {
		t.Fatal(err)
	}
	e = h.ephemeral(allowedUser)
	if e.ThreadTS != alert.TS || !strings.Contains(e.Text, "resets the sticky sessions") {
		t.Errorf("help = %+v", e)
	}
	// A bot mentioning sessionbot is never answered.
	if _, err := h.slack.SendMention(slacktest.Mention{User: "U0OTHERBOT", BotID: "B0OTHER", Channel: channel, Text: "<@" + slacktest.BotUser + "> reset " + hashA}); err != nil {
		t.Fatal(err)
	}
	h.command(allowedUser, "help") // a later command: the bot's mention is handled by now
	if n := len(h.slack.State().Messages()); n != 0 || h.ipr.Count("DELETE", "/sessions") != 0 {
		t.Errorf("%d messages and %d resets", n, h.ipr.Count("DELETE", "/sessions"))
	}
}

// What holds for the slash command holds for a mention: a dry run, the
// confirmation above CONFIRM_ABOVE, the channel allow-list; every private
// answer in the mention's thread, written as the requester writes it.
func TestMentionConfirmsDryRunsAndKeepsTheChannelList(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(env map[string]string) {
		confirmEnv(env)
		env["ALLOWED_CHANNELS"] = channel
	})
	alert := h.slack.AddMessage(channel, "four scrapers are blocked")
	mention := func(ch, text string) {
		t.Helper()
		m := slacktest.Mention{User: allowedUser, Channel: ch, Text: "<@" + slacktest.BotUser + "> " + text, ThreadTS: alert.TS}
		m.TS = h.slack.AddMessage(ch, m.Text).TS
		if _, err := h.slack.SendMention(m); err != nil {
			t.Fatal(err)
		}
	}
	ephemerals := func(n int) []slacktest.Ephemeral {
		t.Helper()
		var got []slacktest.Ephemeral
		if err := h.slack.WaitFor(wait, func(s *slacktest.State) bool { got = s.Ephemerals(); return len(got) >= n }); err != nil {
			t.Fatalf("%d private answers, want %d; logs:\n%s", len(got), n, h.logs)
		}
		return got
	}

	mention(channel, "reset --dry-run "+hashA)
	if e := ephemerals(1)[0]; e.ThreadTS != alert.TS || !strings.Contains(e.Text, "Dry run: nothing was reset") {
		t.Errorf("dry run = %+v", e)
	}
	mention(channel, "reset --dry-run") // no targets
	if e := ephemerals(2)[1]; !strings.Contains(e.Text, "Try `@sessionbot reset help`") {
		t.Errorf("no targets = %q", e.Text)
	}
	h.slack.AddMessage("C0ELSEWHERE", "an alert elsewhere")
	mention("C0ELSEWHERE", "reset "+hashA)
	if e := ephemerals(3)[2]; e.Channel != "C0ELSEWHERE" || !strings.Contains(e.Text, "cannot be reset from this channel") {
		t.Errorf("channel refusal = %+v", e)
	}
	if n := h.ipr.Count("DELETE", "/sessions"); n != 0 {
		t.Fatalf("%d resets before any confirmation", n)
	}

	mention(channel, "reset "+fourTargets)
	ask := ephemerals(4)[3]
	if ask.ThreadTS != alert.TS || !strings.Contains(ask.Text, "This resets the sessions of *4 residential users*") {
		t.Fatalf("confirmation = %+v", ask)
	}
	var confirm slacktest.Button
	for _, b := range slacktest.Buttons(ask.Blocks) {
		if b.Text == "Confirm" {
			confirm = b
		}
	}
	h.click(allowedUser, confirm)
	thread := h.waitThread(channel, alert.TS, 2)
	assertContains(t, "announcement", thread[0].Content(), "<@"+allowedUser+"> is resetting the sessions of 4 residential users")
	assertContains(t, "outcome", thread[1].Text, "Reset the sessions of 4 residential users")
	if r := h.ipr.Resets(); len(r) != 1 || len(r[0]) != 4 {
		t.Errorf("resets = %v", r)
	}
}

// Slack retries an event it thinks was not acknowledged, perhaps on another
// replica: the reset runs once.
func TestRetriedMentionRunsOnce(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	second := h.startReplica()
	mention := slacktest.Mention{User: allowedUser, Channel: channel, Text: "<@" + slacktest.BotUser + "> reset " + hashA}
	mention.TS = h.slack.AddMessage(channel, mention.Text).TS
	eventID, err := h.slack.SendMention(mention)
	if err != nil {
		t.Fatal(err)
	}
	event := map[string]any{"type": "app_mention", "user": mention.User, "text": mention.Text, "ts": mention.TS, "channel": channel, "event_ts": mention.TS}
	for retry := 1; retry <= 2; retry++ { // each to the next connection: both replicas see it
		if err := h.slack.SendEvent(eventID, event, retry); err != nil {
			t.Fatal(err)
		}
	}
	h.waitThread(channel, mention.TS, 2)
	if err := h.slack.WaitFor(wait, func(s *slacktest.State) bool { return len(s.Acks()) >= 3 }); err != nil {
		t.Fatal("the retries were not acknowledged")
	}
	h.command(allowedUser, "help") // on each replica in turn: the retries are handled by then
	h.command(allowedUser, "help")
	if n := h.ipr.Count("DELETE", "/sessions"); n != 1 {
		t.Errorf("%d resets for one mention and its two retries", n)
	}
	var announcements int
	for _, m := range repliesIn(h.slack.State().Messages(), channel, mention.TS) {
		if strings.Contains(m.Text, "is resetting") {
			announcements++
		}
	}
	if announcements != 1 {
		t.Errorf("%d announcements", announcements)
	}
	// The deliveries alternate between the replicas: the first retry reached
	// the one the first delivery did not, which found the mention taken; the
	// second retry, the first one again, which knew the event.
	both := func() string { return h.logs.String() + second.String() }
	eventually(t, "a replica finds the mention taken, and one knows the event", func() bool {
		return strings.Contains(both(), "ignored a mention another delivery took") && strings.Contains(both(), "ignored a repeated event")
	})
}

// The shortcut on an alert with two hashes: its modal lists them checked;
// adding a username and submitting resets all three in the alert's thread.
func TestShortcutOnAMessage(t *testing.T) {
	t.Parallel()
	h := startBot(t, withAudit)
	alert := h.slack.AddMessage(channel, "residential users "+strings.ToLower(hashA)+" and "+hashC+" are getting blocked")
	sid, err := h.slack.SendShortcut(slacktest.Shortcut{User: allowedUser, Channel: channel, Message: alert})
	if err != nil {
		t.Fatal(err)
	}
	h.ackOf(sid, nil)
	view := h.waitView(1)
	if view.CallbackID != "reset_sessions_form" || !strings.Contains(view.Content(), "*2 residential user hashes* found in this message") {
		t.Fatalf("modal = %+v\n%s", view, view.Content())
	}
	if n := resetCalls(h.ipr); n != 0 {
		t.Errorf("IPRoyal was called %d times before the modal opened", n)
	}
	checked := checkedOptions(t, view)
	if !slices.Equal(checked, []string{hashA, hashC}) {
		t.Errorf("pre-checked %v, want the two hashes of the message", checked)
	}

	// A bad target comes back beside its field, and nothing is reset.
	id, err := h.slack.SubmitView(allowedUser, view, formValues(checked, "ghost"))
	if err != nil {
		t.Fatal(err)
	}
	var ack struct {
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
	}
	h.ackOf(id, &ack)
	if ack.ResponseAction != "errors" || !strings.Contains(ack.Errors["targets"], `"ghost": not a hash, and no sub-user has this username`) {
		t.Errorf("ack = %+v", ack)
	}
	for key := range ack.Errors {
		if !slices.Contains(view.InputBlocks(), key) {
			t.Errorf("an error keyed %q, which is not an input block of the view: Slack would show a generic error", key)
		}
	}
	if n := h.ipr.Count("DELETE", "/sessions"); n != 0 {
		t.Fatalf("%d resets after an invalid submission", n)
	}

	// Fixed, it is the confirmation: no extra step.
	id, err = h.slack.SubmitView(allowedUser, view, formValues(checked, "scraper-eu"))
	if err != nil {
		t.Fatal(err)
	}
	ack.ResponseAction = "none"
	h.ackOf(id, &ack)
	if ack.ResponseAction == "errors" {
		t.Fatalf("a valid submission got errors: %+v", ack)
	}
	thread := h.waitThread(channel, alert.TS, 2)
	assertContains(t, "announcement", thread[0].Content(), "is resetting the sessions of 3 residential users", hashA, hashC, "`"+hashB+"` (sub-user `scraper-eu`)")
	assertContains(t, "outcome", thread[1].Text, "Reset the sessions of 3 residential users")
	if r := h.ipr.Resets(); len(r) != 1 || !slices.Equal(r[0], []string{hashA, hashC, hashB}) {
		t.Errorf("resets = %v", r)
	}
	line := h.auditLine("reset")
	if line["kind"] != "shortcut" {
		t.Errorf("audit line = %v", line)
	}
}

// checkedOptions is the values of the pre-checked options of a view's
// checkboxes.
func checkedOptions(t *testing.T, v slacktest.View) []string {
	t.Helper()
	var blocks []struct {
		Element struct {
			Type           string `json:"type"`
			InitialOptions []struct {
				Value string `json:"value"`
			} `json:"initial_options"`
		} `json:"element"`
	}
	if err := json.Unmarshal(v.Blocks, &blocks); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, b := range blocks {
		if b.Element.Type == "checkboxes" {
			for _, o := range b.Element.InitialOptions {
				if o.Value != "dry_run" {
					out = append(out, o.Value)
				}
			}
		}
	}
	return out
}

// formValues is a shortcut modal's state: these hashes checked, and typed
// in the targets field.
func formValues(checked []string, typed string) map[string]map[string]any {
	var opts []map[string]any
	for _, h := range checked {
		opts = append(opts, map[string]any{"value": h, "text": map[string]any{"type": "mrkdwn", "text": "`" + h + "`"}})
	}
	return map[string]map[string]any{
		"found_00": {"hashes": map[string]any{"type": "checkboxes", "selected_options": opts}},
		"targets":  {"targets": map[string]any{"type": "plain_text_input", "value": typed}},
		"options":  {"dry_run": map[string]any{"type": "checkboxes", "selected_options": []any{}}},
	}
}

// /reset-sessions with nothing after it opens the picker; typing finds
// sub-users within Slack's 3 s, saying so when IPRoyal is slow; submitting
// resets in the channel where the command was typed.
func TestPicker(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	id := h.command(allowedUser, "")
	var ack map[string]any
	h.ackOf(id, &ack)
	view := h.waitView(1)
	if view.CallbackID != "reset_sessions_pick" || !strings.Contains(view.Content(), "announced in <#"+channel+">") {
		t.Fatalf("picker = %+v\n%s", view, view.Content())
	}

	type optionsAck struct {
		Options []struct {
			Text  struct{ Text string } `json:"text"`
			Value string                `json:"value"`
		} `json:"options"`
	}
	sid, err := h.slack.SendSuggestion(allowedUser, view, "subusers", "targets", "scraper")
	if err != nil {
		t.Fatal(err)
	}
	var opts optionsAck
	h.ackOf(sid, &opts)
	if len(opts.Options) != 2 || opts.Options[0].Text.Text != "scraper-eu" || opts.Options[0].Value != hashB {
		t.Errorf("options = %+v", opts)
	}

	h.ipr.SetDelay(5 * time.Second) // IPRoyal hangs: the answer still comes in time, and says so
	sent := time.Now()
	sid, err = h.slack.SendSuggestion(allowedUser, view, "subusers", "targets", "scr")
	if err != nil {
		t.Fatal(err)
	}
	opts = optionsAck{}
	h.ackOf(sid, &opts)
	if took := time.Since(sent); took > 3*time.Second {
		t.Errorf("the options took %v, past Slack's 3 s", took)
	}
	if len(opts.Options) != 1 || !strings.Contains(opts.Options[0].Text.Text, "IPRoyal did not answer in time") || opts.Options[0].Value != "!" {
		t.Errorf("options while IPRoyal hangs = %+v", opts)
	}
	h.ipr.SetDelay(0)

	id, err = h.slack.SubmitView(allowedUser, view, map[string]map[string]any{
		"targets": {"subusers": map[string]any{"type": "multi_external_select", "selected_options": []map[string]any{
			{"value": hashB, "text": map[string]any{"type": "plain_text", "text": "scraper-eu"}},
			{"value": hashC, "text": map[string]any{"type": "plain_text", "text": "scraper-eu-old"}},
		}}},
		"options": {"dry_run": map[string]any{"type": "checkboxes", "selected_options": []any{}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.ackOf(id, nil)
	parent := h.announcement(channel, 0)
	assertContains(t, "announcement", parent.Content(), "`"+hashB+"` (sub-user `scraper-eu`)", "`"+hashC+"` (sub-user `scraper-eu-old`)")
	h.threadReply(parent)
	if n := h.ipr.Count("GET", "/residential-subusers"); n != 2 {
		t.Errorf("%d searches: the submission looked the picked sub-users up again", n)
	}
	if r := h.private(h.command(allowedUser, "help")); !strings.Contains(r.Text, "resets the sticky sessions") {
		t.Errorf("help = %q", r.Text)
	}
}

func TestHomeTab(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	h.waitLog("IPRoyal accepts IPROYAL_API_TOKEN") // the check at start, GET /me, is not one of the home tab's
	h.ipr.SetAccount(iproyaltest.Account{AvailableTraffic: 32.6, SubusersCount: 13})
	for _, u := range []string{allowedUser, otherUser} {
		if _, err := h.slack.SendHomeOpened(u); err != nil {
			t.Fatal(err)
		}
	}
	var views []slacktest.View
	if err := h.slack.WaitFor(wait, func(s *slacktest.State) bool { views = s.Views(); return len(views) == 2 }); err != nil {
		t.Fatal("the home tabs were not published")
	}
	byUser := map[string]slacktest.View{}
	for _, v := range views {
		byUser[v.User] = v
	}
	allowed, refused := byUser[allowedUser], byUser[otherUser]
	assertContains(t, "allowed home", allowed.Content(), "You may reset the sticky sessions", "*32.60 GB* of residential traffic available, 13 sub-users",
		"Reset sessions…", "@sessionbot reset HASH", "*Reset sessions* in the menu of any message", "/reset-sessions find TEXT")
	assertContains(t, "refused home", refused.Content(), "You may not reset sessions", "not in ALLOWED_USERS")
	if strings.Contains(refused.Content(), "GB") || strings.Contains(refused.Content(), "Reset sessions…") {
		t.Errorf("a refused user sees the account or the button:\n%s", refused.Content())
	}
	// The account status is cached for a minute.
	if _, err := h.slack.SendHomeOpened(allowedUser); err != nil {
		t.Fatal(err)
	}
	h.waitView(3)
	if n := h.ipr.Count("GET", "/me"); n != 2 { // the check at start, and one for the home tabs
		t.Errorf("GET /me calls = %d, want 2", n)
	}

	// Its button opens the picker, which asks for a channel.
	cid, err := h.slack.SendViewClick(allowedUser, allowed, slacktest.Button{Text: "Reset sessions…", ActionID: "open_picker", BlockID: "home_actions", Value: "open"})
	if err != nil {
		t.Fatal(err)
	}
	h.ackOf(cid, nil)
	picker := h.waitView(4)
	if picker.CallbackID != "reset_sessions_pick" || !slices.Contains(picker.InputBlocks(), "channel") {
		t.Errorf("the home button opened %+v", picker)
	}
	values := func(dryRun bool) map[string]map[string]any {
		dry := []any{}
		if dryRun {
			dry = append(dry, map[string]any{"value": "dry_run", "text": map[string]any{"type": "plain_text", "text": "Dry run"}})
		}
		return map[string]map[string]any{
			"channel": {"channel": map[string]any{"type": "conversations_select", "selected_conversation": channel}},
			"targets": {"subusers": map[string]any{"type": "multi_external_select", "selected_options": []map[string]any{
				{"value": hashB, "text": map[string]any{"type": "plain_text", "text": "scraper-eu"}}}}},
			"options": {"dry_run": map[string]any{"type": "checkboxes", "selected_options": dry}},
		}
	}
	// A dry run answers through the response_url Slack gave for the
	// channel picked, which reaches the requester wherever the bot is.
	id, err := h.slack.SubmitView(allowedUser, picker, values(true))
	if err != nil {
		t.Fatal(err)
	}
	h.ackOf(id, nil)
	if r := h.private(id); !strings.Contains(r.Text, "Dry run: nothing was reset") {
		t.Errorf("dry run = %q", r.Text)
	}
	id, err = h.slack.SubmitView(allowedUser, picker, values(false))
	if err != nil {
		t.Fatal(err)
	}
	h.ackOf(id, nil)
	h.threadReply(h.announcement(channel, 0))
}

// Opening the home tab while it is being published is not dropped: that
// publish may have read its state already, so one more follows it, and
// opens meanwhile share that one.
func TestHomeTabOpenedWhilePublishing(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	h.waitLog("IPRoyal accepts IPROYAL_API_TOKEN") // the check at start, GET /me, is not one of the home tab's
	h.ipr.SetAccount(iproyaltest.Account{AvailableTraffic: 32.6, SubusersCount: 13})
	h.ipr.Script("GET", "/me", iproyaltest.Response{Delay: 500 * time.Millisecond}) // answered as usual, late
	for range 3 {
		if _, err := h.slack.SendHomeOpened(allowedUser); err != nil {
			t.Fatal(err)
		}
	}
	h.waitView(2)
	if n := h.ipr.Count("GET", "/me"); n != 2 { // the check at start, and one for both tabs: the second reads the cache
		t.Errorf("GET /me calls = %d, want 2", n)
	}
	for _, v := range h.slack.State().Views() {
		assertContains(t, "home", v.Content(), "*32.60 GB* of residential traffic available")
	}
}

// With ALLOWED_CHANNELS set, the home tab has no channel, but still only
// the allowed may see the account and search sub-users.
func TestHomeTabWithAllowedChannels(t *testing.T) {
	t.Parallel()
	h := startBot(t, func(env map[string]string) { env["ALLOWED_CHANNELS"] = "C0OPS" })
	for _, u := range []string{allowedUser, otherUser} {
		if _, err := h.slack.SendHomeOpened(u); err != nil {
			t.Fatal(err)
		}
	}
	h.waitView(2)
	byUser := map[string]slacktest.View{}
	for _, v := range h.slack.State().Views() {
		byUser[v.User] = v
	}
	assertContains(t, "allowed home", byUser[allowedUser].Content(), "You may reset the sticky sessions of IPRoyal residential users*, in <#C0OPS>", "GB")
	refused := byUser[otherUser].Content()
	assertContains(t, "refused home", refused, "You may not reset sessions", "not in ALLOWED_USERS")
	if strings.Contains(refused, "GB") || strings.Contains(refused, "Reset sessions…") {
		t.Errorf("a refused user sees the account or the button:\n%s", refused)
	}
	// Typing in a home picker (no channel yet) offers nothing to the refused.
	picker := slacktest.View{ID: "V0PICK", Type: "modal", CallbackID: "reset_sessions_pick", PrivateMetadata: "{}"}
	id, err := h.slack.SendSuggestion(otherUser, picker, "subusers", "targets", "scraper")
	if err != nil {
		t.Fatal(err)
	}
	var opts struct {
		Options []struct {
			Value string `json:"value"`
			Text  struct {
				Text string `json:"text"`
			} `json:"text"`
		} `json:"options"`
	}
	h.ackOf(id, &opts)
	if len(opts.Options) != 1 || opts.Options[0].Value != "!" || !strings.Contains(opts.Options[0].Text.Text, "not allowed") {
		t.Errorf("options for a refused user = %+v", opts)
	}
	// The allowed, picking a channel outside ALLOWED_CHANNELS, are told so beside it.
	id, err = h.slack.SubmitView(allowedUser, slacktest.View{ID: "V0PICK", Type: "modal", CallbackID: "reset_sessions_pick", PrivateMetadata: "{}",
		Blocks: json.RawMessage(`[{"type":"input","block_id":"channel","label":{"type":"plain_text","text":"Announce in"},"element":{"type":"conversations_select","action_id":"channel","response_url_enabled":true}},` +
			`{"type":"input","block_id":"targets","label":{"type":"plain_text","text":"Sub-users"},"element":{"type":"multi_external_select","action_id":"subusers"}}]`)},
		map[string]map[string]any{
			"channel": {"channel": map[string]any{"type": "conversations_select", "selected_conversation": channel}},
			"targets": {"subusers": map[string]any{"type": "multi_external_select", "selected_options": []map[string]any{{"value": hashB}}}},
		})
	if err != nil {
		t.Fatal(err)
	}
	var ack struct {
		Errors map[string]string `json:"errors"`
	}
	h.ackOf(id, &ack)
	if !strings.Contains(ack.Errors["channel"], "cannot be reset from this channel") {
		t.Errorf("errors = %v", ack.Errors)
	}
	if n := h.ipr.Count("DELETE", "/sessions"); n != 0 {
		t.Errorf("%d resets", n)
	}
}

// However often someone opens the home tab while IPRoyal hangs, the forms
// of others (whose trigger lasts 3 s) still open.
func TestHangingHomeTabsDoNotBlockForms(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	h.waitLog("IPRoyal accepts IPROYAL_API_TOKEN") // the check at start, GET /me, is not one of the home tab's
	h.ipr.Script("GET", "/me", iproyaltest.Response{Delay: time.Minute, Sticky: true})
	for range 20 {
		if _, err := h.slack.SendHomeOpened(allowedUser); err != nil {
			t.Fatal(err)
		}
	}
	alert := h.slack.AddMessage(channel, "blocked: "+hashA)
	if _, err := h.slack.SendShortcut(slacktest.Shortcut{User: allowedUser, Channel: channel, Message: alert}); err != nil {
		t.Fatal(err)
	}
	if err := h.slack.WaitFor(wait, func(s *slacktest.State) bool {
		for _, v := range s.Views() {
			if v.CallbackID == "reset_sessions_form" {
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatalf("the shortcut's form never opened; logs:\n%s", h.logs)
	}
	// The home tab gives up on IPRoyal in seconds, and says so.
	home := h.waitView(2)
	assertContains(t, "home", home.Content(), "IPRoyal account status unavailable")
	if n := h.ipr.Count("GET", "/me"); n > 2 { // the check at start, and one for all those tabs
		t.Errorf("GET /me called %d times", n)
	}
}

// A form that resets more than CONFIRM_ABOVE targets it did not count
// (typed, or picked) is replaced by a confirmation that lists and counts
// them; a shortcut's found hashes are counted by the form itself.
func TestFormsConfirmAboveConfirmAbove(t *testing.T) {
	t.Parallel()
	h := startBot(t, confirmEnv) // CONFIRM_ABOVE=3
	alert := h.slack.AddMessage(channel, "blocked: "+hashA+" and "+hashC)
	sid, err := h.slack.SendShortcut(slacktest.Shortcut{User: allowedUser, Channel: channel, Message: alert})
	if err != nil {
		t.Fatal(err)
	}
	h.ackOf(sid, nil)
	form := h.waitView(1)
	id, err := h.slack.SubmitView(allowedUser, form, formValues([]string{hashA, hashC}, "scraper-eu 01HQ5K3P97DY8EX9Y90YT1K6XD"))
	if err != nil {
		t.Fatal(err)
	}
	var ack struct {
		ResponseAction string `json:"response_action"`
	}
	h.ackOf(id, &ack)
	if ack.ResponseAction != "update" {
		t.Fatalf("response_action = %q, want update", ack.ResponseAction)
	}
	confirm := h.waitView(2)
	if confirm.ID != form.ID || !strings.Contains(confirm.Content(), "This resets the sessions of *4 residential users*") || !strings.Contains(confirm.Content(), "scraper-eu") {
		t.Fatalf("confirmation = %s", confirm.Content())
	}
	if n := h.ipr.Count("DELETE", "/sessions"); n != 0 {
		t.Fatalf("%d resets before the confirmation", n)
	}
	// Submitting the confirmation, one unchecked, resets the other three.
	// Slack sends back the whole option, its description (the username) too.
	var blocks []struct {
		Element struct {
			InitialOptions []map[string]any `json:"initial_options"`
		} `json:"element"`
	}
	if err := json.Unmarshal(confirm.Blocks, &blocks); err != nil {
		t.Fatal(err)
	}
	var opts []map[string]any
	for _, b := range blocks {
		opts = append(opts, b.Element.InitialOptions...)
	}
	if len(opts) != 4 {
		t.Fatalf("%d options listed", len(opts))
	}
	opts = opts[:3] // the two found, then scraper-eu; leave out the typed hash
	id, err = h.slack.SubmitView(allowedUser, confirm, map[string]map[string]any{"found_00": {"hashes": map[string]any{"type": "checkboxes", "selected_options": opts}}})
	if err != nil {
		t.Fatal(err)
	}
	h.ackOf(id, nil)
	thread := h.waitThread(channel, alert.TS, 2)
	assertContains(t, "announcement", thread[0].Content(), "is resetting the sessions of 3 residential users", "sub-user `scraper-eu`")
	if r := h.ipr.Resets(); len(r) != 1 || len(r[0]) != 3 {
		t.Errorf("resets = %v", r)
	}
	if id := requestID(t, thread[0]); h.auditLine("confirmation_requested")["request_id"] != id {
		t.Errorf("the confirmation and the reset are not one request (%s)", id)
	}

	// Five hashes found in a message are counted by the form: no second step.
	five := []string{hashA, hashC, "01HQ5K3P97DY8EX9Y90YT1K6XD", "01HQ5K3P97DY8EX9Y90YT1K6XE", "01HQ5K3P97DY8EX9Y90YT1K6XF"}
	alert = h.slack.AddMessage(channel, strings.Join(five, " "))
	sid, err = h.slack.SendShortcut(slacktest.Shortcut{User: allowedUser, Channel: channel, Message: alert})
	if err != nil {
		t.Fatal(err)
	}
	h.ackOf(sid, nil)
	form = h.waitView(3)
	id, err = h.slack.SubmitView(allowedUser, form, formValues(five, ""))
	if err != nil {
		t.Fatal(err)
	}
	h.ackOf(id, nil)
	h.waitThread(channel, alert.TS, 2)
	if r := h.ipr.Resets(); len(r) != 2 || len(r[1]) != 5 {
		t.Errorf("resets = %v", r)
	}
}

// Where the bot is not a member, a form's answer still reaches its
// requester: through the shortcut's response_url.
func TestFormAnswerReachesTheRequesterWhereTheBotIsNot(t *testing.T) {
	t.Parallel()
	h := startBot(t, nil)
	const private = "C0PRIVATE"
	alert := h.slack.AddMessage(private, "blocked: "+hashA)
	h.slack.Fail("chat.postMessage", slacktest.Failure{Error: "not_in_channel", Channel: private, Sticky: true})
	h.slack.Fail("chat.postEphemeral", slacktest.Failure{Error: "channel_not_found", Channel: private, Sticky: true})
	sid, err := h.slack.SendShortcut(slacktest.Shortcut{User: allowedUser, Channel: private, Message: alert})
	if err != nil {
		t.Fatal(err)
	}
	h.ackOf(sid, nil)
	form := h.waitView(1)
	id, err := h.slack.SubmitView(allowedUser, form, formValues([]string{hashA}, ""))
	if err != nil {
		t.Fatal(err)
	}
	h.ackOf(id, nil)
	if r := h.private(sid); !strings.Contains(r.Text, "/invite @sessionbot") {
		t.Errorf("answer = %q", r.Text)
	}
	if n := h.ipr.Count("DELETE", "/sessions"); n != 0 {
		t.Errorf("%d resets with no announcement", n)
	}
}

// requestID reads the request ID off a message's footer.
func requestID(t *testing.T, m slacktest.Message) string {
	t.Helper()
	match := regexp.MustCompile("request `([0-9a-f]+)`").FindStringSubmatch(m.Content())
	if match == nil {
		t.Fatalf("no request ID in %q", m.Content())
	}
	return match[1]
}
