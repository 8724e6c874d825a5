// Package iproyal is a client for IPRoyal's residential proxy API.
//
// Every method takes a context first, retries what is safe to retry, and
// returns an *APIError for any non-2xx answer. No error it returns carries
// the API token, in its text or in any error or field it wraps, whatever
// IPRoyal echoes back in a body and whatever a URL holds: each leaves
// through one function that replaces it with "[redacted]".
package iproyal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultBaseURL is IPRoyal's residential API.
const DefaultBaseURL = "https://resi-api.iproyal.com/v1"

// RetryPolicy says how hard the client tries before it gives up.
type RetryPolicy struct {
	// Attempts is how many requests are made in all, the first included.
	Attempts int
	// BaseDelay is the backoff before the second attempt; it doubles each time.
	BaseDelay time.Duration
	// MaxDelay caps the backoff.
	MaxDelay time.Duration
	// MaxRetryAfter is the longest Retry-After we wait for. A longer one ends
	// the call at once with the *APIError, so the user hears "try again in N"
	// instead of waiting in silence.
	MaxRetryAfter time.Duration
	// AttemptTimeout bounds each request, response body included.
	AttemptTimeout time.Duration
}

// DefaultRetryPolicy is what NewClient uses unless told otherwise.
var DefaultRetryPolicy = RetryPolicy{
	Attempts:       3,
	BaseDelay:      250 * time.Millisecond,
	MaxDelay:       4 * time.Second,
	MaxRetryAfter:  20 * time.Second,
	AttemptTimeout: 10 * time.Second,
}

// Client talks to the IPRoyal residential API. It is safe for concurrent use.
type Client struct {
	baseURL    *url.URL
	token      string
	secrets    secrets // the token, and a password in the base URL
	httpClient *http.Client
	userAgent  string
	retry      RetryPolicy
	sleep      func(context.Context, time.Duration) error
	now        func() time.Time
}

// Option configures a Client.
type Option func(*Client)

// WithBaseURL points the client at another API root (a test double, a proxy).
func WithBaseURL(u string) Option {
	return func(c *Client) { c.baseURL, _ = url.Parse(strings.TrimRight(u, "/")) }
}

// WithToken sets the API token sent as a Bearer token.
func WithToken(token string) Option { return func(c *Client) { c.token = token } }

// WithHTTPClient replaces http.DefaultClient.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.httpClient = hc } }

// WithUserAgent sets the User-Agent header, e.g. "sessionbot/1.2.0".
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// WithRetryPolicy replaces DefaultRetryPolicy; zero fields keep their default.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *Client) {
		d := DefaultRetryPolicy
		if p.Attempts > 0 {
			d.Attempts = p.Attempts
		}
		if p.BaseDelay > 0 {
			d.BaseDelay = p.BaseDelay
		}
		if p.MaxDelay > 0 {
			d.MaxDelay = p.MaxDelay
		}
		if p.MaxRetryAfter > 0 {
			d.MaxRetryAfter = p.MaxRetryAfter
		}
		if p.AttemptTimeout > 0 {
			d.AttemptTimeout = p.AttemptTimeout
		}
		c.retry = d
	}
}

// WithSleep replaces the function that waits between attempts; it must
// return ctx.Err() when ctx ends first. Tests use it to stay fast.
func WithSleep(sleep func(context.Context, time.Duration) error) Option {
	return func(c *Client) { c.sleep = sleep }
}

// WithClock replaces time.Now, against which an HTTP-date Retry-After is read.
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// NewClient returns a client for DefaultBaseURL unless WithBaseURL says otherwise.
func NewClient(opts ...Option) (*Client, error) {
	c := &Client{
		httpClient: http.DefaultClient,
		userAgent:  "sessionbot",
		retry:      DefaultRetryPolicy,
		sleep:      sleepContext,
		now:        time.Now,
	}
	WithBaseURL(DefaultBaseURL)(c)
	for _, opt := range opts {
		opt(c)
	}
	if c.baseURL == nil || (c.baseURL.Scheme != "https" && c.baseURL.Scheme != "http") || c.baseURL.Host == "" {
		return nil, errors.New("iproyal: the base URL must be an absolute http(s) URL")
	}
	if c.token == "" {
		return nil, errors.New("iproyal: an API token is required")
	}
	c.secrets = secrets{}.with(c.token)
	if p, ok := c.baseURL.User.Password(); ok {
		c.secrets = c.secrets.with(p)
	}
	return c, nil
}

// netError marks a failure to get any answer: refused, reset, timed out.
type netError struct{ err error }

func (e *netError) Error() string { return "iproyal: " + e.err.Error() }
func (e *netError) Unwrap() error { return e.err }

// do sends one API call, retrying network errors, 429 and 5xx. Every
// error from the network goes through here, and leaves redacted.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	return c.secrets.error(c.call(ctx, method, path, query, in, out))
}

// call is do without the redaction.
//
// The retry loop is written here rather than taken from a library such as
// hashicorp/go-retryablehttp: that library reads Retry-After only in seconds
// (IPRoyal may send an HTTP date), cannot give each attempt its own timeout
// that also covers reading the body, has no injectable sleep for fast tests,
// and would still need our own CheckResponse. What is left is thirty lines.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, in, out any) error {
	var payload []byte
	if in != nil {
		var err error
		if payload, err = json.Marshal(in); err != nil {
			return fmt.Errorf("iproyal: encode request: %w", err)
		}
	}
	u := c.baseURL.JoinPath(path)
	u.RawQuery = query.Encode()

	for attempt := 1; ; attempt++ {
		err := c.attempt(ctx, method, u.String(), payload, out)
		if err == nil {
			return nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("iproyal: %s %s: %w", method, path, ctxErr)
		}
		wait, retry := c.backoff(err, attempt)
		if !retry {
			if attempt > 1 {
				return fmt.Errorf("%w (gave up after %d attempts)", err, attempt)
			}
			return err
		}
		if err := c.sleep(ctx, wait); err != nil {
			return fmt.Errorf("iproyal: %s %s: %w", method, path, err)
		}
	}
}

// backoff says whether err is worth another attempt and how long to wait first.
func (c *Client) backoff(err error, attempt int) (time.Duration, bool) {
	if attempt >= c.retry.Attempts {
		return 0, false
	}
	var apiErr *APIError
	switch {
	case errors.As(err, &apiErr):
		if apiErr.StatusCode != http.StatusTooManyRequests && apiErr.StatusCode < 500 {
			return 0, false
		}
		if apiErr.RetryAfter > 0 {
			return apiErr.RetryAfter, apiErr.RetryAfter <= c.retry.MaxRetryAfter
		}
	case errors.As(err, new(*netError)):
	default:
		return 0, false
	}
	d := c.retry.BaseDelay << (attempt - 1)
	if d > c.retry.MaxDelay || d <= 0 {
		d = c.retry.MaxDelay
	}
	// Equal jitter: at least half the delay, so retries never bunch at zero.
	return d/2 + rand.N(d/2+1), true
}

func (c *Client) attempt(ctx context.Context, method, u string, payload []byte, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.retry.AttemptTimeout)
	defer cancel()

	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("iproyal: build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	resp, err := c.httpClient.Do(req)
	if err != nil {
		return &netError{err}
	}
	defer resp.Body.Close()

	if err := CheckResponse(resp, c.now()); err != nil {
		apiErr := err.(*APIError)
		apiErr.Path = strings.TrimPrefix(apiErr.Path, c.baseURL.Path)
		return apiErr
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return &netError{err}
	}
	if out == nil || len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("iproyal: %s %s: decode response: %w", method, req.URL.Path, err)
	}
	return nil
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
