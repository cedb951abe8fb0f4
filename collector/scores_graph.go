package collector

import (
	"context"
	"sync"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/defender-exporter/defender_exporter/config"
)

// scoresGraphCollector is the scores collector on the graph back end. The
// exposure score, its split by device group and the secure score for
// devices are computed by Defender Vulnerability Management and no hunting
// table holds them, nor the formula to recompute them: the three families
// are absent, and the collector runs no query. It says so in the log once
// (per configuration load) rather than guess a value.
type scoresGraphCollector struct{ once *sync.Once }

func newScoresGraphCollector(config.Collector) (Collector, error) {
	return scoresGraphCollector{once: new(sync.Once)}, nil
}

func (c scoresGraphCollector) Refresh(_ context.Context, t *Target) ([]prometheus.Metric, error) {
	c.once.Do(func() {
		logger := t.Logger
		if logger == nil {
			logger = log.NewNopLogger()
		}
		// The scheduler's logger already names the tenant and collector.
		level.Warn(logger).Log("msg", "scores with api: graph exports nothing: no advanced hunting table holds the exposure score or the secure score for devices; keep api: mde while that API answers (until 2027-02-01), then disable the collector")
	})
	return nil, nil
}
