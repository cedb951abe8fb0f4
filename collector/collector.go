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

var (
	factories = map[string]Factory{}
	// backends lists the back ends ("mde", "graph", ...) each collector
	// implements; config.Collector.API must be one of them.
	backends = map[string][]string{}
)

// register is called from each collector file's init, node_exporter style,
// with the back ends the factory implements (none for a collector with a
// single back end).
func register(name string, f Factory, apis ...string) {
	if _, dup := factories[name]; dup {
		panic("collector registered twice: " + name)
	}
	factories[name] = f
	backends[name] = apis
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
func Backends(name string) []string { return slices.Clone(backends[name]) }

// New builds the named collector.
func New(cfg config.Collector) (Collector, error) {
	f, ok := factories[cfg.Name]
	if !ok {
		return nil, fmt.Errorf("collector %q is not implemented in this build (have %v)", cfg.Name, Names())
	}
	if cfg.API != "" && !slices.Contains(backends[cfg.Name], cfg.API) {
		return nil, fmt.Errorf("collectors.%s.api: this build has no %q back end for %s (have %v)", cfg.Name, cfg.API, cfg.Name, backends[cfg.Name])
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
