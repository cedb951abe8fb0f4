package collector

import (
	"context"
	"strings"
	"testing"

	"github.com/defender-exporter/defender_exporter/defender"
	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

func TestIndicatorsGolden(t *testing.T) {
	_, target := fakeTenant(t, defendertest.Size{Machines: 10, Indicators: 120})
	c, err := newIndicatorsCollector(collectorConfig(t, "indicators"))
	if err != nil {
		t.Fatal(err)
	}
	compareGolden(t, refresh(t, c, target), "indicators")
}

func TestIndicatorsMatchData(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 10, Indicators: 3000})
	c, _ := newIndicatorsCollector(collectorConfig(t, "indicators"))
	ms := refresh(t, c, target)
	count := map[[3]string]int{}
	for _, x := range tenant.Data().Indicators {
		count[[3]string{x.IndicatorType, x.Action, x.Severity}]++
	}
	for k, want := range count {
		got := valueOf(t, ms, "defender_indicators", `indicator_type="`+k[0]+`"`, `action="`+k[1]+`"`, `severity="`+k[2]+`"`)
		if int(got) != want {
			t.Errorf("%v: %v, want %d", k, got, want)
		}
	}
	if n := len(seriesOf(t, ms, "defender_indicators")); n != len(count) {
		t.Errorf("%d series, want %d", n, len(count))
	}
}

func TestIndicatorsCallCount(t *testing.T) {
	for _, n := range []int{12000, 10000} {
		tenant, target := fakeTenant(t, defendertest.Size{Machines: 10, Indicators: n})
		c, _ := newIndicatorsCollector(collectorConfig(t, "indicators"))
		tenant.ResetCalls()
		refresh(t, c, target)
		if got, want := tenant.Calls("/api/indicators"), skipPages(n, indicatorsMaxPage); got != want {
			t.Errorf("%d indicators: %d calls, want %d", n, got, want)
		}
	}
}

func TestIndicatorsFailure(t *testing.T) {
	tenant, _ := fakeTenant(t, defendertest.Size{Machines: 10, Indicators: 10})
	c, _ := newIndicatorsCollector(collectorConfig(t, "indicators"))
	ms, err := c.Refresh(context.Background(), targetWithRoles(t, tenant, "Machine.Read.All"))
	if !defender.IsStatus(err, 403) || !strings.HasPrefix(err.Error(), "listing indicators: ") || ms != nil {
		t.Fatalf("without a Ti permission: %v", err)
	}
	ms = refresh(t, c, targetWithRoles(t, tenant, "Ti.ReadWrite.All"))
	if got := sumSeries(t, ms, "defender_indicators"); got != 10 {
		t.Fatalf("with Ti.ReadWrite.All: %v indicators", got)
	}
}
