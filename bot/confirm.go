package bot

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/sessionbot/sessionbot/iproyal"
)

// A confirmation carries the request it confirms inside the message's
// buttons, signed with a key every replica shares, so that a click works on
// whichever replica Slack hands it to and no replica keeps state.
//
// A token is at most MaxTokenLen characters of base64url, which 100 hashes
// (1,600 bytes raw) fit. Wire format, before base64url:
//
//	version(1) flags(1) expiry-unix-nanos(8) len+request-id len+user len+channel
//	len+thread len+journal-ref count(1) has-hash-bitmap(⌈count/8⌉) hash(16) for each
//	target that has one, count × len+username (len 0: none) mac(16)
//
// A target without a hash (a dry run offline, which looks nothing up)
// travels by its username.

const (
	tokenVersion = 6 // bump on any change of layout: old tokens must not parse as new
	macSize      = 16
	// flagApproval marks a request waiting for an approver, not for its
	// requester's confirmation.
	flagApproval = 1
)

// MaxTokenLen bounds a confirmation token. A transport must be able to
// carry one whole in a click: Slack's adapter spreads it over a button's
// value, action_id and block_id, and its tests check that it fits.
const MaxTokenLen = 2450

// pending is a request waiting for its requester's click.
type pending struct {
	ID      string // the request ID, so the whole flow shares one
	User    string
	Channel string
	Targets []Target
	Expires time.Time
	Thread  string // the thread it was asked in, if any
	Ref     string // the request's journal entry, if it has one
	// Approval says the request waits for an approver (Approve or Deny),
	// not for its requester (Confirm or Cancel).
	Approval bool
}

var (
	errTokenInvalid = errors.New("confirmation token is invalid")
	// errTokenTooBig says the targets do not fit in a confirmation.
	errTokenTooBig = errors.New("too many targets to confirm in one command")
)

// sealToken encodes and signs p in at most limit characters. It drops the
// usernames of targets that have a hash if they do not fit, and fails with
// errTokenTooBig if even that does not.
func sealToken(key []byte, p pending, limit int) (string, error) {
	for _, withNames := range []bool{true, false} {
		tok, err := encodeToken(key, p, withNames)
		if err != nil {
			return "", err
		}
		if len(tok) <= limit {
			return tok, nil
		}
	}
	return "", fmt.Errorf("%d targets: %w", len(p.Targets), errTokenTooBig)
}

func encodeToken(key []byte, p pending, withNames bool) (string, error) {
	if len(p.ID) > 255 || len(p.User) > 255 || len(p.Channel) > 255 || len(p.Thread) > 255 || len(p.Ref) > 255 || len(p.Targets) > 255 {
		return "", errTokenTooBig
	}
	b := make([]byte, 0, 64+len(p.Targets)*24)
	b = append(b, tokenVersion)
	var flags byte
	if p.Approval {
		flags |= flagApproval
	}
	b = append(b, flags)
	b = binary.BigEndian.AppendUint64(b, uint64(p.Expires.UnixNano()))
	b = append(b, byte(len(p.ID)))
	b = append(b, p.ID...)
	b = append(b, byte(len(p.User)))
	b = append(b, p.User...)
	b = append(b, byte(len(p.Channel)))
	b = append(b, p.Channel...)
	b = append(b, byte(len(p.Thread)))
	b = append(b, p.Thread...)
	b = append(b, byte(len(p.Ref)))
	b = append(b, p.Ref...)
	b = append(b, byte(len(p.Targets)))
	bitmap := make([]byte, (len(p.Targets)+7)/8)
	for i, t := range p.Targets {
		if t.Hash != "" {
			bitmap[i/8] |= 1 << (i % 8)
		}
	}
	b = append(b, bitmap...)
	for _, t := range p.Targets {
		if t.Hash == "" {
			continue
		}
		raw, err := iproyal.HashBytes(t.Hash)
		if err != nil {
			return "", err
		}
		b = append(b, raw[:]...)
	}
	for _, t := range p.Targets {
		name := t.Username
		if t.Hash != "" && !withNames {
			name = ""
		}
		if len(name) > 255 {
			return "", errTokenTooBig
		}
		b = append(b, byte(len(name)))
		b = append(b, name...)
	}
	b = append(b, mac(key, b)...)
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func mac(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)[:macSize]
}

// openToken checks the signature and decodes the request. It does not look
// at the expiry: the caller says "expired" rather than "invalid".
func openToken(key []byte, tok string) (pending, error) {
	var p pending
	b, err := base64.RawURLEncoding.Strict().DecodeString(tok)
	// The decoder skips CR and LF, so "a\nb" would open like "ab": only the
	// one spelling sealToken wrote is accepted, or a click could dodge the
	// first-click check, which remembers tokens as strings.
	if err != nil || len(b) < 1+1+8+1+1+1+1+1+1+macSize || base64.RawURLEncoding.EncodeToString(b) != tok {
		return p, errTokenInvalid
	}
	body, sum := b[:len(b)-macSize], b[len(b)-macSize:]
	if !hmac.Equal(sum, mac(key, body)) {
		return p, errTokenInvalid
	}
	r := reader{b: body}
	if r.byte() != tokenVersion {
		return p, errTokenInvalid
	}
	switch r.byte() {
	case 0:
	case flagApproval:
		p.Approval = true
	default:
		return p, errTokenInvalid
	}
	p.Expires = time.Unix(0, int64(r.uint64()))
	p.ID = r.string()
	p.User = r.string()
	p.Channel = r.string()
	p.Thread = r.string()
	p.Ref = r.string()
	n := int(r.byte())
	p.Targets = make([]Target, n)
	bitmap := r.take((n + 7) / 8)
	for i := range n {
		if bitmap[i/8]&(1<<(i%8)) != 0 {
			var raw [16]byte
			copy(raw[:], r.take(16))
			p.Targets[i].Hash = iproyal.HashFromBytes(raw)
		}
	}
	if n%8 != 0 && bitmap[n/8]>>(n%8) != 0 {
		r.bad = true // bits past the last target: not what sealToken wrote
	}
	for i := range n {
		p.Targets[i].Username = r.string()
		if p.Targets[i].Hash == "" && p.Targets[i].Username == "" {
			r.bad = true
		}
	}
	if r.bad || len(r.b) != 0 {
		return p, errTokenInvalid
	}
	return p, nil
}

type reader struct {
	b   []byte
	bad bool
}

func (r *reader) take(n int) []byte {
	if len(r.b) < n {
		r.bad = true
		r.b = nil
		return make([]byte, n)
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) byte() byte     { return r.take(1)[0] }
func (r *reader) uint64() uint64 { return binary.BigEndian.Uint64(r.take(8)) }
func (r *reader) string() string { return string(r.take(int(r.byte()))) }
