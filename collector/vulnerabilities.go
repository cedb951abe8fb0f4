package collector

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/defender-exporter/defender_exporter/config"
	"github.com/defender-exporter/defender_exporter/defender"
)

// TVM data is recomputed by Defender a few times a day: hourly is plenty.
func init() {
	register(Spec{
		Config: config.CollectorSpec{
			Name: "vulnerabilities", Order: 40,
			Default: config.Collector{Enabled: true, Interval: time.Hour},
			Keys:    []string{"api"},
			APIs:    []string{"mde", "graph"},
		},
		New: newVulnerabilitiesCollector,
		Calls: map[string]map[defender.Family]int{
			"mde":   {defender.FamilyMDE: 1},
			"graph": {defender.FamilyHunting: 1}, // the built-in query
		},
	})
}

var (
	vulnerabilitiesDesc = newDesc("vulnerabilities",
		"CVEs that affect at least one machine, by severity and whether a public exploit exists.",
		"severity", "public_exploit")
	vulnerabilityExposedDesc = newDesc("vulnerability_exposed_machines",
		"Sum over the CVEs that affect at least one machine of the number of machines each exposes.",
		"severity")
)

type vulnerabilitiesCollector struct{}

func newVulnerabilitiesCollector(cfg config.Collector) (Collector, error) {
	if cfg.API == "graph" {
		return newVulnerabilitiesGraphCollector(cfg)
	}
	return vulnerabilitiesCollector{}, nil
}

// vulnerabilitiesMaxPage is the documented $top limit of /api/vulnerabilities.
const vulnerabilitiesMaxPage = 8000

// Refresh reads the whole CVE catalogue: exposedMachines is not filterable,
// so the CVEs that expose nothing (most of them) cannot be left out
// server-side.
func (vulnerabilitiesCollector) Refresh(ctx context.Context, t *Target) ([]prometheus.Metric, error) {
	vulns := newCounter(vulnerabilitiesDesc)
	exposed := newCounter(vulnerabilityExposedDesc)
	_, err := defender.List(ctx, t.Client, defender.Request{
		API:      defender.APIMDE,
		Family:   defender.FamilyMDE,
		Endpoint: "/api/vulnerabilities",
		Path:     "/api/vulnerabilities",
		PageSize: vulnerabilitiesMaxPage,
	}, func(v *defender.Vulnerability) error {
		if v.ExposedMachines.Value <= 0 {
			return nil
		}
		sev := cveSeverity.canon(v.Severity)
		vulns.inc(sev, boolLabel(v.PublicExploit))
		exposed.add(v.ExposedMachines.Value, sev)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing vulnerabilities: %w", err)
	}
	out := vulns.emit(nil, t.Tenant)
	return exposed.emit(out, t.Tenant), nil
}

// boolLabel spells a boolean the Prometheus way, "" when null or absent.
func boolLabel(b defender.Bool) string {
	switch {
	case !b.Known:
		return ""
	case b.Value:
		return "true"
	}
	return "false"
}
