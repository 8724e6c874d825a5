package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sessionbot/sessionbot/bot/slack/slacktest"
	"github.com/sessionbot/sessionbot/iproyal"
)

// hashPrefix starts every hash a command carries (see hashFor), so the
// tracker can find a command's hash in the bot's announcement.
const hashPrefix = "01H7YCG0R9GYY1YCPS2S"

// loadKey names one open-loop load.
type loadKey struct {
	rate  float64
	delay time.Duration
}

type load struct {
	n          int
	lag        []time.Duration // open loop: the generator's, from the scheduled time to the envelope's write
	ack, e2e   []time.Duration // e2e: to the thread reply
	overhead   []time.Duration // e2e less the time IPRoyal's double took to answer that command's DELETE
	trail      []time.Duration // to the last of the reply, the reaction and the update
	elapsed    time.Duration
	cpu        time.Duration // the bot's
	harness    time.Duration // this process's: the doubles and the load generator
	lateSends  int           // open loop: sends more than 1 ms behind schedule
	offered    float64       // open loop: commands per second
	overDeadln int           // acks after Slack's 3 s
}

// perLoad is how many commands an open-loop load at rate sends.
func perLoad(o options, rate float64) int {
	return max(1, min(o.commands, int(rate*o.rateFor.Seconds())))
}

// loads runs the open-loop loads, then the saturation loads, into res.
// slowMax bounds the commands of each load with a slow IPRoyal.
func (r *rig) loads(o options, res *result, slowMax int) error {
	base := 0
	for _, rate := range o.rates {
		for _, delay := range []time.Duration{0, o.slow} {
			n := perLoad(o, rate)
			if delay > 0 {
				n = min(n, slowMax)
			}
			l, err := r.openLoad(rate, n, delay, base)
			if err != nil {
				return fmt.Errorf("%g/s, %v IPRoyal: %w", rate, delay, err)
			}
			res.open[loadKey{rate, delay}] = l
			base += n
		}
	}
	if !o.saturation {
		return nil
	}
	var err error
	if res.instant, err = r.closedLoad(o.commands, o.outstanding, 0, base); err != nil {
		return fmt.Errorf("saturation, instant IPRoyal: %w", err)
	}
	if res.slow, err = r.closedLoad(min(o.commands, slowMax), o.outstanding, o.slow, base+o.commands); err != nil {
		return fmt.Errorf("saturation, slow IPRoyal: %w", err)
	}
	return nil
}

// command is the envelope of the i-th command, and its hash.
func (r *rig) command(i int) (id, hash string, payload []byte) {
	id = fmt.Sprintf("bench-%d", i)
	hash = hashFor(i)
	payload, _ = json.Marshal(map[string]string{
		"user_id": user, "channel_id": channel, "command": "/reset-sessions", "text": hash,
		"team_id": slacktest.TeamID, "api_app_id": slacktest.AppID,
		"response_url": strings.TrimSuffix(r.slack.URL, "api/") + "response/" + id,
	})
	return id, hash, payload
}

// spin is how long before each scheduled send the generator stops
// sleeping and waits on the clock.
const spin = 2 * time.Millisecond

// openLoad sends n commands at rate per second, on schedule whatever the
// bot does, and waits for every trail. Latencies count from each command's
// scheduled time: a late send, or a queue anywhere, shows in them.
func (r *rig) openLoad(rate float64, n int, delay time.Duration, base int) (load, error) {
	r.ipr.SetDelay(delay)
	l := load{n: n, offered: rate}
	done := r.tr.reset(n, true)
	interval := time.Duration(float64(time.Second) / rate)
	var profiling sync.WaitGroup
	if r.pprof != "" {
		seconds := max(1, int(time.Duration(n)*interval/time.Second))
		name := fmt.Sprintf("%g-per-s-%s", rate, delayName(delay))
		r.profile("allocs", name+".allocs-before") // compare with -base
		profiling.Go(func() { r.profile(fmt.Sprintf("profile?seconds=%d", seconds), name+".pprof") })
		profiling.Go(func() { r.profile("trace?seconds=2", name+".trace") })
		defer func() { r.profile("allocs", name+".allocs") }()
	}
	defer profiling.Wait()
	pid := r.cmd.Process.Pid
	cpu0, harness0 := cpuTime(pid), cpuTime(os.Getpid())
	start := time.Now().Add(5 * time.Millisecond)
	for i := range n {
		at := start.Add(time.Duration(i) * interval)
		// Sleep, then spin the last stretch: a sleeping thread wakes late
		// by up to a millisecond here, which would count against the bot.
		if d := time.Until(at) - spin; d > 0 {
			time.Sleep(d)
		}
		for time.Now().Before(at) {
		}
		if time.Since(at) > time.Millisecond {
			l.lateSends++
		}
		id, hash, payload := r.command(base + i)
		r.tr.sent(id, hash, at)
		if err := r.slack.SendEnvelope(id, "slash_commands", payload); err != nil {
			return l, err
		}
	}
	select {
	case <-done:
	case <-time.After(30*time.Second + delay):
		return l, fmt.Errorf("%d of %d commands have no complete trail 30 s after the last was sent", n-r.tr.completed(), n)
	}
	l.elapsed = time.Since(start)
	l.cpu = cpuTime(pid) - cpu0
	l.harness = cpuTime(os.Getpid()) - harness0
	return r.finish(l, n)
}

// closedLoad sends n commands, keeping at most outstanding of them waiting
// for their trail. base numbers the hashes so loads never share one.
func (r *rig) closedLoad(n, outstanding int, delay time.Duration, base int) (load, error) {
	r.ipr.SetDelay(delay)
	l := load{n: n}
	done := r.tr.reset(n, false)
	sem := make(chan struct{}, outstanding)
	r.tr.mu.Lock()
	r.tr.sem = sem
	r.tr.mu.Unlock()
	pid := r.cmd.Process.Pid
	cpu0, harness0 := cpuTime(pid), cpuTime(os.Getpid())
	start := time.Now()
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-time.After(30 * time.Second):
			return l, fmt.Errorf("stalled: %d commands without a complete trail for 30 s", outstanding)
		}
		id, hash, payload := r.command(base + i)
		r.tr.sent(id, hash, time.Time{})
		if err := r.slack.SendEnvelope(id, "slash_commands", payload); err != nil {
			return l, err
		}
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		return l, errors.New("stalled waiting for the last trails")
	}
	l.elapsed = time.Since(start)
	l.cpu = cpuTime(pid) - cpu0
	l.harness = cpuTime(os.Getpid()) - harness0
	return r.finish(l, n)
}

// finish waits for the last acks (a bot that acknowledges after the work
// sends its last acks after its last replies) and collects the latencies.
func (r *rig) finish(l load, n int) (load, error) {
	for deadline := time.Now().Add(30 * time.Second); r.tr.acked() < n && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	// What IPRoyal's double took for each command's DELETE, its delay and
	// its own timer's lateness included: the rest of end to end is the bot's.
	took := map[string]time.Duration{}
	for _, q := range r.ipr.Requests() {
		var body struct {
			Hashes []string `json:"residential_user_hashes"`
		}
		if q.Method == http.MethodDelete && json.Unmarshal(q.Body, &body) == nil && len(body.Hashes) == 1 {
			took[body.Hashes[0]] = q.Took
		}
	}
	var err error
	l.ack, l.e2e, l.trail, l.overhead, err = r.tr.results(took)
	r.tr.mu.Lock()
	l.lag = slices.Sorted(slices.Values(r.tr.lag))
	r.tr.mu.Unlock()
	l.overDeadln = over(l.ack, 3*time.Second)
	return l, err
}

// hashFor returns the i-th of up to 2^24 distinct hashes that all start
// with hashPrefix: i fills the last 3 of the 16 bytes, which only the last
// 5 characters write.
func hashFor(i int) string {
	b, err := iproyal.HashBytes(hashPrefix + "000000")
	if err != nil {
		panic(err)
	}
	b[13], b[14], b[15] = byte(i>>16), byte(i>>8), byte(i)
	return iproyal.HashFromBytes(b)
}
