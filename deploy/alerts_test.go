package deploy

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const alertRules = "prometheus/sessionbot-alerts.yaml"

// alertFile is the part of Prometheus's rule file format the example uses;
// decoding is strict, so a misspelt key fails.
type alertFile struct {
	Groups []struct {
		Name  string `json:"name"`
		Rules []struct {
			Alert       string            `json:"alert"`
			Expr        string            `json:"expr"`
			For         string            `json:"for"`
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
		} `json:"rules"`
	} `json:"groups"`
}

// TestAlertRulesPassPromtool checks the rules with Prometheus's own tool.
// .ci/run installs it (Debian's prometheus package); without it, the test
// is skipped outside CI.
func TestAlertRulesPassPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool is not installed: .ci/run installs it from Debian's prometheus package")
		}
		t.Skip("promtool is not installed (apt-get install prometheus, or see .ci/run)")
	}
	out, err := exec.Command(promtool, "check", "rules", alertRules).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

// TestAlertRulesWatchRealMetrics: the alerts the operators need exist, and
// every metric they read is one the binary exports from start-up.
func TestAlertRulesWatchRealMetrics(t *testing.T) {
	b, err := os.ReadFile(alertRules)
	if err != nil {
		t.Fatal(err)
	}
	var f alertFile
	if err := yaml.UnmarshalStrict(b, &f); err != nil {
		t.Fatalf("%s: %v", alertRules, err)
	}
	var names []string
	var exprs strings.Builder
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			names = append(names, r.Alert)
			exprs.WriteString(r.Expr + "\n")
			if r.Labels["severity"] == "" || r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s needs a severity, a summary and a description that says what to do", r.Alert)
			}
		}
	}
	slices.Sort(names)
	want := []string{"SessionbotIPRoyalTokenInvalid", "SessionbotJournalUnreadable", "SessionbotJournalWritesDropped", "SessionbotNotConnected", "SessionbotOutcomesUnknown", "SessionbotPolicyInvalid"}
	if !slices.Equal(names, want) {
		t.Errorf("alerts = %v, want %v", names, want)
	}

	// As the Kubernetes base runs it: with the policy file it mounts.
	addr, _, _ := runningBot(t, map[string]string{"AUDIT_CHANNEL": "C0AUDIT", "POLICY_FILE": mountedPolicy(t, render(t))})
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	metrics, _ := io.ReadAll(resp.Body)
	for _, m := range regexp.MustCompile(`sessionbot_[a-z_]+(\{[^}]*\})?`).FindAllString(exprs.String(), -1) {
		if !strings.Contains(string(metrics), "\n"+m) {
			t.Errorf("the rules read %s, which the binary does not export at start", m)
		}
	}
}
