package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sessionbot/sessionbot/bot/slack/slacktest"
)

// flood measures a crowd of refused users: n commands, each from a user
// the bot has never seen and does not allow, sent with at most
// outstanding of them unacknowledged. Each refusal is answered from memory
// in the ack, and costs the rate limiter a new bucket and the refusal
// mirror a window: the bot's CPU per command in each half of the crowd,
// and its memory after, say whether that cost grows with the crowd.
func flood(bin string, o options, n int) error {
	o.env = append(o.env, "RATE_LIMIT_PER_MINUTE=10", "AUDIT_CHANNEL=C0AUDIT")
	r, _, err := startRig(bin, o, true)
	if err != nil {
		return err
	}
	defer r.stop()
	pid := r.cmd.Process.Pid
	rss0, _ := procStatus(pid, "VmRSS")
	r.tr.reset(n, false)
	var halves [2]time.Duration
	for h := range 2 {
		cpu0 := cpuTime(pid)
		for i := h * n / 2; i < (h+1)*n/2; i++ {
			for deadline := time.Now().Add(30 * time.Second); i-r.tr.acked() >= o.outstanding; {
				if time.Now().After(deadline) {
					return fmt.Errorf("flood: %d commands unacknowledged for 30 s", o.outstanding)
				}
				time.Sleep(100 * time.Microsecond)
			}
			id := fmt.Sprintf("flood-%d", i)
			payload, _ := json.Marshal(map[string]string{
				"user_id": fmt.Sprintf("U%08d", i), "channel_id": channel, "command": "/reset-sessions", "text": hashFor(i),
				"team_id": slacktest.TeamID, "api_app_id": slacktest.AppID,
				"response_url": strings.TrimSuffix(r.slack.URL, "api/") + "response/" + id,
			})
			r.tr.sent(id, hashFor(i), time.Time{})
			if err := r.slack.SendEnvelope(id, "slash_commands", payload); err != nil {
				return err
			}
		}
		for deadline := time.Now().Add(30 * time.Second); r.tr.acked() < (h+1)*n/2; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				return fmt.Errorf("flood: %d of %d commands unacknowledged after 30 s", (h+1)*n/2-r.tr.acked(), (h+1)*n/2)
			}
		}
		halves[h] = cpuTime(pid) - cpu0
	}
	rss, _ := procStatus(pid, "VmRSS")
	hwm, _ := procStatus(pid, "VmHWM")
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(n/2) }
	fmt.Printf("## A crowd of refused users\n\n%d commands, each from a different user the bot does not allow, at most %d unacknowledged at once.\n\n", n, o.outstanding)
	fmt.Printf("| | first %d | second %d |\n|---|---|---|\n", n/2, n/2)
	fmt.Printf("| CPU per command (µs) | %.1f | %.1f |\n", per(halves[0]), per(halves[1]))
	fmt.Printf("\nRSS %.1f MiB before, %.1f MiB after (peak %.1f MiB).\n", mib(rss0), mib(rss), mib(hwm))
	fmt.Fprintln(os.Stderr, "flood: done")
	return nil
}
