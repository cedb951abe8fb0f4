package collector

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"

	"github.com/defender-exporter/defender_exporter/defender"
)

// The call budget planner. Defender limits calls per tenant and API family
// (defender.DefaultBudgets); the client paces itself within those limits,
// but a configuration whose intervals ask for more than the limits allow
// can only end in refreshes that wait, time out and serve stale data. The
// planner says so up front: from each job's interval and what its refresh
// costs, it works out each tenant's calls per minute and per hour by
// family, logs them at start and on reload, exports them, and warns, with
// the interval to raise, when a family is over its limit.
//
// What a refresh costs is learnt: the scheduler counts the calls of every
// refresh (defender.WithCallCounter) and the planner recomputes a tenant
// when a refresh's count changed, which costs a few map lookups. Before a
// job's first refresh it is estimated at one call per listing.

// planFamilies is the order families are reported in.
var planFamilies = []defender.Family{defender.FamilyMDE, defender.FamilyAVInfo, defender.FamilyIncidents, defender.FamilyGraph, defender.FamilyHunting}

// estimatedCalls is the cost of a refresh before one has been observed, by
// collector and back end ("" for collectors with one): each collector's
// Spec.Calls, which register adds, and the hunting queries'.
var estimatedCalls = map[string]map[string]map[defender.Family]int{
	huntingCollector: {"": {defender.FamilyHunting: 1}}, // per query
}

// estimateCalls is a job's cost before its first refresh.
func estimateCalls(collector, api string) map[defender.Family]int {
	return estimatedCalls[collector][api]
}

// planHeadroom is the share of a limit that advice aims for: retries count
// against the limits too, and a plan at 100% throttles on the first one.
const planHeadroom = 0.9

// planJob is one job as the planner sees it.
type planJob struct {
	key      jobKey
	interval time.Duration
	timeout  time.Duration
	calls    map[defender.Family]int // per refresh
	observed bool                    // calls come from a refresh, not from estimatedCalls
}

// setting names the configuration key that sets the job's interval, for
// advice.
func (j planJob) setting() string {
	if j.key.query != "" {
		return "the interval of hunting query " + j.key.query
	}
	return "collectors." + j.key.collector + ".interval"
}

// familyPlan is one tenant's planned use of one family.
type familyPlan struct {
	family    defender.Family
	perMinute float64 // average rate
	perHour   float64
	limit     defender.Limit
	// problems says what is wrong, with the fix; empty when the plan fits.
	problems []string
}

// tenantPlan is the plan of one tenant: one entry per family with jobs.
type tenantPlan struct {
	tenant   string
	observed int // jobs whose cost was observed
	jobs     int
	families []familyPlan
}

// basis says how much of the plan rests on observed refreshes.
func (p *tenantPlan) basis() string {
	switch p.observed {
	case p.jobs:
		return "observed"
	case 0:
		return "estimate"
	}
	return "partly observed"
}

// planTenant computes a tenant's plan from its jobs.
func planTenant(tenant string, jobs []planJob) *tenantPlan {
	p := &tenantPlan{tenant: tenant, jobs: len(jobs)}
	byFamily := map[defender.Family][]planJob{}
	for _, j := range jobs {
		if j.observed {
			p.observed++
		}
		for f, n := range j.calls {
			if n > 0 {
				byFamily[f] = append(byFamily[f], j)
			}
		}
	}
	for _, f := range planFamilies {
		js := byFamily[f]
		if len(js) == 0 {
			continue
		}
		fp := familyPlan{family: f, limit: defender.DefaultBudgets[f]}
		for _, j := range js {
			n := float64(j.calls[f])
			fp.perMinute += n * float64(time.Minute) / float64(j.interval)
			fp.perHour += n * float64(time.Hour) / float64(j.interval)
		}
		fp.problems = familyProblems(f, fp, js)
		p.families = append(p.families, fp)
	}
	return p
}

// familyProblems explains how a family's plan breaks its limit and which
// interval to raise to what.
func familyProblems(f defender.Family, fp familyPlan, jobs []planJob) []string {
	var out []string
	lim := fp.limit
	for _, j := range jobs {
		n := j.calls[f]
		switch {
		case lim.PerHour > 0 && n > lim.PerHour:
			out = append(out, fmt.Sprintf("one refresh of %s needs %d calls, more than the %d an hour allows: it can never complete",
				j.key.name(), n, lim.PerHour))
		case lim.PerMinute > 0 && n > lim.PerMinute:
			// The client paces the calls; the refresh takes at least this
			// long, and fails if that is past its timeout.
			need := time.Duration((n-1)/lim.PerMinute) * time.Minute
			if need >= j.timeout {
				out = append(out, fmt.Sprintf("one refresh of %s needs %d calls, which at %d/min takes at least %s, past its timeout of %s: raise %s to more than %s",
					j.key.name(), n, lim.PerMinute, fmtDuration(need), fmtDuration(j.timeout), j.setting(), fmtDuration(roundUp(need*10/9+time.Minute))))
			}
		}
	}
	// The tightest of the two windows, as calls per hour.
	capHour := math.Inf(1)
	if lim.PerHour > 0 {
		capHour = float64(lim.PerHour)
	}
	if lim.PerMinute > 0 {
		capHour = min(capHour, float64(lim.PerMinute)*60)
	}
	if fp.perHour <= capHour {
		return out
	}
	over := fmt.Sprintf("planned %.0f calls/h (%.1f/min), over the limit of %s", fp.perHour, fp.perMinute, fmtLimit(lim))
	target := capHour * planHeadroom
	rate := func(j planJob) float64 { return float64(j.calls[f]) * float64(time.Hour) / float64(j.interval) }
	sorted := append([]planJob(nil), jobs...)
	sort.SliceStable(sorted, func(a, b int) bool { return rate(sorted[a]) > rate(sorted[b]) })
	top := sorted[0]
	if rest := fp.perHour - rate(top); rest < target {
		// Raising the costliest job's interval alone is enough.
		iv := roundUp(time.Duration(float64(top.calls[f]) * float64(time.Hour) / (target - rest)))
		return append(out, fmt.Sprintf("%s: raise %s from %s to %s", over, top.setting(), fmtDuration(top.interval), fmtDuration(iv)))
	}
	factor := fp.perHour / target
	var raise []string
	for _, j := range sorted {
		raise = append(raise, fmt.Sprintf("%s from %s to %s", j.setting(), fmtDuration(j.interval), fmtDuration(roundUp(time.Duration(float64(j.interval)*factor)))))
	}
	return append(out, fmt.Sprintf("%s: raise every interval of the %s family %.1f-fold: %s", over, f, factor, strings.Join(raise, ", ")))
}

// name is how a job is named in a message.
func (k jobKey) name() string {
	if k.query != "" {
		return "hunting query " + k.query
	}
	return "collector " + k.collector
}

// roundUp rounds an advised interval up to a whole minute (a whole second
// under a minute), so that advice reads like a configuration value.
func roundUp(d time.Duration) time.Duration {
	unit := time.Minute
	if d < time.Minute {
		unit = time.Second
	}
	return (d + unit - 1) / unit * unit
}

// fmtDuration writes a duration as the configuration file does (5m, 1h30m).
func fmtDuration(d time.Duration) string { return model.Duration(d).String() }

func fmtLimit(l defender.Limit) string {
	var parts []string
	if l.PerMinute > 0 {
		parts = append(parts, fmt.Sprintf("%d/min", l.PerMinute))
	}
	if l.PerHour > 0 {
		parts = append(parts, fmt.Sprintf("%d/h", l.PerHour))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

// logKeyvals is the plan as one log line's key/value pairs: per family,
// "<per minute>/min <per hour>/h of <limit>".
func (p *tenantPlan) logKeyvals() []any {
	kv := []any{"tenant", p.tenant, "basis", p.basis()}
	for _, fp := range p.families {
		kv = append(kv, string(fp.family), fmt.Sprintf("%s/min %s/h of %s", fmtRate(fp.perMinute), fmtRate(fp.perHour), fmtLimit(fp.limit)))
	}
	return kv
}

// fmtRate keeps small rates readable (0.25/min) without printing
// 1212.0000/h.
func fmtRate(v float64) string {
	if v >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
}

// planner keeps every tenant's plan. It has its own lock: refreshes report
// to it while Apply may hold the scheduler's lock waiting for them to stop.
type planner struct {
	logger log.Logger

	mu    sync.Mutex
	jobs  map[string][]*job // by tenant
	plans map[string]*tenantPlan
	// announced: the fully observed plan of the tenant was logged.
	announced map[string]bool
	// warned holds, per tenant, the problems last warned about, so that a
	// persisting problem is logged once.
	warned map[string]string
}

func newPlanner(logger log.Logger) *planner {
	return &planner{logger: logger, plans: map[string]*tenantPlan{}, announced: map[string]bool{}, warned: map[string]string{}}
}

// setJobs replaces the job set (start and reload) and logs every tenant's
// plan at info, and what is over a limit at warn.
func (p *planner) setJobs(jobs map[jobKey]*job) {
	byTenant := map[string][]*job{}
	for _, j := range jobs {
		byTenant[j.key.tenant] = append(byTenant[j.key.tenant], j)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.jobs = byTenant
	p.plans = map[string]*tenantPlan{}
	names := make([]string, 0, len(byTenant))
	for t := range byTenant {
		names = append(names, t)
	}
	sort.Strings(names)
	for _, t := range names {
		plan := p.compute(t)
		p.plans[t] = plan
		p.announced[t] = plan.basis() == "observed"
		level.Info(p.logger).Log(append([]any{"msg", "planned Defender API calls per tenant"}, plan.logKeyvals()...)...)
		delete(p.warned, t) // a reload repeats the warnings: the user is looking
		p.warn(plan)
	}
	for t := range p.announced {
		if _, ok := byTenant[t]; !ok {
			delete(p.announced, t)
			delete(p.warned, t)
		}
	}
}

// observed recomputes a tenant after one of its refreshes changed cost. The
// first plan resting wholly on observed refreshes is logged at info.
func (p *planner) observed(tenant string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.jobs[tenant]; !ok {
		return // a job of a tenant removed meanwhile
	}
	plan := p.compute(tenant)
	p.plans[tenant] = plan
	msg := "planned Defender API calls per tenant changed"
	if !p.announced[tenant] && plan.basis() == "observed" {
		p.announced[tenant] = true
		level.Info(p.logger).Log(append([]any{"msg", "planned Defender API calls per tenant, from observed refreshes"}, plan.logKeyvals()...)...)
	} else {
		level.Debug(p.logger).Log(append([]any{"msg", msg}, plan.logKeyvals()...)...)
	}
	p.warn(plan)
}

// warn logs the plan's problems when they differ from the last ones logged
// for the tenant, and says so when they are gone.
func (p *planner) warn(plan *tenantPlan) {
	var all []string
	for _, fp := range plan.families {
		for _, pr := range fp.problems {
			all = append(all, string(fp.family)+": "+pr)
		}
	}
	fingerprint := strings.Join(all, "\n")
	last, seen := p.warned[plan.tenant]
	if seen && last == fingerprint {
		return
	}
	p.warned[plan.tenant] = fingerprint
	if fingerprint == "" {
		if seen && last != "" {
			level.Info(p.logger).Log("msg", "planned Defender API calls are within the limits again", "tenant", plan.tenant)
		}
		return
	}
	for _, fp := range plan.families {
		for _, pr := range fp.problems {
			level.Warn(p.logger).Log("msg", "planned Defender API calls exceed a limit; refreshes will wait for call slots and may time out",
				"tenant", plan.tenant, "family", fp.family, "problem", pr)
		}
	}
}

// compute builds a tenant's plan from its jobs' latest state; p.mu held.
func (p *planner) compute(tenant string) *tenantPlan {
	jobs := p.jobs[tenant]
	pj := make([]planJob, 0, len(jobs))
	for _, j := range jobs {
		x := planJob{key: j.key, interval: j.interval, timeout: j.timeout}
		if st := j.state.Load(); st != nil && st.calls != nil {
			x.calls, x.observed = st.calls, true
		} else {
			x.calls = estimateCalls(j.key.collector, j.spec.coll.API)
		}
		pj = append(pj, x)
	}
	return planTenant(tenant, pj)
}

var (
	plannedCallsDesc = prometheus.NewDesc(namespace+"_api_planned_calls",
		"Calls to Defender per minute (average) or per hour that the configured intervals plan for, by API family, from the calls of each collector's latest refresh (1 per listing before the first). Compare with defender_api_call_limit.",
		[]string{"tenant", "family", "window"}, nil)
	callLimitDesc = prometheus.NewDesc(namespace+"_api_call_limit",
		"Defender's documented limit of calls per tenant, by API family and window.",
		[]string{"family", "window"}, nil)
)

// collect emits the plans and the limits.
func (p *planner) collect(ch chan<- prometheus.Metric) {
	p.mu.Lock()
	plans := make([]*tenantPlan, 0, len(p.plans))
	for _, plan := range p.plans {
		plans = append(plans, plan)
	}
	p.mu.Unlock()
	for _, plan := range plans {
		for _, fp := range plan.families {
			ch <- prometheus.MustNewConstMetric(plannedCallsDesc, prometheus.GaugeValue, fp.perMinute, plan.tenant, string(fp.family), "minute")
			ch <- prometheus.MustNewConstMetric(plannedCallsDesc, prometheus.GaugeValue, fp.perHour, plan.tenant, string(fp.family), "hour")
		}
	}
	for _, f := range planFamilies {
		lim := defender.DefaultBudgets[f]
		if lim.PerMinute > 0 {
			ch <- prometheus.MustNewConstMetric(callLimitDesc, prometheus.GaugeValue, float64(lim.PerMinute), string(f), "minute")
		}
		if lim.PerHour > 0 {
			ch <- prometheus.MustNewConstMetric(callLimitDesc, prometheus.GaugeValue, float64(lim.PerHour), string(f), "hour")
		}
	}
}
