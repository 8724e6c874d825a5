// Package doubles is what the project's test doubles (slacktest,
// iproyaltest) share: how a slow answer waits, how they report scripted
// answers never used, and a testing.TB for their own tests of that report.
package doubles

import (
	"fmt"
	"strings"
	"time"
)

// NeverUsed describes the scripted answers to key that no call used, in
// order, a run of the same one counted once, for double's test failure.
func NeverUsed(double, key string, scripted []string) string {
	var runs []string
	for i := 0; i < len(scripted); {
		j := i + 1
		for j < len(scripted) && scripted[j] == scripted[i] {
			j++
		}
		if j-i > 1 {
			runs = append(runs, fmt.Sprintf("%s ×%d", scripted[i], j-i))
		} else {
			runs = append(runs, scripted[i])
		}
		i = j
	}
	return fmt.Sprintf("%s: %s: scripted but never used: %s", double, key, strings.Join(runs, ", "))
}

// Wait sleeps d, as a slow service does, and reports false if done closed
// meanwhile (the double stopped). A client giving up does not end the
// wait: a real service carries out a call whose client is gone.
func Wait(d time.Duration, done <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-done:
		return false
	}
}
