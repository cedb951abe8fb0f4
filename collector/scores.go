package collector

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/defender-exporter/defender_exporter/config"
	"github.com/defender-exporter/defender_exporter/defender"
)

// Defender recomputes the scores a few times a day: hourly is plenty. No
// hunting table holds them, so the graph back end runs no query.
func init() {
	register(Spec{
		Config: config.CollectorSpec{
			Name: "scores", Order: 30,
			Default: config.Collector{Enabled: true, Interval: time.Hour},
			Keys:    []string{"api"},
			APIs:    []string{"mde", "graph"},
		},
		New: newScoresCollector,
		Calls: map[string]map[defender.Family]int{
			"mde":   {defender.FamilyMDE: 3}, // exposure, by device group, configuration
			"graph": {},
		},
	})
}

var (
	exposureScoreDesc = newDesc("exposure_score",
		"Organisation exposure score from Defender Vulnerability Management, 0 to 100 (lower is better).")
	exposureScoreByGroupDesc = newDesc("exposure_score_by_device_group",
		"Exposure score of each device group, 0 to 100 (lower is better).",
		"device_group")
	configurationScoreDesc = newDesc("configuration_score",
		"Secure score for devices (configuration score), in points.")
)

type scoresCollector struct{}

func newScoresCollector(cfg config.Collector) (Collector, error) {
	if cfg.API == "graph" {
		return newScoresGraphCollector(cfg)
	}
	return scoresCollector{}, nil
}

// errNoScore flags an answer without a score: Get decodes whatever object
// arrives, so a wrapper such as {"value":[...]} would otherwise read as 0.
var errNoScore = errors.New("the answer has no score")

// Refresh costs three calls: the two single objects and the by-group
// collection, which takes no $top and is read in one answer (nextLinks are
// followed should one come).
func (scoresCollector) Refresh(ctx context.Context, t *Target) ([]prometheus.Metric, error) {
	get := func(path string) (float64, error) {
		var s defender.Score
		err := defender.Get(ctx, t.Client, defender.Request{
			API: defender.APIMDE, Family: defender.FamilyMDE, Endpoint: path, Path: path,
		}, &s)
		if err == nil && !s.Score.Known {
			err = errNoScore
		}
		return s.Score.Value, err
	}
	exposure, err := get("/api/exposureScore")
	if err != nil {
		return nil, fmt.Errorf("getting exposure score: %w", err)
	}
	// A group listed twice would give two identical series and fail the
	// scrape; the last value wins.
	groups := map[string]float64{}
	_, err = defender.List(ctx, t.Client, defender.Request{
		API: defender.APIMDE, Family: defender.FamilyMDE,
		Endpoint: "/api/exposureScore/ByMachineGroups", Path: "/api/exposureScore/ByMachineGroups",
	}, func(s *defender.Score) error {
		if s.Score.Known { // a group without a score has nothing to report
			groups[s.RBACGroupName] = s.Score.Value
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing exposure score by device group: %w", err)
	}
	secure, err := get("/api/configurationScore")
	if err != nil {
		return nil, fmt.Errorf("getting configuration score: %w", err)
	}
	out := gauge(nil, exposureScoreDesc, t.Tenant, exposure)
	out = emit(out, exposureScoreByGroupDesc, t.Tenant, groups)
	return gauge(out, configurationScoreDesc, t.Tenant, secure), nil
}
