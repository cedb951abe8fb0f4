package collector

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/defender-exporter/defender_exporter/config"
	"github.com/defender-exporter/defender_exporter/defender"
)

// ClientFactory builds the API client of one tenant. main wires the real
// one; it is a parameter so the scheduler does not decide how clients are
// configured.
type ClientFactory func(t config.Tenant) (*defender.Client, error)

// SchedulerOptions tune the scheduler; the zero value is production.
type SchedulerOptions struct {
	// MaxJitter caps the random delay before a job's first refresh, which
	// spreads many tenants' start-up calls. Default 15s; never more than a
	// quarter of the job's interval.
	MaxJitter time.Duration
	// Now is the clock given to collectors. Default time.Now.
	Now func() time.Time
	// Concurrency caps refreshes running at once across all tenants, so a
	// partner with hundreds of tenants does not open hundreds of
	// connections at once. Default 8.
	Concurrency int
	// TenantConcurrency caps refreshes running at once for one tenant, so
	// that a slow or failing tenant (a hanging API, a spent budget being
	// waited out) holds at most this many of the Concurrency slots and
	// never delays another tenant's refreshes. Default 2; at most
	// Concurrency.
	TenantConcurrency int
	// Manual leaves the timers off: jobs run only through RefreshNow.
	// Tests use it to decide exactly when Defender is called.
	Manual bool
	// OnTenantRemoved is called with the name of a tenant dropped by a
	// reload, to delete its series from other metric families. It is
	// called once the tenant's jobs have stopped and its client is closed,
	// so that nothing records a series of the tenant afterwards.
	OnTenantRemoved func(tenant string)
	// BuildRetryBase and BuildRetryMax pace the retries of a tenant whose
	// client could not be built (a credential file missing, unreadable or
	// not yet valid): the first retry comes after BuildRetryBase, each
	// next one after twice the last wait, never more than BuildRetryMax.
	// Defaults 2s and 1m: a build reads local files only, and a fixed
	// file should be picked up soon.
	BuildRetryBase, BuildRetryMax time.Duration
}

// Scheduler runs every (tenant, collector) job on its own interval and
// serves their latest snapshots. It is a prometheus.Collector.
type Scheduler struct {
	logger    log.Logger
	opts      SchedulerOptions
	newClient ClientFactory
	sem       chan struct{}
	planner   *planner
	// onRefresh, when set (tests), is called after every refresh that
	// ran to its end, with the state it stored.
	onRefresh func(key jobKey, st *jobState)

	// applyMu serialises Apply. It is not mu: a reload builds clients
	// and waits for replaced jobs to stop, and scrapes, which take mu,
	// must not wait for that.
	applyMu sync.Mutex

	mu      sync.Mutex
	tenants map[string]*tenantState
	jobs    map[jobKey]*job
	stopped bool
	// intervals is defender_collector_interval_seconds, rendered when the
	// jobs change: it is configuration, so a scrape only copies it.
	intervals []renderedFamily
}

// jobKey names a job. Hunting has one job per query, told apart by query.
type jobKey struct{ tenant, collector, query string }

type tenantState struct {
	cfg config.Tenant
	// conn is the tenant's client, or why there is none. A client that
	// failed to build is built again (by a retry or the next reload) on
	// the same tenantState, so that the jobs, which keep a pointer to it,
	// pick the new client up.
	conn atomic.Pointer[tenantConn]
	// sem holds TenantConcurrency slots; a refresh takes one of these
	// before one of the scheduler's, so a tenant's waiting refreshes
	// queue here without holding global slots.
	sem chan struct{}

	retryMu   sync.Mutex
	retryStop context.CancelFunc // of the running retry loop, nil if none
	retryDone chan struct{}
}

// tenantConn is an immutable (client, error) pair: exactly one is set.
type tenantConn struct {
	client *defender.Client
	err    error
	// logged is the fingerprint of the build error last logged at error
	// level, so that a retry failing the same way is not logged again.
	logged string
}

func (st *tenantState) client() (*defender.Client, error) {
	c := st.conn.Load()
	if c == nil {
		return nil, errors.New("not built yet")
	}
	return c.client, c.err
}

// NewScheduler returns a scheduler with no jobs; Apply gives it some.
func NewScheduler(logger log.Logger, newClient ClientFactory, opts SchedulerOptions) *Scheduler {
	if opts.MaxJitter == 0 {
		opts.MaxJitter = 15 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 8
	}
	if opts.TenantConcurrency <= 0 {
		opts.TenantConcurrency = 2
	}
	opts.TenantConcurrency = min(opts.TenantConcurrency, opts.Concurrency)
	if opts.BuildRetryBase <= 0 {
		opts.BuildRetryBase = 2 * time.Second
	}
	if opts.BuildRetryMax <= 0 {
		opts.BuildRetryMax = time.Minute
	}
	opts.BuildRetryMax = max(opts.BuildRetryMax, opts.BuildRetryBase)
	return &Scheduler{
		logger:    logger,
		opts:      opts,
		newClient: newClient,
		sem:       make(chan struct{}, opts.Concurrency),
		planner:   newPlanner(logger),
		tenants:   map[string]*tenantState{},
		jobs:      map[jobKey]*job{},
	}
}

// Stop ends every job and every retry and waits for running refreshes to
// return. The clients are the caller's to close.
func (s *Scheduler) Stop() {
	s.mu.Lock()
	s.stopped = true
	jobs := slices.Collect(maps.Values(s.jobs))
	tenants := slices.Collect(maps.Values(s.tenants))
	s.mu.Unlock()
	for _, j := range jobs {
		j.stop()
	}
	for _, st := range tenants {
		st.stopRetry()
	}
}

// Ready reports whether every job has finished at least one refresh,
// successful or not.
func (s *Scheduler) Ready() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, j := range s.jobs {
		if j.state.Load() == nil {
			return false
		}
	}
	return true
}

// RefreshNow runs one refresh of every job synchronously, bypassing the
// timers. Tests and --demo's warm-up use it.
func (s *Scheduler) RefreshNow(ctx context.Context) {
	s.mu.Lock()
	jobs := make([]*job, 0, len(s.jobs))
	for _, j := range s.jobs {
		jobs = append(jobs, j)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j.refresh(ctx)
		}()
	}
	wg.Wait()
}

var (
	upDesc = prometheus.NewDesc(namespace+"_up",
		"1 if a token could be had and the latest refresh of every collector of the tenant succeeded.",
		[]string{"tenant"}, nil)
	successDesc = prometheus.NewDesc(namespace+"_collector_success",
		"1 if the latest background refresh of the collector succeeded.",
		[]string{"tenant", "collector"}, nil)
	durationDesc = prometheus.NewDesc(namespace+"_collector_duration_seconds",
		"Duration of the latest background refresh of the collector.",
		[]string{"tenant", "collector"}, nil)
	lastSuccessDesc = prometheus.NewDesc(namespace+"_collector_last_success_timestamp_seconds",
		"Unix time of the latest successful background refresh of the collector (for hunting: of its stalest query).",
		[]string{"tenant", "collector"}, nil)
	// The interval is exported so that staleness can be judged per
	// collector ("three refreshes missed") rather than by one fixed age.
	intervalDesc = prometheus.NewDesc(namespace+"_collector_interval_seconds",
		"Configured refresh interval of the collector (for hunting: the longest among its queries).",
		[]string{"tenant", "collector"}, nil)
	huntingSuccessDesc = prometheus.NewDesc(namespace+"_hunting_query_success",
		"1 if the latest run of the advanced hunting query succeeded.",
		[]string{"tenant", "query"}, nil)
	huntingDurationDesc = prometheus.NewDesc(namespace+"_hunting_query_duration_seconds",
		"Duration of the latest run of the advanced hunting query.",
		[]string{"tenant", "query"}, nil)
	certExpiryDesc = prometheus.NewDesc(namespace+"_credential_certificate_expiry_timestamp_seconds",
		"Expiry (NotAfter) of the tenant's client certificate, as a Unix timestamp.",
		[]string{"tenant"}, nil)
)

// Describe sends nothing: the set of series depends on the data, which makes
// this an unchecked collector.
func (s *Scheduler) Describe(chan<- *prometheus.Desc) {}

// huntingSummary folds a tenant's hunting queries into the one
// (tenant, collector="hunting") row of the per-collector metrics.
type huntingSummary struct {
	ran, ok     bool
	duration    time.Duration
	lastSuccess time.Time // the oldest among the queries: the data is as stale as its stalest part
	anyMissing  bool      // some query never succeeded
	retired     bool      // some query's latest refresh met a retired API
}

// intervalMetrics is defender_collector_interval_seconds for every
// (tenant, collector) of jobs; hunting's is the longest of its queries'.
func intervalMetrics(jobs map[jobKey]*job) []prometheus.Metric {
	type row struct{ tenant, collector string }
	longest := map[row]time.Duration{}
	for k, j := range jobs {
		collector := k.collector
		if k.query != "" {
			collector = huntingCollector
		}
		r := row{k.tenant, collector}
		longest[r] = max(longest[r], j.interval)
	}
	out := make([]prometheus.Metric, 0, len(longest))
	for r, d := range longest {
		out = append(out, prometheus.MustNewConstMetric(intervalDesc, prometheus.GaugeValue, d.Seconds(), r.tenant, r.collector))
	}
	return out
}

// Collect replays the latest snapshots; it never calls Defender. The
// exporter serves the snapshots pre-rendered through Handler instead, with
// Status in its registry; Collect is the whole for any other registry.
func (s *Scheduler) Collect(ch chan<- prometheus.Metric) { s.collect(ch, true) }

func (s *Scheduler) collect(ch chan<- prometheus.Metric, snapshots bool) {
	s.mu.Lock()
	jobs := make([]*job, 0, len(s.jobs))
	for _, j := range s.jobs {
		jobs = append(jobs, j)
	}
	tenants := make([]*tenantState, 0, len(s.tenants))
	names := make([]string, 0, len(s.tenants))
	for name, st := range s.tenants {
		tenants = append(tenants, st)
		names = append(names, name)
	}
	intervals := s.intervals
	s.mu.Unlock()
	sort.Strings(names)
	if snapshots {
		for _, m := range metricsOf(intervals) {
			ch <- m
		}
	}

	// A tenant is up once each of its jobs has run and the latest refresh
	// of each succeeded; before its first refresh cycle ends it is not.
	up := map[string]bool{}
	for _, t := range names {
		up[t] = true
	}
	hunting := collectJobs(ch, jobs, up, snapshots)
	for tenant, h := range hunting {
		last := h.lastSuccess
		if h.anyMissing {
			last = time.Time{}
		}
		collectorRow(ch, tenant, huntingCollector, h.ok, h.duration, last, h.retired)
	}
	for _, t := range names {
		ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, b2f(up[t]), t)
	}
	collectCertExpiry(ch, tenants)
	s.planner.collect(ch)
}

// collectJobs sends each job's rows, and with snapshots its snapshot;
// it sets up[tenant] to false for a job that makes its tenant not up, and
// returns the hunting queries folded into one summary per tenant.
func collectJobs(ch chan<- prometheus.Metric, jobs []*job, up map[string]bool, snapshots bool) map[string]*huntingSummary {
	hunting := map[string]*huntingSummary{}
	for _, j := range jobs {
		st := j.state.Load()
		if st == nil {
			up[j.key.tenant] = false
			continue
		}
		if snapshots {
			for _, m := range metricsOf(st.rendered) {
				ch <- m
			}
		}
		// A hunting CPU-quota deferral is Defender rationing one feature,
		// not the tenant being unreachable: it shows in the hunting
		// metrics, not in defender_up.
		if !st.success && !errors.Is(st.err, defender.ErrHuntingDeferred) {
			up[j.key.tenant] = false
		}
		if j.key.query != "" {
			ch <- prometheus.MustNewConstMetric(huntingSuccessDesc, prometheus.GaugeValue, b2f(st.success), j.key.tenant, j.key.query)
			ch <- prometheus.MustNewConstMetric(huntingDurationDesc, prometheus.GaugeValue, st.duration.Seconds(), j.key.tenant, j.key.query)
			h := hunting[j.key.tenant]
			if h == nil {
				h = &huntingSummary{ok: true}
				hunting[j.key.tenant] = h
			}
			h.add(st)
			continue
		}
		collectorRow(ch, j.key.tenant, j.key.collector, st.success, st.duration, st.lastSuccess, st.retired)
	}
	return hunting
}

// add folds the latest refresh of one hunting query into h.
func (h *huntingSummary) add(st *jobState) {
	h.ran = true
	h.ok = h.ok && st.success
	h.retired = h.retired || st.retired
	h.duration += st.duration
	switch {
	case st.lastSuccess.IsZero():
		h.anyMissing = true
	case h.lastSuccess.IsZero() || st.lastSuccess.Before(h.lastSuccess):
		h.lastSuccess = st.lastSuccess
	}
}

// collectCertExpiry sends the expiry of each tenant's client certificate,
// for the tenants that have a client and authenticate with a certificate.
func collectCertExpiry(ch chan<- prometheus.Metric, tenants []*tenantState) {
	for _, st := range tenants {
		client, _ := st.client()
		if client == nil {
			continue
		}
		if exp, ok := client.CertificateExpiry(); ok {
			ch <- prometheus.MustNewConstMetric(certExpiryDesc, prometheus.GaugeValue, float64(exp.Unix()), st.cfg.Name)
		}
	}
}

func collectorRow(ch chan<- prometheus.Metric, tenant, collector string, success bool, d time.Duration, lastSuccess time.Time, retired bool) {
	ch <- prometheus.MustNewConstMetric(successDesc, prometheus.GaugeValue, b2f(success), tenant, collector)
	ch <- prometheus.MustNewConstMetric(apiRetiredDesc, prometheus.GaugeValue, b2f(retired), tenant, collector)
	ch <- prometheus.MustNewConstMetric(durationDesc, prometheus.GaugeValue, d.Seconds(), tenant, collector)
	if !lastSuccess.IsZero() {
		ch <- prometheus.MustNewConstMetric(lastSuccessDesc, prometheus.GaugeValue, float64(lastSuccess.UnixNano())/1e9, tenant, collector)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
