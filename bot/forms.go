package bot

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/sessionbot/sessionbot/iproyal"
)

// Form is a request made in a form (a modal): its targets picked from a
// list or typed, its submission the confirmation.
type Form struct {
	User    string
	Channel string // where the reset is announced
	Thread  string // when set, the announcement and outcome go in this thread
	Via     string // "shortcut", "picker": for the audit line
	// ReplyTo is the transport's handle for answering the requester
	// privately (a response_url), as for a command.
	ReplyTo string
	Targets []string
	// Names holds the usernames the form showed for hashes (a picker's
	// labels), so the announcement can name them without a lookup.
	Names  map[string]string
	DryRun bool
	// Counted is how many targets the form listed with their count before
	// it was submitted (the hashes a shortcut found, or a confirmation's
	// list). A form that resets more than CONFIRM_ABOVE and more than it
	// counted asks for confirmation first (Checked.Confirm).
	Counted int
	// RequestID carries a request through its confirmation; new if empty.
	RequestID string
}

// The fields of a form a problem is about.
const (
	FieldTargets = "targets"
	FieldChannel = "channel"
)

// FormProblem is what a form must say beside one of its fields before it
// can be submitted. Text is plain text.
type FormProblem struct {
	Field string
	Text  string
}

// Checked is a form that passed its checks, ready to run, unless Confirm
// says it must be confirmed first.
type Checked struct {
	r       *request
	form    Form
	targets []Target
	// Confirm is set when the form resets more than CONFIRM_ABOVE targets
	// it did not count: the transport shows Targets, counted, and their
	// submission (a new Form, Counted set) is the confirmation. Nothing
	// was done.
	Confirm bool
}

// Targets are the form's targets, resolved.
func (c *Checked) Targets() []Target { return c.targets }

// RequestID is the request's ID, for a confirmation to carry.
func (c *Checked) RequestID() string { return c.r.id }

// maxProblem bounds a form's error text: it shows under one field.
const maxProblem = 300

// CheckForm checks a submitted form as a command would be checked: the
// rate limit, the allow-list (a group lookup if needed), and every target
// (usernames looked up). It is quick enough for Slack's 3 s answer to a
// submission when ctx says so. With problems, nothing was done, and the
// audit log has its line; otherwise RunForm runs it.
func (b *Bot) CheckForm(ctx context.Context, f Form) (*Checked, []FormProblem) {
	cmd := Command{User: f.User, Channel: f.Channel, Thread: f.Thread, Via: f.Via, ReplyTo: f.ReplyTo}
	id := f.RequestID
	if !requestIDPattern.MatchString(id) {
		id = b.cfg.NewID()
	}
	r := &request{id: id, kind: via(cmd), cmd: cmd, start: b.cfg.Now()}
	problems := b.checkForm(ctx, r, f)
	if len(problems) > 0 {
		b.audit(r)
		return nil, problems
	}
	c := &Checked{r: r, form: f, targets: r.targets}
	if n := len(c.targets); !f.DryRun && b.cfg.ConfirmAbove > 0 && n > b.cfg.ConfirmAbove && n > f.Counted {
		c.Confirm = true
		r.outcome = OutcomeConfirmAsked
		b.audit(r)
	}
	return c, nil
}

// requestIDPattern is what newRequestID makes.
var requestIDPattern = regexp.MustCompile(`^[0-9a-f]{8}$`)

func (b *Bot) checkForm(ctx context.Context, r *request, f Form) []FormProblem {
	if !b.admit(r) {
		return []FormProblem{{FieldTargets, plainText(rateLimitedMessage(b.cfg.RateLimitPerMinute, r.retryIn).Text)}}
	}
	if f.Channel == "" {
		r.outcome = OutcomeInvalid
		return []FormProblem{{FieldChannel, "Pick the channel where the reset is announced."}}
	}
	reason, lookupErr := b.auth.Authorize(ctx, f.User, f.Channel)
	if reason != "" {
		r.outcome, r.err = OutcomeDenied, lookupErr
		b.denials.mirror(f.User, f.Channel, reason)
		field := FieldTargets
		if reason == DeniedChannel {
			field = FieldChannel
		}
		return []FormProblem{{field, clip(plainText(deniedMessage(reason, b.auth.Policy()).Text))}}
	}
	var words []word
	for _, t := range f.Targets {
		words = append(words, splitWords(t)...) // a form has no keywords: every word is a target
	}
	words = dedupe(words)
	switch {
	case len(words) == 0:
		r.outcome = OutcomeInvalid
		return []FormProblem{{FieldTargets, "Pick or type at least one residential user."}}
	case len(words) > b.cfg.MaxTargets:
		r.outcome = OutcomeTooMany
		return []FormProblem{{FieldTargets, fmt.Sprintf("%d targets is more than the limit of %d at once: split them.", len(words), b.cfg.MaxTargets)}}
	}
	var finder SubuserFinder
	if !b.cfg.DryRun {
		finder = b.finder
	}
	targets, bad, err := resolve(ctx, finder, words)
	if err != nil {
		r.outcome, r.err = OutcomeLookupFailed, err
		what, todo := describeFailure(err, OpLookup)
		if stopping(ctx) {
			what, todo = "sessionbot stopped before IPRoyal answered.", "submit again in a moment."
		}
		return []FormProblem{{FieldTargets, clip(plainText("Nothing was reset: " + what + " " + upperFirst(todo)))}}
	}
	if len(bad) > 0 {
		r.outcome = OutcomeInvalid
		parts := make([]string, len(bad))
		for i, t := range bad {
			parts[i] = fmt.Sprintf("%q: %s", unescaper.Replace(t.Input), plainText(t.Reason))
		}
		return []FormProblem{{FieldTargets, clip("Not valid, so nothing was reset: " + strings.Join(parts, "; "))}}
	}
	for i, t := range targets {
		if name := f.Names[t.Hash]; t.Username == "" && validUsername(name) { // shown verbatim: only what could be typed
			targets[i].Username = name
		}
	}
	r.targets = targets
	return nil
}

func clip(s string) string {
	if len([]rune(s)) > maxProblem {
		return string([]rune(s)[:maxProblem-1]) + "…"
	}
	return s
}

// RunForm runs a checked form: the announcement, the reset, the trail, as
// for a confirmed command. A dry run is answered privately.
func (b *Bot) RunForm(ctx context.Context, c *Checked) Outcome {
	if c.Confirm {
		return OutcomeConfirmAsked // not confirmed yet: nothing to run
	}
	r := b.newRequest(ctx, c.r.kind, c.r.cmd)
	defer r.done()
	r.id, r.start, r.targets = c.r.id, c.r.start, c.targets
	if c.form.DryRun {
		b.private(r, dryRunPreviewMessage(r.id, c.targets))
		r.outcome = OutcomeDryRun
	} else {
		tell := func(ctx context.Context, m Message) error { return b.chat.Private(ctx, r.cmd, m) }
		r.outcome = b.execute(r, c.form.User, c.form.Channel, c.form.Thread, c.targets, tell, "")
	}
	b.audit(r)
	return r.outcome
}

// Option is a sub-user a picker offers.
type Option struct {
	Label string // the username
	Value string // the hash
}

// maxOptions is how many options a picker may offer at once (Slack's limit).
const maxOptions = 100

// Suggest offers the sub-users whose username contains text, for a picker
// as its user types. Typing does not count against the rate limit, but
// only the allowed see sub-users. When it cannot offer any, problem says
// why, in plain words.
func (b *Bot) Suggest(ctx context.Context, user, channel, text string) (opts []Option, problem string) {
	reason, known := b.auth.Decided(user, channel)
	if !known {
		reason, _ = b.auth.Authorize(ctx, user, channel)
	}
	if reason != "" {
		return nil, "You are not allowed to reset sessions here."
	}
	if strings.TrimSpace(text) == "" {
		return nil, "Type part of a username."
	}
	if b.cfg.DryRun {
		return nil, "Dry run: IPRoyal is not called."
	}
	subs, total, err := b.iproyal.SearchSubusers(ctx, text, maxOptions)
	if err != nil {
		what, _ := describeFailure(err, OpLookup)
		return nil, plainText(what) + " Type again to retry."
	}
	if len(subs) == 0 {
		return nil, "No sub-user's username contains that."
	}
	for _, s := range subs {
		if _, err := iproyal.ParseHash(s.Hash); err == nil {
			opts = append(opts, Option{Label: s.Username, Value: s.Hash})
		}
	}
	if total > len(opts) && len(opts) == maxOptions {
		opts[maxOptions-1] = Option{Label: fmt.Sprintf("…and %d more: type more of the name", total-maxOptions+1), Value: "!"}
	}
	return opts, ""
}

// Home is what a user's App Home tab shows: whether they may reset and
// where, the account, and how to use every way in.
type Home struct {
	User           string
	Allowed        bool
	Reason         string   // why not, in words
	Channels       []string // the only channels, if ALLOWED_CHANNELS is set
	Account        *iproyal.Account
	AccountProblem string // why the account status is missing, in words
	Command        string
	MaxTargets     int
	ConfirmAbove   int
}

// accountTTL is how long the home tab trusts IPRoyal's account status, and
// accountRetry how long it waits before asking again after a failure, so an
// IPRoyal outage costs one call a while, not one per tab opened.
const (
	accountTTL     = time.Minute
	accountRetry   = 15 * time.Second
	accountTimeout = 3 * time.Second // the home tab does not wait longer for it
)

// account caches GET /me for the home tab.
type account struct {
	mu      sync.Mutex
	value   iproyal.Account
	err     error // the last failure, until retryAt
	fetched time.Time
	retryAt time.Time
	calls   singleflight.Group // one GET /me at a time, however many tabs open
}

// Home says what user's App Home tab shows. The account status is cached
// for a minute: everyone opening the tab does not cost a call each.
func (b *Bot) Home(ctx context.Context, user string) Home {
	h := Home{User: user, Command: b.cfg.Command, MaxTargets: b.cfg.MaxTargets, ConfirmAbove: b.cfg.ConfirmAbove, Channels: b.auth.Policy().Channels}
	reason, known := b.auth.Decided(user, "") // no channel: the home tab is everywhere
	if !known {
		reason, _ = b.auth.Authorize(ctx, user, "")
	}
	h.Allowed, h.Reason = reason == "", deniedReason(reason, b.auth.Policy())
	if !h.Allowed || b.cfg.DryRun || b.iproyal == nil {
		return h
	}
	a, err := b.account(ctx)
	if err != nil {
		what, _ := describeFailure(err, OpStatus)
		h.AccountProblem = plainText(what)
		return h
	}
	h.Account = &a
	return h
}

// account is GET /me, from the cache when it is fresh.
func (b *Bot) account(ctx context.Context) (iproyal.Account, error) {
	now := b.cfg.Now()
	c := &b.acct
	c.mu.Lock()
	switch {
	case !c.fetched.IsZero() && now.Sub(c.fetched) < accountTTL:
		defer c.mu.Unlock()
		return c.value, nil
	case c.err != nil && now.Before(c.retryAt):
		defer c.mu.Unlock()
		return iproyal.Account{}, c.err
	}
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, accountTimeout)
	defer cancel()
	v, err, _ := c.calls.Do("me", func() (any, error) {
		a, err := b.iproyal.Me(ctx)
		c.mu.Lock()
		defer c.mu.Unlock()
		if err != nil {
			c.err, c.retryAt = err, b.cfg.Now().Add(accountRetry)
			return nil, err
		}
		c.value, c.fetched, c.err = a, b.cfg.Now(), nil
		return a, nil
	})
	if err != nil {
		return iproyal.Account{}, err
	}
	return v.(iproyal.Account), nil
}

// hashPattern finds residential user hashes in any text, in any case.
var hashPattern = regexp.MustCompile(`(?i)\b[0-7][0-9A-HJKMNP-TV-Z]{25}\b`)

// FindHashes returns the residential user hashes in text, upper-cased, each
// once, in the order they first appear.
func FindHashes(text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range hashPattern.FindAllString(text, -1) {
		h, err := iproyal.ParseHash(m)
		if err == nil && !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}

// plainText turns the core's mrkdwn into plain text, for fields that show
// no markup (a form's errors, the command line): code spans and emphasis
// unwrapped, mentions named, entities decoded.
func plainText(s string) string {
	s = mentionRef.ReplaceAllString(s, "@$1")
	s = strings.NewReplacer("`", "", "*", "").Replace(s)
	return unescaper.Replace(s)
}

var mentionRef = regexp.MustCompile(`<[@#!](?:subteam\^)?([A-Z0-9]+)>`)

// DescribeFailure says what went wrong with IPRoyal during op, and what to
// do, in plain words: the one place that words IPRoyal's failures, for the
// command line as for Slack.
func DescribeFailure(err error, op Operation) (what, todo string) {
	what, todo = describeFailure(err, op)
	return plainText(what), plainText(todo)
}
