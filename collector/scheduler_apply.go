package collector

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"runtime/debug"
	"slices"
	"time"

	"github.com/go-kit/log/level"

	"github.com/defender-exporter/defender_exporter/config"
	"github.com/defender-exporter/defender_exporter/defender"
)

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
	s.warnUnbuilt(cfg)
	plan, wantTenants, err := planJobs(cfg, curJobs)
	if err != nil {
		return err
	}
	tc := s.setUpTenants(wantTenants, curTenants)
	intervals, err := renderSnapshot(intervalMetrics(intervalJobs(plan)))
	if err != nil {
		// Label values that passed the config check: cannot happen.
		tc.closeCreated()
		return fmt.Errorf("rendering the collectors' intervals: %w", err)
	}

	// Swap: the new job set is served from here on.
	started, stopping, ok := s.swap(plan, tc.tenants, intervals)
	if !ok {
		tc.closeCreated()
		return errors.New("scheduler stopped")
	}

	// Outside the lock: wait for the replaced jobs, then start their
	// successors with the snapshot the old ones ended with.
	handOver(stopping, started)
	s.release(tc.dropped, tc.removed)
	return s.launch(started, tc.failed, tc.rebuilt)
}

// plannedJob is one job of the new set. coll is nil when the running job
// has the same spec: that job goes on untouched.
type plannedJob struct {
	key  jobKey
	spec jobSpec
	coll Collector
}

// warnUnbuilt warns of each collector cfg enables that this build lacks.
func (s *Scheduler) warnUnbuilt(cfg *config.Config) {
	for _, name := range config.CollectorNames {
		if _, built := factories[name]; cfg.Collectors[name].Enabled && !built {
			level.Warn(s.logger).Log("msg", "collector enabled in the configuration is not part of this build; skipping it", "collector", name)
		}
	}
}

// planJobs lists the jobs cfg asks for, with a new collector for each job
// whose spec is new or changed, and the tenants cfg names.
func planJobs(cfg *config.Config, curJobs map[jobKey]*job) ([]plannedJob, map[string]config.Tenant, error) {
	var plan []plannedJob
	wantTenants := map[string]config.Tenant{}
	for _, t := range cfg.Tenants {
		wantTenants[t.Name] = t
		jobs, err := planTenantJobs(cfg, t, curJobs)
		if err != nil {
			return nil, nil, err
		}
		plan = append(plan, jobs...)
	}
	return plan, wantTenants, nil
}

// planTenantJobs is planJobs for one tenant: a job per enabled collector
// of this build, and one per hunting query.
func planTenantJobs(cfg *config.Config, t config.Tenant, curJobs map[jobKey]*job) ([]plannedJob, error) {
	var plan []plannedJob
	for _, name := range config.CollectorNames {
		cc, ok := cfg.Collectors[name]
		if _, built := factories[name]; !ok || !cc.Enabled || !built {
			continue
		}
		key := jobKey{tenant: t.Name, collector: name}
		spec := jobSpec{tenant: t, coll: cc, interval: cfg.Interval(t, name)}
		if old, ok := curJobs[key]; ok && reflect.DeepEqual(old.spec, spec) {
			plan = append(plan, plannedJob{key: key, spec: spec})
			continue
		}
		c, err := New(cc)
		if err != nil {
			return nil, fmt.Errorf("tenant %s: %w", t.Name, err)
		}
		plan = append(plan, plannedJob{key: key, spec: spec, coll: c})
	}
	// Every tenant runs every hunting query, each on its own interval.
	for _, q := range cfg.Hunting.Queries {
		key := jobKey{tenant: t.Name, collector: huntingCollector, query: q.Name}
		spec := jobSpec{tenant: t, query: q, huntingAPI: cfg.Hunting.API, interval: q.Interval}
		if old, ok := curJobs[key]; ok && reflect.DeepEqual(old.spec, spec) {
			plan = append(plan, plannedJob{key: key, spec: spec})
			continue
		}
		c, err := NewHuntingQuery(cfg.Hunting.API, q)
		if err != nil {
			return nil, fmt.Errorf("tenant %s: hunting query %s: %w", t.Name, q.Name, err)
		}
		plan = append(plan, plannedJob{key: key, spec: spec, coll: c})
	}
	return plan, nil
}

// tenantChanges is what a reload does to the tenants: the new set, and
// the tenantStates that the later steps of Apply close, retry or kick.
type tenantChanges struct {
	tenants map[string]*tenantState
	dropped []*tenantState // removed or changed: their jobs stop
	created []*tenantState // new tenantStates: closed if the swap fails
	rebuilt []*tenantState // failed before, built again in place
	removed []string       // tenant names gone from the configuration
	failed  []*tenantState // built in vain: retried
}

// setUpTenants keeps the clients of unchanged tenants; it builds the
// others, and again those whose client failed.
func (s *Scheduler) setUpTenants(wantTenants map[string]config.Tenant, curTenants map[string]*tenantState) *tenantChanges {
	tc := &tenantChanges{tenants: make(map[string]*tenantState, len(wantTenants))}
	names := slices.Sorted(maps.Keys(wantTenants)) // build and log in a stable order
	for name, st := range curTenants {
		if t, ok := wantTenants[name]; !ok || !reflect.DeepEqual(t, st.cfg) {
			tc.dropped = append(tc.dropped, st)
			if !ok {
				tc.removed = append(tc.removed, name)
			}
		}
	}
	for _, name := range names {
		t := wantTenants[name]
		st, ok := curTenants[name]
		switch {
		case ok && reflect.DeepEqual(t, st.cfg):
			if client, _ := st.client(); client != nil {
				tc.tenants[name] = st
				continue
			}
			st.stopRetry()
			tc.rebuilt = append(tc.rebuilt, st)
		default:
			st = &tenantState{cfg: t, sem: make(chan struct{}, s.opts.TenantConcurrency)}
			tc.created = append(tc.created, st)
		}
		tc.tenants[name] = st
		if !s.build(st, 0) {
			tc.failed = append(tc.failed, st)
		}
	}
	return tc
}

// closeCreated closes the tenantStates this reload created, when it gives
// up before the swap: no job uses them.
func (tc *tenantChanges) closeCreated() {
	for _, st := range tc.created {
		st.close()
	}
}

// intervalJobs stands in for the planned jobs where only their interval
// counts: in defender_collector_interval_seconds.
func intervalJobs(plan []plannedJob) map[jobKey]*job {
	jobs := make(map[jobKey]*job, len(plan))
	for _, p := range plan {
		jobs[p.key] = &job{interval: p.spec.interval}
	}
	return jobs
}

// replacement is a job started by a reload: in place of old, or of
// nothing (old nil).
type replacement struct {
	old, new *job
	// carried is the snapshot the new job got from the old one.
	carried *jobState
}

// swap makes the planned jobs and tenants the served ones, under the
// scheduler's lock. It returns the new jobs, not started yet, and the
// replaced ones, not stopped yet; ok is false, and nothing changed, if
// the scheduler has stopped.
func (s *Scheduler) swap(plan []plannedJob, tenants map[string]*tenantState, intervals []renderedFamily) (started []replacement, stopping []*job, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil, nil, false
	}
	jobs := make(map[jobKey]*job, len(plan))
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
	for key, j := range s.jobs {
		if jobs[key] != j {
			stopping = append(stopping, j)
		}
	}
	s.jobs = jobs
	s.tenants = tenants
	s.intervals = intervals
	s.planner.setJobs(s.jobs)
	return started, stopping, true
}

// handOver stops the replaced jobs and waits for them, then gives each
// successor the snapshot its predecessor ended with.
func handOver(stopping []*job, started []replacement) {
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
}

// release closes the dropped tenants' clients and forgets the removed
// tenants, once their jobs have stopped.
func (s *Scheduler) release(dropped []*tenantState, removed []string) {
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
}

// launch starts the new jobs' timers, the retries of the tenants that
// could not be built, and a refresh of the jobs of the tenants rebuilt
// with success. It holds the scheduler's lock, so that nothing starts
// after Stop.
func (s *Scheduler) launch(started []replacement, failed, rebuilt []*tenantState) error {
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
