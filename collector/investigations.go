package collector

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/defender-exporter/defender_exporter/config"
	"github.com/defender-exporter/defender_exporter/defender"
)

// Off by default: most tenants do not use automated investigations, and each
// refresh costs calls.
func init() {
	register(Spec{
		Config: config.CollectorSpec{
			Name: "investigations", Order: 100,
			Default: config.Collector{Enabled: false, Interval: 15 * time.Minute, Lookback: defaultLookback},
			Keys:    []string{"lookback"},
		},
		New:   newInvestigationsCollector,
		Calls: map[string]map[defender.Family]int{"": {defender.FamilyMDE: 1}},
	})
}

var investigationsDesc = newDesc("investigations",
	"Automated investigations started within the lookback window, by state.",
	"state")

type investigationsCollector struct {
	lookback time.Duration
}

func newInvestigationsCollector(cfg config.Collector) (Collector, error) {
	lookback, err := lookbackOf(cfg)
	if err != nil {
		return nil, err
	}
	return &investigationsCollector{lookback: lookback}, nil
}

// investigationsMaxPage is the documented page-size limit of /api/investigations.
const investigationsMaxPage = 10000

func (c *investigationsCollector) Refresh(ctx context.Context, t *Target) ([]prometheus.Metric, error) {
	since := t.Now().Add(-c.lookback).UTC().Format(time.RFC3339)
	states := newCounter(investigationsDesc)
	_, err := defender.List(ctx, t.Client, defender.Request{
		API:      defender.APIMDE,
		Family:   defender.FamilyMDE,
		Endpoint: "/api/investigations",
		Path:     "/api/investigations",
		Query:    url.Values{"$filter": {"startTime ge " + since}},
		PageSize: investigationsMaxPage,
	}, func(x *defender.Investigation) error {
		states.inc(investigationState.canon(x.State))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing investigations: %w", err)
	}
	return states.emit(nil, t.Tenant), nil
}
