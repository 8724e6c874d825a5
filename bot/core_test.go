package bot

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCoreKnowsNoTransport keeps the core free of Slack, of metrics and of
// HTTP: every way in (slash command, mention, form, click, shell, command
// line) shares it, and each adapter translates. No package it depends on
// may be slack-go, a WebSocket or Prometheus; and it makes no HTTP itself
// (the IPRoyal client it calls does).
func TestCoreKnowsNoTransport(t *testing.T) {
	list := func(format string) []string {
		out, err := exec.Command("go", "list", "-deps", "-f", format, ".").CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		return strings.Fields(string(out))
	}
	for _, pkg := range list("{{.ImportPath}}") {
		for _, banned := range []string{"github.com/slack-go/", "github.com/gorilla/websocket", "github.com/prometheus/"} {
			if strings.HasPrefix(pkg, banned) {
				t.Errorf("the core depends on %s; it belongs in an adapter or cmd", pkg)
			}
		}
	}
	out, err := exec.Command("go", "list", "-f", "{{join .Imports \" \"}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "net/http" || strings.HasPrefix(pkg, "net/http/") {
			t.Errorf("the core imports %s; HTTP belongs in an adapter or cmd", pkg)
		}
	}
}
