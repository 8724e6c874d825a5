package bot

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCoreKnowsNoSlack keeps the core free of slack-go: every way in (slash
// command, mention, shortcut, shell, command line) shares it, and each
// adapter translates. It lists the package's whole import graph.
func TestCoreKnowsNoSlack(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/slack-go/") || strings.HasPrefix(pkg, "github.com/gorilla/websocket") {
			t.Errorf("the core depends on %s; Slack belongs in bot/slack", pkg)
		}
	}
}
