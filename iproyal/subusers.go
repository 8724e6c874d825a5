package iproyal

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
)

// maxPages stops a listing that never reaches its last page.
const maxPages = 1000

// Subuser is a residential sub-user. Its password is deliberately not
// decoded: it is a live proxy credential and has no business in this program.
type Subuser struct {
	Hash             string  `json:"hash"`
	Username         string  `json:"username"`
	TrafficAvailable float64 `json:"traffic_available"`
	TrafficUsed      float64 `json:"traffic_used"`
}

type subuserPage struct {
	Data []Subuser `json:"data"`
	Meta struct {
		CurrentPage int `json:"current_page"`
		LastPage    int `json:"last_page"`
		Total       int `json:"total"`
	} `json:"meta"`
}

// SearchSubusers returns the first limit sub-users whose username contains
// search, and how many there are in all: one request, for a person
// browsing. IPRoyal's own search matches substrings.
func (c *Client) SearchSubusers(ctx context.Context, search string, limit int) (subs []Subuser, total int, err error) {
	q := url.Values{"page": {"1"}, "per_page": {strconv.Itoa(limit)}, "search": {search}}
	var p subuserPage
	if err := c.do(ctx, http.MethodGet, "/residential-subusers", q, nil, &p); err != nil {
		return nil, 0, err
	}
	subs = p.Data
	if len(subs) > limit { // a server that ignores per_page
		subs = subs[:limit]
	}
	return subs, max(p.Meta.Total, len(p.Data)), nil
}

// ListSubusers returns every sub-user whose username contains search (all of
// them when search is empty), following the pages to the last.
func (c *Client) ListSubusers(ctx context.Context, search string) ([]Subuser, error) {
	var all []Subuser
	for page := 1; ; page++ {
		if page > maxPages {
			return nil, fmt.Errorf("iproyal: listing sub-users: more than %d pages", maxPages)
		}
		q := url.Values{"page": {strconv.Itoa(page)}}
		if search != "" {
			q.Set("search", search)
		}
		var p subuserPage
		if err := c.do(ctx, http.MethodGet, "/residential-subusers", q, nil, &p); err != nil {
			return nil, err
		}
		all = append(all, p.Data...)
		if len(p.Data) == 0 || p.Meta.CurrentPage >= p.Meta.LastPage {
			return all, nil
		}
	}
}

// maxSuggestions bounds the usernames a miss suggests.
const maxSuggestions = 3

// FindSubuser returns the sub-user whose username is exactly username.
// IPRoyal's search matches substrings, so "scraper-eu" also finds
// "scraper-eu-old"; only an exact match counts. When there is none the error
// is a *SubuserNotFoundError, with the closest usernames the same search
// found, if any.
func (c *Client) FindSubuser(ctx context.Context, username string) (Subuser, error) {
	subs, err := c.ListSubusers(ctx, username)
	if err != nil {
		return Subuser{}, err
	}
	for _, s := range subs {
		if s.Username == username {
			return s, nil
		}
	}
	return Subuser{}, &SubuserNotFoundError{Username: username, Suggestions: suggest(subs, maxSuggestions)}
}

// suggest picks the n shortest usernames of subs, the closest to what was
// searched since each contains it.
func suggest(subs []Subuser, n int) []string {
	names := make([]string, 0, len(subs))
	for _, s := range subs {
		names = append(names, s.Username)
	}
	slices.SortFunc(names, func(a, b string) int { return cmp.Or(cmp.Compare(len(a), len(b)), cmp.Compare(a, b)) })
	names = slices.Compact(names)
	return names[:min(n, len(names))]
}
