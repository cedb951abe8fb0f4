package collector

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/defender-exporter/defender_exporter/config"
	"github.com/defender-exporter/defender_exporter/defender"
)

// Off by default: most tenants do not use custom indicators, and each
// refresh costs calls.
func init() {
	register(Spec{
		Config: config.CollectorSpec{
			Name: "indicators", Order: 90,
			Default: config.Collector{Enabled: false, Interval: time.Hour},
		},
		New:   newIndicatorsCollector,
		Calls: map[string]map[defender.Family]int{"": {defender.FamilyMDE: 1}},
	})
}

var indicatorsDesc = newDesc("indicators",
	"Custom indicators (file hashes, certificates, IP addresses, domains, URLs) by type, action and severity.",
	"indicator_type", "action", "severity")

type indicatorsCollector struct{}

func newIndicatorsCollector(config.Collector) (Collector, error) { return indicatorsCollector{}, nil }

// indicatorsMaxPage is the documented page-size limit of /api/indicators.
const indicatorsMaxPage = 10000

func (indicatorsCollector) Refresh(ctx context.Context, t *Target) ([]prometheus.Metric, error) {
	indicators := newCounter(indicatorsDesc)
	_, err := defender.List(ctx, t.Client, defender.Request{
		API:      defender.APIMDE,
		Family:   defender.FamilyMDE,
		Endpoint: "/api/indicators",
		Path:     "/api/indicators",
		PageSize: indicatorsMaxPage,
	}, func(x *defender.Indicator) error {
		indicators.inc(indicatorType.canon(x.IndicatorType), indicatorAction.canon(x.Action), indicatorSeverity.canon(x.Severity))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing indicators: %w", err)
	}
	return indicators.emit(nil, t.Tenant), nil
}
