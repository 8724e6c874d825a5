package iproyal

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"
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

// MaxPerPage is the page size the client asks for when it lists
// sub-users. IPRoyal documents per_page but neither its default (20, by the
// example's meta) nor its maximum. 100 is assumed: it is the cap most
// Laravel APIs set, and a server that caps lower costs only more pages,
// because listing follows meta.last_page and never assumes its per_page was
// honoured.
const MaxPerPage = 100

// maxPageFetches bounds the pages of one listing fetched at once, and the
// searches of one FindSubusers.
const maxPageFetches = 4

// ListSubusers returns every sub-user whose username contains search (all of
// them when search is empty), following the pages to the last: the first
// page says how many there are, and the rest are fetched maxPageFetches at
// a time.
func (c *Client) ListSubusers(ctx context.Context, search string) ([]Subuser, error) {
	first, err := c.page(ctx, search, 1)
	if err != nil {
		return nil, err
	}
	return c.rest(ctx, search, first)
}

// rest fetches the pages after first, and returns them all in order.
func (c *Client) rest(ctx context.Context, search string, first subuserPage) ([]Subuser, error) {
	last := first.Meta.LastPage
	if len(first.Data) == 0 || last <= 1 {
		return first.Data, nil
	}
	if last > maxPages {
		return nil, fmt.Errorf("iproyal: listing sub-users: %d pages, more than %d", last, maxPages)
	}
	pages := make([][]Subuser, last+1)
	pages[1] = first.Data
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxPageFetches)
	for n := 2; n <= last; n++ {
		g.Go(func() error {
			p, err := c.page(gctx, search, n)
			pages[n] = p.Data
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return slices.Concat(pages...), nil
}

// page fetches one page of the sub-user listing.
func (c *Client) page(ctx context.Context, search string, n int) (subuserPage, error) {
	q := url.Values{"page": {strconv.Itoa(n)}, "per_page": {strconv.Itoa(MaxPerPage)}}
	if search != "" {
		q.Set("search", search)
	}
	var p subuserPage
	err := c.do(ctx, http.MethodGet, "/residential-subusers", q, nil, &p)
	return p, err
}

// maxSuggestions bounds the usernames a miss suggests.
const maxSuggestions = 3

// FindSubuser returns the sub-user whose username is exactly username.
// IPRoyal's search matches substrings, so "scraper-eu" also finds
// "scraper-eu-old"; only an exact match counts. When there is none the error
// is a *SubuserNotFoundError, with the closest usernames the same search
// found, if any.
func (c *Client) FindSubuser(ctx context.Context, username string) (Subuser, error) {
	l, err := c.FindSubusers(ctx, []string{username})
	if err != nil {
		return Subuser{}, err
	}
	if s, ok := l.Found[username]; ok {
		return s, nil
	}
	// The username is the caller's, and may be anything a person typed.
	return Subuser{}, c.secrets.error(&SubuserNotFoundError{Username: username, Suggestions: l.Suggestions[username]})
}

// Subuser returns the sub-user whose hash is hash, one request: what a
// policy of username globs needs of a hash someone typed. A hash IPRoyal
// does not know is an error that matches ErrNotFound.
func (c *Client) Subuser(ctx context.Context, hash string) (Subuser, error) {
	h, err := ParseHash(hash)
	if err != nil {
		return Subuser{}, err
	}
	var s Subuser
	if err := c.do(ctx, http.MethodGet, "/residential-subusers/"+url.PathEscape(h), nil, nil, &s); err != nil {
		return Subuser{}, err
	}
	return s, nil
}

// Lookup is what FindSubusers learned of the usernames it was asked.
type Lookup struct {
	// Found holds the sub-user of each username that has one, exactly.
	Found map[string]Subuser
	// Suggestions holds, for a username with none, the closest usernames
	// that contain it (at most 3, maybe none).
	Suggestions map[string][]string
	// Seen is every sub-user the lookup listed, asked for or not: a caller
	// may cache them.
	Seen []Subuser
}

// FindSubusers looks up usernames, each matched exactly, in as few requests
// as it can:
//
//   - up to maxPageFetches usernames are searched for at once, one request
//     each (more only if a search matches more than a page);
//   - for more, the first page of the whole listing comes first. It says
//     how many pages there are, and the usernames it did not hold are then
//     found in the remaining pages or by one search each, whichever is
//     fewer requests.
//
// So n usernames in an account of p pages cost n requests when n is small,
// and otherwise at most 1 + min(p-1, n): never more than p.
func (c *Client) FindSubusers(ctx context.Context, usernames []string) (Lookup, error) {
	l := Lookup{Found: map[string]Subuser{}, Suggestions: map[string][]string{}}
	want := slices.Compact(slices.Sorted(slices.Values(usernames)))
	if len(want) > maxPageFetches {
		first, err := c.page(ctx, "", 1)
		if err != nil {
			return Lookup{}, err
		}
		want = l.match(first.Data, want)
		if len(want) == 0 {
			return l, nil
		}
		if rest := first.Meta.LastPage - 1; rest <= len(want) {
			all, err := c.rest(ctx, "", first)
			if err != nil {
				return Lookup{}, err
			}
			for _, u := range l.match(all[len(first.Data):], want) {
				l.Suggestions[u] = suggest(containing(all, u), maxSuggestions)
			}
			return l, nil
		}
	}
	return l, c.search(ctx, &l, want)
}

// search looks each username up with IPRoyal's search, maxPageFetches at once.
func (c *Client) search(ctx context.Context, l *Lookup, usernames []string) error {
	results := make([][]Subuser, len(usernames))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxPageFetches)
	for i, u := range usernames {
		g.Go(func() (err error) {
			results[i], err = c.ListSubusers(gctx, u)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for i, u := range usernames {
		if len(l.match(results[i], []string{u})) > 0 {
			l.Suggestions[u] = suggest(results[i], maxSuggestions)
		}
	}
	return nil
}

// match records, from subs, the sub-user of each username in want (which is
// sorted), adds subs to l.Seen, and returns the usernames still missing.
func (l *Lookup) match(subs []Subuser, want []string) (missing []string) {
	l.Seen = append(l.Seen, subs...)
	for _, s := range subs {
		if _, ok := slices.BinarySearch(want, s.Username); ok {
			l.Found[s.Username] = s
		}
	}
	for _, u := range want {
		if _, ok := l.Found[u]; !ok {
			missing = append(missing, u)
		}
	}
	return missing
}

// containing is the sub-users whose username contains s, as IPRoyal's
// search would find them.
func containing(subs []Subuser, s string) []Subuser {
	var out []Subuser
	for _, sub := range subs {
		if strings.Contains(sub.Username, s) {
			out = append(out, sub)
		}
	}
	return out
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
