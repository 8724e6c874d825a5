package bot

import (
	"fmt"
	"testing"
	"time"
)

func TestCacheExpiresAndStaysBounded(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	c := newCache[string, int](3, func() time.Time { return now })
	c.Put("a", 1, now.Add(time.Minute))
	if v, ok := c.Get("a"); !ok || v != 1 {
		t.Fatalf("Get(a) = %d, %v", v, ok)
	}
	now = now.Add(time.Minute)
	if _, ok := c.Get("a"); ok {
		t.Error("an entry outlived its expiry")
	}
	for i := range 5 {
		c.Put(fmt.Sprint(i), i, now.Add(time.Minute))
	}
	if n := c.Len(); n != 3 {
		t.Errorf("%d entries, want the bound of 3", n)
	}
	if _, ok := c.Get("0"); ok {
		t.Error("the entry written first was kept past the bound")
	}
	if v, ok := c.Get("4"); !ok || v != 4 {
		t.Errorf("the entry written last was dropped: %d, %v", v, ok)
	}
	if prev, had := c.PutIfAbsent("4", 40, now.Add(time.Minute)); !had || prev != 4 {
		t.Errorf("PutIfAbsent over a live entry = %d, %v", prev, had)
	}
	c.Delete("4")
	if _, had := c.PutIfAbsent("4", 40, now.Add(time.Minute)); had {
		t.Error("PutIfAbsent found a deleted entry")
	}
}

// A crowd of distinct users costs the rate limiter the same per request,
// however many it has seen: the bound forgets the oldest, without a scan.
func BenchmarkRateLimitFlood(b *testing.B) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	l := newUserLimiter(10, func() time.Time { return now })
	users := make([]string, 2*maxTrackedUsers)
	for i := range users {
		users[i] = fmt.Sprintf("U%08d", i)
	}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		l.allow(users[i%len(users)])
		i++
	}
}
