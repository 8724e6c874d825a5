package slack

import (
	"context"
	"testing"
	"time"
)

// TestWorkersAreReusedAndStopWithRun checks the life of the goroutines
// commands run on: one stays for the next command, and none outlives Run.
func TestWorkersAreReusedAndStopWithRun(t *testing.T) {
	s := New(Options{AppToken: "xapp-1-test", BotToken: "xoxb-test", APIURL: "http://127.0.0.1:1/"})
	ran := make(chan int, 2)
	if !s.commands.take("U1") {
		t.Fatal("no slot")
	}
	s.goHandle(context.Background(), "U1", func(context.Context) { ran <- 1 })
	if got := <-ran; got != 1 {
		t.Fatal("the first command did not run")
	}
	s.inFlight.Wait()
	if n := s.workers.Load(); n != 1 {
		t.Fatalf("%d workers after one command, want 1 waiting for the next", n)
	}

	// The waiting worker takes the next command: this send blocks until it does.
	if !s.commands.take("U2") {
		t.Fatal("no slot")
	}
	s.inFlight.Add(1)
	select {
	case s.tasks <- func() {
		defer func() { s.commands.release("U2"); s.inFlight.Done() }()
		ran <- 2
	}:
	case <-time.After(5 * time.Second):
		t.Fatal("no worker took the second command")
	}
	if got := <-ran; got != 2 {
		t.Fatal("the second command did not run")
	}
	s.inFlight.Wait()
	if n := s.workers.Load(); n != 1 {
		t.Fatalf("%d workers after two commands, want 1", n)
	}

	close(s.quit) // what Run does when it returns
	deadline := time.Now().Add(5 * time.Second)
	for s.workers.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d workers after Run's end, want 0", s.workers.Load())
		}
		time.Sleep(time.Millisecond)
	}
}
