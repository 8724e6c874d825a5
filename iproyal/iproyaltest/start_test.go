package iproyaltest

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/sessionbot/sessionbot/internal/doubles"
)

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
	ft := &doubles.EndedT{}
	s := Start(ft, "tok")
	s.Script("GET", "/me", Response{Status: 503}, Response{Status: 401, Body: `{"message":"Unauthenticated."}`})
	s.Script("DELETE", "/sessions", Response{Status: 503}, Response{Status: 503})
	s.Script("GET", "/residential-subusers", Response{Status: 500, Sticky: true}) // sticky: an environment, not an expectation
	if code := call(t, s, "GET", "/me"); code != 503 {
		t.Fatalf("GET /me = %d, want the scripted 503", code)
	}
	got := ft.End()
	want := []string{
		`iproyaltest: DELETE /sessions: scripted but never used: Response{Status: 503} ×2`,
		`iproyaltest: GET /me: scripted but never used: Response{Status: 401, Body: "{\"message\":\"Unauthenticated.\"}"}`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("the test was failed with\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestStartPassesATestThatUsedItsScript(t *testing.T) {
	ft := &doubles.EndedT{}
	s := Start(ft, "tok")
	s.Script("GET", "/me", Response{Status: 503}, Response{Status: 502, Sticky: true})
	for i, want := range []int{503, 502, 502} {
		if code := call(t, s, "GET", "/me"); code != want {
			t.Errorf("call %d = %d, want %d", i+1, code, want)
		}
	}
	if got := ft.End(); len(got) != 0 {
		t.Errorf("the test was failed with %q", got)
	}
}
