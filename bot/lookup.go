package bot

import (
	"context"
	"time"

	"github.com/sessionbot/sessionbot/iproyal"
)

// usernameTTL is how long a username's hash is trusted once looked up. A
// sub-user renamed, or deleted and made again, within it resolves to the
// hash it had: the announcement names that hash, so the trail stays true.
const usernameTTL = time.Minute

// maxCachedUsernames bounds the cache: an account may have many thousands
// of sub-users, and one listing sees them all.
const maxCachedUsernames = 20000

// cachedFinder serves usernames looked up in the last usernameTTL from
// memory, and asks next for the rest. Every sub-user a lookup saw is kept,
// not only those asked for: after one command lists the account, the next
// minute's commands cost IPRoyal nothing. Misses are never kept, so a
// sub-user made a moment ago is found.
type cachedFinder struct {
	next SubuserFinder
	seen *cache[string, iproyal.Subuser]
}

func newCachedFinder(next SubuserFinder, now func() time.Time) *cachedFinder {
	return &cachedFinder{next: next, seen: newCache[string, iproyal.Subuser](maxCachedUsernames, now)}
}

// FindSubusers implements SubuserFinder.
func (c *cachedFinder) FindSubusers(ctx context.Context, usernames []string) (iproyal.Lookup, error) {
	l := iproyal.Lookup{Found: make(map[string]iproyal.Subuser, len(usernames)), Suggestions: map[string][]string{}}
	var ask []string
	for _, u := range usernames {
		if s, ok := c.seen.Get(u); ok {
			l.Found[u] = s
		} else {
			ask = append(ask, u)
		}
	}
	if len(ask) == 0 {
		return l, nil
	}
	got, err := c.next.FindSubusers(ctx, ask)
	if err != nil {
		return iproyal.Lookup{}, err
	}
	for u, s := range got.Found {
		l.Found[u] = s
	}
	l.Suggestions = got.Suggestions
	expires := c.seen.now().Add(usernameTTL)
	for _, s := range got.Found {
		c.seen.Put(s.Username, s, expires)
	}
	for _, s := range got.Seen {
		c.seen.Put(s.Username, s, expires)
	}
	return l, nil
}
