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

// Alerts move by the minute. The default back end is Microsoft Graph: the MDE
// API stops on 2027-02-01 (Microsoft 365 Message Center MC1220762).
func init() {
	register(Spec{
		Config: config.CollectorSpec{
			Name: "alerts", Order: 10,
			Default: config.Collector{Enabled: true, Interval: 5 * time.Minute, Lookback: defaultLookback, FullLoadInterval: 6 * time.Hour},
			Keys:    []string{"api", "lookback", "full_load_interval"},
			APIs:    []string{"graph", "mde"},
		},
		New: newAlertsCollector,
		Calls: map[string]map[defender.Family]int{
			"mde": {defender.FamilyMDE: 2}, // created within the lookback + older unresolved
			// One listing ("or" filter); later refreshes list the alerts
			// updated since the previous one, nearly always one page.
			"graph": {defender.FamilyGraph: 1},
		},
	})
}

var (
	alertsDesc = newDesc("alerts",
		"Defender alerts created within the lookback window, plus every unresolved alert.",
		"severity", "status", "category", "detection_source", "service_source")
	alertsClassifiedDesc = newDesc("alerts_classified",
		"Resolved alerts among defender_alerts, by classification and determination.",
		"severity", "classification", "determination")
	alertsOldestDesc = newDesc("alerts_oldest_unresolved_timestamp_seconds",
		"Creation time of the oldest unresolved alert, as a Unix timestamp.",
		"severity")
)

type alertsCollector struct {
	lookback time.Duration
}

// newAlertsCollector builds the back end cfg.API names: Microsoft Graph's
// alerts_v2 (alerts_graph.go) or the MDE API's /api/alerts (below). A
// Collector made in code without an API gets the default, as the
// configuration file does.
func newAlertsCollector(cfg config.Collector) (Collector, error) {
	lookback, err := lookbackOf(cfg)
	if err != nil {
		return nil, err
	}
	switch apiOrDefault(cfg) {
	case "graph":
		return newGraphAlertsCollector(cfg, lookback)
	case "mde":
		return &alertsCollector{lookback: lookback}, nil
	}
	return nil, fmt.Errorf("collectors.alerts.api: %q is not a back end of alerts (have graph, mde)", cfg.API)
}

// alertsMaxPage is the documented page-size limit of /api/alerts.
const alertsMaxPage = 10000

// Refresh lists the alerts in two disjoint listings, both with filters the
// API documents ("and" of a date and a status): those created within the
// lookback, and those created before it that are still unresolved. An "or"
// filter would save a call, but Defender's docs never show one on this API.
func (c *alertsCollector) Refresh(ctx context.Context, t *Target) ([]prometheus.Metric, error) {
	since := t.Now().Add(-c.lookback).UTC().Format(time.RFC3339)
	alerts := newCounter(alertsDesc)
	classified := newCounter(alertsClassifiedDesc)
	oldest := newMinimum(alertsOldestDesc)

	add := func(a *defender.Alert) error {
		sev := alertSeverity.canon(a.Severity)
		status := alertStatus.canon(a.Status)
		// The MDE API does not say which product raised an alert.
		alerts.inc(sev, status, a.Category, a.DetectionSource, "")
		if status == "Resolved" {
			classified.inc(sev, alertClassification.canon(a.Classification), a.Determination)
		} else if !a.AlertCreationTime.IsZero() {
			oldest.observe(float64(a.AlertCreationTime.Unix()), sev)
		}
		return nil
	}
	for _, filter := range []string{
		"alertCreationTime ge " + since,
		"alertCreationTime lt " + since + " and status ne 'Resolved'",
	} {
		_, err := defender.List(ctx, t.Client, defender.Request{
			API:      defender.APIMDE,
			Family:   defender.FamilyMDE,
			Endpoint: "/api/alerts",
			Path:     "/api/alerts",
			Query:    url.Values{"$filter": {filter}},
			PageSize: alertsMaxPage,
		}, add)
		if err != nil {
			return nil, fmt.Errorf("listing alerts: %w", err)
		}
	}
	var out []prometheus.Metric
	out = alerts.emit(out, t.Tenant)
	out = classified.emit(out, t.Tenant)
	out = oldest.emit(out, t.Tenant)
	return out, nil
}
