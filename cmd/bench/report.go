package main

import (
	"fmt"
	"slices"
	"time"
)

// metric is one line of the report: how to read it from a run, and its goal.
type metric struct {
	name   string
	unit   string
	value  func(r result) float64
	goal   float64 // 0: no goal
	atMost bool    // the goal is a ceiling (else a floor)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func mib(kib int64) float64      { return float64(kib) / 1024 }

func metrics(slow time.Duration) []metric {
	s := fmt.Sprintf("%d ms IPRoyal", slow.Milliseconds())
	return []metric{
		{"ack latency p50 (instant IPRoyal)", "ms", func(r result) float64 { return ms(pct(r.instant.ack, .50)) }, 0, true},
		{"ack latency p99 (instant IPRoyal)", "ms", func(r result) float64 { return ms(pct(r.instant.ack, .99)) }, 2, true},
		{"ack latency max (instant IPRoyal)", "ms", func(r result) float64 { return ms(pct(r.instant.ack, 1)) }, 0, true},
		{"ack latency p99 (" + s + ")", "ms", func(r result) float64 { return ms(pct(r.slow.ack, .99)) }, 2, true},
		{"end to end p50 (instant IPRoyal)", "ms", func(r result) float64 { return ms(pct(r.instant.e2e, .50)) }, 0, true},
		{"end to end p99 (instant IPRoyal)", "ms", func(r result) float64 { return ms(pct(r.instant.e2e, .99)) }, 15, true},
		{"end to end p50 (" + s + ")", "ms", func(r result) float64 { return ms(pct(r.slow.e2e, .50)) }, 0, true},
		{"end to end p99 (" + s + ")", "ms", func(r result) float64 { return ms(pct(r.slow.e2e, .99)) }, 0, true},
		{"throughput (instant IPRoyal)", "commands/s", func(r result) float64 { return float64(r.instant.n) / r.instant.elapsed.Seconds() }, 0, false},
		{"throughput (" + s + ")", "commands/s", func(r result) float64 { return float64(r.slow.n) / r.slow.elapsed.Seconds() }, 800, false},
		{"CPU per command (instant IPRoyal)", "ms", func(r result) float64 { return ms(r.instant.cpu) / float64(r.instant.n) }, 0.2, true},
		{"CPU per command (" + s + ")", "ms", func(r result) float64 { return ms(r.slow.cpu) / float64(r.slow.n) }, 0.2, true},
		// Not the bot's: what the doubles and the load generator took from the same two cores.
		{"CPU per command, benchmark process (instant IPRoyal)", "ms", func(r result) float64 { return ms(r.instant.harness) / float64(r.instant.n) }, 0, true},
		{"memory idle after connecting (VmRSS)", "MiB", func(r result) float64 { return mib(r.idleKiB) }, 15, true},
		{"memory at peak (VmHWM)", "MiB", func(r result) float64 { return mib(r.peakKiB) }, 40, true},
		{"memory after the load drained (VmRSS)", "MiB", func(r result) float64 { return mib(r.drainedKiB) }, 0, true},
		{"goroutines idle", "", func(r result) float64 { return float64(r.goroutinesIdle) }, 0, true},
		{"goroutines 2 s after the load (keep-alive connections and idle workers)", "", func(r result) float64 { return float64(r.goroutinesAfter) }, 0, true},
		{"goroutines once idle connections and workers closed", "", func(r result) float64 { return float64(r.goroutinesQuiet) }, 0, true},
		{"start-up to /readyz 200", "ms", func(r result) float64 { return ms(r.startup) }, 300, true},
		{"reconnect: disconnect to next hello", "ms", func(r result) float64 { return ms(r.reconnect) }, 1000, true},
		{"binary size (stripped)", "MB", func(r result) float64 { return float64(r.binarySize) / 1e6 }, 15, true},
	}
}

func median(vs []float64) (med, lo, hi float64) {
	s := slices.Clone(vs)
	slices.Sort(s)
	return s[len(s)/2], s[0], s[len(s)-1]
}

func num(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func report(results []result, slow time.Duration) {
	fmt.Printf("| metric | median | spread (min–max) | goal | met |\n|---|---|---|---|---|\n")
	for _, m := range metrics(slow) {
		vs := make([]float64, len(results))
		for i, r := range results {
			vs[i] = m.value(r)
		}
		med, lo, hi := median(vs)
		goal, met := "", ""
		if m.goal != 0 {
			if m.atMost {
				goal = "≤ " + num(m.goal)
				met = yes(med <= m.goal)
			} else {
				goal = "≥ " + num(m.goal)
				met = yes(med >= m.goal)
			}
			goal += " " + m.unit
		}
		fmt.Printf("| %s | %s %s | %s–%s | %s | %s |\n", m.name, num(med), m.unit, num(lo), num(hi), goal, met)
	}
	fmt.Println()
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

func reportNaive(results []result, fast, slowRes load, slow time.Duration) {
	var acks, e2es, tputs []float64
	late := 0
	for _, r := range results {
		late = max(late, over(r.slow.ack, 3*time.Second))
		acks = append(acks, ms(pct(r.instant.ack, .99)))
		e2es = append(e2es, ms(pct(r.instant.e2e, .99)))
		tputs = append(tputs, float64(r.slow.n)/r.slow.elapsed.Seconds())
	}
	ack, _, _ := median(acks)
	e2e, _, _ := median(e2es)
	tput, _, _ := median(tputs)
	fmt.Printf("## Ack first (sessionbot) against work first (naive variant), one run of the naive variant\n\n")
	fmt.Printf("| | sessionbot | naive: work, then ack |\n|---|---|---|\n")
	fmt.Printf("| ack p99, instant IPRoyal | %s ms | %s ms |\n", num(ack), num(ms(pct(fast.ack, .99))))
	fmt.Printf("| ack max, instant IPRoyal | | %s ms |\n", num(ms(pct(fast.ack, 1))))
	fmt.Printf("| end to end p99, instant IPRoyal | %s ms | %s ms |\n", num(e2e), num(ms(pct(fast.e2e, .99))))
	fmt.Printf("| ack p99, %d ms IPRoyal (%d commands) | | %s ms |\n", slow.Milliseconds(), slowRes.n, num(ms(pct(slowRes.ack, .99))))
	fmt.Printf("| acks over Slack's 3 s, %d ms IPRoyal | %d | %d of %d |\n", slow.Milliseconds(), late, over(slowRes.ack, 3*time.Second), slowRes.n)
	fmt.Printf("| throughput, %d ms IPRoyal | %s commands/s | %s commands/s |\n\n", slow.Milliseconds(), num(tput), num(float64(slowRes.n)/slowRes.elapsed.Seconds()))
}

func over(ds []time.Duration, limit time.Duration) int {
	n := 0
	for _, d := range ds {
		if d > limit {
			n++
		}
	}
	return n
}
