package collector

import (
	"slices"
	"testing"

	"github.com/defender-exporter/defender_exporter/config"
	"github.com/defender-exporter/defender_exporter/defender"
)

// TestSpecsComplete: every collector the configuration knows was
// registered here with a factory that builds each of its back ends, and an
// estimate for each back end in families the planner reports. (register
// refuses a spec without a factory or an estimate at start-up; this checks
// what it cannot: that the pieces work together. TestBuiltinQueryCounts and
// TestEstimatedCallsMatchSmallTenant check the figures.)
func TestSpecsComplete(t *testing.T) {
	names := slices.Clone(config.CollectorNames)
	slices.Sort(names)
	if !slices.Equal(names, Names()) {
		t.Errorf("the configuration knows %v, this package built %v", config.CollectorNames, Names())
	}
	for _, name := range config.CollectorNames {
		def := config.DefaultCollector(name)
		apis := Backends(name)
		if len(apis) > 0 && def.API != apis[0] {
			t.Errorf("%s: default api %q, want the first of %v", name, def.API, apis)
		}
		if len(apis) == 0 {
			if def.API != "" {
				t.Errorf("%s: one back end, but the default api is %q", name, def.API)
			}
			apis = []string{""}
		}
		if len(estimatedCalls[name]) != len(apis) {
			t.Errorf("%s: estimates for %d back ends, has %v", name, len(estimatedCalls[name]), apis)
		}
		for _, api := range apis {
			cfg := def
			cfg.API = api
			if _, err := New(cfg); err != nil {
				t.Errorf("%s (api %q): %v", name, api, err)
			}
			est, ok := estimatedCalls[name][api]
			if !ok {
				t.Errorf("%s (api %q): no estimate", name, api)
			}
			for f := range est {
				if !slices.Contains(planFamilies, f) {
					t.Errorf("%s (api %q): estimate in family %q, which the planner does not report", name, api, f)
				}
			}
		}
	}
	if est := estimatedCalls[huntingCollector][""]; est[defender.FamilyHunting] != 1 {
		t.Errorf("a hunting query is estimated at %v, want one call", est)
	}
}
