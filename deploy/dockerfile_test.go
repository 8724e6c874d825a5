package deploy

import (
	"os"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// TestDockerfileNeedsNoFrontend: a syntax directive makes BuildKit pull a
// frontend image from Docker Hub at build time.
func TestDockerfileNeedsNoFrontend(t *testing.T) {
	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if d := strings.ToLower(strings.ReplaceAll(line, " ", "")); strings.HasPrefix(d, "#syntax=") {
			t.Errorf("the Dockerfile has a syntax directive: %q", line)
		}
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "--format docker") {
		t.Error("README.md does not say that buildah and podman need --format docker to keep HEALTHCHECK")
	}
}

func TestDockerfileFinalStage(t *testing.T) {
	stages, err := parseDockerfile()
	if err != nil {
		t.Fatal(err)
	}
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a builder and a final stage", len(stages))
	}
	if !strings.HasPrefix(stages[0].BaseName, "golang:1.26") {
		t.Errorf("builder is %q, want golang:1.26", stages[0].BaseName)
	}
	final := stages[len(stages)-1]
	base := final.BaseName
	if !strings.HasPrefix(base, "gcr.io/distroless/static") && base != "scratch" {
		t.Errorf("final stage is based on %q: want distroless static or scratch, with no shell", base)
	}
	var user string
	var entrypoint *instructions.EntrypointCommand
	var health *instructions.HealthCheckCommand
	var exposed []string
	for _, cmd := range final.Commands {
		switch c := cmd.(type) {
		case *instructions.UserCommand:
			user = c.User
		case *instructions.EntrypointCommand:
			entrypoint = c
		case *instructions.HealthCheckCommand:
			health = c
		case *instructions.ExposeCommand:
			exposed = append(exposed, c.Ports...)
		case *instructions.RunCommand:
			t.Errorf("the final stage has RUN %v, but there is no shell to run it", c.CmdLine)
		case *instructions.CmdCommand:
			if c.PrependShell {
				t.Errorf("CMD %v is in shell form", c.CmdLine)
			}
		}
	}
	if user == "" || user == "root" || user == "0" || strings.HasPrefix(user, "0:") || strings.HasPrefix(user, "root:") {
		t.Errorf("USER = %q, want a non-root user", user)
	}
	if entrypoint == nil || entrypoint.PrependShell || len(entrypoint.CmdLine) != 1 || entrypoint.CmdLine[0] != "/sessionbot" {
		t.Errorf("ENTRYPOINT = %+v, want exec form [\"/sessionbot\"]", entrypoint)
	}
	if health == nil || len(health.Health.Test) < 2 || health.Health.Test[0] != "CMD" ||
		strings.Join(health.Health.Test[1:], " ") != "/sessionbot healthcheck" {
		t.Errorf("HEALTHCHECK = %+v, want exec form CMD [\"/sessionbot\", \"healthcheck\"]", health)
	}
	if len(exposed) != 1 || exposed[0] != "8080" {
		t.Errorf("EXPOSE %v, want 8080", exposed)
	}
}
