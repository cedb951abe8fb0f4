package collector

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/defender-exporter/defender_exporter/config"
)

// vulnerabilitiesQuery gives both vulnerability families in one answer.
var vulnerabilitiesQuery = mustBuiltin("vulnerabilities", "vulnerabilities", 2,
	str("VulnerabilitySeverityLevel"), boolean("IsExploitAvailable"),
	number("Vulnerabilities"), number("ExposedMachines"))

type vulnerabilitiesGraphCollector struct{}

func newVulnerabilitiesGraphCollector(config.Collector) (Collector, error) {
	return vulnerabilitiesGraphCollector{}, nil
}

func (vulnerabilitiesGraphCollector) Refresh(ctx context.Context, t *Target) ([]prometheus.Metric, error) {
	vulns := newCounter(vulnerabilitiesDesc)
	exposed := newCounter(vulnerabilityExposedDesc)
	err := vulnerabilitiesQuery.run(ctx, t, func(r builtinRow) error {
		sev := fromHunting(r.labels[0], nil, cveSeverity)
		vulns.add(r.values[0], sev, r.labels[1])
		exposed.add(r.values[1], sev)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("counting vulnerabilities: %w", err)
	}
	out := vulns.emit(nil, t.Tenant)
	return exposed.emit(out, t.Tenant), nil
}
