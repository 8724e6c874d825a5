package policy

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sessionbot/sessionbot/iproyal"
)

// scale is a policy of 1,000 grants over 100 groups and an account of
// 10,000 sub-users, the size BENCHMARKS.md states the goals at.
func scale(b *testing.B) (*Policy, []Target, Requester) {
	var f strings.Builder
	f.WriteString("grants:\n")
	for i := range 1000 {
		fmt.Fprintf(&f, "  - name: team-%d\n    users: [U%07d]\n    usergroups: [S%03d]\n    channels: [C%03d]\n    subusers: [\"team-%d-*\", \"shared-%d-??\"]\n",
			i, i, i%100, i%100, i, i%50)
	}
	p, err := Parse([]byte(f.String()))
	if err != nil {
		b.Fatal(err)
	}
	subs := make([]Target, 10000)
	for i := range subs {
		raw, _ := iproyal.HashBytes("01HQ5K3P97DY8EX9Y90YT1K6XA")
		raw[14], raw[15] = byte(i>>8), byte(i)
		subs[i] = Target{Hash: iproyal.HashFromBytes(raw), Username: fmt.Sprintf("team-%d-%d", i%1000, i)}
	}
	// A requester in three groups, asking from one of them.
	req := Requester{User: "U0000007", Channel: "C007", Member: func(g string) bool { return g == "S007" || g == "S042" || g == "S099" }}
	return p, subs, req
}

// BenchmarkDecide is one request of 10 targets, their usernames known.
func BenchmarkDecide(b *testing.B) {
	p, subs, req := scale(b)
	targets := make([]Target, 10)
	for i := range targets {
		targets[i] = subs[7+1000*i] // team-7's: all allowed
	}
	b.ReportAllocs()
	for b.Loop() {
		if d := p.Decide(req, targets); !d.Allowed() {
			b.Fatal(d)
		}
	}
}

// BenchmarkFilter is find's or the picker's options: which of the
// account's 10,000 sub-users the requester may reset anywhere.
func BenchmarkFilter(b *testing.B) {
	p, subs, req := scale(b)
	req.Channel = ""
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		scope := p.Scope(req)
		for _, t := range subs {
			if scope.Covers(t) {
				n++
			}
		}
		if n == 0 {
			b.Fatal("none")
		}
	}
}
