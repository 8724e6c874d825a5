package deploy

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"

	"github.com/sessionbot/sessionbot/bot/slack/slacktest"
	"github.com/sessionbot/sessionbot/internal/testaddr"
	"github.com/sessionbot/sessionbot/iproyal/iproyaltest"
)

// binary is sessionbot built by TestMain with the Dockerfile's own build line.
var binary string

const stampedVersion = "deploy-test"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sessionbot-deploy-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "sessionbot")
	buildCtx := filepath.Join(dir, "context")
	if err := dockerContext("..", buildCtx); err != nil {
		fmt.Fprintln(os.Stderr, "making the Docker build context:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	if err := buildLikeDockerfile(buildCtx, binary); err != nil {
		fmt.Fprintln(os.Stderr, "building as the Dockerfile does:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func parseDockerfile() ([]instructions.Stage, error) {
	f, err := os.Open("../Dockerfile")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		return nil, err
	}
	stages, _, err := instructions.Parse(res.AST, nil)
	return stages, err
}

// dockerContext copies into dst what `docker build` would send from src:
// every file .dockerignore does not exclude, matched with the same library
// BuildKit uses. Building from it proves .dockerignore leaves out nothing the
// build needs.
func dockerContext(src, dst string) error {
	f, err := os.Open(filepath.Join(src, ".dockerignore"))
	if err != nil {
		return err
	}
	patterns, err := ignorefile.ReadAll(f)
	f.Close()
	if err != nil {
		return err
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	return filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil || rel == "." {
			return err
		}
		if skip, err := pm.MatchesOrParentMatches(filepath.ToSlash(rel)); err != nil || skip {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}

// buildLikeDockerfile runs the builder stage's "go build" line in dir, with
// its ENV and ARG values, word-split by BuildKit's own shell lexer, writing
// the binary to out instead of the image path.
func buildLikeDockerfile(dir, out string) error {
	stages, err := parseDockerfile()
	if err != nil {
		return err
	}
	vars := map[string]string{}
	for _, cmd := range stages[0].Commands {
		switch c := cmd.(type) {
		case *instructions.ArgCommand:
			for _, a := range c.Args {
				if a.Value != nil {
					vars[a.Key] = *a.Value
				}
			}
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				vars[kv.Key] = kv.Value
			}
		case *instructions.RunCommand:
			line := strings.Join(c.CmdLine, " ")
			if !strings.HasPrefix(line, "go build") {
				continue
			}
			vars["VERSION"] = stampedVersion
			words, err := shell.NewLex(parser.DefaultEscapeToken).ProcessWords(line, envGetter(vars))
			if err != nil {
				return err
			}
			for i, w := range words {
				if w == "-o" && i+1 < len(words) {
					words[i+1] = out
				}
			}
			cmd := exec.Command(words[0], words[1:]...)
			cmd.Dir = dir
			cmd.Env = os.Environ()
			for k, v := range vars {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			if b, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("%s: %v\n%s", line, err, b)
			}
			return nil
		}
	}
	return fmt.Errorf("no RUN go build line in the Dockerfile's first stage")
}

type envGetter map[string]string

func (e envGetter) Get(k string) (string, bool) { v, ok := e[k]; return v, ok }
func (e envGetter) Keys() []string {
	var ks []string
	for k := range e {
		ks = append(ks, k)
	}
	return ks
}

func TestBinaryIsStaticAndStamped(t *testing.T) {
	f, err := elf.Open(binary)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("the binary has a PT_INTERP header: it is dynamically linked and will not run on distroless/static")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary imports %v", libs)
	}
	out, err := exec.Command(binary, "version").Output()
	if err != nil || !strings.Contains(string(out), stampedVersion) {
		t.Errorf("version = %q, %v; want the -ldflags stamp %q", out, err, stampedVersion)
	}
	st, _ := os.Stat(binary)
	t.Logf("binary: %.1f MB", float64(st.Size())/1e6)
}

// runningBot starts the built binary against the Slack and IPRoyal doubles
// with env added to a working configuration, and returns its HTTP address.
func runningBot(t *testing.T, env map[string]string) (addr string, sl *slacktest.Server, ipr *iproyaltest.Server) {
	t.Helper()
	sl = slacktest.Start(t, "xapp-1-deploy-test", "xoxb-1-deploy-test")
	ipr = iproyaltest.Start(t, "iproyal-deploy-test")
	addr = testaddr.Free(t)

	vars := map[string]string{
		"SLACK_APP_TOKEN": sl.AppToken, "SLACK_BOT_TOKEN": sl.BotToken,
		"IPROYAL_API_TOKEN": ipr.Token, "ALLOWED_USERS": "U0ALLOWED",
		"SLACK_API_URL": sl.URL, "IPROYAL_API_URL": ipr.URL,
	}
	for k, v := range env {
		if v != "" {
			vars[k] = v
		}
	}
	if vars["POLICY_FILE"] != "" {
		delete(vars, "ALLOWED_USERS") // never both
	}
	vars["HTTP_ADDR"] = addr
	cmd := exec.Command(binary)
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var logs strings.Builder
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			_ = cmd.Process.Kill()
			_ = cmd.Wait() // after Wait, logs is no longer written to
		}
	}
	t.Cleanup(stop)
	if err := sl.WaitFor(10*time.Second, func(s *slacktest.State) bool { return s.Connections() == 1 }); err != nil {
		stop()
		t.Fatalf("the bot never connected: %v\n%s", err, logs.String())
	}
	return addr, sl, ipr
}
