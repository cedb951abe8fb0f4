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
	Interval time.Duration
	// The options below are set by the keys of the same name, for the collectors whose
	// CollectorSpec.Keys list them.
	Lookback   time.Duration
	StaleAfter []time.Duration
	PerMachine bool
	PerControl bool
	// API is the back end the collector reads: "graph", "mde" or (incidents) "xdr". Every
	// collector with more than one back end has it set, to its default when the file is silent;
	// it is "" for collectors with a single back end.
	API string
	// FullLoadInterval (alerts on the graph back end) is how often a refresh lists every alert
	// in scope instead of only those updated since the previous refresh.
	FullLoadInterval time.Duration
}

// collectorOption parses one option of collectors.<name>; CollectorSpec.Keys says which
// collectors take it. Their order is the order error messages list the keys in.
type collectorOption struct {
	key   string
	parse func(d *decoder, o pair, c *Collector)
}

var collectorOptions = []collectorOption{
	{"api", func(d *decoder, o pair, c *Collector) {
		if v, ok := d.oneOf(o.v, o.path, CollectorAPIs(c.Name)); ok {
			c.API = v
		}
	}},
	{"lookback", func(d *decoder, o pair, c *Collector) {
		if v, ok := d.positive(o.v, o.path); ok {
			c.Lookback = v
		}
	}},
	{"stale_after", func(d *decoder, o pair, c *Collector) {
		if v, ok := d.staleAfter(o.v, o.path); ok {
			c.StaleAfter = v
		}
	}},
	{"per_machine", func(d *decoder, o pair, c *Collector) {
		if v, ok := d.boolean(o.v, o.path); ok {
			c.PerMachine = v
		}
	}},
	{"per_control", func(d *decoder, o pair, c *Collector) {
		if v, ok := d.boolean(o.v, o.path); ok {
			c.PerControl = v
		}
	}},
	{"full_load_interval", func(d *decoder, o pair, c *Collector) {
		if v, ok := d.positive(o.v, o.path); ok {
			c.FullLoadInterval = v
			d.fullLoad = &fullLoadSetting{at: d.posOf(o.v, o.path)}
		}
	}},
}

func optionByKey(key string) *collectorOption {
	for i := range collectorOptions {
		if collectorOptions[i].key == key {
			return &collectorOptions[i]
		}
	}
	return nil
}

func optionKeys() []string {
	keys := make([]string, len(collectorOptions))
	for i, o := range collectorOptions {
		keys[i] = o.key
	}
	return keys
}

// collectorsFor lists the collectors that take an option, for "did you mean to put it there" hints.
func collectorsFor(key string) []string {
	var names []string
	for _, n := range CollectorNames {
		if contains(CollectorKeys(n), key) {
			names = append(names, n)
		}
	}
	return names
}

func (d *decoder) collectors(n *yaml.Node, path string) map[string]Collector {
	if len(CollectorNames) == 0 {
		// Every collector would be missing without a word: the program forgot the import
		// that registers them.
		d.errAt(pos{file: d.file}, nil, "no collectors are registered: the program must import github.com/defender-exporter/defender_exporter/collector")
	}
	out := make(map[string]Collector, len(CollectorNames))
	for _, name := range CollectorNames {
		c := DefaultCollector(name)
		c.Interval = 0
		out[name] = c
	}
	pairs, _ := d.mapping(n, path, nil, noHint)
	for _, p := range d.knownCollectors(pairs, path) {
		c := out[p.key]
		keys := CollectorKeys(p.key)
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
			default: // mapping() let through only the collector's keys
				optionByKey(o.key).parse(d, o, &c)
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
		if _, ok := lookupCollector(p.key); ok {
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
