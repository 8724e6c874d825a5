package iproyal

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Error classes an *APIError matches with errors.Is.
var (
	// ErrUnauthorized: 401 or 403, the token is wrong or the account has no API access.
	ErrUnauthorized = errors.New("iproyal: unauthorized")
	// ErrNotFound: 404.
	ErrNotFound = errors.New("iproyal: not found")
	// ErrValidation: 422, IPRoyal rejected the request's content.
	ErrValidation = errors.New("iproyal: validation failed")
	// ErrRateLimited: 429.
	ErrRateLimited = errors.New("iproyal: rate limited")
	// ErrServer: any 5xx.
	ErrServer = errors.New("iproyal: server error")
)

// maxMessageBytes bounds how much of an unparseable error body is kept.
const maxMessageBytes = 300

// APIError is a non-2xx answer from IPRoyal.
type APIError struct {
	Method     string
	Path       string // relative to the base URL, e.g. "/sessions"
	StatusCode int
	// Message is IPRoyal's own explanation, or a truncated copy of the body.
	Message string
	// RetryAfter is what the Retry-After header asked for; zero when absent.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "iproyal: %s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// StatusText is the HTTP reason phrase of the answer's status
// ("Unauthorized"), so that callers can word the error without net/http.
func (e *APIError) StatusText() string { return http.StatusText(e.StatusCode) }

// Is lets callers test the class of an error: errors.Is(err, iproyal.ErrUnauthorized).
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrValidation:
		return e.StatusCode == http.StatusUnprocessableEntity
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrServer:
		return e.StatusCode >= 500
	}
	return false
}

// CheckResponse returns nil for a 2xx response and an *APIError for anything
// else, reading (a bounded part of) the body to find IPRoyal's message.
// now is the time against which an HTTP-date Retry-After is measured.
//
// The error never carries the credentials of r.Request (its Authorization
// values, its URL's password), even when IPRoyal's body echoes them.
func CheckResponse(r *http.Response, now time.Time) error {
	if r.StatusCode >= 200 && r.StatusCode <= 299 {
		return nil
	}
	s := requestSecrets(r.Request)
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	e := &APIError{
		StatusCode: r.StatusCode,
		Message:    errorMessage(body, s),
		RetryAfter: parseRetryAfter(r.Header.Get("Retry-After"), now),
	}
	if r.Request != nil {
		e.Method = r.Request.Method
		e.Path = r.Request.URL.Path
	}
	return s.error(e)
}

// errorMessage digs IPRoyal's explanation out of an error body. The shape is
// not documented, so it tries, in order: {"message"}, {"error":{"message"}},
// {"error":"..."}, the Laravel {"errors":{field:[...]}} map, and the raw text.
// Secrets are redacted before anything is cut short, so no part of one is
// left at the cut.
func errorMessage(body []byte, s secrets) string {
	var b struct {
		Message any                        `json:"message"`
		Error   json.RawMessage            `json:"error"`
		Errors  map[string]json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(body, &b) == nil {
		if msg, ok := b.Message.(string); ok && strings.TrimSpace(msg) != "" {
			return s.redact(msg)
		}
		var nested struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(b.Error, &nested) == nil && nested.Message != "" {
			return s.redact(nested.Message)
		}
		var flat string
		if json.Unmarshal(b.Error, &flat) == nil && flat != "" {
			return s.redact(flat)
		}
		if len(b.Errors) > 0 {
			return truncate(s.redact(fieldErrors(b.Errors)), maxMessageBytes)
		}
	}
	return truncate(s.redact(strings.Join(strings.Fields(string(body)), " ")), maxMessageBytes)
}

func fieldErrors(errs map[string]json.RawMessage) string {
	fields := make([]string, 0, len(errs))
	for f := range errs {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	parts := make([]string, 0, len(fields))
	for _, f := range fields {
		var list []string
		if json.Unmarshal(errs[f], &list) != nil {
			var one string
			if json.Unmarshal(errs[f], &one) != nil {
				one = string(errs[f])
			}
			list = []string{one}
		}
		parts = append(parts, f+": "+strings.Join(list, " "))
	}
	return strings.Join(parts, "; ")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// parseRetryAfter reads both forms RFC 9110 allows: delay-seconds and an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d.Round(time.Second)
		}
	}
	return 0
}

// SubuserNotFoundError says no sub-user has exactly the username asked for.
type SubuserNotFoundError struct {
	Username string
	// Suggestions are usernames that contain it, closest first; at most 3.
	Suggestions []string
}

func (e *SubuserNotFoundError) Error() string {
	return fmt.Sprintf("iproyal: no sub-user is named %q", e.Username)
}
