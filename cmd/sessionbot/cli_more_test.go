package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sessionbot/sessionbot/iproyal/iproyaltest"
)

// jsonLines decodes stdout as one JSON object a line, and checks that every
// object has exactly the fields the README documents.
func jsonLines(t *testing.T, stdout string, fields ...string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		if line == "" {
			continue
		}
		var obj map[string]any
		if err := json.Unmarshal([]byte(line), &obj); err != nil {
			t.Fatalf("stdout line %q is not a JSON object: %v", line, err)
		}
		var keys []string
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		want := slices.Sorted(slices.Values(fields))
		if !reflect.DeepEqual(keys, want) {
			t.Errorf("fields %v, want exactly %v", keys, want)
		}
		out = append(out, obj)
	}
	return out
}

func TestFindJSONAndNoMatch(t *testing.T) {
	t.Parallel()
	_, ipr := doubles(t)
	var subs []iproyaltest.Subuser
	for i := range 23 {
		subs = append(subs, iproyaltest.Subuser{Hash: fmt.Sprintf("01H7YCG0R9GYY1YCPS2S4Q%04d", i), Username: fmt.Sprintf("crawler-%02d", i), Password: subPassword, TrafficUsed: 1.5, TrafficAvailable: 10})
	}
	ipr.SetSubusers(subs...)
	r := runWith(t, resetEnv(ipr), "", "find", "--json", "crawler")
	if r.err != nil {
		t.Fatalf("find --json: %v\n%s", r.err, r.stderr)
	}
	got := jsonLines(t, r.stdout, "username", "hash", "traffic_used_gb", "traffic_available_gb")
	if len(got) != 20 || got[0]["username"] != "crawler-00" || got[0]["hash"] != "01H7YCG0R9GYY1YCPS2S4Q0000" || got[0]["traffic_used_gb"] != 1.5 || got[0]["traffic_available_gb"] != 10.0 {
		t.Errorf("find --json = %d objects, the first %v", len(got), got[0])
	}
	if r.stderr != "...and 3 more: search for something longer to see them.\n" {
		t.Errorf("stderr = %q, want how many more", r.stderr)
	}
	assertNoSecrets(t, r.stdout)

	r = runWith(t, resetEnv(ipr), "", "find", "--json", "nobody")
	if exitCode(r.err) != 1 || r.stdout != "" || !strings.Contains(r.stderr, `no sub-user's username contains "nobody"`) {
		t.Errorf("find --json nobody = %v, %q, %q", r.err, r.stdout, r.stderr)
	}
	ipr.Script("GET", "/residential-subusers", iproyaltest.Response{Status: 500})
	ipr.Script("GET", "/residential-subusers", iproyaltest.Response{Status: 500})
	ipr.Script("GET", "/residential-subusers", iproyaltest.Response{Status: 500})
	r = runWith(t, resetEnv(ipr), "", "find", "crawler")
	if exitCode(r.err) != 1 || r.stdout != "" || r.stderr != "sessionbot: could not search the sub-users: IPRoyal had a server error (500 Internal Server Error). What to do: Try again in a few minutes; if it persists, check IPRoyal's status page.\n" {
		t.Errorf("find when IPRoyal fails = %v, %q, %q", r.err, r.stdout, r.stderr)
	}
	if r := runWith(t, resetEnv(ipr), "", "find", "scraper eu"); exitCode(r.err) != 2 || !strings.Contains(r.stderr, "no spaces or commas") {
		t.Errorf("find with a space = %v, %q", r.err, r.stderr)
	}
}

func TestStatusCommand(t *testing.T) {
	t.Parallel()
	_, ipr := doubles(t)
	ipr.SetAccount(iproyaltest.Account{AvailableTraffic: 32.6, SubusersCount: 13})
	r := runWith(t, resetEnv(ipr), "", "status")
	if r.err != nil || r.stdout != "IPRoyal account: 32.60 GB of residential traffic available, 13 sub-users.\n" || r.stderr != "" {
		t.Errorf("status = %v, %q, %q", r.err, r.stdout, r.stderr)
	}
	ipr.Script("GET", "/me", iproyaltest.Response{Status: 401, Body: `{"message":"Unauthenticated."}`})
	r = runWith(t, resetEnv(ipr), "", "status")
	if exitCode(r.err) != 1 || r.stdout != "" || !strings.HasPrefix(r.stderr, "sessionbot: could not get the account status: IPRoyal refused sessionbot's API token (401 Unauthorized: Unauthenticated.). What to do: ") {
		t.Errorf("status refused = %v, %q, %q", r.err, r.stdout, r.stderr)
	}
	if r := runWith(t, map[string]string{"IPROYAL_API_URL": ipr.URL}, "", "status"); exitCode(r.err) != 2 || !strings.Contains(r.stderr, "IPROYAL_API_TOKEN is not set") {
		t.Errorf("status without a token = %v, %q", r.err, r.stderr)
	}
	if r := runWith(t, resetEnv(ipr), "", "status", "now"); exitCode(r.err) != 2 {
		t.Errorf("status now = %v", r.err)
	}
	assertNoSecrets(t, r.stdout+r.stderr)
}
