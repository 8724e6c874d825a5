package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// The floor: what one bare net/http round trip costs a Go client process
// on this machine, at an offered rate, with nothing else in it: a 1.5 KB
// form POST to a server in this process, answered with 1.5 KB, over a
// kept-alive connection. sessionbot's command is five such round trips
// (two one after the other, then three at once) and a WebSocket frame
// each way, so this says what its CPU per command can be at best.
//
//	go run ./cmd/bench -floor

// floorClientEnv makes the benchmark binary the floor's client process.
const floorClientEnv = "SESSIONBOT_BENCH_FLOOR_CLIENT"

// floor measures each case over trips round trips (0: 10 s of them, and
// at least 200).
func floor(trips int) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	body := strings.Repeat("x", 1500)
	go func() {
		_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			_, _ = io.WriteString(w, body)
		}))
	}()
	fmt.Printf("## The floor: one bare HTTP round trip\n\nClient CPU per round trip, a client process alone on schedule; µs.\n\n")
	fmt.Printf("| offered | at once | GOMAXPROCS | client CPU per round trip |\n|---|---|---|---|\n")
	for _, c := range []struct{ rate, par int }{{10, 1}, {10, 3}, {300, 1}} {
		for _, procs := range []string{"1", "2"} {
			n := trips
			if n <= 0 {
				n = max(200, c.rate*10)
			}
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), floorClientEnv+"="+strings.Join([]string{ln.Addr().String(), strconv.Itoa(c.rate), strconv.Itoa(n), strconv.Itoa(c.par)}, ","), "GOMAXPROCS="+procs)
			out, err := cmd.Output()
			if err != nil {
				return fmt.Errorf("floor client: %v", err)
			}
			fmt.Printf("| %d/s | %d | %s | %s |\n", c.rate, c.par, procs, strings.TrimSpace(string(out)))
		}
	}
	fmt.Println()
	return nil
}

// floorClient is the floor's client process: it prints its CPU per round
// trip.
func floorClient(spec string) {
	f := strings.Split(spec, ",")
	addr := f[0]
	rate, _ := strconv.Atoi(f[1])
	n, _ := strconv.Atoi(f[2])
	par, _ := strconv.Atoi(f[3])
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	form := strings.Repeat("y", 1500)
	trip := func() {
		resp, err := c.Post("http://"+addr+"/", "application/x-www-form-urlencoded", strings.NewReader(form))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	for range 20 { // connections open, code paged in
		trip()
	}
	pid := os.Getpid()
	cpu0 := cpuTime(pid)
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	done := make(chan struct{}, par)
	for i := range n {
		time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
		for range par {
			go func() { trip(); done <- struct{}{} }()
		}
		for range par {
			<-done
		}
	}
	fmt.Printf("%.0f", float64((cpuTime(pid)-cpu0).Microseconds())/float64(n*par))
}
