package collector

import (
	"context"
	"strings"
	"testing"

	"github.com/defender-exporter/defender_exporter/defender"
	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

func TestInvestigationsGolden(t *testing.T) {
	_, target := fakeTenant(t, defendertest.Size{Machines: 50, Investigations: 500})
	c, err := newInvestigationsCollector(collectorConfig(t, "investigations"))
	if err != nil {
		t.Fatal(err)
	}
	compareGolden(t, refresh(t, c, target), "investigations")
}

func TestInvestigationsMatchData(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 50, Investigations: 3000})
	cfg := collectorConfig(t, "investigations")
	c, _ := newInvestigationsCollector(cfg)
	ms := refresh(t, c, target)
	since := testNow.Add(-cfg.Lookback)
	count := map[string]int{}
	older := 0
	for _, x := range tenant.Data().Investigations {
		if x.StartTime.Time().Before(since) {
			older++
			continue
		}
		count[x.State]++
	}
	if older == 0 || len(count) < 10 {
		t.Fatalf("%d investigations before the lookback, %d states: the test proves little", older, len(count))
	}
	for state, want := range count {
		if got := valueOf(t, ms, "defender_investigations", `state="`+state+`"`); int(got) != want {
			t.Errorf("%s: %v, want %d", state, got, want)
		}
	}
	if n := len(seriesOf(t, ms, "defender_investigations")); n != len(count) {
		t.Errorf("%d series, want %d", n, len(count))
	}
}

func TestInvestigationsCallCount(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 50, Investigations: 30000})
	cfg := collectorConfig(t, "investigations")
	since := testNow.Add(-cfg.Lookback)
	recent := 0
	for _, x := range tenant.Data().Investigations {
		if !x.StartTime.Time().Before(since) {
			recent++
		}
	}
	c, _ := newInvestigationsCollector(cfg)
	tenant.ResetCalls()
	refresh(t, c, target)
	if got, want := tenant.Calls("/api/investigations"), skipPages(recent, investigationsMaxPage); got != want || recent <= investigationsMaxPage {
		t.Errorf("%d investigations in the lookback: %d calls, want %d", recent, got, want)
	}
}

func TestInvestigationsFailure(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 10, Investigations: 10})
	c, _ := newInvestigationsCollector(collectorConfig(t, "investigations"))
	ms, err := c.Refresh(context.Background(), targetWithRoles(t, tenant, "Machine.Read.All"))
	if !defender.IsStatus(err, 403) || !strings.HasPrefix(err.Error(), "listing investigations: ") || ms != nil {
		t.Fatalf("without Alert.Read.All: %v", err)
	}
	tenant.SetFault("/api/investigations", defendertest.Fault{Body: `{"value":[{"state":["not","a","string"]}]}`})
	if ms, err := c.Refresh(context.Background(), target); err == nil || ms != nil {
		t.Fatalf("a wrongly typed field: %v, %d metrics", err, len(ms))
	}
}
