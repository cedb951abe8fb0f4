package collector

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/defender-exporter/defender_exporter/config"
)

// avHealthQuery counts devices by the labels of defender_av_machines.
// defender_av_scan_results is absent on this back end: no documented
// hunting column holds the last quick and full scan results.
var avHealthQuery = mustBuiltin("av_health", "av_health", 4,
	str("AvMode"), str("AvIsSignatureUpToDate"), str("AvIsEngineUpToDate"), str("AvIsPlatformUpToDate"),
	number("Machines"))

type avHealthGraphCollector struct{}

func newAVHealthGraphCollector(config.Collector) (Collector, error) {
	return avHealthGraphCollector{}, nil
}

func (avHealthGraphCollector) Refresh(ctx context.Context, t *Target) ([]prometheus.Metric, error) {
	machines := newCounter(avMachinesDesc)
	err := avHealthQuery.run(ctx, t, func(r builtinRow) error {
		l := r.labels
		flag := func(s string) string { return fromHunting(s, huntingSpellings.avFlag, nil) }
		machines.add(r.values[0], avModeFromHunting(l[0]), flag(l[1]), flag(l[2]), flag(l[3]))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("counting device AV health: %w", err)
	}
	return machines.emit(nil, t.Tenant), nil
}
