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
			Name: "recommendations", Order: 50,
			Default: config.Collector{Enabled: true, Interval: time.Hour},
			Keys:    []string{"api"},
			APIs:    []string{"mde", "graph"},
		},
		New: newRecommendationsCollector,
		Calls: map[string]map[defender.Family]int{
			"mde":   {defender.FamilyMDE: 1},
			"graph": {defender.FamilyHunting: 1}, // the built-in query
		},
	})
}

var (
	recommendationsDesc = newDesc("recommendations",
		"Security recommendations from Defender Vulnerability Management.",
		"category", "remediation_type", "status")
	recommendationExposedDesc = newDesc("recommendation_exposed_machines",
		"Sum over the security recommendations of a category of the machines each applies to (exposedMachinesCount).",
		"category")
)

type recommendationsCollector struct{}

func newRecommendationsCollector(cfg config.Collector) (Collector, error) {
	if cfg.API == "graph" {
		return newRecommendationsGraphCollector(cfg)
	}
	return recommendationsCollector{}, nil
}

// recommendationsMaxPage is the documented $top limit of /api/recommendations.
const recommendationsMaxPage = 10000

func (recommendationsCollector) Refresh(ctx context.Context, t *Target) ([]prometheus.Metric, error) {
	recs := newCounter(recommendationsDesc)
	exposed := newCounter(recommendationExposedDesc)
	_, err := defender.List(ctx, t.Client, defender.Request{
		API:      defender.APIMDE,
		Family:   defender.FamilyMDE,
		Endpoint: "/api/recommendations",
		Path:     "/api/recommendations",
		PageSize: recommendationsMaxPage,
	}, func(r *defender.Recommendation) error {
		cat := recCategory.canon(r.RecommendationCategory)
		recs.inc(cat, recRemediationType.canon(r.RemediationType), recStatus.canon(r.Status))
		exposed.add(r.ExposedMachinesCount.Value, cat)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing recommendations: %w", err)
	}
	out := recs.emit(nil, t.Tenant)
	return exposed.emit(out, t.Tenant), nil
}
