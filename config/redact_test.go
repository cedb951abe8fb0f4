package config

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestRedacted(t *testing.T) {
	cfg, err := Load("testdata/full.yml", testEnv())
	if err != nil {
		t.Fatal(err)
	}
	out, err := cfg.Redacted()
	if err != nil {
		t.Fatal(err)
	}
	// Every secret from full.yml, by value: from a file, from ${ENV}, literal, and a password.
	for _, secret := range []string{"file-secret-PLANTED-1", "env-secret-PLANTED-2", "literal-secret-PLANTED-3", "env-cert-password-PLANTED-4", "test-pfx-password", planted} {
		if strings.Contains(out, secret) {
			t.Errorf("Redacted output contains %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{
		"client_secret: <secret>",
		"certificate_password: <secret>",
		"# runs: alerts 5m, machines 15m, scores 1h, vulnerabilities 2h",
		"av_health 1h (disabled)",
		"stale_after: [1d, 7d, 30d]",
		"managed_identity: {}",
		"timespan: 2024-02-01T08:00:00Z/P30D",
		"labels: []",
		"refresh_interval: 20m",
		"secure_score: {enabled: true, interval: 2h, per_control: true}",
		"secure_score 2h, identity 15m",
		"full_load_interval: 4h",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Redacted output lacks %q:\n%s", want, out)
		}
	}
	// It must stay valid YAML with the file's key names.
	var back struct {
		Tenants []struct {
			Name           string `yaml:"name"`
			RequestTimeout string `yaml:"request_timeout"`
		} `yaml:"tenants"`
		Collectors map[string]map[string]any `yaml:"collectors"`
		Hunting    struct {
			Queries []map[string]any `yaml:"queries"`
		} `yaml:"hunting"`
	}
	if err := yaml.Unmarshal([]byte(out), &back); err != nil {
		t.Fatalf("output is not YAML: %v\n%s", err, out)
	}
	if len(back.Tenants) != len(cfg.Tenants) || back.Tenants[0].RequestTimeout != "45s" || len(back.Collectors) != len(CollectorNames) || len(back.Hunting.Queries) != 3 {
		t.Errorf("round trip: %+v", back)
	}
}

// Redacted output of a valid config, secrets aside, loads again to the same tenants and collectors.
func TestRedactedReloads(t *testing.T) {
	cfg, err := Load("testdata/good-hunting-mde.yml", testEnv())
	if err != nil {
		t.Fatal(err)
	}
	out, err := cfg.Redacted()
	if err != nil {
		t.Fatal(err)
	}
	cfg2, err := Parse([]byte(out), "redacted.yml", testEnv())
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// The secret came from a file: the output names the file, not the secret, and so the
	// reloaded config reads the same secret from it.
	if strings.Contains(out, string(cfg.Tenants[0].ClientSecret)) || cfg.Tenants[0].ClientSecretFile == "" ||
		cfg2.Tenants[0].ClientSecretFile != cfg.Tenants[0].ClientSecretFile || cfg2.Tenants[0].ClientSecret != cfg.Tenants[0].ClientSecret ||
		cfg2.Hunting.API != "mde" ||
		cfg2.Collectors["alerts"].Interval != cfg.Collectors["alerts"].Interval || !cfg2.Collectors["machines"].PerMachine {
		t.Errorf("reloaded: %#v", cfg2)
	}
}
