package bot

import (
	"context"
	"errors"
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

// finderFunc is a SubuserFinder from a function.
type finderFunc func(ctx context.Context, username string) (iproyal.Subuser, error)

func (f finderFunc) FindSubuser(ctx context.Context, username string) (iproyal.Subuser, error) {
	return f(ctx, username)
}

// The first lookup to fail is the one reported, at once, and it cancels the
// others: one 401 beside hanging lookups does not wait for them.
func TestResolveTargetsReportsTheFirstFailureAtOnce(t *testing.T) {
	unauthorized := &iproyal.APIError{StatusCode: 401, Message: "Unauthenticated."}
	cancelled := make(chan string, 10)
	finder := finderFunc(func(ctx context.Context, username string) (iproyal.Subuser, error) {
		if username == "fails" {
			return iproyal.Subuser{}, unauthorized
		}
		<-ctx.Done() // hangs until cancelled
		cancelled <- username
		return iproyal.Subuser{}, ctx.Err()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	_, _, err := ResolveTargets(ctx, finder, []string{"hangs-a", "hangs-b", "fails", "hangs-c"})
	if !errors.Is(err, iproyal.ErrUnauthorized) {
		t.Fatalf("err = %v, want the 401", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("took %v: it waited for the hanging lookups", took)
	}
	if n := len(cancelled); n != 3 {
		t.Errorf("%d hanging lookups were cancelled, want 3", n)
	}
}
