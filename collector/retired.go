package collector

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/defender-exporter/defender_exporter/config"
	"github.com/defender-exporter/defender_exporter/defender"
)

// The MDE and XDR APIs stop on 2027-02-01 (Microsoft 365 Message Center
// MC1220762). When one answers that it is retired (defender.ErrAPIRetired),
// the refresh error says what to change, once per distinct error like any
// failure: switch the collector to its Graph back end, or, for a collector
// without one, turn it off. Every collector New and NewHuntingQuery build
// is wrapped here, so no collector has to know.

// retiredAdvisor rewords a retired-API failure of the collector it wraps.
type retiredAdvisor struct {
	Collector
	// advice is what the user should change, e.g. "set
	// collectors.alerts.api: graph".
	advice string
}

func (r retiredAdvisor) Refresh(ctx context.Context, t *Target) ([]prometheus.Metric, error) {
	ms, err := r.Collector.Refresh(ctx, t)
	var re *defender.RetiredError
	if err != nil && errors.As(err, &re) {
		return nil, fmt.Errorf("the %s API answers that it is retired%s (%w)", re.API, r.advice, err)
	}
	return ms, err
}

// withRetiredAdvice wraps the collector of config key name.
func withRetiredAdvice(c Collector, name string) Collector {
	advice := fmt.Sprintf(", and there is no Microsoft Graph replacement for %s yet; disable it with collectors.%s.enabled: false", name, name)
	if slices.Contains(config.CollectorAPIs(name), "graph") {
		advice = fmt.Sprintf(": set collectors.%s.api: graph", name)
	}
	return retiredAdvisor{Collector: c, advice: advice}
}

// withRetiredHuntingAdvice wraps a hunting query's collector.
func withRetiredHuntingAdvice(c Collector) Collector {
	return retiredAdvisor{Collector: c, advice: ": set hunting.api: graph"}
}

// unwrapCollector returns the collector a wrapper of this file holds.
func unwrapCollector(c Collector) Collector {
	if r, ok := c.(retiredAdvisor); ok {
		return r.Collector
	}
	return c
}

var apiRetiredDesc = prometheus.NewDesc(namespace+"_collector_api_retired",
	"1 if the latest background refresh of the collector failed because the MDE or XDR API answered that it is retired (the log says what to change), else 0.",
	[]string{"tenant", "collector"}, nil)
