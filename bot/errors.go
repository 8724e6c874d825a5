package bot

import "errors"

var errNoGroupLister = errors.New("user groups cannot be looked up here")

// ChannelProblem is why the bot cannot post in a channel, in terms a
// requester can act on.
type ChannelProblem string

// The channel problems a transport reports.
const (
	ChannelNotMember ChannelProblem = "not_member" // not a member: invite the bot
	ChannelHidden    ChannelProblem = "hidden"     // private or a DM the bot cannot see
	ChannelArchived  ChannelProblem = "archived"
)

// ChannelError says the bot cannot post in the request's channel, for a
// reason the requester can fix (usually by inviting the bot).
type ChannelError struct {
	Problem ChannelProblem
}

func (e *ChannelError) Error() string { return "cannot post in the channel: " + string(e.Problem) }

// RateLimitedError says the chat service is rate limiting the bot even after retries.
type RateLimitedError struct {
	Err error
}

func (e *RateLimitedError) Error() string { return "rate limited: " + e.Err.Error() }
func (e *RateLimitedError) Unwrap() error { return e.Err }
