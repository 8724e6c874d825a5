package policy

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const example = `# Who may reset which sub-users, and where.
contact: "ask in #proxy-admins"
grants:
  - name: eu-scrapers
    users: [U0123ABCD]
    usergroups: [S0456EFGH]
    channels: [C0789IJKL]
    subusers: ["scraper-eu-*", "01HQ5K3P97DY8EX9Y90YT1K6XA"]
    max_targets: 20
  - name: qa
    usergroups: [S0QA]
    channels: [C0QA]
    subusers: ["qa-*"]
  - name: sre
    usergroups: [S0SRE]
    subusers: ["*"]
    approval:
      above: 10
      subusers: ["billing-*"]
      approvers:
        users: [U0AAA]
        usergroups: [S0BBB]
      ttl: 30m
`

func TestParseTheExample(t *testing.T) {
	p, err := Parse([]byte(example))
	if err != nil {
		t.Fatal(err)
	}
	if p.Contact != "ask in #proxy-admins" || len(p.Grants) != 3 || len(p.SHA256) != 64 {
		t.Fatalf("%+v", p)
	}
	eu := p.Grants[0]
	if eu.Name != "eu-scrapers" || eu.MaxTargets != 20 || eu.Line != 4 || len(eu.Subusers) != 2 {
		t.Errorf("eu-scrapers = %+v", eu)
	}
	a := p.Grants[2].Approval
	if a == nil || a.Above != 10 || a.TTL != 30*time.Minute || a.Users[0] != "U0AAA" || a.Usergroups[0] != "S0BBB" || a.Subusers[0] != "billing-*" {
		t.Errorf("approval = %+v", a)
	}
	if got := strings.Join(p.Groups(), ","); got != "S0456EFGH,S0QA,S0SRE" {
		t.Errorf("groups = %s", got)
	}
}

// Every mistake says what is wrong, and on which line.
func TestParseRefusesMistakesWithTheirLine(t *testing.T) {
	grant := func(extra string) string {
		return "grants:\n  - name: a\n    users: [U0A]\n    subusers: [\"x-*\"]\n" + extra
	}
	for _, tt := range []struct {
		name, file string
		line       int
		want       string
	}{
		{"empty", "", 0, "the file is empty"},
		{"not a mapping", "- a\n", 1, "must be a mapping"},
		{"syntax", "grants: [\n", 1, "did not find expected"},
		{"unknown top key", "contact: x\ngrant: []\n", 2, `unknown key "grant"`},
		{"no grants", "contact: x\n", 1, "grants: a list of at least one grant is needed"},
		{"unknown grant key", grant("    max_target: 3\n"), 5, `unknown key "max_target" in a grant`},
		{"a name for a user", grant("    users: [\"@ana\"]\n"), 5, `key "users" appears twice`},
		{"a user name", "grants:\n  - name: a\n    users: [\"@ana\"]\n    subusers: [\"*\"]\n", 3, `users: "@ana" is not a Slack ID; use the ID`},
		{"a channel name", grant("    channels: [\"#ops\"]\n"), 5, `channels: "#ops" is not a Slack ID; use the ID, a channel ID`},
		{"a group handle", "grants:\n  - name: a\n    usergroups: [sre-team]\n    subusers: [\"*\"]\n", 3, `usergroups: "sre-team" is not a Slack ID`},
		{"a bad pattern", "grants:\n  - name: a\n    users: [U0A]\n    subusers: [\"scraper-[\"]\n", 4, `"scraper-[" is not a valid pattern`},
		{"empty subusers", "grants:\n  - name: a\n    users: [U0A]\n    subusers: []\n", 4, "the list is empty"},
		{"no subusers", "grants:\n  - name: a\n    users: [U0A]\n", 2, `grant "a" has no subusers`},
		{"nobody", "grants:\n  - name: a\n    subusers: [\"*\"]\n", 2, `grant "a" has neither users nor usergroups`},
		{"no name", "grants:\n  - users: [U0A]\n    subusers: [\"*\"]\n", 2, "a grant needs a name"},
		{"a duplicate name", grant("  - name: a\n    users: [U0B]\n    subusers: [\"*\"]\n"), 5, `grant "a" is named twice (first on line 2)`},
		{"max_targets 0", grant("    max_targets: 0\n"), 5, "max_targets must be a whole number of at least 1"},
		{"a ttl too long", grant("    approval:\n      approvers: {users: [U0C]}\n      ttl: 25h\n"), 7, "ttl must be a duration from 1s to 24h"},
		{"no approvers", grant("    approval:\n      above: 3\n"), 6, "approval needs approvers"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.file))
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("Parse = %v, want an *Error", err)
			}
			if perr.Line != tt.line || !strings.Contains(perr.Msg, tt.want) {
				t.Errorf("Parse = %q (line %d), want line %d saying %q", err, perr.Line, tt.line, tt.want)
			}
		})
	}
}

func TestApprovalWithNeitherAboveNorSubusersIsEveryRequest(t *testing.T) {
	p, err := Parse([]byte("grants:\n  - name: a\n    users: [U0A]\n    subusers: [\"*\"]\n    approval:\n      approvers: {users: [U0B]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if a := p.Grants[0].Approval; a.Above != 0 || a.TTL != 30*time.Minute {
		t.Errorf("approval = %+v, want every request (above 0), 30m", a)
	}
}
