// Package doubles is what the project's test doubles (slacktest,
// iproyaltest) share: how they report scripted answers never used, and a
// testing.TB for their own tests of that report.
package doubles

import (
	"fmt"
	"strings"
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
