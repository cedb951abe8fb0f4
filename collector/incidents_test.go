package collector

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/defender-exporter/defender_exporter/defender"
	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

func TestIncidentsGolden(t *testing.T) {
	_, target := fakeTenant(t, defendertest.Size{Machines: 50, Incidents: 300})
	c, err := newIncidentsCollector(collectorConfigAPI(t, "incidents", "xdr"))
	if err != nil {
		t.Fatal(err)
	}
	compareGolden(t, refresh(t, c, target), "incidents")
}

// TestIncidentsMatchData recomputes the totals from the fake's incidents.
// The incidents embed alerts with their own status and severity; a decoder
// that did not skip them would miscount.
func TestIncidentsMatchData(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 40, Incidents: 1500})
	cfg := collectorConfigAPI(t, "incidents", "xdr")
	c, _ := newIncidentsCollector(cfg)
	ms := refresh(t, c, target)

	since := testNow.Add(-cfg.Lookback)
	count := map[[4]string]int{}
	oldest := map[string]time.Time{}
	for _, x := range tenant.Data().Incidents {
		created := x.CreatedTime.Time()
		unresolved := x.Status != "Resolved" && x.Status != "Redirected"
		if created.Before(since) && !unresolved {
			continue
		}
		count[[4]string{x.Severity, x.Status, x.Classification, x.Determination}]++
		if o, ok := oldest[x.Severity]; unresolved && (!ok || created.Before(o)) {
			oldest[x.Severity] = created
		}
	}
	for k, want := range count {
		got := valueOf(t, ms, "defender_incidents", `severity="`+k[0]+`"`, `status="`+k[1]+`"`,
			`classification="`+k[2]+`"`, `determination="`+k[3]+`"`)
		if int(got) != want {
			t.Errorf("%v: %v, want %d", k, got, want)
		}
	}
	if n := len(seriesOf(t, ms, "defender_incidents")); n != len(count) {
		t.Errorf("%d series, want %d", n, len(count))
	}
	if _, ok := count[[4]string{"High", "Active", "Unknown", "NotAvailable"}]; !ok || len(oldest) < 3 {
		t.Fatalf("the dataset lacks old-style open incidents or unresolved severities (%v); the test proves little", oldest)
	}
	for sev, want := range oldest {
		if got := valueOf(t, ms, "defender_incidents_oldest_unresolved_timestamp_seconds", `severity="`+sev+`"`); int64(got) != want.Unix() {
			t.Errorf("oldest unresolved %s: %v, want %d", sev, got, want.Unix())
		}
	}
	if n := len(seriesOf(t, ms, "defender_incidents_oldest_unresolved_timestamp_seconds")); n != len(oldest) {
		t.Errorf("%d oldest-unresolved series, want %d", n, len(oldest))
	}
}

// TestIncidentsCallCount: 100 incidents a page, following XDR's nextLinks,
// for each of the two listings.
func TestIncidentsCallCount(t *testing.T) {
	for _, n := range []int{1100, 40} {
		tenant, target := fakeTenant(t, defendertest.Size{Machines: 40, Incidents: n})
		cfg := collectorConfigAPI(t, "incidents", "xdr")
		since := testNow.Add(-cfg.Lookback)
		var recent, olderUnresolved int
		for _, x := range tenant.Data().Incidents {
			switch {
			case !x.CreatedTime.Time().Before(since):
				recent++
			case x.Status != "Resolved" && x.Status != "Redirected":
				olderUnresolved++
			}
		}
		c, _ := newIncidentsCollector(cfg)
		tenant.ResetCalls()
		refresh(t, c, target)
		want := nextLinkPages(recent, incidentsMaxPage) + nextLinkPages(olderUnresolved, incidentsMaxPage)
		if got := tenant.Calls("/api/incidents"); got != want {
			t.Errorf("%d recent and %d older unresolved incidents: %d calls, want %d", recent, olderUnresolved, got, want)
		}
	}
}

func TestIncidentsFailure(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 10, Incidents: 250})
	c, _ := newIncidentsCollector(collectorConfigAPI(t, "incidents", "xdr"))
	ms, err := c.Refresh(context.Background(), targetWithRoles(t, tenant, "AdvancedHunting.Read.All"))
	if !defender.IsStatus(err, 403) || !strings.HasPrefix(err.Error(), "listing incidents: ") || ms != nil {
		t.Fatalf("without Incident.Read.All: %v", err)
	}
	// The first page succeeds, its nextLink loops: no partial snapshot.
	tenant.SetFault("/api/incidents", defendertest.Fault{NextLinkLoop: true})
	if ms, err := c.Refresh(context.Background(), target); err == nil || ms != nil {
		t.Fatalf("nextLink loop: %v, %d metrics", err, len(ms))
	}
}
