package config

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Store holds the current config and swaps it on reload, after blackbox_exporter's SafeConfig: a
// reload that fails leaves the running config untouched, and the outcome is visible as metrics so
// that an alert can catch a bad config pushed to a fleet before the next restart makes it fatal.
type Store struct {
	mu      sync.Mutex // serialises Reload; readers use cur
	cur     atomic.Pointer[Config]
	success prometheus.Gauge
	seconds prometheus.Gauge
}

// NewStore registers the reload gauges with reg (nil: not registered, for tests).
func NewStore(reg prometheus.Registerer) *Store {
	f := promauto.With(reg)
	return &Store{
		success: f.NewGauge(prometheus.GaugeOpts{
			Name: "defender_exporter_config_last_reload_successful",
			Help: "Whether the last configuration reload attempt was successful.",
		}),
		seconds: f.NewGauge(prometheus.GaugeOpts{
			Name: "defender_exporter_config_last_reload_success_timestamp_seconds",
			Help: "Timestamp of the last successful configuration reload.",
		}),
	}
}

// Reload loads path and, if it is valid, makes it current. On error the previous config stays
// current and the error is returned with a nil config.
func (s *Store) Reload(path string, opts Options) (*Config, error) {
	return s.ReloadWith(path, opts, nil)
}

// ReloadWith loads path and hands the config to apply (nil: nothing to apply); only if both succeed
// does it become current and the reload count as successful. A config that loads but cannot be
// applied leaves the previous one in force, so the gauges must not say otherwise.
func (s *Store) ReloadWith(path string, opts Options, apply func(*Config) error) (cfg *Config, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() {
		if err != nil {
			s.success.Set(0)
			return
		}
		s.success.Set(1)
		s.seconds.SetToCurrentTime()
	}()
	cfg, err = Load(path, opts)
	if err != nil {
		return nil, err
	}
	if apply != nil {
		if err := apply(cfg); err != nil {
			return nil, err
		}
	}
	s.cur.Store(cfg)
	return cfg, nil
}

// Current returns the config in force, or nil before the first successful Reload. The returned
// Config is shared and must not be modified.
func (s *Store) Current() *Config {
	return s.cur.Load()
}
