package iproyal

import (
	"context"
	"errors"
	"net/http"
)

// ErrNoHashes is returned by ResetSessions for an empty list: IPRoyal does not
// say what an empty list does, so it is never sent.
var ErrNoHashes = errors.New("iproyal: no residential user hashes to reset")

// ResetSessions ends the sticky sessions of the given residential users, so
// their next requests get fresh exit IPs. Any 2xx answer is success.
func (c *Client) ResetSessions(ctx context.Context, hashes []string) error {
	if len(hashes) == 0 {
		return ErrNoHashes
	}
	body := struct {
		Hashes []string `json:"residential_user_hashes"`
	}{hashes}
	return c.do(ctx, http.MethodDelete, "/sessions", nil, body, nil)
}
