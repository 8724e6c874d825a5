package deploy

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// The base ships per-team access on: POLICY_FILE points into a directory
// mounted from a ConfigMap that kustomize generates from
// kubernetes/policy/policy.yaml, and compose mounts the same directory.
// ALLOWED_* are left out, since sessionbot refuses them beside POLICY_FILE.

const examplePolicy = "kubernetes/policy/policy.yaml"

// podPolicy is where the pod finds its policy file, and the mount and
// volume that put it there.
func podPolicy(t *testing.T, r rendered) (file string, mount corev1.VolumeMount, volume corev1.Volume) {
	t.Helper()
	spec := r.deployment.Spec.Template.Spec
	c := spec.Containers[0]
	for _, e := range c.Env {
		if e.Name == "POLICY_FILE" {
			file = e.Value
		}
	}
	if file == "" {
		t.Fatal("the container does not set POLICY_FILE")
	}
	for _, m := range c.VolumeMounts {
		if m.MountPath == path.Dir(file) {
			mount = m
		}
	}
	if mount.Name == "" {
		t.Fatalf("POLICY_FILE is %s, but nothing is mounted at %s: %+v", file, path.Dir(file), c.VolumeMounts)
	}
	for _, v := range spec.Volumes {
		if v.Name == mount.Name {
			volume = v
		}
	}
	if volume.ConfigMap == nil {
		t.Fatalf("the volume %q mounted at %s is not a ConfigMap: %+v", mount.Name, mount.MountPath, volume)
	}
	return file, mount, volume
}

// mountedPolicy writes the policy file the pod would read to a temporary
// file, and returns its path.
func mountedPolicy(t *testing.T, r rendered) string {
	t.Helper()
	file, _, _ := podPolicy(t, r)
	content, ok := r.policyMap.Data[path.Base(file)]
	if !ok {
		t.Fatalf("the policy ConfigMap has no key %s: %v", path.Base(file), r.policyMap.Data)
	}
	local := filepath.Join(t.TempDir(), path.Base(file))
	if err := os.WriteFile(local, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return local
}

func TestKubernetesMountsThePolicy(t *testing.T) {
	r := render(t)
	file, mount, volume := podPolicy(t, r)
	if !regexp.MustCompile(`^sessionbot-policy-[a-z0-9]{6,}$`).MatchString(r.policyMap.Name) {
		t.Errorf("policy ConfigMap %q has no hash suffix: make it with configMapGenerator", r.policyMap.Name)
	}
	if volume.ConfigMap.Name != r.policyMap.Name {
		t.Errorf("the volume mounts ConfigMap %q, want the generated %q", volume.ConfigMap.Name, r.policyMap.Name)
	}
	if len(volume.ConfigMap.Items) > 0 {
		t.Errorf("the volume picks items %+v: mount the whole ConfigMap", volume.ConfigMap.Items)
	}
	if m := volume.ConfigMap.DefaultMode; m != nil && *m&0o004 == 0 {
		t.Errorf("defaultMode %o: the non-root user (65532) cannot read the policy", *m)
	}
	// A subPath mount never sees a ConfigMap's updates, and live reload
	// would never get a new version.
	if mount.SubPath != "" || mount.SubPathExpr != "" {
		t.Errorf("the policy is mounted with subPath %q: mount the directory, so updates reach the pod", mount.SubPath+mount.SubPathExpr)
	}
	if !mount.ReadOnly {
		t.Error("the policy volume must be mounted read-only")
	}
	want, err := os.ReadFile(examplePolicy)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.policyMap.Data[path.Base(file)]; got != string(want) {
		t.Errorf("the ConfigMap's %s is not %s:\n%s", path.Base(file), examplePolicy, got)
	}
	// POLICY_FILE and ALLOWED_* together stop the bot (exit 2).
	for k := range r.configMap.Data {
		if strings.HasPrefix(k, "ALLOWED_") || k == "POLICY_FILE" {
			t.Errorf("config.env sets %s, beside the deployment's POLICY_FILE", k)
		}
	}
}

// A policy change rolls the pods out even where nothing reloads the file:
// the ConfigMap's name carries a hash of the policy, and the pod template
// mounts it by that name.
func TestPolicyChangeRollsOut(t *testing.T) {
	before := render(t)
	after := renderFS(t, kubernetesEdited(t, "policy/policy.yaml", func(b []byte) []byte {
		return append(b, "  - name: oncall\n    users: [U0ONCALL1]\n    subusers: [\"*\"]\n"...)
	}), "/k")
	_, _, volume := podPolicy(t, after)
	if after.policyMap.Name == before.policyMap.Name || volume.ConfigMap.Name != after.policyMap.Name {
		t.Errorf("policy ConfigMap %s -> %s, mounted as %s: a change must give a new name the pods mount",
			before.policyMap.Name, after.policyMap.Name, volume.ConfigMap.Name)
	}
	if before.configMap.Name != after.configMap.Name {
		t.Errorf("a policy change renamed config.env's ConfigMap: %s -> %s", before.configMap.Name, after.configMap.Name)
	}
}

func TestComposeMountsThePolicy(t *testing.T) {
	b, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Environment map[string]string `json:"environment"`
			Volumes     []string          `json:"volumes"`
		} `json:"services"`
	}
	if err := yaml.Unmarshal(b, &compose); err != nil {
		t.Fatal(err)
	}
	svc := compose.Services["sessionbot"]
	file := svc.Environment["POLICY_FILE"]
	if k8s, _, _ := podPolicy(t, render(t)); file != k8s {
		t.Errorf("compose's POLICY_FILE is %q, Kubernetes's %q: one path for both", file, k8s)
	}
	var source string
	for _, v := range svc.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) == 3 && parts[1] == path.Dir(file) {
			source = parts[0]
			if parts[2] != "ro" {
				t.Errorf("compose mounts the policy as %q: make it read-only (:ro)", v)
			}
		}
	}
	if source == "" {
		t.Fatalf("compose mounts nothing at %s (POLICY_FILE %s): %v", path.Dir(file), file, svc.Volumes)
	}
	if st, err := os.Stat(source); err != nil || !st.IsDir() {
		t.Errorf("compose mounts %s, which must be a directory (so that an edit that replaces the file reaches the container): %v", source, err)
	}
	got, err := os.ReadFile(filepath.Join(source, path.Base(file)))
	want, _ := os.ReadFile(examplePolicy)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("compose's policy %s is not %s: %v", filepath.Join(source, path.Base(file)), examplePolicy, err)
	}
	env, err := os.ReadFile("sessionbot.env.example")
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`(?m)^ALLOWED_\w+=`).Find(env); m != nil {
		t.Errorf("sessionbot.env.example sets %s beside compose's POLICY_FILE", m)
	}
}

// The example policy is valid, and means what its comments say: sessionbot
// policy check and policy can, run on it as an operator would.
func TestExamplePolicyChecks(t *testing.T) {
	run := func(env []string, args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(binary, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatal(err)
		}
		return string(out), cmd.ProcessState.ExitCode()
	}
	out, code := run(nil, "policy", "check", examplePolicy)
	if code != 0 || !strings.HasPrefix(out, examplePolicy+" is valid: 3 grants") {
		t.Fatalf("policy check %s: exit %d\n%s", examplePolicy, code, out)
	}
	for _, grant := range []string{"eu-scrapers", "qa", "sre"} {
		if !strings.Contains(out, "\n  "+grant+" (line ") {
			t.Errorf("policy check does not list grant %s:\n%s", grant, out)
		}
	}
	// In the pod: no FILE, POLICY_FILE set (kubectl exec ... policy check).
	if out, code := run([]string{"POLICY_FILE=" + mountedPolicy(t, render(t))}, "policy", "check"); code != 0 {
		t.Errorf("policy check with the pod's POLICY_FILE: exit %d\n%s", code, out)
	}
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--user", "U0123ABCD", "--channel", "C0789IJKL", "scraper-eu-1"}, 0, "allow scraper-eu-1 (grant eu-scrapers)"},
		{[]string{"--user", "U0123ABCD", "--channel", "C0QA45678", "scraper-eu-1"}, 1, "deny scraper-eu-1 (no grant for U0123ABCD covers it here)"},
		{[]string{"--user", "U0ANYONE1", "--groups", "S0QA45678", "--channel", "C0QA45678", "qa-7", "scraper-eu-1"}, 1, "allow qa-7 (grant qa)\ndeny scraper-eu-1"},
		{[]string{"--user", "U0ANYONE1", "--groups", "S0SRE5678", "billing-1", "01HQ5K3P97DY8EX9Y90YT1K6XB"}, 0, "allow billing-1 (grant sre)\nallow 01HQ5K3P97DY8EX9Y90YT1K6XB (grant sre)"},
	} {
		out, code := run(nil, append([]string{"policy", "can", "--file", examplePolicy}, tt.args...)...)
		if code != tt.code || !strings.Contains(out, tt.want) {
			t.Errorf("policy can %s: exit %d, want %d saying %q:\n%s", strings.Join(tt.args, " "), code, tt.code, tt.want, out)
		}
	}
}

// deploy/policy-test.sh, the README's example of testing a policy in CI,
// passes on the example policy, fails when a line expects otherwise, and
// is the script README.md shows.
func TestPolicyScriptForCI(t *testing.T) {
	script, err := os.ReadFile("policy-test.sh")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(readme, script) {
		t.Error("README.md does not show deploy/policy-test.sh as it is")
	}
	run := func(script []byte) (string, error) {
		t.Helper()
		cmd := exec.Command("sh", "-c", string(script))
		cmd.Dir = ".."
		cmd.Env = []string{"PATH=" + filepath.Dir(binary) + ":" + os.Getenv("PATH")}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run(script); err != nil {
		t.Fatalf("sh deploy/policy-test.sh: %v\n%s", err, out)
	}
	wrong := bytes.Replace(script, []byte("expect 1 --user U0123ABCD --channel C0789IJKL qa-1"), []byte("expect 0 --user U0123ABCD --channel C0789IJKL qa-1"), 1)
	if out, err := run(wrong); err == nil || !strings.Contains(out, "policy can --user U0123ABCD --channel C0789IJKL qa-1: exit 1, want 0") {
		t.Errorf("a line expecting the wrong exit code passed: %v\n%s", err, out)
	}
}
