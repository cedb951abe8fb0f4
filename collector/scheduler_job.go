package collector

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/defender-exporter/defender_exporter/defender"
)

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
	// retired: the refresh failed because the MDE or XDR API answered
	// that it is retired (defender_collector_api_retired), decided once
	// here rather than at every scrape.
	retired bool
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

// refresh runs the collector once, within the job's timeout and the
// tenant's and the scheduler's concurrency limits, and stores the outcome.
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
	release, ok := j.acquireSlots(parent)
	if !ok {
		return
	}
	defer release()

	ctx, cancel := context.WithTimeout(parent, j.timeout)
	defer cancel()
	var calls defender.CallCounter
	ctx = defender.WithCallCounter(ctx, &calls)
	begin := time.Now()
	out := j.attempt(ctx)
	if parent.Err() != nil {
		// Stopped by a reload or shutdown, not failed: the snapshot
		// stays as it was.
		return
	}
	elapsed := time.Since(begin)

	prev := j.state.Load()
	var next *jobState
	if out.err == nil {
		next = j.succeeded(elapsed, &calls, out.rendered)
	} else {
		// Only the refresh's own deadline: a request that timed out on
		// request_timeout wraps DeadlineExceeded too.
		if errors.Is(out.err, context.DeadlineExceeded) && ctx.Err() != nil {
			out.err = fmt.Errorf("refresh took longer than %s (90%% of the interval): %w", j.timeout, out.err)
		}
		next = failedState(prev, elapsed, out.err)
		j.logFailure(out)
	}
	j.publish(prev, next)
}

// acquireSlots takes one of the tenant's slots, then one of the
// scheduler's; release gives both back. ok is false, and nothing is held,
// if ctx ends first.
func (j *job) acquireSlots(ctx context.Context) (release func(), ok bool) {
	// The tenant's slot first: a refresh queued behind its own tenant's
	// slow ones must not sit on a global slot that another tenant could
	// use.
	select {
	case j.tenant.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, false
	}
	select {
	case j.sched.sem <- struct{}{}:
	case <-ctx.Done():
		<-j.tenant.sem
		return nil, false
	}
	return func() {
		<-j.sched.sem
		<-j.tenant.sem
	}, true
}

// outcome is what one attempt at a refresh gave.
type outcome struct {
	rendered []renderedFamily
	err      error
	stack    []byte // of a panic
	notSetUp bool   // the tenant has no client; err says why
}

// attempt runs the collector with the tenant's client, or fails at once
// when the tenant has none.
func (j *job) attempt(ctx context.Context) outcome {
	client, buildErr := j.tenant.client()
	if client == nil {
		return outcome{err: fmt.Errorf("tenant not set up: %w", buildErr), notSetUp: true}
	}
	rendered, stack, err := j.collect(ctx, client)
	return outcome{rendered: rendered, err: err, stack: stack}
}

// succeeded is the state after a successful refresh; it logs the end of
// a failure that was logged.
func (j *job) succeeded(elapsed time.Duration, calls *defender.CallCounter, rendered []renderedFamily) *jobState {
	next := &jobState{
		success:     true,
		duration:    elapsed,
		lastSuccess: time.Now(),
		calls:       calls.Calls(),
		listings:    calls.Listings(),
		rendered:    rendered,
	}
	if j.lastLog != "" {
		level.Info(j.logger).Log("msg", "refresh succeeded again", "duration", elapsed.Round(time.Millisecond))
		j.lastLog = ""
	}
	return next
}

// failedState is the state after a refresh that failed with err.
func failedState(prev *jobState, elapsed time.Duration, err error) *jobState {
	next := &jobState{duration: elapsed, err: err, retired: errors.Is(err, defender.ErrAPIRetired)}
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
	return next
}

// logFailure logs a failed refresh: a new failure at warn level (error
// for a panic), a persisting one at debug level.
func (j *job) logFailure(out outcome) {
	err := out.err
	switch msg := errorFingerprint(err); {
	case errors.Is(err, defender.ErrHuntingDeferred):
		// The client logged the deferral once for the whole tenant;
		// one line per query would repeat it.
		level.Debug(j.logger).Log("msg", "hunting deferred; keeping the last good snapshot", "err", err)
	case out.notSetUp:
		// The tenant's own line (build) says why, once for all its
		// collectors.
		level.Debug(j.logger).Log("msg", "refresh failed: the tenant has no client", "err", err)
	case msg != j.lastLog && out.stack != nil:
		level.Error(j.logger).Log("msg", "refresh panicked; counted as a failed refresh, keeping the last good snapshot", "err", err, "stack", string(out.stack))
		j.lastLog = msg
	case msg != j.lastLog:
		level.Warn(j.logger).Log("msg", "refresh failed; keeping the last good snapshot", "err", err)
		j.lastLog = msg
	default:
		level.Debug(j.logger).Log("msg", "refresh still failing", "err", err)
	}
}

// publish makes next the job's served state, and tells the planner when
// a refresh's cost changed.
func (j *job) publish(prev, next *jobState) {
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
