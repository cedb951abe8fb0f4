package collector

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/defender-exporter/defender_exporter/defender"
	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

// The graph back end of the alerts collector: Microsoft Graph's alerts_v2,
// incremental after a first full listing (alerts_graph.go).

func TestGraphAlertsGolden(t *testing.T) {
	_, target := fakeTenant(t, defendertest.Size{Machines: 40, Alerts: 300})
	c, err := New(collectorConfigAPI(t, "alerts", "graph"))
	if err != nil {
		t.Fatal(err)
	}
	first := refresh(t, c, target)
	compareGolden(t, first, "alerts_graph")
	// A member Graph sends by name only to clients that send the Prefer
	// header: the collector's client does.
	if got := labelValues(t, first, "defender_alerts", "service_source"); !strings.Contains(strings.Join(got, ","), "MicrosoftDefenderForCloud") {
		t.Errorf("service_source values %v lack MicrosoftDefenderForCloud", got)
	}
	// The second refresh is incremental and must say the same.
	if second := refresh(t, c, target); !bytes.Equal(exposition(t, second), exposition(t, first)) {
		t.Errorf("an incremental refresh of unchanged data differs from the full listing:\n%s\nwant\n%s", exposition(t, second), exposition(t, first))
	}
}

// TestGraphAlertsMatchData recomputes the totals from the fake's dataset.
func TestGraphAlertsMatchData(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 40, Alerts: 2000})
	cfg := collectorConfigAPI(t, "alerts", "graph")
	c, _ := New(cfg)
	ms := refresh(t, c, target)
	since := testNow.Add(-cfg.Lookback)
	var want float64
	oldest := map[string]float64{}
	for _, a := range tenant.Data().Alerts {
		created := a.AlertCreationTime.Time()
		if created.Before(since) && a.Status == "Resolved" {
			continue
		}
		want++
		sev := a.Severity
		if sev == "UnSpecified" {
			sev = "Unknown" // Graph's word for it
		}
		if o, ok := oldest[sev]; a.Status != "Resolved" && (!ok || float64(created.Unix()) < o) {
			oldest[sev] = float64(created.Unix())
		}
	}
	if got := sumSeries(t, ms, "defender_alerts"); got != want {
		t.Errorf("defender_alerts sums to %v, the dataset has %v alerts in scope", got, want)
	}
	got := minBy(t, ms, "defender_alerts_oldest_unresolved_timestamp_seconds", func(l map[string]string) string { return l["severity"] })
	if len(oldest) < 4 || len(got) != len(oldest) {
		t.Fatalf("oldest unresolved by severity: %v, want %v", got, oldest)
	}
	for sev, v := range oldest {
		if got[sev] != v {
			t.Errorf("oldest unresolved %s: %v, want %v", sev, got[sev], v)
		}
	}
}

// TestGraphCallCounts: a full listing takes ceil(alerts in scope / 1000)
// calls, one listing for both halves of the scope; an incremental refresh
// of a quiet tenant one call; incidents ceil(in scope / 50). Every call
// carries "Prefer: include-unknown-enum-members", as the fake sees.
func TestGraphCallCounts(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 40, Alerts: 25000, Incidents: 777})
	since := testNow.Add(-30 * 24 * time.Hour)
	var alerts, incidents int
	for _, a := range tenant.Data().Alerts {
		if !a.AlertCreationTime.Time().Before(since) || a.Status != "Resolved" {
			alerts++
		}
	}
	for _, x := range tenant.Data().Incidents {
		if !x.CreatedTime.Time().Before(since) || (x.Status != "Resolved" && x.Status != "Redirected") {
			incidents++
		}
	}
	if alerts%1000 == 0 || incidents%50 == 0 || alerts < 3000 || incidents < 150 {
		t.Fatalf("%d alerts and %d incidents in scope: pick a size that spans pages without filling the last", alerts, incidents)
	}
	ac, _ := New(collectorConfigAPI(t, "alerts", "graph"))
	ic, _ := New(collectorConfigAPI(t, "incidents", "graph"))
	tenant.ResetCalls()
	refresh(t, ac, target)
	if got, want := tenant.Calls(defendertest.GraphAlertsPath), (alerts+999)/1000; got != want {
		t.Errorf("full listing of %d alerts: %d calls, want %d", alerts, got, want)
	}
	tenant.ResetCalls()
	refresh(t, ac, target)
	if got := tenant.Calls(defendertest.GraphAlertsPath); got != 1 {
		t.Errorf("incremental refresh: %d calls, want 1", got)
	}
	refresh(t, ic, target)
	if got, want := tenant.Calls(defendertest.GraphIncidentsPath), (incidents+49)/50; got != want {
		t.Errorf("%d incidents: %d calls, want %d", incidents, got, want)
	}
	for _, p := range []string{defendertest.GraphAlertsPath, defendertest.GraphIncidentsPath} {
		if n := tenant.CallsWithoutPrefer(p); n != 0 {
			t.Errorf("%s: %d calls without Prefer: include-unknown-enum-members", p, n)
		}
	}
}

// TestGraphAlertsDocumentedExample runs the list example of Microsoft's
// alerts_v2 page (https://learn.microsoft.com/graph/api/security-list-alerts_v2,
// saved as testdata/graph_alerts_v2_example.json) through the collector.
// Its one alert is new, created in 2021: in scope as unresolved.
func TestGraphAlertsDocumentedExample(t *testing.T) {
	body, err := os.ReadFile("testdata/graph_alerts_v2_example.json")
	if err != nil {
		t.Fatal(err)
	}
	tenant, target := fakeTenant(t, defendertest.Size{})
	tenant.SetFault(defendertest.GraphAlertsPath, defendertest.Fault{Body: string(body)})
	c, _ := New(collectorConfigAPI(t, "alerts", "graph"))
	got := string(exposition(t, refresh(t, c, target)))
	for _, want := range []string{
		`defender_alerts{category="DefenseEvasion",detection_source="Antivirus",service_source="MicrosoftDefenderForEndpoint",severity="Low",status="New",tenant="contoso"} 1`,
		`defender_alerts_oldest_unresolved_timestamp_seconds{severity="Low",tenant="contoso"} 1.619525967e+09`, // 2021-04-27T12:19:27Z
	} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %s:\n%s", want, got)
		}
	}
	if strings.Contains(got, "defender_alerts_classified{") || strings.Count(got, "\ndefender_alerts{") != 1 {
		t.Errorf("one unresolved alert makes one defender_alerts series and nothing classified:\n%s", got)
	}
}

// TestGraphAlertsErrors: a malformed page, throttling and a missing
// permission fail the refresh with an error naming what happened, and no
// partial snapshot; the refresh after a failure lists everything again.
func TestGraphAlertsErrors(t *testing.T) {
	tenant, _ := fakeTenant(t, defendertest.Size{Machines: 20, Alerts: 3000})
	target, reqs := graphTarget(t, tenant, fixedNow)
	c, _ := New(collectorConfigAPI(t, "alerts", "graph"))

	tenant.SetFault(defendertest.GraphAlertsPath, defendertest.Fault{Malformed: true})
	ms, err := c.Refresh(context.Background(), target)
	if err == nil || ms != nil || !strings.HasPrefix(err.Error(), "listing alerts: /v1.0/security/alerts_v2 page 1: ") {
		t.Fatalf("malformed page: %v, %d metrics", err, len(ms))
	}

	// One 429 is waited out and retried; the listing goes on.
	tenant.SetFault(defendertest.GraphAlertsPath, defendertest.Fault{Status: 429, RetryAfter: "0", Times: 1})
	tenant.ResetCalls()
	reqs.take()
	full := refresh(t, c, target)
	if n := tenant.Calls(defendertest.GraphAlertsPath); n != 3 { // 429, then two pages
		t.Errorf("after one 429: %d calls, want 3", n)
	}
	if r := reqs.take(); len(r) != 3 || !strings.Contains(r[0], " or status ne 'resolved'") {
		t.Errorf("the refresh after a failure is a full listing: %q", r)
	}

	// Throttled for good: the incremental refresh fails, and drops the
	// state it may have half updated.
	tenant.SetFault(defendertest.GraphAlertsPath, defendertest.Fault{Status: 429, RetryAfter: "0"})
	ms, err = c.Refresh(context.Background(), target)
	if !errors.Is(err, defender.ErrThrottled) || ms != nil || !strings.HasPrefix(err.Error(), "listing alerts updated since ") {
		t.Fatalf("throttled: %v", err)
	}
	tenant.ClearFaults()
	reqs.take()
	again := refresh(t, c, target)
	if r := reqs.take(); len(r) != 2 || !strings.Contains(r[0], "createdDateTime ge ") {
		t.Errorf("after a failed incremental refresh: %q, want a full listing", r)
	}
	if !bytes.Equal(exposition(t, again), exposition(t, full)) {
		t.Error("the full listing after the failures differs from the one before")
	}

	// Without SecurityAlert.Read.All: 403.
	if _, err := c.Refresh(context.Background(), targetWithRoles(t, tenant, "SecurityIncident.Read.All")); !defender.IsStatus(err, 403) {
		t.Errorf("without SecurityAlert.Read.All: %v", err)
	}
}

// TestGraphAlertsFullLoadSchedule: after the first refresh, a refresh asks
// for the alerts updated since the previous one started, less the overlap;
// every full_load_interval it lists everything in scope again.
func TestGraphAlertsFullLoadSchedule(t *testing.T) {
	now := testNow
	tenant, err := defendertest.New(defendertest.Options{Seed: 7, Size: defendertest.Size{Machines: 20, Alerts: 500}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer tenant.Close()
	target, reqs := graphTarget(t, tenant, func() time.Time { return now })
	cfg := collectorConfigAPI(t, "alerts", "graph")
	cfg.FullLoadInterval = 20 * time.Minute
	c, _ := New(cfg)
	full := "/v1.0/security/alerts_v2 createdDateTime ge 2026-10-02T12:00:00Z or status ne 'resolved'"
	for i, want := range []string{
		full,
		"/v1.0/security/alerts_v2 lastUpdateDateTime ge 2026-11-01T11:55:00Z", // the first refresh's start, less 5m
		"/v1.0/security/alerts_v2 lastUpdateDateTime ge 2026-11-01T12:02:00Z",
		strings.Replace(full, "10-02T12:00", "10-02T12:21", 1), // 21m after the last full listing
		"/v1.0/security/alerts_v2 lastUpdateDateTime ge 2026-11-01T12:16:00Z",
		"/v1.0/security/alerts_v2 lastUpdateDateTime ge 2026-11-01T12:23:00Z",
	} {
		refresh(t, c, target)
		if got := reqs.take(); len(got) != 1 || got[0] != want {
			t.Errorf("refresh %d at %s: %q, want %q", i, now.Format(time.TimeOnly), got, want)
		}
		now = now.Add(7 * time.Minute)
	}
}
