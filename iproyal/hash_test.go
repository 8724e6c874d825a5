package iproyal

import (
	"strconv"
	"strings"
	"testing"
)

func TestParseHash(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  string
	}{
		{in: "01H7YCG0R9GYY1YCPS2S4QA6WB", want: "01H7YCG0R9GYY1YCPS2S4QA6WB"},
		{in: "01hq5k3p97dy8ex9y90yt1k6xa", want: "01HQ5K3P97DY8EX9Y90YT1K6XA"},
		{in: "7ZZZZZZZZZZZZZZZZZZZZZZZZZ", want: "7ZZZZZZZZZZZZZZZZZZZZZZZZZ"},
		{in: "", wantErr: "got 0 characters"},
		{in: "01H7YCG0R9GYY1YCPS2S4QA6W", wantErr: "got 25 characters"},
		{in: "01H7YCG0R9GYY1YCPS2S4QA6WBB", wantErr: "got 27 characters"},
		{in: "8ZZZZZZZZZZZZZZZZZZZZZZZZZ", wantErr: "must start with 0-7"},
		{in: "01H7YCG0R9GYY1YCPS2S4QA6WI", wantErr: `"I" at position 26`},
		{in: "01H7YCG0R9GYY1YCPS2S4QA6WU", wantErr: `"U" at position 26`},
		{in: "01H7YCG0R9GYY1YCPS2S4QA-WB", wantErr: `"-" at position 24`},
		{in: "01H7YCG0R9GYY1YCPS2S4QA6Wé", wantErr: "got 27 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseHash(tt.in)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseHash(%q) = %q, want error", tt.in, got)
				}
				if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), strconv.Quote(tt.in)) {
					t.Fatalf("error %q should name the input and contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseHash(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func FuzzParseHash(f *testing.F) {
	for _, s := range []string{"01H7YCG0R9GYY1YCPS2S4QA6WB", "01hq5k3p97dy8ex9y90yt1k6xa", "", "8ZZZZZZZZZZZZZZZZZZZZZZZZZ", "<!channel>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := ParseHash(in)
		if err != nil {
			if got != "" {
				t.Fatalf("error with a result %q", got)
			}
			if !strings.Contains(err.Error(), strconv.Quote(in)) {
				t.Fatalf("error %q does not name the input", err)
			}
			return
		}
		if got != strings.ToUpper(in) || len(got) != HashLen || got[0] > '7' {
			t.Fatalf("ParseHash(%q) = %q", in, got)
		}
		for i := range len(got) {
			if !isCrockford(got[i]) {
				t.Fatalf("ParseHash(%q) = %q has %q", in, got, got[i])
			}
		}
		if again, err := ParseHash(got); err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q, %v", got, again, err)
		}
	})
}

func TestHashBytesRoundTrip(t *testing.T) {
	for _, h := range []string{"01H7YCG0R9GYY1YCPS2S4QA6WB", "00000000000000000000000000", "7ZZZZZZZZZZZZZZZZZZZZZZZZZ"} {
		raw, err := HashBytes(h)
		if err != nil {
			t.Fatal(err)
		}
		if got := HashFromBytes(raw); got != h {
			t.Errorf("round trip of %s gave %s", h, got)
		}
	}
	if _, err := HashBytes("8ZZZZZZZZZZZZZZZZZZZZZZZZZ"); err == nil {
		t.Error("a hash over 128 bits decoded")
	}
}
