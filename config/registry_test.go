package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCollectorsRegistered: the collector package's registrations ran
// (registrations_test.go imports it), in the order of CollectorSpec.Order.
func TestCollectorsRegistered(t *testing.T) {
	if len(CollectorNames) == 0 {
		t.Fatal("no collectors registered: registrations_test.go must import the collector package")
	}
	if len(CollectorNames) != len(registry) {
		t.Errorf("CollectorNames %v, registry has %d", CollectorNames, len(registry))
	}
	if !slices.IsSortedFunc(CollectorNames, func(a, b string) int { return registry[a].Order - registry[b].Order }) {
		t.Errorf("CollectorNames %v are not in Order", CollectorNames)
	}
}

// Without the collector package the registry is empty; Parse says so
// rather than accept a file whose collectors: section it cannot check.
func TestParseWithoutRegisteredCollectors(t *testing.T) {
	saved, savedNames := registry, CollectorNames
	registry, CollectorNames = map[string]CollectorSpec{}, nil
	defer func() { registry, CollectorNames = saved, savedNames }()
	_, err := Parse([]byte("tenants: [{name: a, tenant_id: 11111111-1111-1111-1111-111111111111, client_id: 22222222-2222-2222-2222-222222222222, client_secret: x}]\n"), "f.yml", Options{})
	if err == nil || !strings.Contains(err.Error(), "f.yml: no collectors are registered: the program must import github.com/defender-exporter/defender_exporter/collector") {
		t.Errorf("got %v", err)
	}
}

func TestCollectorSpecValidate(t *testing.T) {
	good := CollectorSpec{
		Name: "example", Order: 1000,
		Default:        Collector{Interval: time.Hour, Lookback: time.Hour},
		Keys:           []string{"api", "lookback"},
		APIs:           []string{"mde", "graph"},
		HuntingQueries: map[string]int{"graph": 2},
	}
	if err := good.validate(); err != nil {
		t.Fatalf("a good spec: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(*CollectorSpec)
		want string
	}{
		{"no name", func(s *CollectorSpec) { s.Name = "" }, "no name"},
		{"hunting", func(s *CollectorSpec) { s.Name = "hunting" }, "hunting queries' collector label"},
		{"no order", func(s *CollectorSpec) { s.Order = 0 }, "Order must be positive"},
		{"no interval", func(s *CollectorSpec) { s.Default.Interval = 0 }, "Default.Interval must be positive"},
		{"one api", func(s *CollectorSpec) { s.APIs = []string{"mde"} }, "APIs lists one back end (mde)"},
		{"api set", func(s *CollectorSpec) { s.Default.API = "mde" }, "leave them empty"},
		{"unknown key", func(s *CollectorSpec) { s.Keys = append(s.Keys, "lookbak") }, `unknown option key "lookbak"`},
		{"api key without APIs", func(s *CollectorSpec) { s.APIs, s.HuntingQueries = nil, nil }, "key api and APIs go together"},
		{"APIs without api key", func(s *CollectorSpec) { s.Keys = []string{"lookback"} }, "key api and APIs go together"},
		{"lookback without default", func(s *CollectorSpec) { s.Default.Lookback = 0 }, "key lookback and Default.Lookback"},
		{"stale_after default without key", func(s *CollectorSpec) { s.Default.StaleAfter = []time.Duration{time.Hour} }, "key stale_after and Default.StaleAfter"},
		{"full_load_interval without default", func(s *CollectorSpec) { s.Keys = append(s.Keys, "full_load_interval") }, "key full_load_interval and Default.FullLoadInterval"},
		{"queries on an unknown back end", func(s *CollectorSpec) { s.HuntingQueries = map[string]int{"xdr": 1} }, `HuntingQueries["xdr"]`},
		{"negative queries", func(s *CollectorSpec) { s.HuntingQueries = map[string]int{"graph": -1} }, `HuntingQueries["graph"] = -1`},
	} {
		s := good
		s.Keys = slices.Clone(good.Keys)
		c.edit(&s)
		if err := s.validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}

// A second registration of a name or an Order panics before it changes
// the registry.
func TestRegisterCollectorDuplicates(t *testing.T) {
	before := slices.Clone(CollectorNames)
	alerts := registry["alerts"]
	for _, c := range []struct {
		name string
		spec CollectorSpec
		want string
	}{
		{"name", alerts, "registered twice: alerts"},
		{"order", CollectorSpec{Name: "alerts2", Order: alerts.Order, Default: Collector{Interval: time.Hour}}, "the same Order"},
		{"invalid", CollectorSpec{Name: "alerts2", Order: 1000}, "Default.Interval must be positive"},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), c.want) {
					t.Errorf("%s: recovered %v, want a panic with %q", c.name, r, c.want)
				}
			}()
			RegisterCollector(c.spec)
		}()
	}
	if !slices.Equal(CollectorNames, before) || len(registry) != len(before) {
		t.Errorf("a refused registration changed the registry: %v", CollectorNames)
	}
}
