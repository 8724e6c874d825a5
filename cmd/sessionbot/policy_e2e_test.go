package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/sessionbot/sessionbot/bot/slack/slacktest"
	"github.com/sessionbot/sessionbot/iproyal/iproyaltest"
)

// Per-team access through the real program: a POLICY_FILE of grants, every
// way in deciding on each target, the file reloaded live, and the policy
// commands. The policy is testdata/policy/teams.yaml.

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata/policy/")

const (
	euUser   = "U0EU"
	usUser   = "U0US"
	qaUser   = "U0QA"
	sreUser  = "U0SRE"
	leadUser = "U0LEAD" // in eu-scrapers, and in the SRE group
	sreTeam  = "S0SRE"
	qaChan   = "C0QA"

	hashUS  = "01HQ5K3P97DY8EX9Y90YT1K6XF"
	hashQA1 = "01HQ5K3P97DY8EX9Y90YT1K6XG"
	hashQA2 = "01HQ5K3P97DY8EX9Y90YT1K6XH"
	hashQA3 = "01HQ5K3P97DY8EX9Y90YT1K6XJ"
)

// teamSubusers are the account's sub-users: two of the EU team's, one of
// the US team's, three of QA's.
var teamSubusers = []iproyaltest.Subuser{
	{Hash: hashB, Username: "scraper-eu", Password: subPassword},
	{Hash: hashC, Username: "scraper-eu-old", Password: subPassword},
	{Hash: hashUS, Username: "scraper-us", Password: subPassword},
	{Hash: hashQA1, Username: "qa-1", Password: subPassword},
	{Hash: hashQA2, Username: "qa-2", Password: subPassword},
	{Hash: hashQA3, Username: "qa-3", Password: subPassword},
}

func readPolicy(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "policy", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// requestIDs are the request IDs a golden file cannot pin.
var requestIDs = regexp.MustCompile("request `[0-9a-f]{8}`")

// golden compares got with testdata/policy/NAME.golden, or rewrites it with
// -update. Request IDs are masked, and a Slack message gets a last newline.
func golden(t *testing.T, name, got string) {
	t.Helper()
	got = requestIDs.ReplaceAllString(got, "request `ID`")
	if !strings.HasSuffix(got, "\n") {
		got += "\n"
	}
	path := filepath.Join("testdata", "policy", name+".golden")
	if *updateGolden {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to make it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs from %s:\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}

// policyDir holds a policy file the way Kubernetes mounts a ConfigMap:
// policy.yaml is a symlink into ..data, itself a symlink to the directory
// of the current version, and an update swaps ..data in one rename.
type policyDir struct {
	t   *testing.T
	dir string
	n   int
}

func newPolicyDir(t *testing.T, content string) *policyDir {
	t.Helper()
	p := &policyDir{t: t, dir: t.TempDir()}
	p.write(content)
	if err := os.Symlink(filepath.Join("..data", "policy.yaml"), p.path()); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *policyDir) path() string { return filepath.Join(p.dir, "policy.yaml") }

// write makes content the file's new version, atomically.
func (p *policyDir) write(content string) {
	p.t.Helper()
	p.n++
	version := fmt.Sprintf("..v%d", p.n)
	tmp := filepath.Join(p.dir, "..data_tmp")
	for _, err := range []error{
		os.Mkdir(filepath.Join(p.dir, version), 0o755),
		os.WriteFile(filepath.Join(p.dir, version, "policy.yaml"), []byte(content), 0o644),
		os.Symlink(version, tmp),
		os.Rename(tmp, filepath.Join(p.dir, "..data")),
	} {
		if err != nil {
			p.t.Fatal(err)
		}
	}
}

// policyEnv runs the bot on the policy file at path instead of ALLOWED_USERS,
// with an audit channel.
func policyEnv(path string) func(env map[string]string) {
	return func(env map[string]string) {
		delete(env, "ALLOWED_USERS")
		env["POLICY_FILE"] = path
		withAudit(env)
	}
}

// startPolicyBot runs the bot on content, in the account of teamSubusers,
// with sreUser and leadUser in the SRE group.
func startPolicyBot(t *testing.T, content string, edit func(env map[string]string)) (*harness, *policyDir) {
	t.Helper()
	pd := newPolicyDir(t, content)
	h := startBot(t, func(env map[string]string) {
		policyEnv(pd.path())(env)
		if edit != nil {
			edit(env)
		}
	})
	h.ipr.SetSubusers(teamSubusers...)
	h.slack.SetUsergroup(sreTeam, sreUser, leadUser)
	return h, pd
}

// commandLine waits for the msg=command log line of request id.
func (h *harness) commandLine(id string) map[string]any {
	h.t.Helper()
	var got map[string]any
	eventually(h.t, "the command line of request "+id, func() bool {
		for _, line := range strings.Split(h.logs.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "command" && m["request_id"] == id {
				got = m
				return true
			}
		}
		return false
	})
	return got
}

// idIn reads the request ID off a private answer's text.
func idIn(t *testing.T, text string) string {
	t.Helper()
	m := regexp.MustCompile("request `([0-9a-f]{8})`").FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no request ID in %q", text)
	}
	return m[1]
}

// grantsOf reads the grants a log line names.
func grantsOf(line map[string]any) []string {
	var out []string
	gs, _ := line["grants"].([]any)
	for _, g := range gs {
		out = append(out, fmt.Sprint(g))
	}
	return out
}

// resetAndWait runs a reset that must be allowed, and returns its
// announcement and request ID once the outcome is in its thread.
func (h *harness) resetAndWait(user, ch, text string, n int) (slacktest.Message, string) {
	h.t.Helper()
	h.commandIn(user, ch, text)
	parent := h.announcement(ch, n)
	h.threadReply(parent)
	return parent, requestID(h.t, parent)
}

// refusal sends a command that must be refused and returns the private
// answer's text, checking that nothing reached the channel or IPRoyal's DELETE.
func (h *harness) refusal(user, ch, text string) string {
	h.t.Helper()
	before := h.ipr.Count("DELETE", "/sessions")
	r := h.private(h.commandIn(user, ch, text))
	if n := h.ipr.Count("DELETE", "/sessions"); n != before {
		h.t.Errorf("%q by %s: %d resets sent, want none", text, user, n-before)
	}
	return r.Text
}

// assertNames fails for each of names the text shows: other teams'
// sub-users and grants must never be named to a requester.
func assertNames(t *testing.T, what, text string, names ...string) {
	t.Helper()
	for _, n := range names {
		if regexp.MustCompile(`\b` + regexp.QuoteMeta(n) + `\b`).MatchString(text) {
			t.Errorf("%s names %q:\n%s", what, n, text)
		}
	}
}

func TestPolicyTwoTeamsAndAnAllPowerfulGroup(t *testing.T) {
	t.Parallel()
	h, _ := startPolicyBot(t, readPolicy(t, "teams.yaml"), nil)

	// Each team resets its own, attributed to its grant in the log line and
	// the audit channel's entry.
	for i, tt := range []struct {
		user, text string
		hashes     []string
		grants     []string
	}{
		{euUser, "scraper-eu scraper-eu-old", []string{hashB, hashC}, []string{"eu-scrapers"}},
		{usUser, "scraper-us", []string{hashUS}, []string{"us-scrapers"}},
		{sreUser, "scraper-eu scraper-us qa-1", []string{hashB, hashUS, hashQA1}, []string{"sre"}},
		// The first grant in file order that covers a target takes it.
		{leadUser, "scraper-eu scraper-us", []string{hashB, hashUS}, []string{"eu-scrapers", "sre"}},
	} {
		_, id := h.resetAndWait(tt.user, channel, tt.text, i)
		if got := h.ipr.Resets(); len(got) != i+1 || !slices.Equal(got[i], tt.hashes) {
			t.Errorf("%s: resets = %v, want %v last", tt.user, got, tt.hashes)
		}
		if got := grantsOf(h.commandLine(id)); !slices.Equal(got, tt.grants) {
			t.Errorf("%s: the command line names grants %v, want %v", tt.user, got, tt.grants)
		}
		msg, _ := h.journalEntry(id, "reset")
		assertContains(t, "audit entry", msg.Content(), "grants: "+strings.Join(tt.grants, ", "))
	}

	// The other team's are refused, without a word of whose they are.
	text := h.refusal(usUser, channel, "scraper-eu")
	golden(t, "slack-other-team", text)
	assertNames(t, "the refusal", text, "eu-scrapers", "sre", "us-scrapers", hashB)
	if got := grantsOf(h.commandLine(idIn(t, text))); got != nil {
		t.Errorf("a refusal's command line names grants %v", got)
	}
	// Nobody's grant: the contact, and no grant named.
	text = h.refusal(otherUser, channel, "scraper-eu")
	assertContains(t, "a stranger's refusal", text, "No grant of sessionbot's policy lets you reset", "ask in #proxy-admins")
	assertNames(t, "a stranger's refusal", text, "eu-scrapers", "sre")
}

// A request with one target allowed and one not resets nothing, and says
// which, as typed: a username without its hash, a hash without its
// username. Suggestions for a username IPRoyal does not know name only
// the requester's sub-users.
func TestPolicyMixedRequestResetsNothing(t *testing.T) {
	t.Parallel()
	h, _ := startPolicyBot(t, readPolicy(t, "teams.yaml"), nil)
	text := h.refusal(euUser, channel, "scraper-eu scraper-us "+hashQA1)
	golden(t, "slack-mixed", text)
	assertNames(t, "the refusal", text, "us-scrapers", "qa", "sre", hashUS, "qa-1")
	for _, m := range h.slack.State().Messages() {
		if m.Channel == channel {
			t.Errorf("posted in the channel: %q", m.Text)
		}
	}
	// The refusal is mirrored in the audit channel, in words.
	h.waitAudit("<@"+euUser+">", "no grant of theirs covers every target there")

	// "scraper-u" is no sub-user; IPRoyal's search finds scraper-us, which
	// is the US team's, and must not be offered to the EU team.
	text = h.refusal(euUser, channel, "scraper-u")
	assertContains(t, "an unknown username", text, "no sub-user has this username")
	assertNames(t, "the suggestions", text, "scraper-us")
	text = h.refusal(usUser, channel, "scraper-u")
	assertContains(t, "an unknown username, to its team", text, "did you mean `scraper-us`?")
}

// A hash typed by a user whose grants go by username: its username is
// learned from IPRoyal (GET /residential-subusers/{hash}) to match the
// globs. When IPRoyal cannot say, the target is refused.
func TestPolicyLearnsAHashUsername(t *testing.T) {
	t.Parallel()
	h, _ := startPolicyBot(t, readPolicy(t, "teams.yaml"), nil)
	_, id := h.resetAndWait(euUser, channel, hashB, 0)
	if n := h.ipr.Count("GET", "/residential-subusers/"+hashB); n != 1 {
		t.Errorf("%d lookups of %s, want 1", n, hashB)
	}
	if got := grantsOf(h.commandLine(id)); !slices.Equal(got, []string{"eu-scrapers"}) {
		t.Errorf("grants = %v", got)
	}
	// Another team's hash is refused as typed: not even its username.
	text := h.refusal(usUser, channel, hashB)
	assertContains(t, "the refusal", text, hashB)
	assertNames(t, "the refusal", text, "scraper-eu", "eu-scrapers")
	// The SRE group's "*" needs no username: nothing is looked up.
	before := h.ipr.Count("GET", "/residential-subusers/"+hashUS)
	h.resetAndWait(sreUser, channel, hashUS, 1)
	if n := h.ipr.Count("GET", "/residential-subusers/"+hashUS) - before; n != 0 {
		t.Errorf("%d lookups of a hash that \"*\" covers", n)
	}
}

func TestPolicyFailsClosedWhenIPRoyalCannotName(t *testing.T) {
	t.Parallel()
	h, _ := startPolicyBot(t, readPolicy(t, "teams.yaml"), nil)
	h.ipr.Script("GET", "/residential-subusers/"+hashB, iproyaltest.Response{Status: 503, Body: `{"message":"Service Unavailable"}`, Sticky: true})
	text := h.refusal(euUser, channel, hashB)
	golden(t, "slack-iproyal-down", text)
	line := h.commandLine(idIn(t, text))
	if e, _ := line["error"].(string); !strings.Contains(e, "503") {
		t.Errorf("the command line's error = %q, want IPRoyal's 503", e)
	}
	// A hash IPRoyal knows no sub-user of: no use trying again.
	text = h.refusal(euUser, channel, "01HQ5K3P97DY8EX9Y90YT1K6XZ")
	assertContains(t, "an unknown hash", text, "IPRoyal knows no sub-user with a hash you gave", "check the hash")
	if strings.Contains(text, "try again in a minute") {
		t.Errorf("an unknown hash is told to try again: %q", text)
	}
}

// QA's grant holds only in QA's channel: elsewhere QA is told so, and can
// says where.
func TestPolicyChannelGrantUsedElsewhere(t *testing.T) {
	t.Parallel()
	h, _ := startPolicyBot(t, readPolicy(t, "teams.yaml"), nil)
	golden(t, "slack-qa-elsewhere", h.refusal(qaUser, channel, "qa-1"))
	golden(t, "slack-can-elsewhere", h.private(h.commandIn(qaUser, channel, "can")).Text)
	golden(t, "slack-can-here", h.private(h.commandIn(qaUser, qaChan, "can")).Text)
	golden(t, "slack-can-nothing", h.private(h.commandIn(otherUser, channel, "can")).Text)
	// A mention asks the same, and is answered privately.
	m := slacktest.Mention{User: qaUser, Channel: qaChan, Text: "<@" + slacktest.BotUser + "> can"}
	m.TS = h.slack.AddMessage(qaChan, m.Text).TS
	if _, err := h.slack.SendMention(m); err != nil {
		t.Fatal(err)
	}
	assertContains(t, "@sessionbot can", h.ephemeral(qaUser).Text, "Here, in <#"+qaChan+">, you may reset:\n• *qa*: `qa-*`")
	_, id := h.resetAndWait(qaUser, qaChan, "qa-1", 0)
	if got := grantsOf(h.commandLine(id)); !slices.Equal(got, []string{"qa"}) {
		t.Errorf("grants = %v", got)
	}
	// max_targets: 2 under qa.
	text := h.refusal(qaUser, qaChan, "qa-1 qa-2 qa-3")
	golden(t, "slack-max-targets", text)
	if got := grantsOf(h.commandLine(idIn(t, text))); !slices.Equal(got, []string{"qa"}) {
		t.Errorf("the refusal over max_targets names grants %v, want qa", got)
	}
}

// find and the picker show only the sub-users the viewer may reset
// somewhere, and never how many others there are.
func TestPolicyFiltersFindAndThePicker(t *testing.T) {
	t.Parallel()
	h, _ := startPolicyBot(t, readPolicy(t, "teams.yaml"), nil)
	found := h.private(h.command(euUser, "find scraper")).Text
	assertContains(t, "EU's find", found, "scraper-eu", "scraper-eu-old")
	assertNames(t, "EU's find", found, "scraper-us", hashUS)
	found = h.private(h.command(sreUser, "find scraper")).Text
	assertContains(t, "SRE's find", found, "scraper-eu", "scraper-eu-old", "scraper-us")

	view := slacktest.View{ID: "V0PICK", Type: "modal", CallbackID: "reset_sessions_pick", PrivateMetadata: "{}"}
	options := func(user, text string) []string {
		t.Helper()
		id, err := h.slack.SendSuggestion(user, view, "subusers", "targets", text)
		if err != nil {
			t.Fatal(err)
		}
		var ack struct {
			Options []struct {
				Text  struct{ Text string } `json:"text"`
				Value string                `json:"value"`
			} `json:"options"`
		}
		h.ackOf(id, &ack)
		var out []string
		for _, o := range ack.Options {
			out = append(out, o.Text.Text+"="+o.Value)
		}
		return out
	}
	if got, want := options(euUser, "scraper"), []string{"scraper-eu=" + hashB, "scraper-eu-old=" + hashC}; !slices.Equal(got, want) {
		t.Errorf("EU's options = %v, want %v", got, want)
	}
	if got, want := options(usUser, "scraper"), []string{"scraper-us=" + hashUS}; !slices.Equal(got, want) {
		t.Errorf("US's options = %v, want %v", got, want)
	}
	if got := options(sreUser, "scraper"); len(got) != 3 {
		t.Errorf("SRE's options = %v, want all three", got)
	}
	if got := options(usUser, "qa"); len(got) != 1 || !strings.HasSuffix(got[0], "=!") {
		t.Errorf("US's options for qa = %v, want only the none-found line", got)
	}
}

// A confirmation made under one policy is decided again at its click,
// under the policy in force then.
func TestPolicyConfirmAfterAReloadRefuses(t *testing.T) {
	t.Parallel()
	h, pd := startPolicyBot(t, readPolicy(t, "teams.yaml"), confirmEnv)
	buttons := h.confirmation(sreUser, "scraper-eu scraper-eu-old scraper-us qa-1")
	asked := h.auditLine("confirmation_requested")["request_id"].(string)

	// SRE loses "*": now only scraper-eu*.
	pd.write(strings.Replace(readPolicy(t, "teams.yaml"), `subusers: ["*"]`, `subusers: ["scraper-eu*"]`, 1))
	h.waitAudit("Policy changed: 4 grants")

	id := h.click(sreUser, buttons["Confirm"])
	r := h.responses(id, 1)[0]
	if !r.ReplaceOriginal {
		t.Errorf("the refusal does not replace the confirmation: %+v", r)
	}
	golden(t, "slack-confirm-after-reload", r.Text)
	h.assertNothingReset()
	msg, entry := h.journalEntry(asked, "refused")
	if entry["reason"] != "no grant of theirs covers every target there" {
		t.Errorf("the journal entry's reason = %q", entry["reason"])
	}
	assertContains(t, "the audit entry", msg.Content(), "grants: sre")
}

// auditWith is every top-level message in the audit channel, as it is now,
// that contains all of texts. Call it in WaitFor, with its State.
func auditWith(st *slacktest.State, texts ...string) []slacktest.Message {
	var out []slacktest.Message
	for _, m := range st.Messages() {
		if m.Channel != auditChannel || m.ThreadTS != "" {
			continue
		}
		cur, _ := st.Current(m.Channel, m.TS)
		if c := cur.Content(); !slices.ContainsFunc(texts, func(t string) bool { return !strings.Contains(c, t) }) {
			out = append(out, cur)
		}
	}
	return out
}

// waitAudit waits for a top-level message in the audit channel that
// contains all of texts, and returns it.
func (h *harness) waitAudit(texts ...string) slacktest.Message {
	h.t.Helper()
	var got slacktest.Message
	if err := h.slack.WaitFor(wait, func(s *slacktest.State) bool {
		if ms := auditWith(s, texts...); len(ms) > 0 {
			got = ms[0]
			return true
		}
		return false
	}); err != nil {
		h.t.Fatalf("no audit post with %q: %+v\nlogs:\n%s", texts, auditMessages(h.slack), h.logs)
	}
	return got
}

// countAudit counts the audit channel's top-level messages that contain text.
func countAudit(sl *slacktest.Server, text string) int {
	return len(auditWith(sl.State(), text))
}

// metric reads one series' value off /metrics, "" when it is absent.
func (h *harness) metric(series string) string {
	h.t.Helper()
	for _, line := range strings.Split(h.body("/metrics"), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return ""
}

// A valid version replaces the policy; an invalid one leaves it in force,
// says so once (an ERROR with its line, the audit channel, the gauge at
// 0) and is counted; a valid one after it puts things right.
func TestPolicyReloadValidInvalidValid(t *testing.T) {
	t.Parallel()
	teams := readPolicy(t, "teams.yaml")
	h, pd := startPolicyBot(t, teams, nil)
	for series, want := range map[string]string{
		"sessionbot_policy_valid": "1", `sessionbot_policy_reloads_total{result="ok"}`: "0", `sessionbot_policy_reloads_total{result="invalid"}`: "0",
	} {
		if got := h.metric(series); got != want {
			t.Errorf("at start, %s = %q, want %s", series, got, want)
		}
	}

	// Valid: US may now reset QA's too.
	pd.write(strings.Replace(teams, `subusers: ["scraper-us*"]`, `subusers: ["scraper-us*", "qa-*"]`, 1))
	h.waitAudit("Policy changed: 4 grants, sha256")
	h.resetAndWait(usUser, channel, "qa-1", 0)

	// Invalid: a name where an ID belongs, on line 9.
	pd.write(strings.Replace(teams, "users: [U0US]", `users: ["@bob"]`, 1))
	refused := h.waitAudit("not valid, so the policy in force")
	assertContains(t, "the refusal's audit post", refused.Content(), `line 9: users: "@bob" is not a Slack ID`)
	eventually(t, "the gauge says invalid", func() bool { return h.metric("sessionbot_policy_valid") == "0" })
	h.waitLog(`"level":"ERROR","msg":"the policy file changed but is not valid: the policy in force stays","error":"line 9: users: \"@bob\" is not a Slack ID`)
	// The policy in force is still the last valid one.
	h.resetAndWait(usUser, channel, "qa-2", 1)

	// Valid again: the first file.
	pd.write(teams)
	h.waitAudit("Policy changed: 4 grants, sha256")
	eventually(t, "two policy changes announced", func() bool { return countAudit(h.slack, "Policy changed") == 2 })
	eventually(t, "the gauge says valid", func() bool { return h.metric("sessionbot_policy_valid") == "1" })
	if got := h.metric(`sessionbot_policy_reloads_total{result="ok"}`); got != "2" {
		t.Errorf("reloads ok = %s, want 2", got)
	}
	if got := h.metric(`sessionbot_policy_reloads_total{result="invalid"}`); got != "1" {
		t.Errorf("reloads invalid = %s, want 1", got)
	}
	if n := countAudit(h.slack, "not valid"); n != 1 {
		t.Errorf("the invalid version was said %d times in the audit channel, want once", n)
	}
	h.refusal(usUser, channel, "qa-3")
}

// SIGHUP reads the file at once, in the real process; from start-up, when
// the bot may wait minutes for Slack, a SIGHUP is kept for later, never
// fatal, and the policy's metrics are there already.
func TestPolicySIGHUP(t *testing.T) {
	t.Parallel()
	sl, ipr := doubles(t)
	teams := readPolicy(t, "teams.yaml")
	pd := newPolicyDir(t, teams)
	slackGate, slackURL := newGate(t, sl.URL)
	addr := freeAddr(t)
	env := baseEnv(sl, ipr, addr)
	policyEnv(pd.path())(env)
	env["SLACK_API_URL"] = slackURL
	cmd, logs := startMain(t, env)
	eventually(t, "the bot waits for Slack", func() bool { return strings.Contains(logs.String(), "could not check SLACK_BOT_TOKEN") })
	assertContains(t, "/metrics while waiting for Slack", get(t, addr, "/metrics"),
		"sessionbot_policy_valid 1", `sessionbot_policy_reloads_total{result="ok"} 0`, `sessionbot_policy_reloads_total{result="invalid"} 0`)
	pd.write(strings.Replace(teams, "name: sre", "name: sre-oncall", 1))
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	slackGate.open.Store(true)
	if err := sl.WaitFor(wait, func(s *slacktest.State) bool { return s.Connections() == 1 }); err != nil {
		t.Fatalf("the bot did not connect after a SIGHUP during start-up:\n%s", logs)
	}
	// The bot starts on the version written meanwhile; the SIGHUP kept
	// from start-up finds nothing newer.
	eventually(t, "the kept SIGHUP is logged", func() bool { return strings.Contains(logs.String(), "SIGHUP: reading the policy file again") })

	// Once running, at once.
	pd.write(teams)
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if err := sl.WaitFor(wait, func(s *slacktest.State) bool { return len(auditWith(s, "Policy changed: 4 grants")) == 1 }); err != nil {
		t.Fatalf("no policy change announced:\n%s", logs)
	}
	// A SIGHUP with nothing new changes nothing, and says nothing.
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the last SIGHUP is logged", func() bool {
		return strings.Count(logs.String(), "SIGHUP: reading the policy file again") == 3
	})
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, logs)
	}
	if n := countAudit(sl, "Policy changed"); n != 1 {
		t.Errorf("%d policy changes announced, want 1", n)
	}
}

// policy check and policy can, as an operator runs them: their output and
// exit codes pinned.
func TestPolicyCommands(t *testing.T) {
	t.Parallel()
	teams := filepath.Join("testdata", "policy", "teams.yaml")
	for _, tt := range []struct {
		name string
		env  map[string]string
		args []string
		code int
	}{
		{"check", nil, []string{"check", teams}, 0},
		{"check-env", map[string]string{"POLICY_FILE": teams}, []string{"check"}, 0},
		{"check-names-user", nil, []string{"check", "testdata/policy/names-user.yaml"}, 2},
		{"check-names-channel", nil, []string{"check", "testdata/policy/names-channel.yaml"}, 2},
		{"check-names-group", nil, []string{"check", "testdata/policy/names-group.yaml"}, 2},
		{"check-missing", nil, []string{"check", "testdata/policy/missing.yaml"}, 2},
		{"check-no-file", nil, []string{"check"}, 2},
		{"can-allow", nil, []string{"can", "--file", teams, "--user", euUser, "scraper-eu", "scraper-eu-old"}, 0},
		{"can-mixed", nil, []string{"can", "--file", teams, "--user", euUser, "scraper-eu", "scraper-us", hashB}, 1},
		{"can-groups", map[string]string{"POLICY_FILE": teams}, []string{"can", "--user", "U0ANY", "--groups", "S0OTHER," + sreTeam, "qa-1", hashUS}, 0},
		{"can-channel", nil, []string{"can", "--file", teams, "--user", qaUser, "--channel", channel, "qa-1"}, 1},
		{"can-max-targets", nil, []string{"can", "--file", teams, "--user", qaUser, "--channel", qaChan, "qa-1", "qa-2", "qa-3"}, 1},
		{"can-no-user", nil, []string{"can", "--file", teams, "qa-1"}, 2},
		{"can-user-name", nil, []string{"can", "--file", teams, "--user", "@ana", "qa-1"}, 2},
		{"can-no-target", nil, []string{"can", "--file", teams, "--user", qaUser}, 2},
		{"can-invalid-file", nil, []string{"can", "--file", "testdata/policy/names-user.yaml", "--user", qaUser, "qa-1"}, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runWith(t, tt.env, "", append([]string{"policy"}, tt.args...)...)
			code := 0
			if r.err != nil {
				code = exitCode(r.err)
			}
			if code != tt.code {
				t.Errorf("exit %d, want %d: %v", code, tt.code, r.err)
			}
			golden(t, "cli-"+tt.name, fmt.Sprintf("$ sessionbot policy %s\n%s%s(exit %d)\n", strings.Join(tt.args, " "), r.stdout, r.stderr, code))
		})
	}
}

// The bot refuses to start on a policy file that names people instead of
// their IDs, saying where; and on POLICY_FILE beside ALLOWED_*, naming both.
func TestPolicyStartRefusesBadConfiguration(t *testing.T) {
	t.Parallel()
	sl, ipr := doubles(t)
	for _, tt := range []struct {
		name  string
		edit  map[string]string
		wants []string
	}{
		{"a name in the file", map[string]string{"ALLOWED_USERS": "", "POLICY_FILE": "testdata/policy/names-user.yaml"},
			[]string{`POLICY_FILE testdata/policy/names-user.yaml: line 3: users: \"@ana\" is not a Slack ID; use the ID`}},
		{"with ALLOWED_*", map[string]string{"POLICY_FILE": "testdata/policy/teams.yaml", "ALLOWED_CHANNELS": channel},
			[]string{"POLICY_FILE and ALLOWED_USERS are both set", "POLICY_FILE and ALLOWED_CHANNELS are both set"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := baseEnv(sl, ipr, freeAddr(t))
			for k, v := range tt.edit {
				env[k] = v
			}
			r := runWith(t, env, "")
			if code := exitCode(r.err); r.err == nil || code != 2 {
				t.Fatalf("err = %v (exit %d), want exit 2", r.err, code)
			}
			assertContains(t, "the start-up error", r.stderr, tt.wants...)
		})
	}
	if n := len(sl.State().Calls("auth.test")); n != 0 {
		t.Errorf("a bad configuration reached Slack: %d auth.test calls", n)
	}
}
