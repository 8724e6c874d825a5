package bot

import (
	"context"
	"time"

	"github.com/sessionbot/sessionbot/iproyal"
)

// The core's ports: what it needs from the world, each implemented by an
// adapter (bot/slack, bot/shell, the command line) and by the tests' fakes.

// Chat is what the core needs from a chat transport to leave a trail: the
// announcement, its thread, its final state. Reply, Update and React
// complete the trail of a decision already made, so transports retry them
// hard (Slack's adapter: on 5xx, 429 and connection errors), until ctx
// ends. What a requester is told privately is not posted here: it is in
// the Result the adapter renders.
type Chat interface {
	// Post posts in a channel, or in the thread of thread when it is set,
	// and returns the message's timestamp (empty where the transport has no
	// channel: the command line). When the bot cannot post there for a
	// reason a user can fix, the error is a *ChannelError.
	Post(ctx context.Context, channel, thread string, m Message) (ts string, err error)
	// Reply posts in the thread whose first message is ts; broadcast also
	// shows it in the channel.
	Reply(ctx context.Context, channel, ts string, m Message, broadcast bool) error
	// Update replaces the bot's message at ts.
	Update(ctx context.Context, channel, ts string, m Message) error
	// React adds an emoji reaction to a message.
	React(ctx context.Context, channel, ts, emoji string) error
	// Link is an address people can follow to the message at ts, or "".
	Link(channel, ts string) string
	// Find returns the message tagged tag posted in channel (in the thread
	// of thread, when set) since t, or "" when there is none, or when the
	// transport cannot look.
	Find(ctx context.Context, channel, thread string, tag Tag, since time.Time) (ts string, err error)
}

// IPRoyal is what the core needs from the IPRoyal client.
type IPRoyal interface {
	SubuserFinder
	// SearchSubusers returns the first limit sub-users whose username
	// contains search, and how many there are.
	SearchSubusers(ctx context.Context, search string, limit int) ([]iproyal.Subuser, int, error)
	ResetSessions(ctx context.Context, hashes []string) error
	Me(ctx context.Context) (iproyal.Account, error)
}

// SubuserFinder resolves sub-users' usernames to their hashes, all of a
// command's at once (iproyal.Client.FindSubusers), and a hash to its
// sub-user (iproyal.Client.Subuser).
type SubuserFinder interface {
	FindSubusers(ctx context.Context, usernames []string) (iproyal.Lookup, error)
	Subuser(ctx context.Context, hash string) (iproyal.Subuser, error)
}

// GroupLister returns the member IDs of a chat user group.
type GroupLister interface {
	GroupMembers(ctx context.Context, groupID string) ([]string, error)
}

// Journal stores one entry per request where it outlives sessionbot's
// processes (Slack's adapter: as metadata on the request's message in
// AUDIT_CHANNEL). Write and Rewrite return when the entry is there, or
// when ctx ends: they retry until then, and a write whose answer was lost
// is looked for before it is made again, so that an entry is never
// written twice, nor taken for lost when it landed.
type Journal interface {
	// Write adds e, shown to people as m, and returns its reference.
	Write(ctx context.Context, e Entry, m Message) (ref string, err error)
	// Rewrite replaces the entry at e.Ref, and what it shows.
	Rewrite(ctx context.Context, e Entry, m Message) error
	// Claim marks the entry at ref with mark. It reports false when the
	// entry bore the mark already, whichever process put it there: the
	// journal arbitrates, so exactly one claimant wins.
	Claim(ctx context.Context, ref, mark string) (won bool, err error)
	// Read returns the entry at ref.
	Read(ctx context.Context, ref string) (Entry, error)
	// Since returns the entries written since t, newest first.
	Since(ctx context.Context, t time.Time) ([]Entry, error)
}
