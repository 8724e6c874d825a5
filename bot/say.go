package bot

import (
	"fmt"
	"strconv"
	"time"
)

// How words.go's words are put together: counts, traffic, durations, and
// the shape of a problem. The words themselves stay in words.go.

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func residentialUsers(n int) string { return plural(n, sayOneResidential, sayManyResidential) }

// gb is how every traffic figure is written: two decimals.
func gb(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// formatDuration is how long a reset took, as every message says it.
func formatDuration(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf(sayDurationMillis, d.Milliseconds())
	}
	return fmt.Sprintf(sayDurationSeconds, d.Seconds())
}

func requestContext(id string) string { return fmt.Sprintf(sayRequestFooter, id) }

// problem is the shape of every failure a person is told of: what
// happened, and what to do, with the request's ID when there is one.
func problem(emoji, what, todo, id string) Message {
	text := ":" + emoji + ": " + what
	if todo != "" {
		text += sayWhatToDo + todo
	}
	footer := ""
	if id != "" {
		footer = requestContext(id)
	}
	return message(text, footer)
}
