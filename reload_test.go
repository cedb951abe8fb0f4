package main

import (
	"errors"
	"testing"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/defender-exporter/defender_exporter/config"
)

// applierFunc is an applier for tests.
type applierFunc func(*config.Config) error

func (f applierFunc) Apply(cfg *config.Config) error { return f(cfg) }

// TestReloadGaugeFollowsApply: defender_exporter_config_last_reload_successful
// and its timestamp say how the whole reload went, applying included: a
// configuration that loads but cannot be applied (the old jobs keep
// running) is a failed reload, and the configuration in force stays.
func TestReloadGaugeFollowsApply(t *testing.T) {
	reg := prometheus.NewRegistry()
	store := config.NewStore(reg)
	var applyErr error
	var applied []*config.Config
	reload := newReloader(reloadSetup{
		store: store, file: offlineConfig(t, t.TempDir()), overrides: map[string]bool{},
		sched: applierFunc(func(cfg *config.Config) error {
			if applyErr != nil {
				return applyErr
			}
			applied = append(applied, cfg)
			return nil
		}),
		logger: log.NewNopLogger(),
	})
	gauges := func() (ok, ts float64) {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			switch mf.GetName() {
			case "defender_exporter_config_last_reload_successful":
				ok = mf.GetMetric()[0].GetGauge().GetValue()
			case "defender_exporter_config_last_reload_success_timestamp_seconds":
				ts = mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		return ok, ts
	}

	if err := reload(); err != nil {
		t.Fatal(err)
	}
	ok, ts := gauges()
	if ok != 1 || ts == 0 || len(applied) != 1 || store.Current() == nil {
		t.Fatalf("after a good reload: successful=%v timestamp=%v applied=%d", ok, ts, len(applied))
	}
	inForce := store.Current()

	applyErr = errors.New("tenant contoso: collectors.alerts.api: this build has no \"graph\" back end")
	if err := reload(); !errors.Is(err, applyErr) {
		t.Fatalf("reload with a failing apply: %v", err)
	}
	if ok, ts2 := gauges(); ok != 0 || ts2 != ts {
		t.Errorf("after a reload whose apply failed: successful=%v timestamp=%v (was %v)", ok, ts2, ts)
	}
	if store.Current() != inForce {
		t.Error("the configuration that could not be applied became the current one")
	}

	applyErr = nil
	if err := reload(); err != nil {
		t.Fatal(err)
	}
	if ok, _ := gauges(); ok != 1 {
		t.Errorf("after a good reload again: successful=%v", ok)
	}
}
