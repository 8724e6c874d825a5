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
	next   SubuserFinder
	seen   *cache[string, iproyal.Subuser] // by username
	byHash *cache[string, iproyal.Subuser]
}

func newCachedFinder(next SubuserFinder, now func() time.Time) *cachedFinder {
	return &cachedFinder{next: next,
		seen:   newCache[string, iproyal.Subuser](maxCachedUsernames, now),
		byHash: newCache[string, iproyal.Subuser](maxCachedUsernames, now),
	}
}

// Subuser implements SubuserFinder: the sub-user of a hash, seen in the
// last usernameTTL by any lookup, or asked of next.
func (c *cachedFinder) Subuser(ctx context.Context, hash string) (iproyal.Subuser, error) {
	if s, ok := c.byHash.Get(hash); ok {
		return s, nil
	}
	s, err := c.next.Subuser(ctx, hash)
	if err != nil {
		return s, err
	}
	c.keep(s)
	return s, nil
}

// keep remembers a sub-user seen, by its username and its hash.
func (c *cachedFinder) keep(s iproyal.Subuser) {
	expires := c.seen.now().Add(usernameTTL)
	c.seen.Put(s.Username, s, expires)
	c.byHash.Put(s.Hash, s, expires)
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
	for _, s := range got.Found {
		c.keep(s)
	}
	for _, s := range got.Seen {
		c.keep(s)
	}
	return l, nil
}
