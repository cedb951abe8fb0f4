package collector

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"

	"github.com/defender-exporter/defender_exporter/config"
	"github.com/defender-exporter/defender_exporter/defender"
)

// A machine can fall silent at any time, so machines refresh every 15m. On
// the graph back end a built-in hunting query counts them (machines_graph.go).
func init() {
	register(Spec{
		Config: config.CollectorSpec{
			Name: "machines", Order: 20,
			Default: config.Collector{Enabled: true, Interval: 15 * time.Minute, StaleAfter: []time.Duration{day, 7 * day, 30 * day}},
			Keys:    []string{"api", "stale_after", "per_machine"},
			APIs:    []string{"mde", "graph"},
		},
		New: newMachinesCollector,
		Calls: map[string]map[defender.Family]int{
			"mde":   {defender.FamilyMDE: 1},
			"graph": {defender.FamilyHunting: 1}, // the built-in query
		},
	})
}

var (
	machinesDesc = newDesc("machines",
		"Machines known to Defender for Endpoint.",
		"health_status", "os_platform", "onboarding_status", "exposure_level", "risk_score", "av_status", "device_group")
	machinesStaleDesc = newDesc("machines_stale",
		"Machines whose last full report (lastSeen) is older than the threshold.",
		"threshold")
	machineInfoDesc = newDesc("machine_info",
		"One series per machine with its attributes (per_machine: true).",
		"machine_id", "computer_dns_name", "os_platform", "os_version", "health_status", "onboarding_status",
		"exposure_level", "risk_score", "av_status", "device_group", "agent_version")
	machineLastSeenDesc = newDesc("machine_last_seen_timestamp_seconds",
		"Time of the machine's last full report, as a Unix timestamp (per_machine: true).",
		"machine_id", "computer_dns_name")
)

type machinesCollector struct {
	staleAfter []time.Duration
	perMachine bool
	// thresholdLabels holds staleAfter formatted the Prometheus way (1d, 1w, 30d).
	thresholdLabels []string
}

func newMachinesCollector(cfg config.Collector) (Collector, error) {
	if cfg.API == "graph" {
		return newMachinesGraphCollector(cfg)
	}
	c := &machinesCollector{staleAfter: cfg.StaleAfter, perMachine: cfg.PerMachine}
	for _, d := range cfg.StaleAfter {
		if d <= 0 {
			return nil, fmt.Errorf("machines: stale_after entries must be positive, got %s", d)
		}
		c.thresholdLabels = append(c.thresholdLabels, model.Duration(d).String())
	}
	return c, nil
}

const machinesMaxPage = 10000

func (c *machinesCollector) Refresh(ctx context.Context, t *Target) ([]prometheus.Metric, error) {
	now := t.Now()
	machines := newCounter(machinesDesc)
	stale := make([]float64, len(c.staleAfter))
	var out []prometheus.Metric
	// A machine can show up twice when the listing shifts between pages;
	// two identical per-machine series would make the whole scrape fail.
	var seen map[string]struct{}
	if c.perMachine {
		seen = map[string]struct{}{}
	}

	_, err := defender.List(ctx, t.Client, defender.Request{
		API:      defender.APIMDE,
		Family:   defender.FamilyMDE,
		Endpoint: "/api/machines",
		Path:     "/api/machines",
		PageSize: machinesMaxPage,
		// Defender answers 404 rather than an empty list when no machine
		// reported recently.
		NotFoundIsEmpty: true,
	}, func(m *defender.Machine) error {
		health := machineHealth.canon(m.HealthStatus)
		onboarding := machineOnboarding.canon(m.OnboardingStatus)
		exposure := machineExposure.canon(m.ExposureLevel)
		risk := machineRisk.canon(m.RiskScore)
		av := machineAVStatus.canon(m.DefenderAVStatus)
		machines.inc(health, m.OSPlatform, onboarding, exposure, risk, av, m.RBACGroupName)
		if !m.LastSeen.IsZero() {
			age := now.Sub(m.LastSeen.Time)
			for i, d := range c.staleAfter {
				if age > d {
					stale[i]++
				}
			}
		}
		if _, dup := seen[m.ID]; c.perMachine && !dup {
			seen[m.ID] = struct{}{}
			out = gauge(out, machineInfoDesc, t.Tenant, 1, m.ID, m.ComputerDNSName, m.OSPlatform, m.OSVersion,
				health, onboarding, exposure, risk, av, m.RBACGroupName, m.AgentVersion)
			if !m.LastSeen.IsZero() {
				out = gauge(out, machineLastSeenDesc, t.Tenant, float64(m.LastSeen.Unix()), m.ID, m.ComputerDNSName)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing machines: %w", err)
	}
	out = machines.emit(out, t.Tenant)
	for i, n := range stale {
		out = gauge(out, machinesStaleDesc, t.Tenant, n, c.thresholdLabels[i])
	}
	return out, nil
}
