package collector

import (
	"context"
	"testing"
	"time"

	"github.com/defender-exporter/defender_exporter/defender"
	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

func TestAlertsGolden(t *testing.T) {
	_, target := fakeTenant(t, defendertest.Size{Machines: 40, Alerts: 300})
	c, err := newAlertsCollector(collectorConfigAPI(t, "alerts", "mde"))
	if err != nil {
		t.Fatal(err)
	}
	compareGolden(t, refresh(t, c, target), "alerts")
}

// TestAlertsCountsMatchData recomputes the collector's totals from the
// fake's dataset, independently of the golden file.
func TestAlertsCountsMatchData(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 40, Alerts: 2000})
	cfg := collectorConfigAPI(t, "alerts", "mde")
	c, _ := newAlertsCollector(cfg)
	ms := refresh(t, c, target)

	since := testNow.Add(-cfg.Lookback)
	var want, unresolvedHigh int
	var oldestHigh time.Time
	for _, a := range tenant.Data().Alerts {
		created := a.AlertCreationTime.Time()
		unresolved := a.Status != "Resolved"
		if !created.Before(since) || unresolved {
			want++
		}
		if unresolved && a.Severity == "High" {
			unresolvedHigh++
			if oldestHigh.IsZero() || created.Before(oldestHigh) {
				oldestHigh = created
			}
		}
	}
	var got float64
	for _, line := range seriesOf(t, ms, "defender_alerts") {
		got += lastFloat(t, line)
	}
	if int(got) != want {
		t.Errorf("defender_alerts sums to %v, the dataset has %d alerts in scope", got, want)
	}
	if unresolvedHigh == 0 {
		t.Fatal("dataset has no unresolved High alert; the test proves nothing")
	}
	lines := seriesOf(t, ms, "defender_alerts_oldest_unresolved_timestamp_seconds")
	found := false
	for _, l := range lines {
		if containsAll(l, `severity="High"`) {
			found = true
			if v := lastFloat(t, l); int64(v) != oldestHigh.Unix() {
				t.Errorf("oldest unresolved High = %v, want %d", v, oldestHigh.Unix())
			}
		}
	}
	if !found {
		t.Errorf("no oldest-unresolved series for High in %v", lines)
	}
}

// TestAlertsCallCount: 25,000 alerts in the lookback at 10,000 a page cost
// exactly three calls, plus one for the (short) listing of older
// unresolved alerts.
func TestAlertsCallCount(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 40, Alerts: 25000})
	cfg := collectorConfigAPI(t, "alerts", "mde")
	since := testNow.Add(-cfg.Lookback)
	var recent, olderUnresolved int
	for _, a := range tenant.Data().Alerts {
		switch {
		case !a.AlertCreationTime.Time().Before(since):
			recent++
		case a.Status != "Resolved":
			olderUnresolved++
		}
	}
	pages := func(n int) int {
		if n == 0 {
			return 1
		}
		return n/alertsMaxPage + 1 // a full last page needs one more call to see the end
	}
	c, _ := newAlertsCollector(cfg)
	tenant.ResetCalls()
	refresh(t, c, target)
	if got, want := tenant.Calls("/api/alerts"), pages(recent)+pages(olderUnresolved); got != want {
		t.Errorf("alerts refresh made %d calls for %d recent and %d older unresolved alerts, want %d", got, recent, olderUnresolved, want)
	}
}

func TestAlertsFailure(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 5, Alerts: 10})
	tenant.SetFault("/api/alerts", defendertest.Fault{Status: 403})
	c, _ := newAlertsCollector(collectorConfigAPI(t, "alerts", "mde"))
	_, err := c.Refresh(context.Background(), target)
	if !defender.IsStatus(err, 403) {
		t.Fatalf("want a 403 APIError, got %v", err)
	}
}
