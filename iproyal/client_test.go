package iproyal_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionbot/sessionbot/iproyal"
	"github.com/sessionbot/sessionbot/iproyal/iproyaltest"
)

const (
	token = "tok-9f8e7d6c5b4a"
	hashA = "01H7YCG0R9GYY1YCPS2S4QA6WB"
	hashB = "01HQ5K3P97DY8EX9Y90YT1K6XA"
)

// sleeps records every backoff instead of waiting it out.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

var epoch = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func newClient(t *testing.T, srv *iproyaltest.Server, opts ...iproyal.Option) (*iproyal.Client, *sleeps) {
	t.Helper()
	sl := &sleeps{}
	base := []iproyal.Option{
		iproyal.WithBaseURL(srv.URL),
		iproyal.WithToken(srv.Token),
		iproyal.WithUserAgent("sessionbot/test"),
		iproyal.WithSleep(sl.sleep),
		iproyal.WithClock(func() time.Time { return epoch }),
	}
	c, err := iproyal.NewClient(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c, sl
}

func newServer(t *testing.T) *iproyaltest.Server {
	srv := iproyaltest.NewServer(token)
	t.Cleanup(srv.Close)
	return srv
}

func TestResetSessionsRequest(t *testing.T) {
	srv := newServer(t)
	c, _ := newClient(t, srv)
	if err := c.ResetSessions(context.Background(), []string{hashA, hashB}); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodDelete || r.Path != "/sessions" {
		t.Errorf("request = %s %s, want DELETE /sessions", r.Method, r.Path)
	}
	for h, want := range map[string]string{
		"Authorization": "Bearer " + token,
		"Content-Type":  "application/json",
		"User-Agent":    "sessionbot/test",
		"Accept":        "application/json",
	} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if got, want := string(r.Body), `{"residential_user_hashes":["`+hashA+`","`+hashB+`"]}`; got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
	if got := srv.Resets(); len(got) != 1 || len(got[0]) != 2 {
		t.Errorf("resets = %v", got)
	}
}

func TestResetSessionsSuccessShapes(t *testing.T) {
	for _, resp := range []iproyaltest.Response{
		{Status: 200, Body: `{"message":"Sessions removed"}`},
		{Status: 200},
		{Status: 204},
		{Status: 202, Body: "accepted"},
	} {
		t.Run(fmt.Sprint(resp.Status, resp.Body), func(t *testing.T) {
			srv := newServer(t)
			srv.Script("DELETE", "/sessions", resp)
			c, _ := newClient(t, srv)
			if err := c.ResetSessions(context.Background(), []string{hashA}); err != nil {
				t.Fatalf("ResetSessions: %v", err)
			}
		})
	}
}

func TestResetSessionsEmptyListSendsNothing(t *testing.T) {
	srv := newServer(t)
	c, _ := newClient(t, srv)
	if err := c.ResetSessions(context.Background(), nil); !errors.Is(err, iproyal.ErrNoHashes) {
		t.Fatalf("err = %v, want ErrNoHashes", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Fatalf("%d requests sent for an empty list", n)
	}
}

func TestErrorClassesAndRetries(t *testing.T) {
	tests := []struct {
		status       int
		class        error
		wantAttempts int
	}{
		{401, iproyal.ErrUnauthorized, 1},
		{403, iproyal.ErrUnauthorized, 1},
		{404, iproyal.ErrNotFound, 1},
		{422, iproyal.ErrValidation, 1},
		{400, nil, 1},
		{429, iproyal.ErrRateLimited, 3},
		{500, iproyal.ErrServer, 3},
		{502, iproyal.ErrServer, 3},
		{503, iproyal.ErrServer, 3},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			srv := newServer(t)
			r := iproyaltest.Response{Status: tt.status, Body: `{"message":"nope"}`}
			srv.Script("DELETE", "/sessions", r, r, r, r)
			c, sl := newClient(t, srv)
			err := c.ResetSessions(context.Background(), []string{hashA})
			var apiErr *iproyal.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want *APIError", err)
			}
			if apiErr.StatusCode != tt.status || apiErr.Message != "nope" || apiErr.Path != "/sessions" {
				t.Errorf("APIError = %+v", apiErr)
			}
			if tt.class != nil && !errors.Is(err, tt.class) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.class)
			}
			for _, other := range []error{iproyal.ErrUnauthorized, iproyal.ErrNotFound, iproyal.ErrValidation, iproyal.ErrRateLimited, iproyal.ErrServer} {
				if other != tt.class && errors.Is(err, other) {
					t.Errorf("error also matches %v", other)
				}
			}
			if got := srv.Count("DELETE", "/sessions"); got != tt.wantAttempts {
				t.Errorf("attempts = %d, want %d", got, tt.wantAttempts)
			}
			if got := len(sl.all()); got != tt.wantAttempts-1 {
				t.Errorf("backoffs = %d, want %d", got, tt.wantAttempts-1)
			}
		})
	}
}

func TestRetryRecoversAndBacksOffWithJitter(t *testing.T) {
	srv := newServer(t)
	srv.Script("DELETE", "/sessions", iproyaltest.Response{Status: 503}, iproyaltest.Response{Status: 502})
	c, sl := newClient(t, srv, iproyal.WithRetryPolicy(iproyal.RetryPolicy{BaseDelay: 100 * time.Millisecond}))
	if err := c.ResetSessions(context.Background(), []string{hashA}); err != nil {
		t.Fatalf("third attempt should succeed: %v", err)
	}
	got := sl.all()
	if len(got) != 2 {
		t.Fatalf("backoffs = %v", got)
	}
	// Equal jitter: attempt n waits between half and all of base * 2^(n-1).
	for i, d := range got {
		full := 100 * time.Millisecond << i
		if d < full/2 || d > full {
			t.Errorf("backoff %d = %v, want in [%v, %v]", i, d, full/2, full)
		}
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	tests := []struct {
		name, header string
		want         time.Duration
	}{
		{"seconds", "7", 7 * time.Second},
		{"http date", epoch.Add(12 * time.Second).Format(http.TimeFormat), 12 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			srv.Script("DELETE", "/sessions", iproyaltest.Response{
				Status: 429, Body: `{"message":"Too Many Attempts."}`,
				Header: map[string]string{"Retry-After": tt.header},
			})
			c, sl := newClient(t, srv)
			if err := c.ResetSessions(context.Background(), []string{hashA}); err != nil {
				t.Fatal(err)
			}
			if got := sl.all(); len(got) != 1 || got[0] != tt.want {
				t.Fatalf("waited %v, want exactly [%v]", got, tt.want)
			}
		})
	}
}

func TestRetryAfterBeyondCapIsReportedNotWaited(t *testing.T) {
	srv := newServer(t)
	srv.Script("DELETE", "/sessions", iproyaltest.Response{
		Status: 429, Header: map[string]string{"Retry-After": "3600"},
	})
	c, sl := newClient(t, srv)
	err := c.ResetSessions(context.Background(), []string{hashA})
	var apiErr *iproyal.APIError
	if !errors.As(err, &apiErr) || apiErr.RetryAfter != time.Hour {
		t.Fatalf("err = %v, want a 429 with RetryAfter 1h", err)
	}
	if len(sl.all()) != 0 || srv.Count("DELETE", "/sessions") != 1 {
		t.Fatalf("waited %v over %d attempts; want no wait and one attempt", sl.all(), srv.Count("DELETE", "/sessions"))
	}
	if !strings.Contains(err.Error(), "retry after 1h0m0s") {
		t.Errorf("error %q does not say when to retry", err)
	}
}

func TestNetworkErrorsAreRetried(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 3 {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close() // the connection drops with no answer
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	sl := &sleeps{}
	c, err := iproyal.NewClient(iproyal.WithBaseURL(srv.URL+"/v1"), iproyal.WithToken(token), iproyal.WithSleep(sl.sleep))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ResetSessions(context.Background(), []string{hashA}); err != nil {
		t.Fatalf("ResetSessions: %v", err)
	}
	if calls.Load() != 3 {
		t.Fatalf("calls = %d, want 3", calls.Load())
	}
}

func TestEachAttemptHasItsOwnTimeout(t *testing.T) {
	srv := newServer(t)
	srv.SetDelay(time.Minute)
	c, _ := newClient(t, srv, iproyal.WithRetryPolicy(iproyal.RetryPolicy{AttemptTimeout: 20 * time.Millisecond}))
	err := c.ResetSessions(context.Background(), []string{hashA})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline error", err)
	}
	if got := srv.Count("DELETE", "/sessions"); got != 3 {
		t.Fatalf("attempts = %d, want 3", got)
	}
	if !strings.Contains(err.Error(), "gave up after 3 attempts") {
		t.Errorf("error %q does not say it retried", err)
	}
}

func TestCancelDuringBackoffReturnsAtOnce(t *testing.T) {
	srv := newServer(t)
	srv.Script("DELETE", "/sessions", iproyaltest.Response{Status: 503})
	// The real sleep, with a backoff far longer than the test may take.
	c, err := iproyal.NewClient(iproyal.WithBaseURL(srv.URL), iproyal.WithToken(token),
		iproyal.WithRetryPolicy(iproyal.RetryPolicy{BaseDelay: time.Hour, MaxDelay: time.Hour}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.ResetSessions(ctx, []string{hashA}) }()

	deadline := time.Now().Add(5 * time.Second)
	for srv.Count("DELETE", "/sessions") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no request reached the double")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ResetSessions kept waiting after its context was cancelled")
	}
	if got := srv.Count("DELETE", "/sessions"); got != 1 {
		t.Fatalf("attempts = %d, want 1", got)
	}
}

func TestErrorBodyShapes(t *testing.T) {
	long := strings.Repeat("x", 1000)
	tests := []struct {
		name, body, want string
	}{
		{"message", `{"message":"Unauthenticated."}`, "Unauthenticated."},
		{"error object", `{"error":{"code":"forbidden","message":"API access is not enabled"}}`, "API access is not enabled"},
		{"error string", `{"error":"invalid_token"}`, "invalid_token"},
		{"laravel errors", `{"errors":{"residential_user_hashes.0":["The hash is invalid."],"a":["First.","Second."]}}`,
			"a: First. Second.; residential_user_hashes.0: The hash is invalid."},
		{"message wins over errors", `{"message":"The given data was invalid.","errors":{"x":["y"]}}`, "The given data was invalid."},
		{"plain text", "Bad Gateway\n", "Bad Gateway"},
		{"html", "<html>\n  <body>oops</body>\n</html>", "<html> <body>oops</body> </html>"},
		{"empty", "", ""},
		{"long raw body is truncated", long, strings.Repeat("x", 300) + "…"},
		{"json with a non-string message", `{"message":42}`, `{"message":42}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			srv.Script("DELETE", "/sessions", iproyaltest.Response{Status: 400, Body: tt.body})
			c, _ := newClient(t, srv)
			err := c.ResetSessions(context.Background(), []string{hashA})
			var apiErr *iproyal.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v", err)
			}
			if apiErr.Message != tt.want {
				t.Fatalf("Message = %q, want %q", apiErr.Message, tt.want)
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	srv := newServer(t)
	c, _ := newClient(t, srv, iproyal.WithToken("wrong-token"))
	err := c.ResetSessions(context.Background(), []string{hashA})
	if got, want := err.Error(), "iproyal: DELETE /sessions: 401 Unauthorized: Unauthenticated."; got != want {
		t.Fatalf("error = %q, want %q", got, want)
	}
}

func TestTokenNeverInErrors(t *testing.T) {
	srv := newServer(t)
	echo := iproyaltest.Response{Status: 401, Body: `{"message":"token ` + token + ` is revoked"}`}
	srv.Script("DELETE", "/sessions", echo)
	srv.Script("GET", "/me", iproyaltest.Response{Status: 500, Body: "debug: Authorization: Bearer " + token})
	srv.Script("GET", "/me", iproyaltest.Response{Status: 500, Body: "debug: Authorization: Bearer " + token})
	srv.Script("GET", "/me", iproyaltest.Response{Status: 500, Body: "debug: Authorization: Bearer " + token})
	c, _ := newClient(t, srv)
	errs := []error{c.ResetSessions(context.Background(), []string{hashA})}
	_, err := c.Me(context.Background())
	errs = append(errs, err)

	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	c2, _ := iproyal.NewClient(iproyal.WithBaseURL(dead.URL), iproyal.WithToken(token), iproyal.WithSleep((&sleeps{}).sleep))
	errs = append(errs, c2.ResetSessions(context.Background(), []string{hashA}))

	for _, err := range errs {
		if err == nil {
			t.Fatal("want an error")
		}
		if s := fmt.Sprintf("%v %+v %#v", err, err, err); strings.Contains(s, token) {
			t.Errorf("error leaks the token: %s", s)
		}
	}
}

func TestListSubusersFollowsPages(t *testing.T) {
	srv := newServer(t)
	var subs []iproyaltest.Subuser
	for i := range 45 {
		subs = append(subs, iproyaltest.Subuser{Hash: fmt.Sprintf("01H7YCG0R9GYY1YCPS2S4QA%03d", i), Username: fmt.Sprintf("user-%02d", i), Password: "pw"})
	}
	srv.SetSubusers(subs...)
	srv.SetMaxPerPage(20) // IPRoyal may cap below the per_page asked for
	c, _ := newClient(t, srv)
	got, err := c.ListSubusers(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 45 || got[44].Username != "user-44" {
		t.Fatalf("got %d sub-users", len(got))
	}
	if n := srv.Count("GET", "/residential-subusers"); n != 3 {
		t.Fatalf("pages fetched = %d, want 3", n)
	}
}

func TestFindSubuserExactMatch(t *testing.T) {
	srv := newServer(t)
	srv.SetSubusers(
		iproyaltest.Subuser{Hash: hashB, Username: "scraper-eu-old", Password: "old-secret"},
		iproyaltest.Subuser{Hash: hashA, Username: "scraper-eu", Password: "live-secret"},
	)
	c, _ := newClient(t, srv)

	got, err := c.FindSubuser(context.Background(), "scraper-eu")
	if err != nil || got.Hash != hashA || got.Username != "scraper-eu" {
		t.Fatalf("FindSubuser = %+v, %v", got, err)
	}
	if q := srv.Requests()[0].Query; q != "page=1&per_page=100&search=scraper-eu" {
		t.Errorf("query = %q", q)
	}
	if s := fmt.Sprintf("%+v", got); strings.Contains(s, "secret") {
		t.Errorf("the password was decoded: %s", s)
	}

	_, err = c.FindSubuser(context.Background(), "scraper")
	var nf *iproyal.SubuserNotFoundError
	if !errors.As(err, &nf) || nf.Username != "scraper" {
		t.Fatalf("err = %v, want *SubuserNotFoundError", err)
	}
}

func TestMe(t *testing.T) {
	srv := newServer(t)
	srv.SetAccount(iproyaltest.Account{AvailableTraffic: 32.6, SubusersCount: 13, ResidentialUserHash: hashA})
	c, _ := newClient(t, srv)
	got, err := c.Me(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := iproyal.Account{AvailableTraffic: 32.6, SubusersCount: 13, ResidentialUserHash: hashA}
	if got != want {
		t.Fatalf("Me = %+v, want %+v", got, want)
	}
}

func TestMalformedSuccessBody(t *testing.T) {
	srv := newServer(t)
	srv.Script("GET", "/me", iproyaltest.Response{Status: 200, Body: "<html>"})
	c, _ := newClient(t, srv)
	_, err := c.Me(context.Background())
	if err == nil || !strings.Contains(err.Error(), "decode response") {
		t.Fatalf("err = %v", err)
	}
}

func TestNewClientValidates(t *testing.T) {
	if _, err := iproyal.NewClient(iproyal.WithToken("")); err == nil {
		t.Error("want an error for a missing token")
	}
	if _, err := iproyal.NewClient(iproyal.WithToken("t"), iproyal.WithBaseURL("resi-api.iproyal.com")); err == nil {
		t.Error("want an error for a relative base URL")
	}
}
