package iproyal

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// HashLen is the length of a residential user hash: a ULID in Crockford base32.
const HashLen = 26

// ParseHash validates a residential user hash and returns it upper-cased.
//
// IPRoyal never calls its hashes ULIDs, but every one seen is 26 characters
// of Crockford base32 whose first character is 0-7, so that is what we accept;
// lower case is accepted because people copy hashes from many places.
func ParseHash(s string) (string, error) {
	if len(s) != HashLen {
		return "", fmt.Errorf("%q is not a residential user hash: want %d characters of Crockford base32, got %d characters", s, HashLen, len(s))
	}
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
			b[i] = c
		}
		if !isCrockford(c) {
			return "", fmt.Errorf("%q is not a residential user hash: %q at position %d is not Crockford base32 (0-9, A-Z without I, L, O, U)", s, s[i:i+1], i+1)
		}
	}
	if b[0] > '7' {
		return "", fmt.Errorf("%q is not a residential user hash: it must start with 0-7", s)
	}
	return string(b), nil
}

// crockford is Crockford's base32 alphabet, in digit order.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

func isCrockford(c byte) bool { return strings.IndexByte(crockford, c) >= 0 }

// HashBytes returns the 128 bits a hash writes in base32 (5 bits a
// character, the first holding only 3), for compact encodings.
func HashBytes(s string) ([16]byte, error) {
	var out [16]byte
	h, err := ParseHash(s)
	if err != nil {
		return out, err
	}
	var hi, lo uint64
	for i := range HashLen {
		v := uint64(strings.IndexByte(crockford, h[i]))
		hi = hi<<5 | lo>>59
		lo = lo<<5 | v
	}
	binary.BigEndian.PutUint64(out[:8], hi)
	binary.BigEndian.PutUint64(out[8:], lo)
	return out, nil
}

// HashFromBytes writes 128 bits as a hash; it undoes HashBytes.
func HashFromBytes(b [16]byte) string {
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	var out [HashLen]byte
	for i := HashLen - 1; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}
