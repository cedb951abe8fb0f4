package collector

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

func TestMachinesGolden(t *testing.T) {
	_, target := fakeTenant(t, defendertest.Size{Machines: 200, Alerts: 10})
	c, err := newMachinesCollector(collectorConfig(t, "machines"))
	if err != nil {
		t.Fatal(err)
	}
	compareGolden(t, refresh(t, c, target), "machines")
}

func TestMachinesPerMachineGolden(t *testing.T) {
	_, target := fakeTenant(t, defendertest.Size{Machines: 12, Alerts: 1})
	cfg := collectorConfig(t, "machines")
	cfg.PerMachine = true
	c, err := newMachinesCollector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	compareGolden(t, refresh(t, c, target), "machines_per_machine")
}

func TestMachinesCountsMatchData(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 1500, Alerts: 1})
	cfg := collectorConfig(t, "machines")
	c, _ := newMachinesCollector(cfg)
	ms := refresh(t, c, target)
	var total float64
	for _, l := range seriesOf(t, ms, "defender_machines") {
		total += lastFloat(t, l)
	}
	if int(total) != len(tenant.Data().Machines) {
		t.Errorf("defender_machines sums to %v, want %d", total, len(tenant.Data().Machines))
	}
	// Onboarding status arrives in two casings; the label has one.
	for _, l := range seriesOf(t, ms, "defender_machines") {
		if strings.Contains(l, `onboarding_status="onboarded"`) {
			t.Errorf("lower-case onboarding status leaked into a label: %s", l)
		}
	}
	for i, d := range cfg.StaleAfter {
		want := 0
		for _, m := range tenant.Data().Machines {
			if !m.LastSeen.IsZero() && testNow.Sub(m.LastSeen.Time()) > d {
				want++
			}
		}
		lines := seriesOf(t, ms, "defender_machines_stale")
		if got := lastFloat(t, lines[i]); int(got) != want {
			t.Errorf("stale after %s: %v, want %d (%s)", d, got, want, lines[i])
		}
	}
}

func TestMachinesCallCountAndEmpty(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 23456, Alerts: 1})
	c, _ := newMachinesCollector(collectorConfig(t, "machines"))
	tenant.ResetCalls()
	refresh(t, c, target)
	if got := tenant.Calls("/api/machines"); got != 3 {
		t.Errorf("23,456 machines at 10,000 a page: %d calls, want 3", got)
	}

	// No machines: Defender answers 404, which is an empty fleet, not a failure.
	empty, target := fakeTenant(t, defendertest.Size{Machines: 0, Alerts: 0})
	ms, err := c.Refresh(context.Background(), target)
	if err != nil {
		t.Fatalf("empty tenant: %v", err)
	}
	if empty.Calls("/api/machines") != 1 {
		t.Errorf("empty tenant: %d calls", empty.Calls("/api/machines"))
	}
	if n := len(seriesOf(t, metricSet(ms), "defender_machines")); n != 0 {
		t.Errorf("empty tenant: %d machine series", n)
	}
}

func lastFloat(t testing.TB, line string) float64 {
	t.Helper()
	f := strings.Fields(line)
	v, err := strconv.ParseFloat(f[len(f)-1], 64)
	if err != nil {
		t.Fatalf("no value in %q", line)
	}
	return v
}

func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}
