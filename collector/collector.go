// Package collector turns Defender entities into Prometheus metrics. Each
// collector refreshes in the background on its own interval (Defender's call
// quotas rule out calling it per scrape); a scrape only replays the latest
// snapshots.
package collector

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/defender-exporter/defender_exporter/config"
	"github.com/defender-exporter/defender_exporter/defender"
)

const namespace = "defender"

// cachedHelp is appended to the HELP of every Defender-derived metric, as the
// exporter-writing guide asks of metrics that are not fetched per scrape.
const cachedHelp = " Refreshed in the background; see defender_collector_last_success_timestamp_seconds."

// Target is what a refresh works on: one tenant and its API client.
type Target struct {
	Tenant string
	Client *defender.Client
	// Now is the refresh's clock; lookback windows and staleness are
	// measured from it. Tests pin it.
	Now    func() time.Time
	Logger log.Logger
}

// Collector refreshes one kind of Defender data for one tenant.
type Collector interface {
	// Refresh reads Defender and returns the complete set of metrics for
	// the target. It returns either a full snapshot or an error, never a
	// partial set: a failed refresh keeps the previous snapshot.
	Refresh(ctx context.Context, t *Target) ([]prometheus.Metric, error)
}

// Factory builds a collector from its configuration.
type Factory func(cfg config.Collector) (Collector, error)

// Spec is everything a collector declares, in its own file's init
// (node_exporter style): what the configuration needs to know (name,
// defaults, options, back ends), how to build it, and what a refresh costs.
type Spec struct {
	// Config is the collector's part of the configuration. Its
	// HuntingQueries is filled in by register from the built-in queries
	// the collector's graph back end runs (builtin_queries.go): leave it
	// empty.
	Config config.CollectorSpec
	New    Factory
	// Calls is the cost of a refresh before one has been observed, by back
	// end (each of Config.APIs, or "" for a collector with one): one call
	// per listing or object it reads, i.e. the cost when every listing fits
	// one page. TestEstimatedCallsMatchSmallTenant keeps it honest.
	Calls map[string]map[defender.Family]int
}

const day = 24 * time.Hour

// defaultLookback is how far back by creation time the collectors that
// take lookback reach by default.
const defaultLookback = 30 * day

// factories holds each registered collector's Spec.New.
var factories = map[string]Factory{}

// register is called from each collector file's init. It registers the
// configuration part with the config package, which holds the back ends,
// and keeps the factory and the planner's estimate. A spec that is incomplete or
// contradicts itself panics: it is a programming error, found at start-up.
func register(s Spec) {
	name := s.Config.Name
	if _, dup := factories[name]; dup {
		panic("collector registered twice: " + name)
	}
	if s.New == nil {
		panic("collector " + name + ": no factory")
	}
	if s.Config.HuntingQueries != nil {
		panic("collector " + name + ": HuntingQueries is counted from the built-in queries; leave it empty")
	}
	apis := s.Config.APIs
	want := apis
	if len(want) == 0 {
		want = []string{""}
	}
	if len(s.Calls) != len(want) {
		panic(fmt.Sprintf("collector %s: Calls has %d back ends, want one entry for each of %q", name, len(s.Calls), want))
	}
	for _, api := range want {
		if _, ok := s.Calls[api]; !ok {
			panic(fmt.Sprintf("collector %s: Calls has no estimate for back end %q", name, api))
		}
	}
	// Package variables are initialised before any init runs, so every
	// mustBuiltin query is in graphQueries by now.
	if n := len(graphQueries[name]); n > 0 {
		s.Config.HuntingQueries = map[string]int{"graph": n}
	}
	config.RegisterCollector(s.Config)
	factories[name] = s.New
	estimatedCalls[name] = s.Calls
}

// Names lists the collectors compiled in, sorted.
func Names() []string {
	names := make([]string, 0, len(factories))
	for n := range factories {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Backends lists the back ends this build implements for a collector
// ("mde", "graph", ...); nil for a collector with a single back end.
func Backends(name string) []string { return config.CollectorAPIs(name) }

// New builds the named collector.
func New(cfg config.Collector) (Collector, error) {
	f, ok := factories[cfg.Name]
	if !ok {
		return nil, fmt.Errorf("collector %q is not implemented in this build (have %v)", cfg.Name, Names())
	}
	if apis := config.CollectorAPIs(cfg.Name); cfg.API != "" && !slices.Contains(apis, cfg.API) {
		return nil, fmt.Errorf("collectors.%s.api: this build has no %q back end for %s (have %v)", cfg.Name, cfg.API, cfg.Name, apis)
	}
	c, err := f(cfg)
	if err != nil {
		return nil, err
	}
	return withRetiredAdvice(c, cfg.Name), nil // retired.go
}

// apiOrDefault is the back end a multi-back-end collector reads: cfg.API, or
// the configuration's default when a Collector made in code leaves it empty.
func apiOrDefault(cfg config.Collector) string {
	if cfg.API != "" {
		return cfg.API
	}
	if apis := config.CollectorAPIs(cfg.Name); len(apis) > 0 {
		return apis[0]
	}
	return ""
}

// lookbackOf checks the lookback of the collectors that have one. Config
// validation already refuses a non-positive one; this guards collectors
// built from a Collector made in code.
func lookbackOf(cfg config.Collector) (time.Duration, error) {
	if cfg.Lookback <= 0 {
		return 0, fmt.Errorf("%s: lookback must be positive, got %s", cfg.Name, cfg.Lookback)
	}
	return cfg.Lookback, nil
}
