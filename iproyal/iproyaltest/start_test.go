package iproyaltest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// endedT is a testing.TB that Start can register with; end runs its
// cleanups as a test's end does, and returns what they reported.
type endedT struct {
	testing.TB
	cleanups []func()
	errors   []string
}

func (t *endedT) Helper()           {}
func (t *endedT) Cleanup(f func())  { t.cleanups = append(t.cleanups, f) }
func (t *endedT) Error(args ...any) { t.errors = append(t.errors, fmt.Sprint(args...)) }

func (t *endedT) end() []string {
	for _, f := range slices.Backward(t.cleanups) {
		f()
	}
	return t.errors
}

func call(t *testing.T, s *Server, method, path string) int {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestStartFailsTheTestForScriptsNeverUsed(t *testing.T) {
	ft := &endedT{}
	s := Start(ft, "tok")
	s.Script("GET", "/me", Response{Status: 503}, Response{Status: 401, Body: `{"message":"Unauthenticated."}`})
	s.Script("DELETE", "/sessions", Response{Status: 503}, Response{Status: 503})
	s.Script("GET", "/residential-subusers", Response{Status: 500, Sticky: true}) // sticky: an environment, not an expectation
	if code := call(t, s, "GET", "/me"); code != 503 {
		t.Fatalf("GET /me = %d, want the scripted 503", code)
	}
	got := ft.end()
	want := []string{
		`iproyaltest: DELETE /sessions: scripted but never used: Response{Status: 503} ×2`,
		`iproyaltest: GET /me: scripted but never used: Response{Status: 401, Body: "{\"message\":\"Unauthenticated.\"}"}`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("the test was failed with\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestStartPassesATestThatUsedItsScript(t *testing.T) {
	ft := &endedT{}
	s := Start(ft, "tok")
	s.Script("GET", "/me", Response{Status: 503}, Response{Status: 502, Sticky: true})
	for i, want := range []int{503, 502, 502} {
		if code := call(t, s, "GET", "/me"); code != want {
			t.Errorf("call %d = %d, want %d", i+1, code, want)
		}
	}
	if got := ft.end(); len(got) != 0 {
		t.Errorf("the test was failed with %q", got)
	}
}
