package iproyal_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sessionbot/sessionbot/iproyal"
)

// These tests prove that no error the package returns carries the token,
// on every path an error takes. They use a bare httptest server, under a
// base path, that echoes what the client sent it, so each proves the token
// was in reach and was still kept out.

// chain is err and every error it wraps, depth first.
func chain(err error) []error {
	if err == nil {
		return nil
	}
	out := []error{err}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		out = append(out, chain(u.Unwrap())...)
	case interface{ Unwrap() []error }:
		for _, c := range u.Unwrap() {
			out = append(out, chain(c)...)
		}
	}
	return out
}

// assertRedacted fails unless err is an error in which neither secret nor
// its first half, nor its escaped forms, appears: not in its text, not in
// the text or fields of anything it wraps (what errors.As could reach).
func assertRedacted(t *testing.T, err error, secret string) {
	t.Helper()
	if err == nil {
		t.Fatal("want an error")
	}
	forms := []string{secret, secret[:len(secret)/2], url.QueryEscape(secret), url.PathEscape(secret), laravelJSON(secret)}
	for _, e := range chain(err) {
		s := fmt.Sprintf("%v\n%+v\n%#v", e, e, e)
		for _, f := range forms {
			if strings.Contains(s, f) {
				t.Errorf("%T in the chain shows %q:\n%s", e, f, s)
				break
			}
		}
	}
}

// laravelJSON is s as PHP's json_encode writes it in a string: slashes escaped.
func laravelJSON(s string) string { return strings.ReplaceAll(s, "/", `\/`) }

// echo answers every call under /v1 with status, and a body in which each
// {auth} is the Authorization header it was sent, each {token} the
// credential in it, and each {json-token} that credential as PHP would
// write it in a JSON string.
func echo(t *testing.T, status int, body string, header ...string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/v1/") {
			http.NotFound(w, r)
			return
		}
		auth := r.Header.Get("Authorization")
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(status)
		cred := strings.TrimPrefix(auth, "Bearer ")
		fmt.Fprint(w, strings.NewReplacer("{auth}", auth, "{token}", cred, "{json-token}", laravelJSON(cred)).Replace(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func client(t *testing.T, baseURL, tok string, opts ...iproyal.Option) *iproyal.Client {
	t.Helper()
	base := []iproyal.Option{
		iproyal.WithBaseURL(baseURL),
		iproyal.WithToken(tok),
		iproyal.WithSleep((&sleeps{}).sleep),
		iproyal.WithClock(func() time.Time { return epoch }),
	}
	c, err := iproyal.NewClient(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAPIErrorEchoingTheTokenIsRedacted(t *testing.T) {
	tests := []struct{ name, body string }{
		{"message", `{"message":"token {token} is revoked"}`},
		{"error object", `{"error":{"code":"forbidden","message":"{auth} has no API access"}}`},
		{"error string", `{"error":"invalid_token: {token}"}`},
		{"laravel errors", `{"errors":{"token":["{token} is not a token"],"authorization":["{auth}"]}}`},
		{"raw headers", "debug dump\nAuthorization: {auth}\nAccept: application/json"},
		// The raw body is cut at 300 bytes, across the token: it must be
		// redacted before the cut, or the cut leaves its first half.
		{"token across the cut", strings.Repeat("x", 290) + " {token} " + strings.Repeat("y", 100)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := echo(t, http.StatusUnauthorized, tt.body)
			c := client(t, srv.URL+"/v1", token)
			err := c.ResetSessions(context.Background(), []string{hashA})
			assertRedacted(t, err, token)
			var apiErr *iproyal.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized || apiErr.Path != "/sessions" {
				t.Fatalf("err = %#v, want a 401 *APIError for /sessions", err)
			}
			if !errors.Is(err, iproyal.ErrUnauthorized) {
				t.Errorf("errors.Is(%v, ErrUnauthorized) = false", err)
			}
			if !strings.Contains(apiErr.Message, "[redac") { // the cut may shorten the mark too
				t.Errorf("Message = %q, want the token replaced by [redacted]", apiErr.Message)
			}
		})
	}
}

// failingTransport fails every request the way a misbehaving proxy might:
// with an error of a type that cannot be compared, that keeps the request's
// header and shows it.
type failingTransport struct{}

var errProxy = errors.New("proxy refused the request")

type proxyError struct{ header http.Header }

func (e proxyError) Error() string {
	return fmt.Sprintf("%v; it sent Authorization: %s", errProxy, e.header.Get("Authorization"))
}
func (e proxyError) Unwrap() error { return errProxy }

func (failingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, proxyError{r.Header.Clone()}
}

func TestTransportErrorIsRedacted(t *testing.T) {
	c := client(t, "http://127.0.0.1:1/v1", token, iproyal.WithHTTPClient(&http.Client{Transport: failingTransport{}}))
	_, err := c.Me(context.Background())
	assertRedacted(t, err, token)
	if !errors.Is(err, errProxy) {
		t.Errorf("errors.Is(%v, errProxy) = false: redaction lost the cause", err)
	}
	if !errors.As(err, new(*url.Error)) {
		t.Errorf("err = %v, want a *url.Error in its chain", err)
	}
	if !strings.Contains(err.Error(), "Authorization: Bearer [redacted]") || !strings.Contains(err.Error(), "gave up after 3 attempts") {
		t.Errorf("err = %q, want the transport's words with the token redacted", err)
	}
}

// A person may type anything as a username, the token included: a search
// puts it in the URL, which every *url.Error carries, escaped.
func TestTokenInTheURLIsRedacted(t *testing.T) {
	const sanctum = "12|ab/cd+ef=gh-ij_kl.mn" // a Laravel token, with characters a URL escapes
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	c := client(t, dead.URL+"/v1", sanctum)
	_, err := c.FindSubuser(context.Background(), sanctum)
	assertRedacted(t, err, sanctum)
	var urlErr *url.Error
	if !errors.As(err, &urlErr) || !strings.Contains(urlErr.URL, "search=[redacted]") {
		t.Fatalf("err = %v, want a *url.Error whose URL has the search redacted", err)
	}
}

func TestTimeoutIsRedacted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers; the client gives up
	}))
	t.Cleanup(srv.Close)
	c := client(t, srv.URL+"/v1", token, iproyal.WithRetryPolicy(iproyal.RetryPolicy{AttemptTimeout: 20 * time.Millisecond}))
	_, _, err := c.SearchSubusers(context.Background(), token, 5)
	assertRedacted(t, err, token)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("errors.Is(%v, context.DeadlineExceeded) = false", err)
	}
	var urlErr *url.Error
	if !errors.As(err, &urlErr) || !urlErr.Timeout() {
		t.Errorf("err = %v, want a *url.Error that is a timeout", err)
	}
}

func TestRetryExhaustedIsRedacted(t *testing.T) {
	srv := echo(t, http.StatusServiceUnavailable, "upstream down; request was: DELETE /v1/sessions Authorization: {auth}", "Retry-After", "2")
	c := client(t, srv.URL+"/v1", token)
	err := c.ResetSessions(context.Background(), []string{hashA})
	assertRedacted(t, err, token)
	if !strings.Contains(err.Error(), "gave up after 3 attempts") {
		t.Fatalf("err = %v, want it to say it retried", err)
	}
	var apiErr *iproyal.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 || apiErr.RetryAfter != 2*time.Second {
		t.Fatalf("err = %#v, want a 503 *APIError with RetryAfter 2s", err)
	}
	if !errors.Is(err, iproyal.ErrServer) || errors.Is(err, iproyal.ErrRateLimited) {
		t.Errorf("err = %v, want the ErrServer class only", err)
	}
}

func TestRateLimitBeyondTheCapIsRedacted(t *testing.T) {
	srv := echo(t, http.StatusTooManyRequests, `{"message":"slow down, {token}"}`, "Retry-After", "3600")
	c := client(t, srv.URL+"/v1", token)
	err := c.ResetSessions(context.Background(), []string{hashA})
	assertRedacted(t, err, token)
	var apiErr *iproyal.APIError
	if !errors.As(err, &apiErr) || apiErr.RetryAfter != time.Hour || !errors.Is(err, iproyal.ErrRateLimited) {
		t.Fatalf("err = %#v, want a rate limit with RetryAfter 1h", err)
	}
}

func TestSubuserNotFoundIsRedacted(t *testing.T) {
	srv := echo(t, http.StatusOK, `{"data":[],"meta":{"current_page":1,"last_page":1,"total":0}}`)
	c := client(t, srv.URL+"/v1", token)
	_, err := c.FindSubuser(context.Background(), token)
	assertRedacted(t, err, token)
	var nf *iproyal.SubuserNotFoundError
	if !errors.As(err, &nf) || nf.Username != "[redacted]" {
		t.Fatalf("err = %#v, want a *SubuserNotFoundError for [redacted]", err)
	}
}

// CheckResponse has no client and no token: what it must not leak is what
// the response's request carried, which is what IPRoyal could echo.
func TestCheckResponseRedactsTheRequestsCredentials(t *testing.T) {
	tests := []struct {
		name, auth, secret, url string
	}{
		{"bearer", "Bearer " + token, token, "https://resi-api.iproyal.com/v1/sessions"},
		{"no scheme", token, token, "https://resi-api.iproyal.com/v1/sessions"},
		{"basic", "Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA==", "https://resi-api.iproyal.com/v1/sessions"},
		{"url password", "", "hunter2-hunter2", "https://user:hunter2-hunter2@resi-api.iproyal.com/v1/sessions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodDelete, tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			body := fmt.Sprintf(`{"message":"rejected %s with Authorization: %s for %s"}`, tt.secret, tt.auth, tt.url)
			resp := &http.Response{
				StatusCode: http.StatusForbidden,
				Header:     http.Header{},
				Body:       readCloser{strings.NewReader(body)},
				Request:    req,
			}
			err = iproyal.CheckResponse(resp, epoch)
			assertRedacted(t, err, tt.secret)
			var apiErr *iproyal.APIError
			if !errors.As(err, &apiErr) || apiErr.Method != http.MethodDelete || apiErr.Path != "/v1/sessions" || !errors.Is(err, iproyal.ErrUnauthorized) {
				t.Fatalf("err = %#v, want a 403 *APIError for DELETE /v1/sessions", err)
			}
		})
	}
}

// CheckResponse used as a caller would: on the answer to its own request.
func TestCheckResponseOnARealRoundTrip(t *testing.T) {
	srv := echo(t, http.StatusUnauthorized, "bad credentials: {auth}")
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/v1/me", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	err = iproyal.CheckResponse(resp, epoch)
	assertRedacted(t, err, token)
	if got, want := err.Error(), "iproyal: GET /v1/me: 401 Unauthorized: bad credentials: Bearer [redacted]"; got != want {
		t.Fatalf("err = %q, want %q", got, want)
	}
}

// A response built by hand may have no request, and so no credentials.
func TestCheckResponseWithoutARequest(t *testing.T) {
	resp := &http.Response{StatusCode: 500, Header: http.Header{}, Body: readCloser{strings.NewReader("oops")}}
	var apiErr *iproyal.APIError
	if err := iproyal.CheckResponse(resp, epoch); !errors.As(err, &apiErr) || apiErr.Message != "oops" || !errors.Is(err, iproyal.ErrServer) {
		t.Fatalf("err = %#v, want a 500 *APIError saying oops", err)
	}
}

// PHP writes a slash in a JSON string as \/; a body whose message is not a
// string is shown raw, escapes and all.
func TestTokenEscapedInARawJSONBodyIsRedacted(t *testing.T) {
	const sanctum = "12|ab/cd+ef=gh-ij_kl.mn"
	srv := echo(t, http.StatusBadRequest, `{"message":7,"debug":"{json-token}"}`)
	c := client(t, srv.URL+"/v1", sanctum)
	err := c.ResetSessions(context.Background(), []string{hashA})
	assertRedacted(t, err, sanctum)
	if !strings.Contains(err.Error(), `"debug":"[redacted]"`) {
		t.Fatalf("err = %q, want the raw body with the token redacted", err)
	}
}

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }
