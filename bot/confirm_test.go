package bot

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

func manyTargets(n int, names bool) []Target {
	ts := make([]Target, n)
	for i := range ts {
		ts[i].Hash = fmt.Sprintf("01H7YCG0R9GYY1YCPS2S4Q%04d", i)
		if names {
			ts[i].Username = fmt.Sprintf("scraper-%03d", i)
		}
	}
	return ts
}

func TestTokenRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		n         int
		names     bool
		wantNames bool
	}{{1, true, true}, {11, true, true}, {60, true, true}, {100, false, false}, {100, true, false}} {
		t.Run(fmt.Sprintf("%d targets, names %v", tt.n, tt.names), func(t *testing.T) {
			p := pending{ID: "a1b2c3d4", User: "U0ALICE", Channel: "C0GENERAL", Targets: manyTargets(tt.n, tt.names), Expires: time.Unix(1764158700, 123)}
			tok, err := sealToken(testKey, p, MaxTokenLen)
			if err != nil {
				t.Fatal(err)
			}
			if len(tok) > MaxTokenLen {
				t.Fatalf("token of %d characters, over MaxTokenLen", len(tok))
			}
			got, err := openToken(testKey, tok)
			if err != nil {
				t.Fatal(err)
			}
			want := p.Targets
			if !tt.wantNames {
				want = manyTargets(tt.n, false)
			}
			if got.ID != p.ID || got.User != p.User || got.Channel != p.Channel || !got.Expires.Equal(p.Expires) || !slices.Equal(got.Targets, want) {
				t.Fatalf("opened %+v", got)
			}
		})
	}
}

func TestTamperedTokensAreRefused(t *testing.T) {
	tok, err := sealToken(testKey, pending{User: "U0ALICE", Channel: "C1", Targets: manyTargets(12, true), Expires: time.Now()}, MaxTokenLen)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openToken([]byte("another key, another replica set"), tok); err == nil {
		t.Error("a token signed with another key opened")
	}
	for i := 0; i < len(tok); i += 7 {
		b := []byte(tok)
		b[i] ^= 1
		if _, err := openToken(testKey, string(b)); err == nil && string(b) != tok {
			t.Fatalf("a token changed at %d opened", i)
		}
	}
	for _, bad := range []string{"", "x", strings.Repeat("A", 40), tok[:len(tok)-1], tok + "A",
		tok[:20] + "\n" + tok[20:], tok[:20] + "\r" + tok[20:], tok + "\r\n"} {
		if _, err := openToken(testKey, bad); err == nil {
			t.Errorf("%q opened", bad)
		}
	}
}

func FuzzOpenToken(f *testing.F) {
	tok, _ := sealToken(testKey, pending{User: "U1", Channel: "C1", Targets: manyTargets(3, true), Expires: time.Unix(0, 0)}, MaxTokenLen)
	f.Add(tok)
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := openToken(testKey, s)
		if err == nil && s != tok {
			t.Fatalf("an unsigned token opened: %+v", p)
		}
	})
}

// A dry run offline looks nothing up: its targets travel by username, and
// a confirmation of them works like any other.
func TestTokenCarriesTargetsWithoutHashes(t *testing.T) {
	targets := []Target{{Username: "scraper-eu"}, {Hash: "01H7YCG0R9GYY1YCPS2S4QA6WB"}, {Hash: "01HQ5K3P97DY8EX9Y90YT1K6XA", Username: "named"}}
	tok, err := sealToken(testKey, pending{ID: "r", User: "U1", Channel: "C1", Targets: targets, Expires: time.Unix(1, 0)}, MaxTokenLen)
	if err != nil {
		t.Fatal(err)
	}
	p, err := openToken(testKey, tok)
	if err != nil || !slices.Equal(p.Targets, targets) {
		t.Fatalf("opened %+v, %v", p.Targets, err)
	}
	long := make([]Target, 100)
	for i := range long {
		long[i] = Target{Username: fmt.Sprintf("%03d-%s", i, strings.Repeat("u", 60))}
	}
	if _, err := sealToken(testKey, pending{Targets: long, Expires: time.Unix(1, 0)}, MaxTokenLen); !errors.Is(err, errTokenTooBig) {
		t.Errorf("100 long usernames in a button-sized token: %v, want errTokenTooBig", err)
	}
	if _, err := sealToken(testKey, pending{Targets: long, Expires: time.Unix(1, 0)}, 1<<20); err != nil {
		t.Errorf("100 long usernames with no transport limit: %v", err)
	}
}
