package bot

import (
	"context"
	"sync"
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
	now  func() time.Time

	mu   sync.Mutex
	seen map[string]cachedSubuser
}

type cachedSubuser struct {
	sub iproyal.Subuser
	at  time.Time
}

func newCachedFinder(next SubuserFinder, now func() time.Time) *cachedFinder {
	return &cachedFinder{next: next, now: now, seen: map[string]cachedSubuser{}}
}

// FindSubusers implements SubuserFinder.
func (c *cachedFinder) FindSubusers(ctx context.Context, usernames []string) (iproyal.Lookup, error) {
	l := iproyal.Lookup{Found: make(map[string]iproyal.Subuser, len(usernames)), Suggestions: map[string][]string{}}
	var ask []string
	now := c.now()
	c.mu.Lock()
	for _, u := range usernames {
		if e, ok := c.seen[u]; ok && now.Sub(e.at) < usernameTTL {
			l.Found[u] = e.sub
		} else if _, dup := l.Found[u]; !dup {
			ask = append(ask, u)
		}
	}
	c.mu.Unlock()
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
	c.keep(c.now(), got)
	return l, nil
}

// keep remembers what a lookup saw, within the bound: past it, expired
// entries go first, and if none has expired the newest are not kept.
func (c *cachedFinder) keep(at time.Time, got iproyal.Lookup) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.seen)+len(got.Seen)+len(got.Found) > maxCachedUsernames {
		for u, e := range c.seen {
			if at.Sub(e.at) >= usernameTTL {
				delete(c.seen, u)
			}
		}
	}
	put := func(s iproyal.Subuser) {
		if _, ok := c.seen[s.Username]; ok || len(c.seen) < maxCachedUsernames {
			c.seen[s.Username] = cachedSubuser{sub: s, at: at}
		}
	}
	for _, s := range got.Found {
		put(s)
	}
	for _, s := range got.Seen {
		put(s)
	}
}
