package policy

import (
	"fmt"
	"slices"
	"testing"
)

const (
	hashEU  = "01HQ5K3P97DY8EX9Y90YT1K6XA"
	hashQA  = "01HQ5K3P97DY8EX9Y90YT1K6XB"
	hashAny = "01HQ5K3P97DY8EX9Y90YT1K6XC"
)

func mustParse(t testing.TB, s string) *Policy {
	t.Helper()
	p, err := Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func member(groups ...string) func(string) bool {
	return func(g string) bool { return slices.Contains(groups, g) }
}

func TestDecide(t *testing.T) {
	p := mustParse(t, example)
	eu := Requester{User: "U0123ABCD", Channel: "C0789IJKL"}
	qa := Requester{User: "U0QAER", Channel: "C0QA", Member: member("S0QA")}
	sre := Requester{User: "U0SREER", Channel: "C0ANY", Member: member("S0SRE")}
	for _, tt := range []struct {
		name    string
		req     Requester
		targets []Target
		grants  []int // each target's grant, -1: refused
		over    []string
	}{
		{"EU resets its own by glob", eu, []Target{{Hash: hashAny, Username: "scraper-eu-1"}}, []int{0}, nil},
		{"globs ignore case", eu, []Target{{Hash: hashAny, Username: "Scraper-EU-1"}}, []int{0}, nil},
		{"EU resets a listed hash", eu, []Target{{Hash: hashEU}}, []int{0}, nil},
		{"EU may not reset QA's", eu, []Target{{Hash: hashQA, Username: "qa-1"}}, []int{-1}, nil},
		{"a mixed request: one of two", eu, []Target{{Hash: hashAny, Username: "scraper-eu-1"}, {Hash: hashQA, Username: "qa-1"}}, []int{0, -1}, nil},
		{"EU elsewhere is nobody", Requester{User: "U0123ABCD", Channel: "C0OTHER"}, []Target{{Hash: hashEU}}, []int{-1}, nil},
		{"EU through its group", Requester{User: "U0X", Channel: "C0789IJKL", Member: member("S0456EFGH")}, []Target{{Hash: hashEU}}, []int{0}, nil},
		{"QA in its channel", qa, []Target{{Hash: hashQA, Username: "qa-7"}}, []int{1}, nil},
		{"QA outside it", Requester{User: "U0QAER", Channel: "C0ELSE", Member: member("S0QA")}, []Target{{Hash: hashQA, Username: "qa-7"}}, []int{-1}, nil},
		{"a hash without its username: only listed hashes", qa, []Target{{Hash: hashQA}}, []int{-1}, nil},
		{"SRE resets anything, anywhere", sre, []Target{{Hash: hashQA, Username: "qa-7"}, {Hash: hashAny}}, []int{2, 2}, nil},
		{"the first grant in file order wins", Requester{User: "U0123ABCD", Channel: "C0789IJKL", Member: member("S0SRE")},
			[]Target{{Hash: hashAny, Username: "scraper-eu-2"}, {Hash: hashQA, Username: "qa-1"}}, []int{0, 2}, nil},
		{"a stranger", Requester{User: "U0NOBODY", Channel: "C0789IJKL"}, []Target{{Hash: hashEU}}, []int{-1}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := p.Decide(tt.req, tt.targets)
			if !slices.Equal(d.Grant, tt.grants) || !slices.Equal(d.Over, tt.over) {
				t.Errorf("Decide = %+v, want grants %v, over %v", d, tt.grants, tt.over)
			}
			if want := !slices.Contains(tt.grants, -1) && len(tt.over) == 0; d.Allowed() != want {
				t.Errorf("Allowed = %v, want %v", d.Allowed(), want)
			}
		})
	}
}

func TestMaxTargets(t *testing.T) {
	p := mustParse(t, "grants:\n  - name: small\n    users: [U0A]\n    subusers: [\"a-*\"]\n    max_targets: 2\n  - name: big\n    users: [U0A]\n    subusers: [\"b-*\"]\n")
	var targets []Target
	for i := range 3 {
		targets = append(targets, Target{Hash: fmt.Sprint(i), Username: fmt.Sprintf("a-%d", i)}, Target{Hash: fmt.Sprint(10 + i), Username: fmt.Sprintf("b-%d", i)})
	}
	d := p.Decide(Requester{User: "U0A"}, targets)
	if d.Allowed() || !slices.Equal(d.Over, []string{"small"}) {
		t.Errorf("3 targets under a grant of 2: %+v", d)
	}
	if d := p.Decide(Requester{User: "U0A"}, targets[:4]); !d.Allowed() {
		t.Errorf("2 targets under a grant of 2: %+v", d)
	}
	if got := p.Names(p.Decide(Requester{User: "U0A"}, targets[:2])); !slices.Equal(got, []string{"small", "big"}) {
		t.Errorf("Names = %v", got)
	}
}

func TestEverythingIsOneGrantOfAll(t *testing.T) {
	p := Everything([]string{"U0A"}, []string{"S0G"}, []string{"C0X"})
	if !p.FromEnvironment() || len(p.Grants) != 1 {
		t.Fatalf("%+v", p)
	}
	if d := p.Decide(Requester{User: "U0A", Channel: "C0X"}, []Target{{Hash: hashAny}}); !d.Allowed() {
		t.Error("the environment's user may not reset everything")
	}
	if d := p.Decide(Requester{User: "U0B", Channel: "C0X", Member: member("S0G")}, []Target{{Hash: hashAny}}); !d.Allowed() {
		t.Error("a member of the environment's group may not reset everything")
	}
	if d := p.Decide(Requester{User: "U0A", Channel: "C0Y"}, []Target{{Hash: hashAny}}); d.Allowed() {
		t.Error("ALLOWED_CHANNELS does not hold")
	}
	if p.NeedsNames(Requester{User: "U0A"}) {
		t.Error("a grant of everything needs no usernames")
	}
}
