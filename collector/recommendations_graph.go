package collector

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/defender-exporter/defender_exporter/config"
)

// recommendationsQuery counts the security-configuration recommendations,
// which are all configuration changes: remediation_type is ConfigurationChange.
// No table says whether a recommendation has an exception: status is "".
var recommendationsQuery = mustBuiltin("recommendations", "recommendations", 1,
	str("ConfigurationCategory"), number("Recommendations"), number("ExposedMachines"))

type recommendationsGraphCollector struct{}

func newRecommendationsGraphCollector(config.Collector) (Collector, error) {
	return recommendationsGraphCollector{}, nil
}

func (recommendationsGraphCollector) Refresh(ctx context.Context, t *Target) ([]prometheus.Metric, error) {
	recs := newCounter(recommendationsDesc)
	exposed := newCounter(recommendationExposedDesc)
	err := recommendationsQuery.run(ctx, t, func(r builtinRow) error {
		cat := fromHunting(r.labels[0], huntingSpellings.configCategory, recCategory)
		recs.add(r.values[0], cat, "ConfigurationChange", "")
		exposed.add(r.values[1], cat)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("counting recommendations: %w", err)
	}
	out := recs.emit(nil, t.Tenant)
	return exposed.emit(out, t.Tenant), nil
}
