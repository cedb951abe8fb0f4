package config

import (
	"testing"
	"time"
)

func TestIntervalPrecedence(t *testing.T) {
	data := []byte(`defaults:
  refresh_interval: 10m
tenants:
  - name: inherits
    tenant_id: 11111111-1111-1111-1111-111111111111
    client_id: 22222222-2222-2222-2222-222222222222
    client_secret: s
  - name: own
    tenant_id: 11111111-1111-1111-1111-111111111111
    client_id: 22222222-2222-2222-2222-222222222222
    client_secret: s
    refresh_interval: 30m
collectors:
  alerts: {interval: 2m}
`)
	cfg, err := Parse(data, "i.yml", testEnv())
	if err != nil {
		t.Fatal(err)
	}
	plain, err := Parse([]byte(`tenants: [{name: p, tenant_id: 11111111-1111-1111-1111-111111111111,
  client_id: 22222222-2222-2222-2222-222222222222, client_secret: s}]`), "p.yml", testEnv())
	if err != nil {
		t.Fatal(err)
	}
	inherits, own, p := cfg.Tenants[0], cfg.Tenants[1], plain.Tenants[0]
	for _, tc := range []struct {
		cfg       *Config
		tenant    Tenant
		collector string
		want      time.Duration
	}{
		{cfg, inherits, "alerts", 2 * time.Minute},     // collector interval wins
		{cfg, own, "alerts", 2 * time.Minute},          // ... over the tenant's too
		{cfg, inherits, "scores", 10 * time.Minute},    // defaults refresh_interval, set explicitly
		{cfg, own, "scores", 30 * time.Minute},         // tenant refresh_interval over defaults
		{cfg, own, "machines", 30 * time.Minute},       //
		{plain, p, "scores", time.Hour},                // nothing set: the collector's own default
		{plain, p, "machines", 15 * time.Minute},       //
		{plain, p, "alerts", 5 * time.Minute},          //
		{plain, p, "investigations", 15 * time.Minute}, // disabled collectors have intervals too
		{plain, p, "no_such_collector", 5 * time.Minute},
		{cfg, own, "no_such_collector", 30 * time.Minute},
	} {
		if got := tc.cfg.Interval(tc.tenant, tc.collector); got != tc.want {
			t.Errorf("Interval(%s, %s) = %v, want %v", tc.tenant.Name, tc.collector, got, tc.want)
		}
	}
	if p.RefreshInterval != 5*time.Minute || p.RequestTimeout != 60*time.Second || p.refreshIntervalSet {
		t.Errorf("built-in tenant defaults: %#v", p)
	}
	if c := plain.Collectors["alerts"]; c.Interval != 0 {
		t.Errorf("an interval not in the file must be 0 in Collectors, got %v", c.Interval)
	}
}

func TestDefaultCollector(t *testing.T) {
	for _, name := range CollectorNames {
		c := DefaultCollector(name)
		if c.Name != name || c.Interval <= 0 {
			t.Errorf("%s: %+v", name, c)
		}
	}
	m := DefaultCollector("machines")
	m.StaleAfter[0] = 0
	if DefaultCollector("machines").StaleAfter[0] != 24*time.Hour {
		t.Error("DefaultCollector must return a copy of stale_after")
	}
	if c := DefaultCollector("nope"); c.Interval != 0 || c.Enabled {
		t.Errorf("unknown collector: %+v", c)
	}
	enabled := map[string]bool{"indicators": false, "investigations": false, "identity": false}
	for _, name := range CollectorNames {
		want, ok := enabled[name]
		if !ok {
			want = true
		}
		if DefaultCollector(name).Enabled != want {
			t.Errorf("%s enabled by default = %v", name, !want)
		}
	}
}
