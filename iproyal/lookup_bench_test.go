package iproyal_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/sessionbot/sessionbot/iproyal"
	"github.com/sessionbot/sessionbot/iproyal/iproyaltest"
)

// BenchmarkFindSubusers resolves usernames against the IPRoyal double on
// 127.0.0.1, in an account of 1,000 sub-users (10 pages of 100), with
// IPRoyal answering at once or after 100 ms. "one_search_each" is the way
// it was done before: a search per username, 4 at a time.
//
//	go test ./iproyal -run '^$' -bench FindSubusers -benchmem
func BenchmarkFindSubusers(b *testing.B) {
	for _, delay := range []time.Duration{0, 100 * time.Millisecond} {
		for _, n := range []int{1, 100} {
			for _, way := range []string{"pages", "one_search_each"} {
				if way == "one_search_each" && (n == 1 || delay == 0) {
					continue
				}
				b.Run(way+"/"+strconv.Itoa(n)+"_usernames/iproyal_"+delay.String(), func(b *testing.B) {
					srv := iproyaltest.NewServer(token)
					defer srv.Close()
					names := account(srv, 1000)
					srv.SetDelay(delay)
					c, err := iproyal.NewClient(iproyal.WithBaseURL(srv.URL), iproyal.WithToken(token))
					if err != nil {
						b.Fatal(err)
					}
					want := names[len(names)-n:]
					before := srv.Count("GET", "/residential-subusers")
					b.ReportAllocs()
					for b.Loop() {
						if way == "pages" {
							l, err := c.FindSubusers(context.Background(), want)
							if err != nil || len(l.Found) != n {
								b.Fatalf("found %d, %v", len(l.Found), err)
							}
							continue
						}
						g := new(errgroup.Group)
						g.SetLimit(4)
						for _, u := range want {
							g.Go(func() error { _, err := c.FindSubuser(context.Background(), u); return err })
						}
						if err := g.Wait(); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(srv.Count("GET", "/residential-subusers")-before)/float64(b.N), "requests/op")
				})
			}
		}
	}
}
