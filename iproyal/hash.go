package iproyal

import "fmt"

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

func isCrockford(c byte) bool {
	switch {
	case '0' <= c && c <= '9':
		return true
	case 'A' <= c && c <= 'Z':
		return c != 'I' && c != 'L' && c != 'O' && c != 'U'
	}
	return false
}
