// Package helm holds the tests of the Helm chart in defender-exporter/.
// These run in `make test` without helm: the chart's copy of the alerting
// rules and its image defaults. rendered_test.go (build tag helm, run by
// `make helm-test`) checks what helm renders.
package helm

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"go.yaml.in/yaml/v3"
)

const chartDir = "defender-exporter"

// chartMeta is the part of Chart.yaml the tests read.
type chartMeta struct {
	APIVersion string `yaml:"apiVersion"`
	Name       string `yaml:"name"`
	Version    string `yaml:"version"`
	AppVersion string `yaml:"appVersion"`
}

func readChart(t *testing.T) chartMeta {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c chartMeta
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatalf("Chart.yaml: %v", err)
	}
	return c
}

// TestChartRulesCopyIsCurrent: a chart cannot read files outside its
// directory, so it carries a copy of alerts.rules.yml for its
// PrometheusRule; the copy must be the file, byte for byte.
func TestChartRulesCopyIsCurrent(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("..", "..", "alerts.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(chartDir, "files", "alerts.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("deploy/helm/defender-exporter/files/alerts.rules.yml differs from alerts.rules.yml: run make helm-rules")
	}
}

// TestChartImageDefaults: the image tag defaults to the chart's appVersion,
// a release (never latest), so every replica of a release runs the same
// exporter; the Kubernetes manifests name the same tag.
func TestChartImageDefaults(t *testing.T) {
	c := readChart(t)
	if c.APIVersion != "v2" || c.Name != "defender-exporter" {
		t.Errorf("Chart.yaml: apiVersion %q name %q, want v2 defender-exporter", c.APIVersion, c.Name)
	}
	release := regexp.MustCompile(`^v\d+\.\d+\.\d+$`)
	if !release.MatchString(c.AppVersion) {
		t.Errorf("Chart.yaml: appVersion %q is not a release tag vX.Y.Z", c.AppVersion)
	}
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(c.Version) {
		t.Errorf("Chart.yaml: version %q is not SemVer X.Y.Z", c.Version)
	}

	raw, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var values struct {
		Image struct {
			Repository string `yaml:"repository"`
			Tag        string `yaml:"tag"`
			Digest     string `yaml:"digest"`
		} `yaml:"image"`
	}
	if err := yaml.Unmarshal(raw, &values); err != nil {
		t.Fatalf("values.yaml: %v", err)
	}
	if values.Image.Tag != "" || values.Image.Digest != "" {
		t.Errorf("values.yaml: image.tag %q, image.digest %q: leave both empty so that the tag is the chart's appVersion",
			values.Image.Tag, values.Image.Digest)
	}

	for _, f := range []string{"statefulset.yaml", "deployment.yaml"} {
		raw, err := os.ReadFile(filepath.Join("..", "kubernetes", f))
		if err != nil {
			t.Fatal(err)
		}
		want := "image: " + values.Image.Repository + ":" + c.AppVersion + "\n"
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("deploy/kubernetes/%s does not name the chart's image %s:%s", f, values.Image.Repository, c.AppVersion)
		}
	}
}
