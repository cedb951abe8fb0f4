package config

import (
	"fmt"
	"strings"
)

// The alerts collector's graph back end refreshes incrementally: after a full listing it asks only
// for the alerts updated since its previous refresh, and lists everything again every
// full_load_interval (docs/graph-alerts-incidents.md). The setting is checked here against what it
// is for.

// fullLoadSetting records where full_load_interval was written.
type fullLoadSetting struct {
	at pos
}

// checkFullLoadAPI refuses full_load_interval on a back end that has no incremental refresh: the
// MDE back end lists every alert in scope on each refresh, so the key would do nothing there.
func (d *decoder) checkFullLoadAPI(c Collector) {
	if c.Name != "alerts" || d.fullLoad == nil || c.API == "graph" {
		return
	}
	d.errAt(d.fullLoad.at, nil, "applies only to api: graph (the %s back end lists every alert in scope on each refresh): remove it, or set api: graph", c.API)
}

// checkFullLoad refuses a full_load_interval shorter than the alerts interval of a tenant: every
// refresh would be a full load anyway, which is surely not what was meant. An interval equal to it
// is allowed: it says plainly that every refresh lists everything.
func (d *decoder) checkFullLoad(cfg *Config) {
	if d.fullLoad == nil {
		return
	}
	full := cfg.Collectors["alerts"].FullLoadInterval
	var short []string
	longest := full
	for _, t := range cfg.Tenants {
		if iv := cfg.Interval(t, "alerts"); full < iv {
			short = append(short, fmt.Sprintf("%s (%s)", t.Name, formatDuration(iv)))
			longest = max(longest, iv)
		}
	}
	if len(short) == 0 {
		return
	}
	d.errAt(d.fullLoad.at, nil, "%s is shorter than the alerts interval of tenant %s: every refresh would be a full load; set it to at least %s, or remove it for the default (%s)",
		formatDuration(full), strings.Join(short, ", "), formatDuration(longest), formatDuration(DefaultCollector("alerts").FullLoadInterval))
}
