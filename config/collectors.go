package config

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Collector is the file's settings for one collector, with its built-in defaults filled in.
type Collector struct {
	Name    string
	Enabled bool
	// Interval is 0 unless the file sets it: whether it was set decides if a tenant's
	// refresh_interval may override the collector's default. Use Config.Interval for the interval
	// to run at.
	Interval   time.Duration
	Lookback   time.Duration   // alerts, machine_actions, incidents, investigations
	StaleAfter []time.Duration // machines
	PerMachine bool            // machines
	PerControl bool            // secure_score
	// API is the back end the collector reads: "graph", "mde" or (incidents) "xdr". Every
	// collector with more than one back end has it set, to its default when the file is silent;
	// it is "" for collectors with a single back end.
	API string
	// FullLoadInterval (alerts on the graph back end) is how often a refresh lists every alert
	// in scope instead of only those updated since the previous refresh.
	FullLoadInterval time.Duration
}

// collectorAPIs lists each multi-back-end collector's choices, the default first. The MDE and XDR
// APIs stop on 2027-02-01 (Microsoft 365 Message Center MC1220762).
var collectorAPIs = map[string][]string{
	"alerts":          {"graph", "mde"},
	"incidents":       {"graph", "xdr"},
	"machines":        {"mde", "graph"},
	"scores":          {"mde", "graph"},
	"vulnerabilities": {"mde", "graph"},
	"recommendations": {"mde", "graph"},
	"av_health":       {"mde", "graph"},
}

// CollectorAPIs returns the back ends a collector can read, the default first; nil for a
// collector with a single back end.
func CollectorAPIs(name string) []string {
	return append([]string(nil), collectorAPIs[name]...)
}

// CollectorNames lists the collectors in the order the docs and --config.check show them.
var CollectorNames = []string{
	"alerts", "machines", "scores", "vulnerabilities", "recommendations",
	"av_health", "machine_actions", "incidents", "indicators", "investigations",
	"secure_score", "identity",
}

const day = 24 * time.Hour

// The defaults follow how fast each kind of data changes and what it costs: alerts and incidents
// move by the minute; scores and TVM data are recomputed by Defender a few times a day; indicators
// and investigations are off because most tenants do not use them and each costs calls. Microsoft
// Secure Score is a daily snapshot, so an hourly refresh sees each new one within the hour; identity
// (Defender for Identity sensor health) is off because it needs that product, and refreshes every
// 15m, as machines do, since a sensor can fail at any time and costs two calls to look at.
var collectorDefaults = map[string]Collector{
	"alerts":          {Enabled: true, Interval: 5 * time.Minute, Lookback: 30 * day, FullLoadInterval: 6 * time.Hour},
	"machines":        {Enabled: true, Interval: 15 * time.Minute, StaleAfter: []time.Duration{day, 7 * day, 30 * day}},
	"scores":          {Enabled: true, Interval: time.Hour},
	"vulnerabilities": {Enabled: true, Interval: time.Hour},
	"recommendations": {Enabled: true, Interval: time.Hour},
	"av_health":       {Enabled: true, Interval: time.Hour},
	"machine_actions": {Enabled: true, Interval: 5 * time.Minute, Lookback: 30 * day},
	"incidents":       {Enabled: true, Interval: 5 * time.Minute, Lookback: 30 * day},
	"indicators":      {Enabled: false, Interval: time.Hour},
	"investigations":  {Enabled: false, Interval: 15 * time.Minute, Lookback: 30 * day},
	"secure_score":    {Enabled: true, Interval: time.Hour},
	"identity":        {Enabled: false, Interval: 15 * time.Minute},
}

// DefaultCollector returns a collector's built-in settings, including its default interval. It
// returns a zero Collector (with Name set) for an unknown name.
func DefaultCollector(name string) Collector {
	c := collectorDefaults[name]
	c.Name = name
	if apis := collectorAPIs[name]; len(apis) > 0 {
		c.API = apis[0]
	}
	c.StaleAfter = append([]time.Duration(nil), c.StaleAfter...)
	if len(c.StaleAfter) == 0 {
		c.StaleAfter = nil
	}
	return c
}

// collectorKeys says which options each collector takes; anything else is a typo or a misplaced
// option and is rejected.
func collectorKeys(name string) []string {
	keys := []string{"enabled", "interval"}
	if len(collectorAPIs[name]) > 0 {
		keys = append(keys, "api")
	}
	if DefaultCollector(name).Lookback > 0 {
		keys = append(keys, "lookback")
	}
	if name == "machines" {
		keys = append(keys, "stale_after", "per_machine")
	}
	if name == "secure_score" {
		keys = append(keys, "per_control")
	}
	if DefaultCollector(name).FullLoadInterval > 0 {
		keys = append(keys, "full_load_interval")
	}
	return keys
}

// collectorsFor lists the collectors that take an option, for "did you mean to put it there" hints.
func collectorsFor(key string) []string {
	var names []string
	for _, n := range CollectorNames {
		if contains(collectorKeys(n), key) {
			names = append(names, n)
		}
	}
	return names
}

func (d *decoder) collectors(n *yaml.Node, path string) map[string]Collector {
	out := make(map[string]Collector, len(CollectorNames))
	for _, name := range CollectorNames {
		c := DefaultCollector(name)
		c.Interval = 0
		out[name] = c
	}
	pairs, _ := d.mapping(n, path, nil, noHint)
	for _, p := range d.knownCollectors(pairs, path) {
		c := out[p.key]
		keys := collectorKeys(p.key)
		opts, _ := d.mapping(p.v, p.path, keys, func(key string) string {
			if owners := collectorsFor(key); len(owners) > 0 {
				return fmt.Sprintf("%s applies only to %s", key, strings.Join(owners, ", "))
			}
			return ""
		})
		for _, o := range opts {
			switch o.key {
			case "enabled":
				if v, ok := d.boolean(o.v, o.path); ok {
					c.Enabled = v
				}
			case "interval":
				if v, ok := d.positive(o.v, o.path); ok {
					c.Interval = v
				}
			case "lookback":
				if v, ok := d.positive(o.v, o.path); ok {
					c.Lookback = v
				}
			case "stale_after":
				if v, ok := d.staleAfter(o.v, o.path); ok {
					c.StaleAfter = v
				}
			case "api":
				if v, ok := d.oneOf(o.v, o.path, collectorAPIs[p.key]); ok {
					c.API = v
				}
			case "per_machine":
				if v, ok := d.boolean(o.v, o.path); ok {
					c.PerMachine = v
				}
			case "per_control":
				if v, ok := d.boolean(o.v, o.path); ok {
					c.PerControl = v
				}
			case "full_load_interval":
				if v, ok := d.positive(o.v, o.path); ok {
					c.FullLoadInterval = v
					d.fullLoad = &fullLoadSetting{at: d.posOf(o.v, o.path)}
				}
			}
		}
		d.checkFullLoadAPI(c)
		d.graphOnlyAggregates(c, opts)
		out[p.key] = c
	}
	return out
}

// knownCollectors reports unknown collector names with the list of known ones (mapping() with a nil
// known list accepts any key, because the message here is about collectors, not keys).
func (d *decoder) knownCollectors(pairs []pair, path string) []pair {
	var known []pair
	for _, p := range pairs {
		if _, ok := collectorDefaults[p.key]; ok {
			known = append(known, p)
			continue
		}
		msg := fmt.Sprintf("unknown collector (known: %s)", strings.Join(CollectorNames, ", "))
		if p.key == "hunting" {
			msg += "; hunting queries go in the top-level hunting: section"
		} else if s := suggest(p.key, CollectorNames); s != "" {
			msg += "; did you mean " + s + "?"
		}
		d.errf(p.k, p.path, "%s", msg)
	}
	return known
}

// staleAfter must be increasing so that the stale-machine thresholds nest (every machine stale for
// 30d is also stale for 7d), which the dashboards rely on when they subtract one from the next.
func (d *decoder) staleAfter(n *yaml.Node, path string) ([]time.Duration, bool) {
	items, ok := d.sequence(n, path, "durations")
	if !ok {
		return nil, false
	}
	if len(items) == 0 {
		d.errf(d.resolve(n), path, "needs at least one duration, e.g. [24h, 7d, 30d]")
		return nil, false
	}
	out := make([]time.Duration, 0, len(items))
	for i, it := range items {
		ipath := fmt.Sprintf("%s[%d]", path, i)
		v, ok := d.positive(it, ipath)
		if !ok {
			return nil, false
		}
		if i > 0 && v <= out[i-1] {
			d.errf(it, ipath, "%s is not greater than the threshold before it (%s): list thresholds in increasing order, e.g. [24h, 7d, 30d]", formatDuration(v), formatDuration(out[i-1]))
			return nil, false
		}
		out = append(out, v)
	}
	return out, true
}

// graphOnlyAggregates refuses the machines options the graph back end cannot honour: it counts
// devices on the server (one answer row per label combination), so it has no per-machine series,
// and the hunting tables keep 30 days, so the stale-machine thresholds would count nothing past
// them. Saying so beats exporting nothing for an option that was written down.
func (d *decoder) graphOnlyAggregates(c Collector, opts []pair) {
	if c.API != "graph" {
		return
	}
	for _, o := range opts {
		switch {
		case o.key == "per_machine" && c.PerMachine:
			d.errf(o.k, o.path, "per_machine needs api: mde: the graph back end counts devices in advanced hunting and never lists them")
		case o.key == "stale_after":
			d.errf(o.k, o.path, "stale_after needs api: mde: the advanced hunting tables the graph back end reads keep 30 days, so defender_machines_stale is not exported; remove stale_after")
		}
	}
}
