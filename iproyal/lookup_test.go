package iproyal_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionbot/sessionbot/iproyal"
	"github.com/sessionbot/sessionbot/iproyal/iproyaltest"
)

// account fills srv with n sub-users named scraper-0000... and returns
// their usernames.
func account(srv *iproyaltest.Server, n int) []string {
	subs := make([]iproyaltest.Subuser, n)
	names := make([]string, n)
	for i := range subs {
		names[i] = fmt.Sprintf("scraper-%04d", i)
		subs[i] = iproyaltest.Subuser{Hash: hashOf(i), Username: names[i], Password: "secret-" + names[i]}
	}
	srv.SetSubusers(subs...)
	return names
}

// hashOf is the i-th of many distinct valid hashes.
func hashOf(i int) string {
	b, err := iproyal.HashBytes("01H7YCG0R9GYY1YCPS2S4QA6WB")
	if err != nil {
		panic(err)
	}
	b[14], b[15] = byte(i>>8), byte(i)
	return iproyal.HashFromBytes(b)
}

func TestFindSubusersCostsPagesNotUsernames(t *testing.T) {
	tests := []struct {
		name          string
		account, asks int
		maxPerPage    int
		wantRequests  int
	}{
		{"one username: one search", 1000, 1, 100, 1},
		{"four usernames: four searches at once", 1000, 4, 100, 4},
		{"100 usernames in 10 pages: the pages", 1000, 100, 100, 10},
		{"100 usernames in 12 pages, IPRoyal capping at 90", 1000, 100, 90, 12},
		{"100 usernames all on the first page", 100, 100, 100, 1},
		{"6 usernames in 50 pages: page 1, then a search each", 5000, 6, 100, 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t)
			srv.SetMaxPerPage(tc.maxPerPage)
			names := account(srv, tc.account)
			c, _ := newClient(t, srv)
			// Ask for the last ones, so the first page does not hold them.
			want := names[len(names)-tc.asks:]
			l, err := c.FindSubusers(context.Background(), want)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range want {
				if l.Found[u].Username != u || l.Found[u].Hash != hashOf(slices.Index(names, u)) {
					t.Fatalf("%s: found %+v", u, l.Found[u])
				}
			}
			if n := srv.Count("GET", "/residential-subusers"); n != tc.wantRequests {
				t.Errorf("%d requests, want %d", n, tc.wantRequests)
			}
			if s := fmt.Sprintf("%+v", l); strings.Contains(s, "secret") {
				t.Error("a password was decoded")
			}
		})
	}
}

// A username no sub-user has gets the suggestions IPRoyal's search would
// have given, whether it was searched for or matched in the listing.
func TestFindSubusersSuggestsTheSameEitherWay(t *testing.T) {
	for _, asks := range []int{1, 20} {
		t.Run(fmt.Sprint(asks, " usernames"), func(t *testing.T) {
			srv := newServer(t)
			names := account(srv, 300)
			srv.SetSubusers(append(srvSubusers(names), iproyaltest.Subuser{Hash: hashOf(999), Username: "ghost-eu-old"}, iproyaltest.Subuser{Hash: hashOf(998), Username: "ghost-eu-2"})...)
			c, _ := newClient(t, srv)
			want := append([]string{"ghost-eu", "nobody"}, names[:asks-1]...)
			l, err := c.FindSubusers(context.Background(), want)
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Found) != asks-1 {
				t.Errorf("found %d, want %d", len(l.Found), asks-1)
			}
			if got := l.Suggestions["ghost-eu"]; !slices.Equal(got, []string{"ghost-eu-2", "ghost-eu-old"}) {
				t.Errorf("suggestions for ghost-eu = %v", got)
			}
			if got, ok := l.Suggestions["nobody"]; !ok || len(got) != 0 {
				t.Errorf("suggestions for nobody = %v, %v", got, ok)
			}
		})
	}
}

func srvSubusers(names []string) []iproyaltest.Subuser {
	subs := make([]iproyaltest.Subuser, len(names))
	for i, n := range names {
		subs[i] = iproyaltest.Subuser{Hash: hashOf(i), Username: n}
	}
	return subs
}

// A page that fails fails the lookup, and the error says so: no partial
// answer passes for a complete one.
func TestFindSubusersFailsOnAFailedPage(t *testing.T) {
	srv := newServer(t)
	names := account(srv, 1000)
	c, _ := newClient(t, srv, iproyal.WithRetryPolicy(iproyal.RetryPolicy{Attempts: 1, AttemptTimeout: time.Second}))
	srv.Script("GET", "/residential-subusers", iproyaltest.Response{}, iproyaltest.Response{Status: 503, Body: `{"message":"down"}`})
	_, err := c.FindSubusers(context.Background(), names[900:])
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("err = %v, want the 503", err)
	}
}

// The first lookup to fail is the one reported, at once: one 401 beside
// hanging searches does not wait for them.
func TestFindSubusersReportsTheFirstFailureAtOnce(t *testing.T) {
	srv := newServer(t)
	account(srv, 10)
	c, _ := newClient(t, srv)
	srv.Script("GET", "/residential-subusers",
		iproyaltest.Response{Status: 401, Body: `{"message":"Unauthenticated."}`},
		iproyaltest.Response{Delay: time.Minute}, iproyaltest.Response{Delay: time.Minute}, iproyaltest.Response{Delay: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := c.FindSubusers(ctx, []string{"a", "b", "c", "d"})
	if !errors.Is(err, iproyal.ErrUnauthorized) {
		t.Fatalf("err = %v, want the 401", err)
	}
	if ctx.Err() != nil {
		t.Error("it waited for the hanging searches")
	}
}

func TestSubuserByHash(t *testing.T) {
	srv := newServer(t)
	srv.SetSubusers(iproyaltest.Subuser{Hash: hashB, Username: "scraper-eu", Password: "secret"})
	c, _ := newClient(t, srv)
	s, err := c.Subuser(context.Background(), strings.ToLower(hashB))
	if err != nil || s.Username != "scraper-eu" || s.Hash != hashB {
		t.Fatalf("Subuser = %+v, %v", s, err)
	}
	if _, err := c.Subuser(context.Background(), hashA); !errors.Is(err, iproyal.ErrNotFound) {
		t.Errorf("an unknown hash: %v, want ErrNotFound", err)
	}
	if _, err := c.Subuser(context.Background(), "scraper-eu"); err == nil {
		t.Error("a username was sent as a hash")
	}
}
