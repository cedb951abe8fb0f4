package collector

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/defender-exporter/defender_exporter/config"
)

// machinesQuery counts devices by the labels of defender_machines. DeviceInfo
// has no risk score and no antivirus status: risk_score and av_status are
// "" on this back end. defender_machines_stale is absent: the hunting
// tables keep 30 days, so the machines past the usual thresholds are not in
// them at all, and per-machine series would need one answer row per device
// (config refuses stale_after and per_machine with api: graph).
var machinesQuery = mustBuiltin("machines", "machines", 5,
	str("SensorHealthState"), str("OSPlatform"), str("OnboardingStatus"), str("ExposureLevel"), str("MachineGroup"),
	number("Machines"))

type machinesGraphCollector struct{}

func newMachinesGraphCollector(cfg config.Collector) (Collector, error) {
	if cfg.PerMachine {
		return nil, fmt.Errorf("machines: per_machine needs api: mde; the graph back end counts devices on the server and never lists them")
	}
	return machinesGraphCollector{}, nil
}

func (machinesGraphCollector) Refresh(ctx context.Context, t *Target) ([]prometheus.Metric, error) {
	machines := newCounter(machinesDesc)
	err := machinesQuery.run(ctx, t, func(r builtinRow) error {
		l := r.labels
		machines.add(r.values[0],
			fromHunting(l[0], nil, machineHealth), l[1], fromHunting(l[2], huntingSpellings.onboarding, machineOnboarding),
			fromHunting(l[3], nil, machineExposure), "", "", l[4])
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("counting machines: %w", err)
	}
	return machines.emit(nil, t.Tenant), nil
}
