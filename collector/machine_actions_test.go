package collector

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/defender-exporter/defender_exporter/defender"
	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

func TestMachineActionsGolden(t *testing.T) {
	_, target := fakeTenant(t, defendertest.Size{Machines: 100, MachineActions: 800})
	c, err := newMachineActionsCollector(collectorConfig(t, "machine_actions"))
	if err != nil {
		t.Fatal(err)
	}
	compareGolden(t, refresh(t, c, target), "machine_actions")
}

// TestMachineActionsMatchData recomputes the counts and the isolated
// machines from the fake's actions: per machine, the latest (by update
// time in either spelling, else creation time) succeeded Isolate or
// Unisolate within the lookback.
func TestMachineActionsMatchData(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 300, MachineActions: 4000})
	cfg := collectorConfig(t, "machine_actions")
	c, _ := newMachineActionsCollector(cfg)
	ms := refresh(t, c, target)
	since := testNow.Add(-cfg.Lookback)
	count := map[[2]string]int{}
	type last struct {
		at  time.Time
		typ string
	}
	latest := map[string]last{}
	legacy := 0
	for _, a := range tenant.Data().MachineActions {
		created := a.CreationDateTimeUTC.Time()
		if created.Before(since) {
			continue
		}
		count[[2]string{a.Type, a.Status}]++
		if a.Status != "Succeeded" || (a.Type != "Isolate" && a.Type != "Unisolate") {
			continue
		}
		if a.LegacyUpdateKey {
			legacy++
		}
		at := a.LastUpdateDateTimeUTC.Time()
		if at.IsZero() {
			at = created
		}
		if l, ok := latest[a.MachineID]; !ok || !at.Before(l.at) {
			latest[a.MachineID] = last{at, a.Type}
		}
	}
	isolated := 0
	for _, l := range latest {
		if l.typ == "Isolate" {
			isolated++
		}
	}
	if isolated == 0 || isolated == len(latest) || legacy == 0 {
		t.Fatalf("%d of %d machines isolated, %d isolation actions with the legacy key: the test proves little", isolated, len(latest), legacy)
	}
	if got := valueOf(t, ms, "defender_machines_isolated"); int(got) != isolated {
		t.Errorf("defender_machines_isolated = %v, want %d", got, isolated)
	}
	for k, want := range count {
		if got := valueOf(t, ms, "defender_machine_actions", `type="`+k[0]+`"`, `status="`+k[1]+`"`); int(got) != want {
			t.Errorf("%v: %v, want %d", k, got, want)
		}
	}
	if n := len(seriesOf(t, ms, "defender_machine_actions")); n != len(count) {
		t.Errorf("%d series, want %d", n, len(count))
	}
}

func TestMachineActionsNoneIsolated(t *testing.T) {
	_, target := fakeTenant(t, defendertest.Size{Machines: 10})
	c, _ := newMachineActionsCollector(collectorConfig(t, "machine_actions"))
	ms := refresh(t, c, target)
	if got := valueOf(t, ms, "defender_machines_isolated"); got != 0 {
		t.Errorf("defender_machines_isolated = %v with no actions", got)
	}
	if n := len(seriesOf(t, ms, "defender_machine_actions")); n != 0 {
		t.Errorf("%d action series with no actions", n)
	}
}

// TestMachineActionsCallCount: only the actions in the lookback are
// listed, 10,000 a page.
func TestMachineActionsCallCount(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 200, MachineActions: 40000})
	cfg := collectorConfig(t, "machine_actions")
	since := testNow.Add(-cfg.Lookback)
	recent := 0
	for _, a := range tenant.Data().MachineActions {
		if !a.CreationDateTimeUTC.Time().Before(since) {
			recent++
		}
	}
	c, _ := newMachineActionsCollector(cfg)
	tenant.ResetCalls()
	refresh(t, c, target)
	if got, want := tenant.Calls("/api/machineactions"), skipPages(recent, machineActionsMaxPage); got != want || recent <= machineActionsMaxPage {
		t.Errorf("%d actions in the lookback: %d calls, want %d", recent, got, want)
	}
}

func TestMachineActionsFailure(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 20, MachineActions: 50})
	c, _ := newMachineActionsCollector(collectorConfig(t, "machine_actions"))
	ms, err := c.Refresh(context.Background(), targetWithRoles(t, tenant, "Alert.Read.All"))
	if !defender.IsStatus(err, 403) || !strings.HasPrefix(err.Error(), "listing machine actions: ") || ms != nil {
		t.Fatalf("without Machine.Read.All: %v", err)
	}
	tenant.SetFault("/api/machineactions", defendertest.Fault{Status: 503})
	if ms, err := c.Refresh(context.Background(), target); !defender.IsStatus(err, 503) || ms != nil {
		t.Fatalf("persistent 503: %v, %d metrics", err, len(ms))
	}
	if _, err := newMachineActionsCollector(collectorConfig(t, "indicators")); err == nil {
		t.Fatal("a zero lookback was accepted")
	}
}
