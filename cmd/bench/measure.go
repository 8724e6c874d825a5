package main

import (
	"io"
	"net/http"
	"time"
)

type result struct {
	startup, reconnect  time.Duration
	idle, idleProbed    idleCost
	peakKiB, drainedKiB int64
	goroutinesAfter     int
	goroutinesQuiet     int // after idle keep-alive connections closed
	open                map[loadKey]load
	instant, slow       load // the saturation loads
	binarySize          int64
}

// idleCost is what the bot spent while connected and waiting.
type idleCost struct {
	cpu, over  time.Duration
	rssKiB     int64
	goroutines int
}

func (c idleCost) perHour() time.Duration {
	if c.over == 0 {
		return 0
	}
	return time.Duration(float64(c.cpu) * float64(time.Hour) / float64(c.over))
}

func measure(bin string, o options) (result, error) {
	res := result{open: map[loadKey]load{}}
	r, startup, err := startRig(bin, o, true)
	if err != nil {
		return res, err
	}
	defer r.stop()
	res.startup = startup
	time.Sleep(time.Second) // let start-up settle: the first pings, the IPRoyal token check
	pid := r.cmd.Process.Pid
	if o.idle > 0 {
		res.idle = r.idlePhase(o.idle, false)
		res.idleProbed = r.idlePhase(o.idle, true)
	}
	if err := r.loads(o, &res, o.commands); err != nil {
		return res, err
	}
	res.peakKiB, _ = procStatus(pid, "VmHWM")
	time.Sleep(2 * time.Second) // drained: every reply is in; let the GC return memory
	res.drainedKiB, _ = procStatus(pid, "VmRSS")
	res.goroutinesAfter = goroutines(r.addr)

	if res.reconnect, err = r.reconnect(); err != nil {
		return res, err
	}
	// Pooled keep-alive connections hold two goroutines each until they
	// have been idle for idleConnTimeout, and command workers one each
	// for a shorter while; after that, anything above the idle count would
	// be a leak.
	time.Sleep(idleConnTimeout + time.Second)
	res.goroutinesQuiet = goroutines(r.addr)
	return res, nil
}

// idleConnTimeout is how long sessionbot keeps an unused pooled connection
// (cmd/sessionbot's pooledTransport).
const idleConnTimeout = 15 * time.Second

// idlePhase measures the bot connected and waiting for d: pinged by the
// double and, with probes, probed as the Kubernetes manifest does (/readyz
// every 5 s, /healthz every 10 s).
func (r *rig) idlePhase(d time.Duration, probes bool) idleCost {
	pid := r.cmd.Process.Pid
	cpu0, start := cpuTime(pid), time.Now()
	ready, live := time.NewTicker(5*time.Second), time.NewTicker(10*time.Second)
	defer ready.Stop()
	defer live.Stop()
	end := time.After(d)
	for done := false; !done; {
		select {
		case <-ready.C:
			if probes {
				probe(r.addr, "/readyz")
			}
		case <-live.C:
			if probes {
				probe(r.addr, "/healthz")
			}
		case <-end:
			done = true
		}
	}
	c := idleCost{cpu: cpuTime(pid) - cpu0, over: time.Since(start)}
	c.rssKiB, _ = procStatus(pid, "VmRSS")
	c.goroutines = goroutines(r.addr) // after the CPU is read: this is a request too
	return c
}

// probe makes a request the way a kubelet does: a new connection each time.
func probe(addr, path string) {
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("http://" + addr + path)
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

func measureNaive(bin string, o options) (result, error) {
	o.pprof = "" // the naive bot is not built with pprof
	res := result{open: map[loadKey]load{}}
	r, _, err := startRig(bin, o, false)
	if err != nil {
		return res, err
	}
	defer r.stop()
	time.Sleep(time.Second)
	if err := r.loads(o, &res, o.naiveMax); err != nil {
		return res, err
	}
	return res, nil
}
