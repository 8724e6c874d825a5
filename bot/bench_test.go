package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/sessionbot/sessionbot/bot/policy"
	"strings"
	"testing"
	"time"

	"github.com/sessionbot/sessionbot/iproyal"
)

func benchText(n int) string {
	words := make([]string, n)
	for i := range words {
		words[i] = fmt.Sprintf("01H7YCG0R9GYY1YCPS2S4QA%03d", i)
	}
	return strings.Join(words, ", ")
}

func BenchmarkParseCommand(b *testing.B) {
	for _, n := range []int{1, 100} {
		text := benchText(n)
		b.Run(fmt.Sprintf("%d_hashes", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				targets, bad, err := ResolveTargets(context.Background(), nil, SplitTargets(text))
				if err != nil || len(bad) != 0 || len(targets) != n {
					b.Fatal(len(targets), bad, err)
				}
			}
		})
	}
}

func BenchmarkRenderAnnouncement(b *testing.B) {
	for _, n := range []int{1, 100} {
		targets, _, _ := ResolveTargets(context.Background(), nil, SplitTargets(benchText(n)))
		b.Run(fmt.Sprintf("%d_hashes", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m := AnnouncementMessage("a1b2c3d4", "U0ALICE", targets)
				if _, err := json.Marshal(m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRenderFailure(b *testing.B) {
	err := &iproyal.APIError{StatusCode: 503, Message: "Service Unavailable"}
	b.ReportAllocs()
	for b.Loop() {
		m := failureMessage("a1b2c3d4", "U0ALICE", err)
		if _, err := json.Marshal(m); err != nil {
			b.Fatal(err)
		}
	}
}

// nopChat and nopIPRoyal isolate the core's own cost from the network.
type nopChat struct{}

func (nopChat) Post(context.Context, string, string, Message) (string, error) { return "1.0", nil }
func (nopChat) Reply(context.Context, string, string, Message, bool) error    { return nil }
func (nopChat) Update(context.Context, string, string, Message) error         { return nil }
func (nopChat) React(context.Context, string, string, string) error           { return nil }
func (nopChat) Link(string, string) string                                    { return "" }
func (nopChat) Find(context.Context, string, string, Tag, time.Time) (string, error) {
	return "", nil
}

type nopIPRoyal struct{}

func (nopIPRoyal) FindSubusers(context.Context, []string) (iproyal.Lookup, error) {
	return iproyal.Lookup{}, nil
}
func (nopIPRoyal) SearchSubusers(context.Context, string, int) ([]iproyal.Subuser, int, error) {
	return nil, 0, nil
}
func (nopIPRoyal) ResetSessions(context.Context, []string) error { return nil }
func (nopIPRoyal) Subuser(context.Context, string) (iproyal.Subuser, error) {
	return iproyal.Subuser{}, iproyal.ErrNotFound
}
func (nopIPRoyal) Me(context.Context) (iproyal.Account, error) { return iproyal.Account{}, nil }

// BenchmarkHandle is one accepted command through the core, without I/O:
// parse, authorize, render three messages, log one line.
func BenchmarkHandle(b *testing.B) {
	bot := New(Config{Now: time.Now}, NewAuthorizer(policy.Everything([]string{"U1"}, nil, nil), nil, nil), nopIPRoyal{}, nopChat{})
	req := Request{Via: ViaSlash, User: "U1", Channel: "C1", Text: benchText(2)}
	b.ReportAllocs()
	for b.Loop() {
		if res := bot.Handle(context.Background(), req); res.Outcome != OutcomeReset {
			b.Fatal(res.Outcome)
		}
	}
}
