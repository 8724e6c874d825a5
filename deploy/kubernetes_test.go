package deploy

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// rendered holds the objects `kubectl apply -k deploy/kubernetes` applies.
type rendered struct {
	deployment appsv1.Deployment
	configMap  corev1.ConfigMap // config.env's
	policyMap  corev1.ConfigMap // policy/policy.yaml's
	service    corev1.Service
	pdb        policyv1.PodDisruptionBudget
	namespace  corev1.Namespace
	network    networkingv1.NetworkPolicy
	order      []string // the kinds, in the order kubectl applies them
}

// render runs kustomize (the engine inside kubectl) and decodes every
// document strictly into its real Kubernetes type: an unknown or misspelt
// field fails the test.
func render(t *testing.T) rendered {
	t.Helper()
	return renderFS(t, filesys.MakeFsOnDisk(), "kubernetes")
}

// renderFS renders the kustomization in dir of fs.
func renderFS(t *testing.T, fs filesys.FileSystem, dir string) rendered {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resMap, err := k.Run(fs, dir)
	if err != nil {
		t.Fatalf("kustomize build deploy/kubernetes: %v", err)
	}
	out, err := resMap.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	var r rendered
	seen := map[string]int{}
	for _, doc := range bytes.Split(out, []byte("\n---\n")) {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			t.Fatal(err)
		}
		r.order = append(r.order, tm.Kind)
		var target any
		switch tm.Kind {
		case "Deployment":
			target = &r.deployment
		case "ConfigMap":
			var cm metav1.PartialObjectMetadata
			if err := yaml.Unmarshal(doc, &cm); err != nil {
				t.Fatal(err)
			}
			target = &r.configMap
			if strings.HasPrefix(cm.Name, "sessionbot-policy-") {
				target = &r.policyMap
			}
		case "Service":
			target = &r.service
		case "PodDisruptionBudget":
			target = &r.pdb
		case "Namespace":
			target = &r.namespace
		case "NetworkPolicy":
			target = &r.network
		default:
			t.Fatalf("unexpected kind %q", tm.Kind)
		}
		if err := yaml.UnmarshalStrict(doc, target); err != nil {
			t.Fatalf("%s does not decode strictly: %v", tm.Kind, err)
		}
		seen[tm.Kind]++
	}
	for kind, want := range map[string]int{"Deployment": 1, "ConfigMap": 2, "Service": 1, "PodDisruptionBudget": 1, "Namespace": 1, "NetworkPolicy": 1} {
		if seen[kind] != want {
			t.Errorf("%d %s objects, want %d", seen[kind], kind, want)
		}
	}
	if r.configMap.Name == "" || r.policyMap.Name == "" {
		t.Errorf("ConfigMaps %q and %q: want config.env's and the policy's", r.configMap.Name, r.policyMap.Name)
	}
	return r
}

func TestKubernetesDeploymentIsLockedDown(t *testing.T) {
	d := render(t).deployment
	spec := d.Spec.Template.Spec
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("replicas = %v, want 2", d.Spec.Replicas)
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Error("automountServiceAccountToken must be false")
	}
	psc := spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Error("the pod must set runAsNonRoot")
	}
	if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Error("the pod must use the RuntimeDefault seccomp profile")
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("%d containers", len(spec.Containers))
	}
	c := spec.Containers[0]
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("readOnlyRootFilesystem must be true")
	}
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("allowPrivilegeEscalation must be false")
	}
	if sc == nil || sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
		t.Error("all capabilities must be dropped")
	}
	if c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() || c.Resources.Requests.Cpu().IsZero() {
		t.Error("memory requests and limits, and a CPU request, must be set")
	}
	if !strings.HasPrefix(c.Image, "ghcr.io/") {
		t.Errorf("image = %q: kustomize's images: did not apply", c.Image)
	}
	var fromConfig, fromSecret bool
	for _, e := range c.EnvFrom {
		fromConfig = fromConfig || (e.ConfigMapRef != nil && e.ConfigMapRef.Name == render(t).configMap.Name)
		fromSecret = fromSecret || (e.SecretRef != nil && e.SecretRef.Name == exampleSecret(t).Name)
	}
	if !fromConfig || !fromSecret {
		t.Error("the container must take its environment from the ConfigMap and the Secret")
	}
	if d.Namespace != "sessionbot" {
		t.Errorf("namespace = %q", d.Namespace)
	}
}

func exampleSecret(t *testing.T) corev1.Secret {
	t.Helper()
	b, err := os.ReadFile("kubernetes/secret.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var s corev1.Secret
	if err := yaml.UnmarshalStrict(b, &s); err != nil {
		t.Fatalf("secret.example.yaml: %v", err)
	}
	for _, k := range []string{"SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "IPROYAL_API_TOKEN"} {
		if !strings.Contains(s.StringData[k], "REPLACE-ME") {
			t.Errorf("the example Secret's %s should be a placeholder", k)
		}
	}
	return s
}

func TestKubernetesWiringMatchesTheBinary(t *testing.T) {
	r := render(t)
	c := r.deployment.Spec.Template.Spec.Containers[0]
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	_, portStr, err := net.SplitHostPort(r.configMap.Data["HTTP_ADDR"])
	if err != nil {
		t.Fatalf("ConfigMap HTTP_ADDR: %v", err)
	}
	if fmt.Sprint(ports["http"]) != portStr {
		t.Errorf("containerPort http = %d, but HTTP_ADDR listens on %s", ports["http"], portStr)
	}
	for name, probe := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
		if probe == nil || probe.HTTPGet == nil {
			t.Fatalf("no %s probe", name)
		}
		if probe.HTTPGet.Port.String() != "http" {
			t.Errorf("%s probe port = %s, want the http port", name, probe.HTTPGet.Port.String())
		}
	}
	if c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Errorf("probe paths = %s, %s", c.ReadinessProbe.HTTPGet.Path, c.LivenessProbe.HTTPGet.Path)
	}
	ann := r.service.Annotations
	if ann["prometheus.io/port"] != portStr || r.service.Spec.Ports[0].TargetPort.String() != "http" {
		t.Errorf("the Service does not point Prometheus at the http port: %v", ann)
	}
	podLabels := r.deployment.Spec.Template.Labels
	for k, v := range r.pdb.Spec.Selector.MatchLabels {
		if podLabels[k] != v {
			t.Errorf("the PodDisruptionBudget selects %s=%s, the pods do not have it", k, v)
		}
	}
	for k, v := range r.service.Spec.Selector {
		if podLabels[k] != v {
			t.Errorf("the Service selects %s=%s, the pods do not have it", k, v)
		}
	}

	// Every ConfigMap key must be a variable the README documents.
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for k := range r.configMap.Data {
		if !regexp.MustCompile("(?m)^\\| `" + k + "` \\|").Match(readme) {
			t.Errorf("ConfigMap key %s is not a documented variable", k)
		}
	}

	// And the binary, run with this ConfigMap and the policy the pod
	// mounts, serves the probed paths.
	env := map[string]string{}
	for k, v := range r.configMap.Data {
		env[k] = v
	}
	env["POLICY_FILE"] = mountedPolicy(t, r)
	addr, _, _ := runningBot(t, env)
	for _, path := range []string{c.ReadinessProbe.HTTPGet.Path, c.LivenessProbe.HTTPGet.Path, ann["prometheus.io/path"]} {
		eventually(t, path+" answers 200", func() bool {
			resp, err := http.Get("http://" + addr + path)
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
	}
}

// TestKubernetesIsProductionReady checks what a cluster needs of the base
// beyond what the API server accepts.
func TestKubernetesIsProductionReady(t *testing.T) {
	r := render(t)
	if p := r.pdb.Spec.UnhealthyPodEvictionPolicy; p == nil || *p != policyv1.AlwaysAllow {
		t.Errorf("PDB unhealthyPodEvictionPolicy = %v, want AlwaysAllow: with both pods unready (Slack down) a drain must not be refused", p)
	}

	c := r.deployment.Spec.Template.Spec.Containers[0]
	image, tag, _ := strings.Cut(c.Image, ":")
	if strings.Contains(c.Image, "@sha256:") {
		tag = "digest"
	}
	if tag == "" || tag == "latest" || image == "" {
		t.Errorf("image %q: set a version tag or a digest through the kustomization's images:", c.Image)
	}

	spread := r.deployment.Spec.Template.Spec.TopologySpreadConstraints
	var keys []string
	for _, c := range spread {
		keys = append(keys, c.TopologyKey)
		if c.WhenUnsatisfiable != corev1.ScheduleAnyway {
			t.Errorf("spread over %s is %s, want ScheduleAnyway: a preference, not a rule", c.TopologyKey, c.WhenUnsatisfiable)
		}
	}
	if strings.Join(keys, ",") != "topology.kubernetes.io/zone,kubernetes.io/hostname" {
		t.Errorf("topology spread over %v, want zones first, then hosts", keys)
	}

	np := r.network
	if !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) || !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) {
		t.Errorf("the NetworkPolicy governs %v, want Ingress and Egress", np.Spec.PolicyTypes)
	}
	for k, v := range np.Spec.PodSelector.MatchLabels {
		if r.deployment.Spec.Template.Labels[k] != v {
			t.Errorf("the NetworkPolicy selects %s=%s, the pods do not have it", k, v)
		}
	}
	var ingress []string
	for _, rule := range np.Spec.Ingress {
		if len(rule.Ports) == 0 {
			t.Error("an ingress rule allows every port")
		}
		for _, p := range rule.Ports {
			ingress = append(ingress, p.Port.String())
		}
	}
	if strings.Join(ingress, ",") != "http" {
		t.Errorf("ingress allowed on %v, want only the http port", ingress)
	}
	var egress []string
	for _, rule := range np.Spec.Egress {
		if len(rule.Ports) == 0 {
			t.Error("an egress rule allows every port")
		}
		for _, p := range rule.Ports {
			egress = append(egress, fmt.Sprintf("%s/%s", p.Port.String(), *p.Protocol))
		}
	}
	slices.Sort(egress)
	if strings.Join(egress, ",") != "443/TCP,53/TCP,53/UDP" {
		t.Errorf("egress allowed to %v, want DNS and 443 only", egress)
	}
}

// interruptWords is how long the commands still in flight after
// SHUTDOWN_TIMEOUT get to tell their threads (bot.interruptGrace is 4 s).
const interruptWords = 5 * time.Second

// TestGracePeriodsLeaveTimeForTheLastWords: Kubernetes and Docker kill the
// process at the end of their grace period, which must cover
// SHUTDOWN_TIMEOUT and then the posts that say a command was interrupted.
func TestGracePeriodsLeaveTimeForTheLastWords(t *testing.T) {
	r := render(t)
	shutdown, err := time.ParseDuration(r.configMap.Data["SHUTDOWN_TIMEOUT"])
	if err != nil {
		t.Fatalf("ConfigMap SHUTDOWN_TIMEOUT: %v", err)
	}
	grace := r.deployment.Spec.Template.Spec.TerminationGracePeriodSeconds
	if grace == nil || time.Duration(*grace)*time.Second < shutdown+interruptWords {
		t.Errorf("terminationGracePeriodSeconds = %v, want at least SHUTDOWN_TIMEOUT (%s) + %s", grace, shutdown, interruptWords)
	}

	b, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			StopGracePeriod string `json:"stop_grace_period"`
		} `json:"services"`
	}
	if err := yaml.Unmarshal(b, &compose); err != nil {
		t.Fatal(err)
	}
	stop, err := time.ParseDuration(compose.Services["sessionbot"].StopGracePeriod)
	if err != nil {
		t.Fatalf("compose stop_grace_period: %v", err)
	}
	// compose takes SHUTDOWN_TIMEOUT from the env file, or the default.
	composeShutdown := 25 * time.Second
	if env, err := os.ReadFile("sessionbot.env.example"); err == nil {
		for _, line := range strings.Split(string(env), "\n") {
			if v, ok := strings.CutPrefix(line, "SHUTDOWN_TIMEOUT="); ok {
				if composeShutdown, err = time.ParseDuration(v); err != nil {
					t.Fatalf("sessionbot.env.example SHUTDOWN_TIMEOUT: %v", err)
				}
			}
		}
	}
	if stop < composeShutdown+interruptWords {
		t.Errorf("compose stop_grace_period = %s, want at least SHUTDOWN_TIMEOUT (%s) + %s", stop, composeShutdown, interruptWords)
	}
}

// TestComposeRotatesLogs: Docker's json-file driver keeps every line
// forever unless told otherwise.
func TestComposeRotatesLogs(t *testing.T) {
	b, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Logging struct {
				Driver  string            `json:"driver"`
				Options map[string]string `json:"options"`
			} `json:"logging"`
		} `json:"services"`
	}
	if err := yaml.Unmarshal(b, &compose); err != nil {
		t.Fatal(err)
	}
	l := compose.Services["sessionbot"].Logging
	if l.Driver != "json-file" || l.Options["max-size"] == "" || l.Options["max-file"] == "" {
		t.Errorf("compose logging = %+v, want json-file with max-size and max-file", l)
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A configuration change rolls out: the ConfigMap's name carries a hash of
// its content, and the Deployment's pod template refers to that name, so
// a new value is a new pod template.
func TestConfigChangeRollsOut(t *testing.T) {
	before := render(t)
	if !strings.HasPrefix(before.configMap.Name, "sessionbot-") {
		t.Fatalf("ConfigMap name %q has no hash suffix: make it with configMapGenerator", before.configMap.Name)
	}
	after := renderFS(t, kubernetesEdited(t, "config.env", func(b []byte) []byte {
		return bytes.Replace(b, []byte("LOG_LEVEL=info"), []byte("LOG_LEVEL=debug"), 1)
	}), "/k")
	if after.configMap.Data["LOG_LEVEL"] != "debug" {
		t.Fatal("the edited config.env was not rendered")
	}
	ref := func(r rendered) string {
		for _, e := range r.deployment.Spec.Template.Spec.Containers[0].EnvFrom {
			if e.ConfigMapRef != nil {
				return e.ConfigMapRef.Name
			}
		}
		return ""
	}
	if after.configMap.Name == before.configMap.Name || ref(after) != after.configMap.Name || ref(before) != before.configMap.Name {
		t.Errorf("ConfigMap %s -> %s, referred to as %s -> %s: a change must give a new name the pods refer to",
			before.configMap.Name, after.configMap.Name, ref(before), ref(after))
	}
}

// kubernetesEdited is deploy/kubernetes copied to /k in memory, with the
// file at path (relative to it) changed by edit.
func kubernetesEdited(t *testing.T, path string, edit func([]byte) []byte) filesys.FileSystem {
	t.Helper()
	fs := filesys.MakeFsInMemory()
	edited := false
	err := filepath.WalkDir("kubernetes", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("kubernetes", p)
		if filepath.ToSlash(rel) == path {
			b, edited = edit(b), true
		}
		return fs.WriteFile("/k/"+filepath.ToSlash(rel), b)
	})
	if err != nil {
		t.Fatal(err)
	}
	if !edited {
		t.Fatalf("no deploy/kubernetes/%s to edit", path)
	}
	return fs
}

// On an empty cluster, kubectl apply -k creates the namespace before what
// goes in it.
func TestNamespaceIsAppliedFirst(t *testing.T) {
	if order := render(t).order; order[0] != "Namespace" {
		t.Errorf("kinds in apply order: %v; the Namespace must come first", order)
	}
}

// podman-compose ignores stop_grace_period (before the release that passes
// it as --stop-timeout), and podman's default 10 s would cut the drain: the
// compose file says how to stop it with the same grace.
func TestComposeSaysHowPodmanStopsIt(t *testing.T) {
	b, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			StopGracePeriod string `json:"stop_grace_period"`
		} `json:"services"`
	}
	if err := yaml.Unmarshal(b, &compose); err != nil {
		t.Fatal(err)
	}
	grace, err := time.ParseDuration(compose.Services["sessionbot"].StopGracePeriod)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"podman-compose", fmt.Sprintf("down -t %d", int(grace.Seconds()))} {
		if !strings.Contains(string(b), want) {
			t.Errorf("compose.yaml does not say %q", want)
		}
	}
}
