package shell

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sessionbot/sessionbot/bot"
)

// Journal is a bot.Journal that lives as long as the shell. With an audit
// channel it prints its entries as that channel would show them.
type Journal struct {
	sh      *Shell
	channel string // "" keeps the journal silent

	mu      sync.Mutex
	n       int
	entries map[string]bot.Entry
	marks   map[string]bool
}

// NewJournal returns a journal shown as messages in channel, or a silent
// one when channel is empty. One process is the whole deployment here, so
// the journal knows every click.
func (s *Shell) NewJournal(channel string) *Journal {
	return &Journal{sh: s, channel: channel, entries: map[string]bot.Entry{}, marks: map[string]bool{}}
}

// Write implements bot.Journal.
func (j *Journal) Write(ctx context.Context, e bot.Entry, m bot.Message) (string, error) {
	var ref string
	if j.channel != "" {
		var err error
		if ref, err = j.sh.Post(ctx, j.channel, "", m); err != nil {
			return "", err
		}
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if ref == "" {
		j.n++
		ref = fmt.Sprintf("journal-%d", j.n)
	}
	e.Ref = ref
	j.entries[ref] = e
	return ref, nil
}

// Rewrite implements bot.Journal.
func (j *Journal) Rewrite(ctx context.Context, e bot.Entry, m bot.Message) error {
	j.mu.Lock()
	j.entries[e.Ref] = e
	j.mu.Unlock()
	if j.channel == "" {
		return nil
	}
	return j.sh.Update(ctx, j.channel, e.Ref, m)
}

// Claim implements bot.Journal.
func (j *Journal) Claim(_ context.Context, ref, mark string) (bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	key := ref + " " + mark
	if j.marks[key] {
		return false, nil
	}
	j.marks[key] = true
	return true, nil
}

// Read implements bot.Journal.
func (j *Journal) Read(_ context.Context, ref string) (bot.Entry, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	e, ok := j.entries[ref]
	if !ok {
		return bot.Entry{}, fmt.Errorf("%s: %w", ref, bot.ErrNotFound)
	}
	return e, nil
}

// Since implements bot.Journal.
func (j *Journal) Since(_ context.Context, t time.Time) ([]bot.Entry, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []bot.Entry
	for _, e := range j.entries {
		if !e.Started.Before(t) {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b bot.Entry) int { return a.Started.Compare(b.Started) })
	return out, nil
}
