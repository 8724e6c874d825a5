package main

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sessionbot/sessionbot/bot/slack/slacktest"
)

// tracker turns the double's events into per-command latencies.
type tracker struct {
	mu        sync.Mutex
	scheduled bool                 // latencies from the scheduled send time (open loop)
	sentAt    map[string]time.Time // envelope ID
	lag       []time.Duration      // open loop: from the scheduled time to the envelope's write
	byHash    map[string]string    // hash -> envelope ID
	byTS      map[string]string    // announcement ts -> envelope ID
	ackAt     map[string]time.Time // when the double read each ack; timed in results, once sentAt is final
	progress  map[string]*trail    // commands on their way
	finished  map[string]*trail    // commands with a complete trail
	want      int
	complete  int
	done      chan struct{} // closed when every command's trail is complete
	sem       chan struct{} // closed loop: a slot per command in flight

	hello        chan time.Time
	disconnectAt time.Time
}

// trail is what the double has seen of one command's outcome.
type trail struct {
	reply, reaction, update time.Time
	refused                 bool
}

func (t *trail) complete() bool {
	return t.refused || !t.reply.IsZero() && !t.reaction.IsZero() && !t.update.IsZero()
}

func newTracker() *tracker { t := &tracker{}; t.reset(0, false); return t }

// reset starts counting n commands, and returns a channel closed when all
// of them have a complete trail.
func (t *tracker) reset(n int, scheduled bool) <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.scheduled = scheduled
	t.sentAt = make(map[string]time.Time, n)
	t.lag = make([]time.Duration, 0, n)
	t.byHash = make(map[string]string, n)
	t.byTS = make(map[string]string, n)
	t.ackAt = make(map[string]time.Time, n)
	t.progress = make(map[string]*trail, n)
	t.finished = make(map[string]*trail, n)
	t.want, t.complete = n, 0
	t.done = make(chan struct{})
	t.sem = nil
	if n == 0 {
		close(t.done)
	}
	return t.done
}

// sent records a command about to be sent; at is its scheduled time (open
// loop), or zero to time it from when the double writes it.
func (t *tracker) sent(id, hash string, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if at.IsZero() {
		at = time.Now()
	}
	t.sentAt[id] = at
	t.byHash[hash] = id
	t.progress[id] = &trail{}
}

func (t *tracker) consume(events <-chan slacktest.Event) {
	for e := range events {
		t.mu.Lock()
		t.handle(e)
		t.mu.Unlock()
	}
}

func (t *tracker) handle(e slacktest.Event) {
	var id string
	switch e.Kind {
	case slacktest.EventEnvelope:
		// In a closed loop, "sent" is when the double wrote the envelope,
		// not when the generator asked: the double's lock can be busy.
		if at, ok := t.sentAt[e.EnvelopeID]; ok {
			if t.scheduled {
				t.lag = append(t.lag, e.At.Sub(at))
			} else {
				t.sentAt[e.EnvelopeID] = e.At
			}
		}
		return
	case slacktest.EventAck:
		// The double's reader may see the ack before its writer reports
		// the envelope written, so the ack is timed in results.
		if _, ok := t.sentAt[e.EnvelopeID]; ok {
			t.ackAt[e.EnvelopeID] = e.At
		}
		return
	case slacktest.EventMessage:
		m := e.Message
		if m.ThreadTS == "" {
			if i := strings.Index(m.Text, hashPrefix); i >= 0 && len(m.Text) >= i+26 {
				if id, ok := t.byHash[m.Text[i:i+26]]; ok {
					t.byTS[m.TS] = id
				}
			}
			return
		}
		id = t.byTS[m.ThreadTS]
		if p := t.progress[id]; p != nil && p.reply.IsZero() {
			p.reply = e.At
		}
	case slacktest.EventReaction:
		id = t.byTS[e.Message.TS]
		if p := t.progress[id]; p != nil && p.reaction.IsZero() {
			p.reaction = e.At
		}
	case slacktest.EventUpdate:
		id = t.byTS[e.Message.TS]
		if p := t.progress[id]; p != nil && p.update.IsZero() {
			p.update = e.At
		}
	case slacktest.EventResponse:
		// A private reply means the command was refused: it will get no
		// trail, so count it done and let results() report it.
		id = e.EnvelopeID
		if p := t.progress[id]; p != nil {
			p.refused = true
		}
	case slacktest.EventDisconnect:
		t.disconnectAt = e.At
		return
	case slacktest.EventHello:
		if t.hello != nil && !t.disconnectAt.IsZero() {
			select {
			case t.hello <- e.At:
			default:
			}
		}
		return
	default:
		return
	}
	p := t.progress[id]
	if p == nil || !p.complete() {
		return
	}
	delete(t.progress, id) // counted once
	t.finished[id] = p
	if t.sem != nil {
		<-t.sem
	}
	if t.complete++; t.complete == t.want {
		close(t.done)
	}
}

func (t *tracker) completed() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.complete
}

func (t *tracker) acked() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.ackAt)
}

func (t *tracker) results(took map[string]time.Duration) (ack, e2e, trails, overhead []time.Duration, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, at := range t.ackAt {
		ack = append(ack, at.Sub(t.sentAt[id]))
	}
	hashOf := make(map[string]string, len(t.byHash))
	for h, id := range t.byHash {
		hashOf[id] = h
	}
	refused, untimed := 0, 0
	for id, p := range t.finished {
		if p.refused {
			refused++
			continue
		}
		at := t.sentAt[id]
		e2e = append(e2e, p.reply.Sub(at))
		if d, ok := took[hashOf[id]]; ok {
			overhead = append(overhead, p.reply.Sub(at)-d)
		} else {
			untimed++
		}
		last := max(p.reply.UnixNano(), p.reaction.UnixNano(), p.update.UnixNano())
		trails = append(trails, time.Unix(0, last).Sub(at))
	}
	if len(ack) != len(t.sentAt) || len(e2e) != len(t.sentAt) {
		return ack, e2e, trails, overhead, fmt.Errorf("%d commands sent, %d acknowledged, %d with a complete trail, %d refused",
			len(t.sentAt), len(ack), len(e2e), refused)
	}
	if untimed > 0 {
		return ack, e2e, trails, overhead, fmt.Errorf("%d commands with a trail but no DELETE at IPRoyal's double", untimed)
	}
	slices.Sort(ack)
	slices.Sort(e2e)
	slices.Sort(trails)
	slices.Sort(overhead)
	return ack, e2e, trails, overhead, nil
}
