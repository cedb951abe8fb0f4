package config

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// CollectorSpec is what a collector declares about itself for the configuration: its name, its
// defaults, the options it takes and its back ends. Each collector's file in the collector package
// registers one from its init (collector.register), so that adding a collector touches one file;
// this package reads the registry for the defaults, the keys it accepts under
// collectors.<name>, the hints for misplaced keys, --config.check and the hunting quota.
type CollectorSpec struct {
	Name string
	// Order is the collector's position in CollectorNames, hence in --config.check, the error
	// messages that list collectors and the docs' tables. Unique; smaller comes first.
	Order int
	// Default holds the built-in settings: Enabled, Interval (required) and the defaults of the
	// options in Keys (Lookback, StaleAfter, FullLoadInterval, ...). Name and API are filled in
	// from Name and APIs.
	Default Collector
	// Keys lists the options the collector takes beyond enabled and interval, from those this
	// package parses (collectorOptions). A key with a default must have it set in Default, and
	// "api" goes with APIs.
	Keys []string
	// APIs lists the back ends of a collector that has several, the default first; nil for a
	// collector with one back end, which takes no api key.
	APIs []string
	// HuntingQueries is how many built-in advanced hunting queries a refresh runs, by back end:
	// they spend the tenant's hunting quota with the queries of the hunting: section.
	HuntingQueries map[string]int
}

var (
	registry = map[string]CollectorSpec{}
	// CollectorNames lists the registered collectors in the order the docs and --config.check
	// show them (CollectorSpec.Order). It is rebuilt by RegisterCollector; read it only after
	// the init functions ran.
	CollectorNames []string
)

// RegisterCollector adds a collector to the registry. It is called from init functions, so a
// duplicate or inconsistent spec is a programming error and panics at start-up.
func RegisterCollector(spec CollectorSpec) {
	if err := spec.validate(); err != nil {
		panic("config: collector " + spec.Name + ": " + err.Error())
	}
	if _, dup := registry[spec.Name]; dup {
		panic("config: collector registered twice: " + spec.Name)
	}
	for _, other := range registry {
		if other.Order == spec.Order {
			panic(fmt.Sprintf("config: collectors %s and %s have the same Order %d", other.Name, spec.Name, spec.Order))
		}
	}
	spec.Default.StaleAfter = slices.Clone(spec.Default.StaleAfter)
	spec.Keys = slices.Clone(spec.Keys)
	spec.APIs = slices.Clone(spec.APIs)
	hq := make(map[string]int, len(spec.HuntingQueries))
	for api, n := range spec.HuntingQueries {
		hq[api] = n
	}
	spec.HuntingQueries = hq
	registry[spec.Name] = spec

	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return registry[names[i]].Order < registry[names[j]].Order })
	CollectorNames = names
}

// validate checks that the spec says each thing once and consistently: the defaults and the keys
// agree, and every key is one this package can parse.
func (s CollectorSpec) validate() error {
	switch {
	case s.Name == "":
		return fmt.Errorf("no name")
	case s.Name == "hunting":
		return fmt.Errorf("the name is the hunting queries' collector label")
	case s.Order <= 0:
		return fmt.Errorf("the Order must be positive, got %d", s.Order)
	case s.Default.Interval <= 0:
		return fmt.Errorf("the Default.Interval must be positive, got %s", s.Default.Interval)
	case len(s.APIs) == 1:
		return fmt.Errorf("APIs lists one back end (%s): a collector with one back end leaves APIs nil", s.APIs[0])
	case s.Default.Name != "" || s.Default.API != "":
		return fmt.Errorf("the Default.Name and Default.API are filled in from Name and APIs: leave them empty")
	}
	for _, k := range s.Keys {
		if optionByKey(k) == nil {
			return fmt.Errorf("unknown option key %q (this package parses %s)", k, strings.Join(optionKeys(), ", "))
		}
	}
	implied := []struct {
		key  string
		has  bool
		what string
	}{
		{"api", len(s.APIs) > 0, "APIs"},
		{"lookback", s.Default.Lookback > 0, "Default.Lookback"},
		{"stale_after", len(s.Default.StaleAfter) > 0, "Default.StaleAfter"},
		{"full_load_interval", s.Default.FullLoadInterval > 0, "Default.FullLoadInterval"},
	}
	for _, i := range implied {
		if slices.Contains(s.Keys, i.key) != i.has {
			return fmt.Errorf("key %s and %s go together: set both or neither", i.key, i.what)
		}
	}
	for api, n := range s.HuntingQueries {
		if n < 0 || (api != "" && !slices.Contains(s.APIs, api)) || (api == "" && len(s.APIs) > 0) {
			return fmt.Errorf("HuntingQueries[%q] = %d: not a back end of the collector, or a negative count", api, n)
		}
	}
	return nil
}

// lookupCollector returns a registered collector's spec.
func lookupCollector(name string) (CollectorSpec, bool) {
	s, ok := registry[name]
	return s, ok
}

// DefaultCollector returns a collector's built-in settings, including its default interval. It
// returns a zero Collector (with Name set) for an unknown name.
func DefaultCollector(name string) Collector {
	s := registry[name]
	c := s.Default
	c.Name = name
	if len(s.APIs) > 0 {
		c.API = s.APIs[0]
	}
	c.StaleAfter = slices.Clone(c.StaleAfter)
	if len(c.StaleAfter) == 0 {
		c.StaleAfter = nil
	}
	return c
}

// CollectorAPIs returns the back ends a collector can read, the default first; nil for a
// collector with a single back end.
func CollectorAPIs(name string) []string {
	return slices.Clone(registry[name].APIs)
}

// BuiltinHuntingQueries returns how many built-in hunting queries a refresh of the collector runs
// on the back end.
func BuiltinHuntingQueries(collector, api string) int {
	return registry[collector].HuntingQueries[api]
}

// CollectorKeys returns the keys collectors.<name> takes, enabled and interval first, in the
// order error messages list them; anything else is a typo or a misplaced option and is rejected.
func CollectorKeys(name string) []string {
	keys := []string{"enabled", "interval"}
	s := registry[name]
	for _, o := range collectorOptions {
		if slices.Contains(s.Keys, o.key) {
			keys = append(keys, o.key)
		}
	}
	return keys
}
