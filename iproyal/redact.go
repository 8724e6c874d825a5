package iproyal

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// redacted stands wherever an error would have shown a secret.
const redacted = "[redacted]"

// secrets are strings no error of this package may carry: the API token,
// and any other credential a request was sent with.
type secrets []string

// requestSecrets are the credentials req carries: each Authorization value
// (without its scheme, so "Bearer [redacted]" still says what was sent)
// and the URL's password. IPRoyal may echo any of them in an error body.
func requestSecrets(req *http.Request) secrets {
	var s secrets
	if req == nil {
		return s
	}
	for _, v := range req.Header.Values("Authorization") {
		if _, cred, ok := strings.Cut(strings.TrimSpace(v), " "); ok {
			v = cred
		}
		s = s.with(v)
	}
	if req.URL != nil {
		if p, ok := req.URL.User.Password(); ok {
			s = s.with(p)
		}
	}
	return s
}

// with adds secret, unless it is empty (which would match everywhere), and
// the forms it takes escaped in a URL, where a search for it would put it,
// and in a JSON string, where an error body would. The longest come first,
// so no secret is redacted only in part.
func (s secrets) with(secret string) secrets {
	if secret = strings.TrimSpace(secret); secret == "" {
		return s
	}
	quoted, _ := json.Marshal(secret)
	inJSON := strings.Trim(string(quoted), `"`)
	for _, v := range []string{secret, url.QueryEscape(secret), url.PathEscape(secret), inJSON, strings.ReplaceAll(inJSON, "/", `\/`)} {
		if !slices.Contains(s, v) {
			s = append(s, v)
		}
	}
	slices.SortStableFunc(s, func(a, b string) int { return len(b) - len(a) })
	return s
}

// redact replaces every secret in str.
func (s secrets) redact(str string) string {
	for _, sec := range s {
		str = strings.ReplaceAll(str, sec, redacted)
	}
	return str
}

func (s secrets) in(str string) bool {
	return slices.ContainsFunc(s, func(sec string) bool { return strings.Contains(str, sec) })
}

// error is the one function every error of this package passes through
// before a caller sees it. It returns err with every secret replaced, in
// its text and in the text and fields of everything it wraps, and keeps
// what errors.Is and errors.As look for: an *APIError, a
// *SubuserNotFoundError or a *url.Error comes back as a copy of the same
// type, and a sentinel such as context.DeadlineExceeded as itself. Any other
// error that showed a secret becomes one with the same text, redacted, that
// wraps its causes, redacted.
func (s secrets) error(err error) error {
	out, _ := s.redactError(err)
	return out
}

// redactError is error, and says whether it changed anything. (Errors are
// not compared with ==: some are of types that cannot be.)
func (s secrets) redactError(err error) (error, bool) {
	if err == nil || len(s) == 0 {
		return err, false
	}
	switch e := err.(type) {
	case *APIError:
		c := *e
		c.Method, c.Path, c.Message = s.redact(e.Method), s.redact(e.Path), s.redact(e.Message)
		if c == *e {
			return e, false
		}
		return &c, true
	case *SubuserNotFoundError:
		if !s.in(e.Username) && !slices.ContainsFunc(e.Suggestions, s.in) {
			return e, false
		}
		c := &SubuserNotFoundError{Username: s.redact(e.Username)}
		for _, u := range e.Suggestions {
			c.Suggestions = append(c.Suggestions, s.redact(u))
		}
		return c, true
	case *netError:
		inner, changed := s.redactError(e.err)
		if !changed {
			return e, false
		}
		return &netError{inner}, true
	case *url.Error:
		// It carries the request's URL, and so whatever was put in one: a
		// search for a username, a base URL with a credential in it.
		inner, changed := s.redactError(e.Err)
		if !changed && !s.in(e.URL) {
			return e, false
		}
		return &url.Error{Op: e.Op, URL: s.redact(e.URL), Err: inner}, true
	}

	var causes []error
	changed := false
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		if c := u.Unwrap(); c != nil {
			r, ch := s.redactError(c)
			causes, changed = []error{r}, ch
		}
	case interface{ Unwrap() []error }:
		for _, c := range u.Unwrap() {
			r, ch := s.redactError(c)
			causes, changed = append(causes, r), changed || ch
		}
	}
	if !changed && !s.in(err.Error()) && !s.in(fmt.Sprintf("%#v", err)) {
		return err, false
	}
	return &redactedError{msg: s.redact(err.Error()), causes: causes}, true
}

// redactedError stands for an error whose text showed a secret.
type redactedError struct {
	msg    string
	causes []error
}

func (e *redactedError) Error() string   { return e.msg }
func (e *redactedError) Unwrap() []error { return e.causes }
