package bot

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionbot/sessionbot/iproyal"
	"github.com/sessionbot/sessionbot/iproyal/iproyaltest"
)

const (
	hashA = "01H7YCG0R9GYY1YCPS2S4QA6WB"
	hashB = "01HQ5K3P97DY8EX9Y90YT1K6XA"
	hashC = "01HQ5K3P97DY8EX9Y90YT1K6XC"
)

func TestSplitTargets(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"  \n\t ", nil},
		{"a b", []string{"a", "b"}},
		{"a,b,,c\nd\te", []string{"a", "b", "c", "d", "e"}},
		{"a, a ,b", []string{"a", "b"}},
		{strings.ToLower(hashA) + " " + hashA, []string{strings.ToLower(hashA)}},
		{"User user", []string{"User", "user"}}, // usernames are case-sensitive
	}
	for _, tt := range tests {
		if got := SplitTargets(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("SplitTargets(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestResolveTargets(t *testing.T) {
	srv := iproyaltest.NewServer("tok")
	defer srv.Close()
	srv.SetSubusers(
		iproyaltest.Subuser{Hash: hashB, Username: "scraper-eu"},
		iproyaltest.Subuser{Hash: hashA, Username: "scraper-eu-old"},
	)
	c, err := iproyal.NewClient(iproyal.WithBaseURL(srv.URL), iproyal.WithToken("tok"))
	if err != nil {
		t.Fatal(err)
	}

	targets, bad, err := ResolveTargets(context.Background(), c, []string{hashA, "scraper-eu", "scraper-eu-old", "scraper", "<!here>"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Target{{Hash: hashA, Username: "scraper-eu-old"}, {Hash: hashB, Username: "scraper-eu"}}
	if !slices.Equal(targets, want) {
		t.Errorf("targets = %+v, want %+v (a username naming a hash already listed is dropped, its name kept)", targets, want)
	}
	if len(bad) != 2 || bad[0].Input != "scraper" || bad[1].Input != "<!here>" {
		t.Errorf("bad = %+v", bad)
	}

	srv.Script("GET", "/residential-subusers", iproyaltest.Response{Status: 401})
	if _, _, err := ResolveTargets(context.Background(), c, []string{"scraper-eu"}); err == nil {
		t.Error("an IPRoyal failure should be an error, not a bad target")
	}
}

// FuzzCommandText checks, for any text a user can type, that parsing never
// panics, that every word is accounted for, and that nothing the user typed
// reaches Slack as live markup.
func FuzzCommandText(f *testing.F) {
	for _, s := range []string{
		hashA + " scraper-eu", "<!channel> <!here>", "<@U123|bob>, &lt;!everyone&gt;", "a,,b\n\nc",
		"`<!channel>`", "&amp;lt;!here&amp;gt;", "<https://evil.example|click>", "\u00a0" + hashA,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		words := SplitTargets(text)
		targets, bad, err := ResolveTargets(context.Background(), nil, words)
		if err != nil {
			t.Fatalf("no lookups, yet an error: %v", err)
		}
		if len(targets)+len(bad) > len(words) {
			t.Fatalf("%d targets and %d bad from %d words", len(targets), len(bad), len(words))
		}
		for _, w := range words {
			if strings.TrimSpace(w) == "" || strings.Contains(w, ",") {
				t.Fatalf("word %q holds a separator", w)
			}
		}
		rendered := badTargetsMessage(bad).Text + AnnouncementMessage("id", "U1", targets).Text
		rendered = strings.Replace(rendered, "<@U1>", "", 1)
		if strings.ContainsAny(rendered, "<>") {
			t.Fatalf("live markup in %q", rendered)
		}
	})
}

// Usernames looked up in the last minute, and every sub-user those lookups
// saw, cost IPRoyal nothing; a miss is never remembered.
func TestUsernamesAreCachedForAMinute(t *testing.T) {
	srv := iproyaltest.NewServer("tok")
	defer srv.Close()
	var subs []iproyaltest.Subuser
	var names []string
	for i := range 250 {
		b, _ := iproyal.HashBytes(hashA)
		b[15] = byte(i)
		names = append(names, fmt.Sprintf("scraper-%03d", i))
		subs = append(subs, iproyaltest.Subuser{Hash: iproyal.HashFromBytes(b), Username: names[i]})
	}
	srv.SetSubusers(subs...)
	c, err := iproyal.NewClient(iproyal.WithBaseURL(srv.URL), iproyal.WithToken("tok"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	f := newCachedFinder(c, func() time.Time { return now })
	lookups := func() int { return srv.Count("GET", "/residential-subusers") }
	resolveAll := func(words ...string) ([]Target, []BadTarget) {
		t.Helper()
		targets, bad, err := ResolveTargets(context.Background(), f, words)
		if err != nil {
			t.Fatal(err)
		}
		return targets, bad
	}

	if targets, _ := resolveAll(names[200:210]...); len(targets) != 10 || targets[0].Hash != subs[200].Hash {
		t.Fatalf("targets = %+v", targets)
	}
	listed := lookups()
	if listed != 3 {
		t.Errorf("%d requests for 10 usernames in 3 pages", listed)
	}
	// The listing saw every sub-user: any of them is now free.
	if targets, _ := resolveAll(names[0], names[120], names[249]); len(targets) != 3 || lookups() != listed {
		t.Errorf("%d more requests for usernames the listing saw (targets %+v)", lookups()-listed, targets)
	}
	// A miss is asked again, and found once it exists.
	if _, bad := resolveAll("scraper-new"); len(bad) != 1 {
		t.Fatalf("bad = %+v", bad)
	}
	srv.SetSubusers(append(subs, iproyaltest.Subuser{Hash: hashB, Username: "scraper-new"})...)
	if targets, _ := resolveAll("scraper-new"); len(targets) != 1 || targets[0].Hash != hashB {
		t.Errorf("a new sub-user was not found: %+v", targets)
	}
	// After a minute, IPRoyal is asked again.
	now = now.Add(usernameTTL)
	before := lookups()
	resolveAll(names[0])
	if lookups() != before+1 {
		t.Errorf("%d requests for an expired username, want 1", lookups()-before)
	}
}
