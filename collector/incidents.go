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

// Incidents move by the minute. The default back end is Microsoft Graph:
// the XDR API stops on 2027-02-01 (Microsoft 365 Message Center MC1220762).
func init() {
	register(Spec{
		Config: config.CollectorSpec{
			Name: "incidents", Order: 80,
			Default: config.Collector{Enabled: true, Interval: 5 * time.Minute, Lookback: defaultLookback},
			Keys:    []string{"api", "lookback"},
			APIs:    []string{"graph", "xdr"},
		},
		New: newIncidentsCollector,
		Calls: map[string]map[defender.Family]int{
			"xdr":   {defender.FamilyIncidents: 2}, // as the alerts' mde back end
			"graph": {defender.FamilyGraph: 1},     // one listing ("or" filter)
		},
	})
}

var (
	incidentsDesc = newDesc("incidents",
		"Defender XDR incidents created within the lookback window, plus every unresolved incident (neither Resolved nor Redirected).",
		"severity", "status", "classification", "determination")
	incidentsOldestDesc = newDesc("incidents_oldest_unresolved_timestamp_seconds",
		"Creation time of the oldest unresolved incident (neither Resolved nor Redirected), as a Unix timestamp.",
		"severity")
)

type incidentsCollector struct {
	lookback time.Duration
}

// newIncidentsCollector builds the back end cfg.API names: Microsoft
// Graph's incidents (incidents_graph.go) or XDR's /api/incidents (below).
func newIncidentsCollector(cfg config.Collector) (Collector, error) {
	lookback, err := lookbackOf(cfg)
	if err != nil {
		return nil, err
	}
	switch apiOrDefault(cfg) {
	case "graph":
		return &graphIncidentsCollector{lookback: lookback}, nil
	case "xdr":
		return &incidentsCollector{lookback: lookback}, nil
	}
	return nil, fmt.Errorf("collectors.incidents.api: %q is not a back end of incidents (have graph, xdr)", cfg.API)
}

// incidentsMaxPage is the documented page-size limit of XDR /api/incidents;
// the API sends @odata.nextLink while more remain.
const incidentsMaxPage = 100

// Refresh lists the incidents in two disjoint listings, as the alerts
// collector does: those created within the lookback, and those created
// before it that are still unresolved.
func (c *incidentsCollector) Refresh(ctx context.Context, t *Target) ([]prometheus.Metric, error) {
	since := t.Now().Add(-c.lookback).UTC().Format(time.RFC3339)
	incidents := newCounter(incidentsDesc)
	oldest := newMinimum(incidentsOldestDesc)

	add := func(x *defender.Incident) error {
		sev := alertSeverity.canon(x.Severity)
		status := incidentStatus.canon(x.Status)
		incidents.inc(sev, status, alertClassification.canon(x.Classification), incidentDetermination.canon(x.Determination))
		if status != "Resolved" && status != "Redirected" && !x.CreatedTime.IsZero() {
			oldest.observe(float64(x.CreatedTime.Unix()), sev)
		}
		return nil
	}
	for _, filter := range []string{
		"createdTime ge " + since,
		"createdTime lt " + since + " and status ne 'Resolved' and status ne 'Redirected'",
	} {
		_, err := defender.List(ctx, t.Client, defender.Request{
			API:      defender.APIXDR,
			Family:   defender.FamilyIncidents,
			Endpoint: "/api/incidents",
			Path:     "/api/incidents",
			Query:    url.Values{"$filter": {filter}},
			PageSize: incidentsMaxPage,
		}, add)
		if err != nil {
			return nil, fmt.Errorf("listing incidents: %w", err)
		}
	}
	out := incidents.emit(nil, t.Tenant)
	return oldest.emit(out, t.Tenant), nil
}
