package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sessionbot/sessionbot/bot"
	"github.com/sessionbot/sessionbot/bot/policy"
)

// runPolicy is "sessionbot policy check [FILE]" and "sessionbot policy can
// ...": a policy file checked, and asked, offline, with no token.
func runPolicy(args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return usagef("policy needs check or can: sessionbot policy check [FILE], sessionbot policy can --user U TARGET...")
	}
	switch args[0] {
	case "check":
		return policyCheck(args[1:], getenv, stdout)
	case "can":
		return policyCan(args[1:], getenv, stdout)
	}
	return usagef("unknown policy command %q: it has check and can", args[0])
}

// policyFile reads the file a policy command is about: given, or
// POLICY_FILE. Its mistakes are usage errors (exit 2), said with the path
// and the line.
func policyFile(given string, getenv func(string) string) (*policy.Policy, string, error) {
	load := readPolicyFile
	if given == "" {
		given, load = getenv("POLICY_FILE"), loadPolicy
	}
	if given == "" {
		return nil, "", usagef("no policy file: give its path, or set POLICY_FILE")
	}
	p, err := load(given)
	if err != nil {
		return nil, "", &usageError{err}
	}
	return p, given, nil
}

func policyCheck(args []string, getenv func(string) string, stdout io.Writer) error {
	if err := rejectFlags(args); err != nil {
		return err
	}
	args = operands(args)
	if len(args) > 1 {
		return usagef("policy check takes one FILE at most")
	}
	p, file, err := policyFile(strings.Join(args, ""), getenv)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, bot.PolicySummary(file, p))
	return nil
}

func policyCan(args []string, getenv func(string) string, stdout io.Writer) error {
	args, user, err := takeValue(args, "--user")
	if err != nil {
		return err
	}
	args, groups, err := takeValue(args, "--groups")
	if err != nil {
		return err
	}
	args, channel, err := takeValue(args, "--channel")
	if err != nil {
		return err
	}
	args, file, err := takeValue(args, "--file")
	if err != nil {
		return err
	}
	if err := rejectFlags(args); err != nil {
		return err
	}
	targets := operands(args)
	switch {
	case user == "":
		return usagef("policy can needs --user U: the Slack user ID of who asks, like U0123ABCD")
	case !policy.IsSlackID(user, "UW"):
		return usagef("policy can needs --user with a Slack user ID, like U0123ABCD, not %q", user)
	case channel != "" && !policy.IsSlackID(channel, "CGD"):
		return usagef("--channel needs a Slack channel ID, like C0789IJKL, not %q", channel)
	case len(targets) == 0:
		return usagef("policy can needs at least one TARGET: a sub-user's username or a hash")
	}
	member := map[string]bool{}
	for _, g := range strings.Split(groups, ",") {
		if g = strings.TrimSpace(g); g == "" {
			continue
		}
		if !policy.IsSlackID(g, "S") {
			return usagef("--groups needs Slack user group IDs, like S0456EFGH, not %q", g)
		}
		member[g] = true
	}
	p, _, err := policyFile(file, getenv)
	if err != nil {
		return err
	}
	out, allowed := bot.PolicyCan(p, policy.Requester{User: user, Channel: channel, Member: func(g string) bool { return member[g] }}, targets)
	fmt.Fprint(stdout, out)
	if !allowed {
		return errDenied
	}
	return nil
}

// errDenied is policy can's exit 1: some target is denied. Its lines said
// which already.
var errDenied = &silentError{errors.New("denied")}

// silentError exits 1 with nothing more to say than what was printed.
type silentError struct{ error }

// policyPoll is how often a running bot looks at its policy file for a new
// version (Kubernetes swaps a mounted ConfigMap's symlink); SIGHUP looks at
// once.
const policyPoll = 5 * time.Second

// policyWatch keeps the bot's policy the file's: a valid new version is in
// force between two requests, and said once in the audit channel; an
// invalid one leaves the policy in force, and is said once (an ERROR, the
// audit channel, sessionbot_policy_valid 0) until a valid one comes.
type policyWatch struct {
	path    string
	b       *bot.Bot
	log     *slog.Logger
	valid   prometheus.Gauge
	reloads *prometheus.CounterVec
	last    string         // the sha256 of the content last looked at
	hup     chan os.Signal // SIGHUP, caught from start-up
	journal bool           // AUDIT_CHANNEL is set: a grant may ask for approval
}

// newPolicyWatch exports the policy's metrics and catches SIGHUP from
// start-up, long before the bot exists (it may wait minutes for Slack):
// the series are there for alerts at once, and a SIGHUP meanwhile is kept
// for run, never fatal, as an unhandled SIGHUP is to a Go program. stop
// lets SIGHUP go.
func newPolicyWatch(path string, journal bool, log *slog.Logger, reg prometheus.Registerer) *policyWatch {
	w := &policyWatch{path: path, log: log, journal: journal,
		valid: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sessionbot_policy_valid",
			Help: "1 while the policy file's last version is valid and in force, 0 while an invalid one waits to be fixed.",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sessionbot_policy_reloads_total",
			Help: "New versions of the policy file, by result: ok (in force) or invalid (refused).",
		}, []string{"result"}),
	}
	w.valid.Set(1)
	w.reloads.WithLabelValues("ok")
	w.reloads.WithLabelValues("invalid")
	reg.MustRegister(w.valid, w.reloads)
	w.hup = make(chan os.Signal, 1)
	signal.Notify(w.hup, syscall.SIGHUP)
	return w
}

func (w *policyWatch) stop() { signal.Stop(w.hup) }

// run keeps b's policy the file's, from current, the policy b started
// with: it looks at the file every policyPoll, and on SIGHUP, until ctx
// ends.
func (w *policyWatch) run(ctx context.Context, b *bot.Bot, current *policy.Policy) {
	w.b, w.last = b, current.SHA256
	t := time.NewTicker(policyPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.hup:
			w.log.Info("SIGHUP: reading the policy file again", "path", w.path)
		}
		w.look()
	}
}

// look reads the file, and acts on a version not seen before.
func (w *policyWatch) look() {
	content, err := os.ReadFile(w.path)
	if err != nil {
		w.log.Warn("cannot read the policy file; the policy in force stays", "path", w.path, "error", err)
		return
	}
	sum := sha256.Sum256(content)
	hash := hex.EncodeToString(sum[:])
	if hash == w.last {
		return
	}
	w.last = hash
	p, err := policy.Parse(content)
	if err == nil && p.HasApprovals() && !w.journal {
		err = errors.New("a grant asks for approval, which needs AUDIT_CHANNEL: it is not set, so the policy file cannot ask for approval")
	}
	if err != nil {
		w.valid.Set(0)
		w.reloads.WithLabelValues("invalid").Inc()
		w.b.PolicyRefused(err, hash)
		return
	}
	w.valid.Set(1)
	w.reloads.WithLabelValues("ok").Inc()
	w.b.SetPolicy(p)
}
