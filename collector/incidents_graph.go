package collector

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/defender-exporter/defender_exporter/defender"
)

// The graph back end of the incidents collector reads Microsoft Graph's
// incident list (https://learn.microsoft.com/graph/api/security-list-incidents,
// permission SecurityIncident.Read.All). Without $expand=alerts an incident
// is a few hundred bytes, so every refresh lists them all, as the XDR back
// end does.

// graphIncidentsPath is both the path and the endpoint label.
const graphIncidentsPath = "/v1.0/security/incidents"

// graphIncidentsMaxPage is the page size asked for. The page documents no
// $top limit; Graph refuses more than 50 ("The limit of '50' for Top query
// has been exceeded", as users quote it in wazuh/wazuh#28070), and its
// nextLinks page by 50 when no $top is given.
const graphIncidentsMaxPage = 50

type graphIncidentsCollector struct {
	lookback time.Duration
}

// Refresh lists, in one listing, the incidents created within the lookback
// and every unresolved one. Graph takes "or" in $filter (its query
// parameters page), which the XDR API's pages never show: there, two
// listings.
func (c *graphIncidentsCollector) Refresh(ctx context.Context, t *Target) ([]prometheus.Metric, error) {
	since := t.Now().Add(-c.lookback).UTC().Truncate(time.Second).Format(time.RFC3339)
	incidents := newCounter(incidentsDesc)
	oldest := newMinimum(incidentsOldestDesc)
	var labels labelCache

	add := func(x *defender.GraphIncident) error {
		sev := labels.get(x.Severity)
		status := labels.get(x.Status)
		incidents.inc(sev, status, labels.get(x.Classification), labels.get(x.Determination))
		if status != "Resolved" && status != "Redirected" && !x.CreatedDateTime.IsZero() {
			oldest.observe(float64(x.CreatedDateTime.Unix()), sev)
		}
		return nil
	}
	_, err := defender.List(ctx, t.Client, defender.Request{
		API:      defender.APIGraph,
		Family:   defender.FamilyGraph,
		Endpoint: graphIncidentsPath,
		Path:     graphIncidentsPath,
		Query: url.Values{"$filter": {"createdDateTime ge " + since +
			" or (status ne 'resolved' and status ne 'redirected')"}},
		PageSize:     graphIncidentsMaxPage,
		NextLinkOnly: true,
	}, add)
	if err != nil {
		return nil, fmt.Errorf("listing incidents: %w", err)
	}
	out := incidents.emit(nil, t.Tenant)
	return oldest.emit(out, t.Tenant), nil
}
