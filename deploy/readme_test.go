package deploy

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readmeCommands returns the command lines in README.md's code blocks,
// continuations joined and trailing comments cut.
func readmeCommands(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	in, pending := false, ""
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "```") {
			in = !in
			continue
		}
		if !in {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			pending += strings.TrimSuffix(trimmed, "\\") + " "
			continue
		}
		line, pending = pending+trimmed, ""
		if i := strings.Index(line, " #"); i >= 0 {
			line = line[:i]
		}
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// words splits a command line as a shell would, for the simple lines of a
// README: spaces, and single or double quotes.
func words(line string) []string {
	var out []string
	var cur strings.Builder
	quote, any := rune(0), false
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, any = r, true
		case r == ' ' || r == '\t':
			if cur.Len() > 0 || any {
				out = append(out, cur.String())
			}
			cur.Reset()
			any = false
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 || any {
		out = append(out, cur.String())
	}
	return out
}

// sessionbotArgs returns the arguments of a line that runs sessionbot
// (go run ./cmd/sessionbot, sessionbot, or kubectl exec ... -- /sessionbot).
func sessionbotArgs(w []string) ([]string, bool) {
	for i, word := range w {
		switch {
		case i == 0 && (word == "sessionbot" || word == "./sessionbot" || word == "/sessionbot"):
			return w[1:], true
		case i == 2 && w[0] == "go" && w[1] == "run" && word == "./cmd/sessionbot":
			return w[3:], true
		case word == "--" && i+1 < len(w) && strings.HasSuffix(w[i+1], "/sessionbot"):
			return w[i+2:], true
		}
	}
	return nil, false
}

// TestREADMECommandsParse: every command a README code block shows for this
// repository at least parses: sessionbot's with --help exiting 0 (and each
// of its flags in the subcommand's usage), the benchmark's with -help, go
// test's with -list (which builds the test binaries and parses their flags,
// running nothing). Other tools' lines (docker, kubectl, Slack's
// /reset-sessions) are not run here.
func TestREADMECommandsParse(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every test binary")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	bench := filepath.Join(t.TempDir(), "bench")
	if out, err := exec.Command("go", "build", "-C", root, "-o", bench, "./cmd/bench").CombinedOutput(); err != nil {
		t.Fatalf("building the benchmark: %v\n%s", err, out)
	}
	flag := regexp.MustCompile(`^--?[a-z][a-z-]*`)
	checked := map[string]bool{}
	for _, line := range readmeCommands(t) {
		w := words(line)
		var cmd *exec.Cmd
		var flags []string
		switch args, ok := sessionbotArgs(w); {
		case ok:
			cmd = exec.Command(binary, append(args, "--help")...)
			for _, a := range args {
				if f := flag.FindString(a); f != "" && f != "--" {
					flags = append(flags, f)
				}
			}
			checked["sessionbot"] = true
		case len(w) >= 3 && w[0] == "go" && w[1] == "run" && w[2] == "./cmd/bench":
			cmd = exec.Command(bench, append(w[3:], "-help")...)
			checked["bench"] = true
		case len(w) >= 2 && w[0] == "go" && w[1] == "test":
			cmd = exec.Command("go", append(w[1:], "-list", "^$")...)
			checked["go test"] = true
		case w[0] == "go":
			t.Errorf("README.md shows %q, which this test does not know how to check: teach it", line)
			continue
		default:
			continue
		}
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("README.md's %q does not parse: %v\n%s", line, err, out)
			continue
		}
		for _, f := range flags {
			if !strings.Contains(string(out), f) {
				t.Errorf("README.md's %q uses %s, which its usage does not mention:\n%s", line, f, out)
			}
		}
		t.Logf("parses: %s", line)
	}
	for _, kind := range []string{"sessionbot", "bench", "go test"} {
		if !checked[kind] {
			t.Errorf("found no %s command in README.md's code blocks: is the parser broken?", kind)
		}
	}
}

func TestREADMECommandWords(t *testing.T) {
	for line, want := range map[string][]string{
		`go test ./iproyal -run '^$' -bench FindSubusers`:                   {"go", "test", "./iproyal", "-run", "^$", "-bench", "FindSubusers"},
		`go run ./cmd/bench -rate '' -idle 2m`:                              {"go", "run", "./cmd/bench", "-rate", "", "-idle", "2m"},
		`kubectl -n sessionbot exec deploy/sessionbot -- /sessionbot check`: {"kubectl", "-n", "sessionbot", "exec", "deploy/sessionbot", "--", "/sessionbot", "check"},
	} {
		if got := words(line); fmt.Sprint(got) != fmt.Sprint(want) || len(got) != len(want) {
			t.Errorf("words(%q) = %q, want %q", line, got, want)
		}
	}
	args, ok := sessionbotArgs(words(`kubectl -n sessionbot exec deploy/sessionbot -- /sessionbot check`))
	if !ok || fmt.Sprint(args) != "[check]" {
		t.Errorf("kubectl exec line: %v %v", args, ok)
	}
}
