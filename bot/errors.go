package bot

import "errors"

var errNoGroupLister = errors.New("user groups cannot be looked up here")

// ChannelError says the bot cannot post in the command's channel, for a
// reason the requester can fix (usually by inviting the bot).
type ChannelError struct {
	Code string // Slack's error code: not_in_channel, channel_not_found, is_archived
}

func (e *ChannelError) Error() string { return "cannot post in the channel: " + e.Code }

// RateLimitedError says the chat service is rate limiting the bot even after retries.
type RateLimitedError struct {
	Err error
}

func (e *RateLimitedError) Error() string { return "rate limited: " + e.Err.Error() }
func (e *RateLimitedError) Unwrap() error { return e.Err }
