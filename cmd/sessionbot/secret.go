package main

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// minSecretBytes is how much randomness CONFIRM_SECRET must hold: as much
// as the HMAC-SHA256 key it is.
const minSecretBytes = 32

// weakSecret says why s cannot be CONFIRM_SECRET, or "" when it can. A key
// anyone can guess lets anyone forge a Confirm click, so it must be real
// randomness, written as hex or base64: the example's placeholder, a
// phrase, or a string with little variety is refused.
func weakSecret(s string) string {
	if strings.Contains(strings.ToUpper(s), "REPLACE") {
		return "is still the example's placeholder"
	}
	key, ok := decodeSecret(strings.TrimSpace(s))
	if !ok {
		return fmt.Sprintf("must be random bytes written as hex (at least %d digits) or base64, not a phrase", 2*minSecretBytes)
	}
	if len(key) < minSecretBytes {
		return fmt.Sprintf("holds %d bytes; it needs at least %d bytes of real randomness", len(key), minSecretBytes)
	}
	if lowVariety(s, key) {
		return "is too regular to be random (repeated or sequential characters)"
	}
	return ""
}

// decodeSecret reads s as hex, then as any base64.
func decodeSecret(s string) ([]byte, bool) {
	if b, err := hex.DecodeString(s); err == nil {
		return b, true
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}

// lowVariety reports a secret no random source would make: few distinct
// bytes (32 random bytes have about 30; fewer than 16 has odds below
// 1e-20), or a run of 8 characters that repeat or count up or down
// ("aaaaaaaa", "01234567"), which 64 random hex digits hold with odds
// below 1e-6.
func lowVariety(text string, key []byte) bool {
	distinct := map[byte]bool{}
	for _, b := range key {
		distinct[b] = true
	}
	if len(distinct) < 16 {
		return true
	}
	run := 1
	for i := 2; i < len(text); i++ {
		step := int(text[i]) - int(text[i-1])
		if step >= -1 && step <= 1 && step == int(text[i-1])-int(text[i-2]) {
			run++
			if run >= 7 { // 7 equal steps: 8 characters
				return true
			}
		} else {
			run = 1
		}
	}
	return false
}
