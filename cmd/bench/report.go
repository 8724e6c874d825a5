package main

import (
	"fmt"
	"slices"
	"time"
)

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func mib(kib int64) float64      { return float64(kib) / 1024 }

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

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
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

// stat is one number across the runs: its median, and its spread when
// there is more than one run.
type stat struct{ med, lo, hi float64 }

func across(results []result, f func(result) float64) stat {
	vs := make([]float64, len(results))
	for i, r := range results {
		vs[i] = f(r)
	}
	med, lo, hi := median(vs)
	return stat{med, lo, hi}
}

func (s stat) String() string {
	if s.lo == s.hi {
		return num(s.med)
	}
	return fmt.Sprintf("%s (%s–%s)", num(s.med), num(s.lo), num(s.hi))
}

func perCommand(l load) float64 {
	if l.n == 0 {
		return 0
	}
	return ms(l.cpu) / float64(l.n)
}

func delayName(d time.Duration) string {
	if d == 0 {
		return "instant"
	}
	return d.String()
}

func report(results []result, naive *result, o options) {
	if len(o.rates) > 0 {
		fmt.Printf("## Equal offered load (open loop)\n\n" +
			"Commands sent on schedule whatever the bot does; every latency counts from the scheduled send time. " +
			"Milliseconds; median of the runs (and their spread). Send lag is the load generator's own, from the scheduled time to the envelope's write, and is inside every latency. Overhead is each command's end to end less the time IPRoyal's double took to answer its DELETE (the delay asked for, and the double's own lateness). " +
			"Trail: until the thread reply, the reaction and the announcement's update have all reached Slack.\n\n")
		fmt.Printf("| offered | IPRoyal | commands | send lag p99 | ack p50 | ack p99 | ack max | end to end p50 | end to end p99 | overhead p99 | trail p99 | CPU per command |\n")
		fmt.Printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n")
		for _, rate := range o.rates {
			for _, delay := range []time.Duration{0, o.slow} {
				k := loadKey{rate, delay}
				get := func(f func(load) float64) stat {
					return across(results, func(r result) float64 { return f(r.open[k]) })
				}
				fmt.Printf("| %g/s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", rate, delayName(delay), results[0].open[k].n,
					get(func(l load) float64 { return ms(pct(l.lag, .99)) }),
					get(func(l load) float64 { return ms(pct(l.ack, .50)) }),
					get(func(l load) float64 { return ms(pct(l.ack, .99)) }),
					get(func(l load) float64 { return ms(pct(l.ack, 1)) }),
					get(func(l load) float64 { return ms(pct(l.e2e, .50)) }),
					get(func(l load) float64 { return ms(pct(l.e2e, .99)) }),
					get(func(l load) float64 { return ms(pct(l.overhead, .99)) }),
					get(func(l load) float64 { return ms(pct(l.trail, .99)) }),
					get(perCommand))
			}
		}
		late := 0
		for _, r := range results {
			for _, l := range r.open {
				late += l.lateSends
			}
		}
		fmt.Printf("\nSends more than 1 ms behind schedule, all loads and runs: %d.\n\n", late)
		if naive != nil {
			fmt.Printf("The naive variant (work, then ack), one run at the same offered loads:\n\n")
			fmt.Printf("| offered | IPRoyal | commands | ack p50 | ack p99 | ack max | acks after Slack's 3 s | end to end p99 | CPU per command |\n")
			fmt.Printf("|---|---|---|---|---|---|---|---|---|\n")
			for _, rate := range o.rates {
				for _, delay := range []time.Duration{0, o.slow} {
					l := naive.open[loadKey{rate, delay}]
					fmt.Printf("| %g/s | %s | %d | %s | %s | %s | %d of %d | %s | %s |\n", rate, delayName(delay), l.n,
						num(ms(pct(l.ack, .5))), num(ms(pct(l.ack, .99))), num(ms(pct(l.ack, 1))), l.overDeadln, l.n,
						num(ms(pct(l.e2e, .99))), num(perCommand(l)))
				}
			}
			fmt.Println()
		}
	}

	if o.idle > 0 {
		fmt.Printf("## Idle\n\nConnected and waiting, %s per phase; the Slack double pings every %s. "+
			"With probes: /readyz every 5 s and /healthz every 10 s, each on a new connection, as the Kubernetes manifest does.\n\n", o.idle, o.ping)
		fmt.Printf("| | median (spread) |\n|---|---|\n")
		fmt.Printf("| CPU per hour connected | %s ms |\n", across(results, func(r result) float64 { return ms(r.idle.perHour()) }))
		fmt.Printf("| CPU per hour connected, with probes | %s ms |\n", across(results, func(r result) float64 { return ms(r.idleProbed.perHour()) }))
		fmt.Printf("| memory idle (VmRSS) | %s MiB |\n", across(results, func(r result) float64 { return mib(r.idle.rssKiB) }))
		fmt.Printf("| memory idle after the probes (VmRSS) | %s MiB |\n", across(results, func(r result) float64 { return mib(r.idleProbed.rssKiB) }))
		fmt.Printf("| goroutines idle | %s |\n\n", across(results, func(r result) float64 { return float64(r.idle.goroutines) }))
	}

	if o.saturation {
		s := delayName(o.slow) + " IPRoyal"
		fmt.Printf("## Saturation (closed loop, %d commands, %d outstanding)\n\n", o.commands, o.outstanding)
		fmt.Printf("| | median (spread) |\n|---|---|\n")
		rows := []struct {
			name string
			unit string
			f    func(result) float64
		}{
			{"throughput, instant IPRoyal", "commands/s", func(r result) float64 { return float64(r.instant.n) / r.instant.elapsed.Seconds() }},
			{"throughput, " + s, "commands/s", func(r result) float64 { return float64(r.slow.n) / r.slow.elapsed.Seconds() }},
			{"ack p99, instant IPRoyal", "ms", func(r result) float64 { return ms(pct(r.instant.ack, .99)) }},
			{"end to end p99, instant IPRoyal", "ms", func(r result) float64 { return ms(pct(r.instant.e2e, .99)) }},
			{"end to end p99, " + s, "ms", func(r result) float64 { return ms(pct(r.slow.e2e, .99)) }},
			{"CPU per command, instant IPRoyal", "ms", func(r result) float64 { return perCommand(r.instant) }},
			{"CPU per command, " + s, "ms", func(r result) float64 { return perCommand(r.slow) }},
			{"CPU per command, benchmark process, instant IPRoyal", "ms", func(r result) float64 { return ms(r.instant.harness) / float64(r.instant.n) }},
		}
		for _, row := range rows {
			fmt.Printf("| %s | %s %s |\n", row.name, across(results, row.f), row.unit)
		}
		if naive != nil {
			fmt.Printf("| naive: throughput, %s (%d commands) | %s commands/s |\n", s, naive.slow.n, num(float64(naive.slow.n)/naive.slow.elapsed.Seconds()))
			fmt.Printf("| naive: ack p99, %s | %s ms |\n", s, num(ms(pct(naive.slow.ack, .99))))
		}
		fmt.Println()
	}

	fmt.Printf("## Process\n\n| | median (spread) |\n|---|---|\n")
	fmt.Printf("| memory at peak (VmHWM) | %s MiB |\n", across(results, func(r result) float64 { return mib(r.peakKiB) }))
	fmt.Printf("| memory 2 s after the last load (VmRSS) | %s MiB |\n", across(results, func(r result) float64 { return mib(r.drainedKiB) }))
	fmt.Printf("| goroutines 2 s after the last load | %s |\n", across(results, func(r result) float64 { return float64(r.goroutinesAfter) }))
	fmt.Printf("| goroutines once idle connections and workers closed | %s |\n", across(results, func(r result) float64 { return float64(r.goroutinesQuiet) }))
	fmt.Printf("| start-up to /readyz 200 | %s ms |\n", across(results, func(r result) float64 { return ms(r.startup) }))
	fmt.Printf("| reconnect: disconnect to next hello | %s ms |\n", across(results, func(r result) float64 { return ms(r.reconnect) }))
	fmt.Printf("| binary (stripped) | %s MB |\n\n", num(float64(results[0].binarySize)/1e6))

	goals(results, o)
}

// goals states each goal of BENCHMARKS.md that this run measured, with
// the median and whether it is met.
func goals(results []result, o options) {
	type goal struct {
		name   string
		value  float64
		limit  float64
		unit   string
		atMost bool
	}
	var gs []goal
	for _, rate := range o.rates {
		for _, delay := range []time.Duration{0, o.slow} {
			k := loadKey{rate, delay}
			at := fmt.Sprintf("at %g/s, %s IPRoyal", rate, delayName(delay))
			med := func(f func(load) float64) float64 {
				return across(results, func(r result) float64 { return f(r.open[k]) }).med
			}
			switch rate {
			case 300:
				gs = append(gs,
					goal{"ack p99 " + at, med(func(l load) float64 { return ms(pct(l.ack, .99)) }), 1, "ms", true},
					goal{"end-to-end overhead p99 " + at, med(func(l load) float64 { return ms(pct(l.overhead, .99)) }), 3, "ms", true},
					goal{"CPU per command " + at, med(perCommand), 0.4, "ms", true})
			case 10:
				gs = append(gs, goal{"CPU per command " + at, med(perCommand), 0.8, "ms", true})
			}
		}
	}
	if o.idle > 0 {
		gs = append(gs,
			goal{"idle CPU per hour connected", across(results, func(r result) float64 { return ms(r.idle.perHour()) / 1000 }).med, 1, "s", true},
			goal{"idle CPU per hour connected, with probes", across(results, func(r result) float64 { return ms(r.idleProbed.perHour()) / 1000 }).med, 1, "s", true},
			goal{"idle memory (VmRSS)", across(results, func(r result) float64 { return mib(r.idle.rssKiB) }).med, 12, "MiB", true})
	}
	gs = append(gs,
		goal{"start-up to /readyz 200", across(results, func(r result) float64 { return ms(r.startup) }).med, 300, "ms", true},
		goal{"reconnect", across(results, func(r result) float64 { return ms(r.reconnect) }).med, 1000, "ms", true},
		goal{"binary (stripped)", float64(results[0].binarySize) / 1e6, 15, "MB", true})
	fmt.Printf("## Goals\n\n| goal | median | met |\n|---|---|---|\n")
	for _, g := range gs {
		cmp := "≥"
		met := g.value >= g.limit
		if g.atMost {
			cmp, met = "≤", g.value <= g.limit
		}
		fmt.Printf("| %s %s %s %s | %s %s | %s |\n", g.name, cmp, num(g.limit), g.unit, num(g.value), g.unit, yes(met))
	}
	fmt.Println()
}

func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}
