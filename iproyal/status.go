package iproyal

import "net/http"

// StatusText is the HTTP reason phrase of the answer's status ("Unauthorized"),
// so that callers can word the error without importing net/http.
func (e *APIError) StatusText() string { return http.StatusText(e.StatusCode) }
