package collector

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

// TestGraphAlertsIncrementalMatchesFull drives a tenant through what
// happens to alerts between refreshes (new alerts, work on open ones,
// reclassification, old alerts resolved or reopened, severity changes,
// alerts leaving the lookback window, a failed refresh) and checks after
// each refresh that the incremental collector's metrics are those of a
// full listing at the same moment.
//
// Microsoft's clock runs 2 minutes behind the exporter's here, and every
// change happens right after the refresh before it: its lastUpdateDateTime
// is then earlier than the start of that refresh, and only the overlap
// brings it into the next incremental listing.
func TestGraphAlertsIncrementalMatchesFull(t *testing.T) {
	clock := testNow
	const skew = 2 * time.Minute
	tenant, err := defendertest.New(defendertest.Options{Seed: 11, Size: defendertest.Size{Machines: 40, Alerts: 3000},
		Now: func() time.Time { return clock.Add(-skew) }})
	if err != nil {
		t.Fatal(err)
	}
	defer tenant.Close()
	target, reqs := graphTarget(t, tenant, func() time.Time { return clock })
	cfg := collectorConfigAPI(t, "alerts", "graph")
	cfg.FullLoadInterval = 365 * 24 * time.Hour // incremental throughout, unless a failure forces a full listing
	inc, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	since := func() time.Time { return clock.Add(-cfg.Lookback) }

	var last float64
	check := func(step string, incremental bool) {
		t.Helper()
		got := refresh(t, inc, target)
		r := reqs.take()
		if was := len(r) == 1 && strings.Contains(r[0], "lastUpdateDateTime ge "); was != incremental {
			t.Errorf("%s: requests %q; want an incremental refresh: %t", step, r, incremental)
		}
		fresh, _ := New(cfg)
		want := refresh(t, fresh, target)
		reqs.take()
		if g, w := exposition(t, got), exposition(t, want); !bytes.Equal(g, w) {
			t.Fatalf("%s: the incremental refresh differs from a full listing:\n%s\nwant\n%s", step, g, w)
		}
		last = sumSeries(t, got, "defender_alerts")
	}
	// change applies fn to at most limit alerts that pass match, right
	// after the previous refresh, and then lets 5 minutes pass.
	change := func(what string, limit int, match func(a *defendertest.Alert) bool, fn func(a *defendertest.Alert)) {
		t.Helper()
		n := tenant.UpdateAlerts(func(a *defendertest.Alert) bool {
			if limit == 0 || !match(a) {
				return false
			}
			limit--
			fn(a)
			return true
		})
		if n == 0 {
			t.Fatalf("%s: no alert to change; the step proves nothing", what)
		}
		clock = clock.Add(5 * time.Minute)
	}
	old := func(a *defendertest.Alert) bool { return a.AlertCreationTime.Time().Before(since()) }

	check("first refresh", false)

	tenant.InjectAlerts(4, "High")
	for range 3 {
		tenant.DriftStep() // new alerts, New -> InProgress -> Resolved
	}
	clock = clock.Add(5 * time.Minute)
	check("new alerts and drift", true)

	change("reclassify", 6, func(a *defendertest.Alert) bool { return a.Classification == "TruePositive" && !old(a) },
		func(a *defendertest.Alert) { a.Classification, a.Determination = "FalsePositive", "Clean" })
	check("reclassified", true)

	before := last
	change("resolve old open alerts", 10, func(a *defendertest.Alert) bool { return old(a) && a.Status != "Resolved" },
		func(a *defendertest.Alert) {
			a.Status, a.Classification, a.Determination = "Resolved", "TruePositive", "Malware"
			a.ResolvedTime = defendertest.TimeOf(clock.Add(-skew))
		})
	check("old alerts resolved", true)
	if last != before-10 {
		t.Errorf("resolving 10 old alerts took defender_alerts from %v to %v", before, last)
	}

	change("reopen old resolved alerts", 3, func(a *defendertest.Alert) bool { return old(a) && a.Status == "Resolved" },
		func(a *defendertest.Alert) { a.Status, a.ResolvedTime = "InProgress", 0 })
	check("old alerts reopened", true)

	change("raise severity", 5, func(a *defendertest.Alert) bool { return a.Status == "New" && a.Severity != "High" },
		func(a *defendertest.Alert) { a.Severity = "High" })
	check("severity raised", true)

	before = last
	clock = clock.Add(3 * 24 * time.Hour)
	check("three days later, resolved alerts left the window", true)
	if last >= before {
		t.Errorf("after three days defender_alerts went from %v to %v; resolved alerts should have left the window", before, last)
	}

	// A failed refresh drops the state: the next one lists everything.
	tenant.SetFault(defendertest.GraphAlertsPath, defendertest.Fault{Status: 500})
	if _, err := inc.Refresh(context.Background(), target); err == nil {
		t.Fatal("refresh succeeded against a failing API")
	}
	tenant.ClearFaults()
	reqs.take()
	change("resolve new alerts", 4, func(a *defendertest.Alert) bool { return a.Status == "New" },
		func(a *defendertest.Alert) { a.Status = "Resolved" })
	check("after a failed refresh", false)
	tenant.DriftStep()
	clock = clock.Add(5 * time.Minute)
	check("incremental again", true)
}
