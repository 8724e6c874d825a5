package bot

import (
	"container/list"
	"sync"
	"time"
)

// cache is a map whose entries expire, and that never holds more than its
// limit: past it, the entry written longest ago goes, which with one
// lifetime per cache is the one closest to expiring. Every operation is
// O(1), however full it is. It serves the user groups' members, the
// usernames' hashes, the account status, the confirmations this process
// decided and the rate limit's buckets.
type cache[K comparable, V any] struct {
	now   func() time.Time
	limit int

	mu    sync.Mutex
	items map[K]*list.Element // of *cached[K, V]
	order list.List           // written longest ago first
}

type cached[K comparable, V any] struct {
	key     K
	value   V
	expires time.Time
}

func newCache[K comparable, V any](limit int, now func() time.Time) *cache[K, V] {
	return &cache[K, V]{now: now, limit: limit, items: make(map[K]*list.Element)}
}

// Get returns the value at k, unless it has expired.
func (c *cache[K, V]) Get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.get(k)
}

func (c *cache[K, V]) get(k K) (v V, ok bool) {
	el, ok := c.items[k]
	if !ok {
		return v, false
	}
	it := el.Value.(*cached[K, V])
	if !c.now().Before(it.expires) {
		c.order.Remove(el)
		delete(c.items, k)
		return v, false
	}
	return it.value, true
}

// Put sets the value at k until expires.
func (c *cache[K, V]) Put(k K, v V, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.put(k, v, expires)
}

func (c *cache[K, V]) put(k K, v V, expires time.Time) {
	if el, ok := c.items[k]; ok {
		it := el.Value.(*cached[K, V])
		it.value, it.expires = v, expires
		c.order.MoveToBack(el)
		return
	}
	if c.order.Len() >= c.limit {
		oldest := c.order.Front()
		c.order.Remove(oldest)
		delete(c.items, oldest.Value.(*cached[K, V]).key)
	}
	c.items[k] = c.order.PushBack(&cached[K, V]{key: k, value: v, expires: expires})
}

// PutIfAbsent sets the value at k until expires, unless a live one is
// there: then it returns that one, and changes nothing.
func (c *cache[K, V]) PutIfAbsent(k K, v V, expires time.Time) (prev V, had bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, had = c.get(k); had {
		return prev, true
	}
	c.put(k, v, expires)
	return prev, false
}

// Delete forgets k.
func (c *cache[K, V]) Delete(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.order.Remove(el)
		delete(c.items, k)
	}
}

// Len is how many entries the cache holds, expired ones included.
func (c *cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
