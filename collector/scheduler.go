package collector

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"regexp"
	"runtime/debug"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
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

// jobSpec is everything a job depends on; a reload restarts a job only when
// its spec changed, so an unrelated edit costs no API calls.
type jobSpec struct {
	tenant     config.Tenant
	coll       config.Collector
	query      config.HuntingQuery // hunting jobs only
	huntingAPI string
	interval   time.Duration
}

// Apply makes the running jobs match cfg. Jobs whose tenant and collector
// configuration are unchanged keep running untouched; a changed job is
// restarted with its last snapshot carried over, so a reload never makes
// metrics disappear that the new configuration still produces. A tenant
// whose client could not be built is built again, even when its
// configuration is unchanged: the files it names may have been fixed.
//
// The scheduler's lock is held only to read the current jobs and to swap
// in the new ones: building clients and waiting for replaced jobs to stop
// happen outside it, so scrapes go on during a reload.
func (s *Scheduler) Apply(cfg *config.Config) error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	s.mu.Lock()
	stopped := s.stopped
	curJobs := maps.Clone(s.jobs)
	curTenants := maps.Clone(s.tenants)
	s.mu.Unlock()
	if stopped {
		return errors.New("scheduler stopped")
	}

	// Build every job before touching the running ones, so a collector
	// that cannot be built leaves the old set running.
	type planned struct {
		key  jobKey
		spec jobSpec
		coll Collector
	}
	var plan []planned
	wantTenants := map[string]config.Tenant{}
	for _, name := range config.CollectorNames {
		if _, built := factories[name]; cfg.Collectors[name].Enabled && !built {
			level.Warn(s.logger).Log("msg", "collector enabled in the configuration is not part of this build; skipping it", "collector", name)
		}
	}
	for _, t := range cfg.Tenants {
		wantTenants[t.Name] = t
		for _, name := range config.CollectorNames {
			cc, ok := cfg.Collectors[name]
			if _, built := factories[name]; !ok || !cc.Enabled || !built {
				continue
			}
			key := jobKey{tenant: t.Name, collector: name}
			spec := jobSpec{tenant: t, coll: cc, interval: cfg.Interval(t, name)}
			if old, ok := curJobs[key]; ok && reflect.DeepEqual(old.spec, spec) {
				plan = append(plan, planned{key: key, spec: spec})
				continue
			}
			c, err := New(cc)
			if err != nil {
				return fmt.Errorf("tenant %s: %w", t.Name, err)
			}
			plan = append(plan, planned{key: key, spec: spec, coll: c})
		}
		// Every tenant runs every hunting query, each on its own interval.
		for _, q := range cfg.Hunting.Queries {
			key := jobKey{tenant: t.Name, collector: huntingCollector, query: q.Name}
			spec := jobSpec{tenant: t, query: q, huntingAPI: cfg.Hunting.API, interval: q.Interval}
			if old, ok := curJobs[key]; ok && reflect.DeepEqual(old.spec, spec) {
				plan = append(plan, planned{key: key, spec: spec})
				continue
			}
			c, err := NewHuntingQuery(cfg.Hunting.API, q)
			if err != nil {
				return fmt.Errorf("tenant %s: hunting query %s: %w", t.Name, q.Name, err)
			}
			plan = append(plan, planned{key: key, spec: spec, coll: c})
		}
	}

	// Tenants: keep the clients of unchanged tenants; build the others,
	// and again those whose client failed.
	tenants := make(map[string]*tenantState, len(wantTenants))
	var (
		dropped []*tenantState                          // removed or changed: their jobs stop
		created []*tenantState                          // new tenantStates: closed if the swap fails
		rebuilt []*tenantState                          // failed before, built again in place
		removed []string                                // tenant names gone from the configuration
		failed  []*tenantState                          // built in vain: retried
		names   = slices.Sorted(maps.Keys(wantTenants)) // build and log in a stable order
	)
	for name, st := range curTenants {
		if t, ok := wantTenants[name]; !ok || !reflect.DeepEqual(t, st.cfg) {
			dropped = append(dropped, st)
			if !ok {
				removed = append(removed, name)
			}
		}
	}
	for _, name := range names {
		t := wantTenants[name]
		st, ok := curTenants[name]
		switch {
		case ok && reflect.DeepEqual(t, st.cfg):
			if client, _ := st.client(); client != nil {
				tenants[name] = st
				continue
			}
			st.stopRetry()
			rebuilt = append(rebuilt, st)
		default:
			st = &tenantState{cfg: t, sem: make(chan struct{}, s.opts.TenantConcurrency)}
			created = append(created, st)
		}
		tenants[name] = st
		if !s.build(st, 0) {
			failed = append(failed, st)
		}
	}

	intervalJobs := make(map[jobKey]*job, len(plan))
	for _, p := range plan {
		intervalJobs[p.key] = &job{interval: p.spec.interval}
	}
	intervals, err := renderSnapshot(intervalMetrics(intervalJobs))
	if err != nil {
		// Label values that passed the config check: cannot happen.
		for _, st := range created {
			st.close()
		}
		return fmt.Errorf("rendering the collectors' intervals: %w", err)
	}

	// Swap: the new job set is served from here on.
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		for _, st := range created {
			st.close()
		}
		return errors.New("scheduler stopped")
	}
	jobs := make(map[jobKey]*job, len(plan))
	// carried is the snapshot the new job got from the old one.
	type replacement struct {
		old, new *job
		carried  *jobState
	}
	var started []replacement
	for _, p := range plan {
		old := s.jobs[p.key]
		if p.coll == nil {
			jobs[p.key] = old // unchanged
			continue
		}
		j := s.newJob(p.key, p.spec, p.coll, tenants[p.key.tenant])
		r := replacement{old: old, new: j}
		if old != nil {
			// Until the old job has stopped, its snapshot is served.
			r.carried = old.state.Load()
			j.state.Store(r.carried)
		}
		jobs[p.key] = j
		started = append(started, r)
	}
	var stopping []*job
	for key, j := range s.jobs {
		if jobs[key] != j {
			stopping = append(stopping, j)
		}
	}
	s.jobs = jobs
	s.tenants = tenants
	s.intervals = intervals
	s.planner.setJobs(s.jobs)
	s.mu.Unlock()

	// Outside the lock: wait for the replaced jobs, then start their
	// successors with the snapshot the old ones ended with.
	for _, j := range stopping {
		j.stop()
	}
	for _, r := range started {
		if r.old != nil {
			// The old job may have finished a refresh since the swap.
			// CompareAndSwap: a RefreshNow may have refreshed the new
			// job meanwhile, and then its own state is newer.
			r.new.state.CompareAndSwap(r.carried, r.old.state.Load())
		}
	}
	// Every job that used a dropped client has stopped (a changed tenant
	// changes all its jobs): release its connections now rather than at
	// the transport's idle timeout, reload after reload.
	for _, st := range dropped {
		st.close()
	}
	// Only now that nothing of theirs runs any more, the removed tenants'
	// series elsewhere (request metrics) go.
	if s.opts.OnTenantRemoved != nil {
		for _, name := range removed {
			s.opts.OnTenantRemoved(name)
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return errors.New("scheduler stopped")
	}
	if !s.opts.Manual {
		for _, r := range started {
			r.new.start(s.jitter(r.new.interval))
		}
	}
	for _, st := range failed {
		s.startRetry(st)
	}
	for _, st := range rebuilt {
		if client, _ := st.client(); client != nil {
			s.kickLocked(st)
		}
	}
	return nil
}

// build builds st's client and stores the outcome; it reports whether a
// client came out. A failure is logged at error level (the tenant and the
// file it names are in the message) by a reload (attempt 0), and by a
// retry (attempt > 0) only when it fails differently from the last time.
func (s *Scheduler) build(st *tenantState, attempt int) bool {
	client, err := s.newClientSafe(st.cfg)
	prev := st.conn.Load()
	if err == nil {
		st.conn.Store(&tenantConn{client: client})
		if prev != nil && prev.err != nil {
			level.Info(s.logger).Log("msg", "tenant set up; its collectors refresh now", "tenant", st.cfg.Name)
		}
		return true
	}
	next := &tenantConn{err: err, logged: errorFingerprint(err)}
	if attempt > 0 && prev != nil && prev.logged == next.logged {
		level.Debug(s.logger).Log("msg", "tenant still cannot be set up", "tenant", st.cfg.Name, "attempt", attempt+1, "err", err)
	} else {
		level.Error(s.logger).Log("msg", "cannot set up tenant; its collectors fail until it can be, retrying with backoff and at every reload", "tenant", st.cfg.Name, "err", err)
	}
	st.conn.Store(next)
	return false
}

// newClientSafe is the client factory with a panic (a parser meeting a
// file it did not expect) turned into an error for that tenant.
func (s *Scheduler) newClientSafe(t config.Tenant) (c *defender.Client, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("tenant %s: building the client panicked: %v", t.Name, r)
			level.Error(s.logger).Log("msg", "building a client panicked", "tenant", t.Name, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	return s.newClient(t)
}

// buildBackoff is the wait before retry number attempt (from 0) of a
// failed build: base, doubled each time, capped at max.
func buildBackoff(attempt int, base, max time.Duration) time.Duration {
	d := base
	for range attempt {
		if d >= max/2 {
			return max
		}
		d *= 2
	}
	return min(d, max)
}

// startRetry starts st's retry loop unless one runs; s.mu held, so that
// Stop cannot miss it.
func (s *Scheduler) startRetry(st *tenantState) {
	st.retryMu.Lock()
	defer st.retryMu.Unlock()
	if st.retryStop != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	st.retryStop, st.retryDone = cancel, done
	go func() {
		defer close(done)
		for attempt := 0; ; attempt++ {
			timer := time.NewTimer(buildBackoff(attempt, s.opts.BuildRetryBase, s.opts.BuildRetryMax))
			select {
			case <-ctx.Done():
				timer.Stop()
				return
			case <-timer.C:
			}
			if s.build(st, attempt+1) {
				s.mu.Lock()
				if s.tenants[st.cfg.Name] == st {
					s.kickLocked(st)
				}
				s.mu.Unlock()
				return
			}
		}
	}()
}

// stopRetry ends st's retry loop, if any, and waits for it.
func (st *tenantState) stopRetry() {
	st.retryMu.Lock()
	stop, done := st.retryStop, st.retryDone
	st.retryStop, st.retryDone = nil, nil
	st.retryMu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
}

// close ends st's retries and closes its client; its jobs have stopped.
func (st *tenantState) close() {
	st.stopRetry()
	if client, _ := st.client(); client != nil {
		client.Close()
	}
}

// kickLocked makes st's jobs refresh now: its client has just been built,
// and they failed for the want of one. s.mu held.
func (s *Scheduler) kickLocked(st *tenantState) {
	for _, j := range s.jobs {
		if j.tenant == st {
			select {
			case j.kick <- struct{}{}:
			default: // one is pending already
			}
		}
	}
}

func (s *Scheduler) jitter(interval time.Duration) time.Duration {
	max := min(s.opts.MaxJitter, interval/4)
	if max <= 0 {
		return 0
	}
	return rand.N(max)
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

// job is one (tenant, collector) pair on its own timer. One goroutine runs
// it, so refreshes of a job never overlap.
type job struct {
	key      jobKey
	spec     jobSpec
	coll     Collector
	tenant   *tenantState
	interval time.Duration
	timeout  time.Duration
	sched    *Scheduler
	logger   log.Logger

	mu    sync.Mutex // serialises refresh between the loop and RefreshNow
	state atomic.Pointer[jobState]
	// ctx ends when the job is stopped; every refresh of the job, from
	// the loop or from RefreshNow, ends with it.
	ctx     context.Context
	cancel  context.CancelFunc
	started atomic.Bool
	done    chan struct{} // closed when the loop has returned
	// kick asks the loop for a refresh now (the tenant's client was just
	// built); it holds at most one request.
	kick    chan struct{}
	lastLog string // last error logged, so a persisting failure is logged once
}

// jobState is an immutable snapshot; the scrape path loads it atomically.
type jobState struct {
	success     bool          // latest refresh succeeded
	duration    time.Duration // of the latest refresh
	lastSuccess time.Time
	err         error
	// calls is what the last successful refresh cost, by family (nil
	// before one); listings says page by page where it went. The planner
	// budgets from them.
	calls    map[defender.Family]int
	listings []defender.Listing
	// rendered is the last successful refresh's metrics, in the text
	// format: Handler writes it as it is, Collect parses it back
	// (exposition.go). It is kept instead of the metrics themselves,
	// which take about five times the memory.
	rendered []renderedFamily
}

func (s *Scheduler) newJob(key jobKey, spec jobSpec, c Collector, ts *tenantState) *job {
	ctx, cancel := context.WithCancel(context.Background())
	return &job{
		key:      key,
		spec:     spec,
		coll:     c,
		tenant:   ts,
		interval: spec.interval,
		timeout:  refreshTimeout(spec.interval),
		sched:    s,
		logger:   jobLogger(s.logger, key),
		ctx:      ctx,
		cancel:   cancel,
		done:     make(chan struct{}),
		kick:     make(chan struct{}, 1),
	}
}

func jobLogger(l log.Logger, key jobKey) log.Logger {
	l = log.With(l, "tenant", key.tenant, "collector", key.collector)
	if key.query != "" {
		l = log.With(l, "query", key.query)
	}
	return l
}

// huntingCollector is the collector label of every hunting query.
const huntingCollector = "hunting"

// refreshTimeout keeps a refresh shorter than its interval, so the next one
// never starts late because of the previous one.
func refreshTimeout(interval time.Duration) time.Duration {
	return interval - interval/10
}

// volatile matches what differs between two answers that fail for the same
// reason: Defender's and Entra's correlation ids, HTTP/2 stream ids, local
// ports, page numbers, seconds left before a deadline. Statuses stay apart
// all the same, since the status text follows the code.
var volatile = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9]+`)

// errorFingerprint decides whether a failure is new enough to log at warn
// level again: a persisting failure is logged once.
func errorFingerprint(err error) string {
	return volatile.ReplaceAllString(err.Error(), "#")
}

func (j *job) start(delay time.Duration) {
	j.started.Store(true)
	go j.loop(delay)
}

// stop ends the job and returns once no refresh of it runs, from the loop
// or from RefreshNow.
func (j *job) stop() {
	j.cancel()
	if j.started.Load() {
		<-j.done
	}
	// A refresh started by RefreshNow holds j.mu until it has seen the
	// cancelled context.
	j.mu.Lock()
	defer j.mu.Unlock()
}

func (j *job) loop(delay time.Duration) {
	defer close(j.done)
	timer := time.NewTimer(delay)
	defer timer.Stop()
	for {
		select {
		case <-j.ctx.Done():
			return
		case <-timer.C:
		case <-j.kick:
		}
		started := time.Now()
		j.refresh(j.ctx)
		// Intervals run start to start; the timeout keeps a refresh
		// inside its interval.
		timer.Reset(max(0, j.interval-time.Since(started)))
	}
}

func (j *job) refresh(parent context.Context) {
	j.mu.Lock()
	defer j.mu.Unlock()
	// The job's own end stops a refresh that RefreshNow started too.
	parent, cancelParent := context.WithCancel(parent)
	defer cancelParent()
	defer context.AfterFunc(j.ctx, cancelParent)()
	if parent.Err() != nil {
		return
	}
	// The tenant's slot first: a refresh queued behind its own tenant's
	// slow ones must not sit on a global slot that another tenant could
	// use.
	select {
	case j.tenant.sem <- struct{}{}:
	case <-parent.Done():
		return
	}
	defer func() { <-j.tenant.sem }()
	select {
	case j.sched.sem <- struct{}{}:
	case <-parent.Done():
		return
	}
	defer func() { <-j.sched.sem }()

	ctx, cancel := context.WithTimeout(parent, j.timeout)
	defer cancel()
	var calls defender.CallCounter
	ctx = defender.WithCallCounter(ctx, &calls)
	begin := time.Now()
	var rendered []renderedFamily
	var err error
	var stack []byte // of a panic
	client, buildErr := j.tenant.client()
	notSetUp := client == nil
	if notSetUp {
		err = fmt.Errorf("tenant not set up: %w", buildErr)
	} else {
		rendered, stack, err = j.collect(ctx, client)
	}
	if parent.Err() != nil {
		// Stopped by a reload or shutdown, not failed: the snapshot
		// stays as it was.
		return
	}
	elapsed := time.Since(begin)

	prev := j.state.Load()
	next := &jobState{duration: elapsed}
	if err == nil {
		next.success = true
		next.lastSuccess = time.Now()
		next.calls = calls.Calls()
		next.listings = calls.Listings()
		next.rendered = rendered
		if j.lastLog != "" {
			level.Info(j.logger).Log("msg", "refresh succeeded again", "duration", elapsed.Round(time.Millisecond))
			j.lastLog = ""
		}
	} else {
		// Only the refresh's own deadline: a request that timed out on
		// request_timeout wraps DeadlineExceeded too.
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			err = fmt.Errorf("refresh took longer than %s (90%% of the interval): %w", j.timeout, err)
		}
		next.err = err
		if prev != nil {
			// Keep serving the last good snapshot; success=0 and the
			// last-success timestamp say it is stale. A failed refresh
			// stopped early or retried: it says nothing about what a
			// refresh costs, so the last good figures stay too.
			next.lastSuccess = prev.lastSuccess
			next.calls = prev.calls
			next.listings = prev.listings
			next.rendered = prev.rendered
		}
		switch msg := errorFingerprint(err); {
		case errors.Is(err, defender.ErrHuntingDeferred):
			// The client logged the deferral once for the whole tenant;
			// one line per query would repeat it.
			level.Debug(j.logger).Log("msg", "hunting deferred; keeping the last good snapshot", "err", err)
		case notSetUp:
			// The tenant's own line (build) says why, once for all its
			// collectors.
			level.Debug(j.logger).Log("msg", "refresh failed: the tenant has no client", "err", err)
		case msg != j.lastLog && stack != nil:
			level.Error(j.logger).Log("msg", "refresh panicked; counted as a failed refresh, keeping the last good snapshot", "err", err, "stack", string(stack))
			j.lastLog = msg
		case msg != j.lastLog:
			level.Warn(j.logger).Log("msg", "refresh failed; keeping the last good snapshot", "err", err)
			j.lastLog = msg
		default:
			level.Debug(j.logger).Log("msg", "refresh still failing", "err", err)
		}
	}
	j.state.Store(next)
	if next.success && (prev == nil || !maps.Equal(prev.calls, next.calls)) {
		j.sched.planner.observed(j.key.tenant)
	}
	if j.sched.onRefresh != nil {
		j.sched.onRefresh(j.key, next)
	}
}

// collect runs the collector and renders its snapshot. A panic in either
// (a nil in remote data, a metric constructor refusing a value) is this
// refresh's failure, with the stack to log, not the process's end.
func (j *job) collect(ctx context.Context, client *defender.Client) (rendered []renderedFamily, stack []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			rendered, stack, err = nil, debug.Stack(), fmt.Errorf("panic: %v", r)
		}
	}()
	metrics, err := j.coll.Refresh(ctx, &Target{
		Tenant: j.key.tenant,
		Client: client,
		Now:    j.sched.opts.Now,
		Logger: j.logger,
	})
	if err != nil {
		return nil, nil, err
	}
	// Rendered once here, not at every scrape; a snapshot a registry
	// would refuse is a failed refresh.
	if rendered, err = renderSnapshot(metrics); err != nil {
		return nil, nil, fmt.Errorf("the refresh produced metrics that cannot be exposed: %w", err)
	}
	return rendered, nil, nil
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
			h.ran = true
			h.ok = h.ok && st.success
			h.duration += st.duration
			switch {
			case st.lastSuccess.IsZero():
				h.anyMissing = true
			case h.lastSuccess.IsZero() || st.lastSuccess.Before(h.lastSuccess):
				h.lastSuccess = st.lastSuccess
			}
			continue
		}
		collectorRow(ch, j.key.tenant, j.key.collector, st.success, st.duration, st.lastSuccess)
	}
	for tenant, h := range hunting {
		last := h.lastSuccess
		if h.anyMissing {
			last = time.Time{}
		}
		collectorRow(ch, tenant, huntingCollector, h.ok, h.duration, last)
	}
	for _, t := range names {
		ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, b2f(up[t]), t)
	}
	for _, st := range tenants {
		client, _ := st.client()
		if client == nil {
			continue
		}
		if exp, ok := client.CertificateExpiry(); ok {
			ch <- prometheus.MustNewConstMetric(certExpiryDesc, prometheus.GaugeValue, float64(exp.Unix()), st.cfg.Name)
		}
	}
	s.planner.collect(ch)
	s.collectRetired(ch) // retired.go
}

func collectorRow(ch chan<- prometheus.Metric, tenant, collector string, success bool, d time.Duration, lastSuccess time.Time) {
	ch <- prometheus.MustNewConstMetric(successDesc, prometheus.GaugeValue, b2f(success), tenant, collector)
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
