package collector

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/defender-exporter/defender_exporter/config"
	"github.com/defender-exporter/defender_exporter/defender"
	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

// defaultPlanJobs are the jobs of the default configuration, costed by the
// estimate (one call per listing).
func defaultPlanJobs(t *testing.T) []planJob {
	t.Helper()
	var jobs []planJob
	for _, name := range config.CollectorNames {
		c := config.DefaultCollector(name)
		if !c.Enabled {
			continue
		}
		jobs = append(jobs, planJob{
			key:      jobKey{tenant: "contoso", collector: name},
			interval: c.Interval,
			timeout:  refreshTimeout(c.Interval),
			calls:    estimateCalls(name, config.DefaultCollector(name).API),
		})
	}
	return jobs
}

func familyOf(t *testing.T, p *tenantPlan, f defender.Family) familyPlan {
	t.Helper()
	for _, fp := range p.families {
		if fp.family == f {
			return fp
		}
	}
	t.Fatalf("plan has no %s family: %+v", f, p.families)
	return familyPlan{}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// TestPlanDefaultsFitEasily: the default intervals, costed one call per
// listing, ask for a few percent of every limit.
func TestPlanDefaultsFitEasily(t *testing.T) {
	p := planTenant("contoso", defaultPlanJobs(t))
	if p.basis() != "estimate" {
		t.Errorf("basis = %q, want estimate", p.basis())
	}
	// mde: machines 1/15m, scores 3/1h, vulnerabilities 1/1h,
	// recommendations 1/1h, machine actions 1/5m; graph: alerts and
	// incidents 1/5m each.
	wantHour := map[defender.Family]float64{
		defender.FamilyMDE:    4 + 3 + 1 + 1 + 12,
		defender.FamilyAVInfo: 1,
		defender.FamilyGraph:  12 + 12 + 1, // alerts, incidents, secure_score 1/1h; identity is off
	}
	for f, want := range wantHour {
		fp := familyOf(t, p, f)
		if !near(fp.perHour, want) || !near(fp.perMinute, want/60) {
			t.Errorf("%s: planned %.3f/min %.3f/h, want %.3f/min %g/h", f, fp.perMinute, fp.perHour, want/60, want)
		}
		if len(fp.problems) > 0 {
			t.Errorf("%s: problems with the defaults: %v", f, fp.problems)
		}
	}
	if len(p.families) != 3 {
		t.Errorf("families = %d, want 3: mde, avinfo and graph (no hunting without queries, no XDR incidents on the graph default)", len(p.families))
	}
}

// TestPlanAdviceRaisesTheCostliestInterval: a tenant whose alerts take 150
// pages every 5 minutes is over the mde hourly limit; raising the alerts
// interval alone fixes it, and the advice says to what.
func TestPlanAdviceRaisesTheCostliestInterval(t *testing.T) {
	jobs := defaultPlanJobs(t)
	for i := range jobs {
		if jobs[i].key.collector == "alerts" {
			jobs[i].calls = map[defender.Family]int{defender.FamilyMDE: 150}
			jobs[i].observed = true
		}
	}
	p := planTenant("contoso", jobs)
	if p.basis() != "partly observed" {
		t.Errorf("basis = %q", p.basis())
	}
	mde := familyOf(t, p, defender.FamilyMDE)
	if !near(mde.perHour, 1800+21) {
		t.Errorf("mde per hour = %g, want 1821", mde.perHour)
	}
	// 90% of 1,500/h is 1,350; the other jobs take 21, so alerts may take
	// 1,329/h: 150 calls every 6.77 minutes, rounded up to 7m.
	want := "planned 1821 calls/h (30.3/min), over the limit of 100/min 1500/h: raise collectors.alerts.interval from 5m to 7m"
	if len(mde.problems) != 1 || mde.problems[0] != want {
		t.Errorf("problems = %q,\nwant [%q]", mde.problems, want)
	}
	// With the advice applied, the plan fits.
	for i := range jobs {
		if jobs[i].key.collector == "alerts" {
			jobs[i].interval = 7 * time.Minute
		}
	}
	if fp := familyOf(t, planTenant("contoso", jobs), defender.FamilyMDE); len(fp.problems) > 0 {
		t.Errorf("after the advice: %v", fp.problems)
	}
}

// TestPlanAdviceScalesEveryInterval: when no single interval can fix a
// family, every one is raised by the same factor; a refresh that needs more
// calls than an hour allows is called out as hopeless.
func TestPlanAdviceScalesEveryInterval(t *testing.T) {
	jobs := []planJob{
		{key: jobKey{tenant: "t", collector: "hunting", query: "a"}, interval: time.Minute, timeout: refreshTimeout(time.Minute), calls: map[defender.Family]int{defender.FamilyHunting: 1}},
		{key: jobKey{tenant: "t", collector: "hunting", query: "b"}, interval: time.Minute, timeout: refreshTimeout(time.Minute), calls: map[defender.Family]int{defender.FamilyHunting: 1}},
		{key: jobKey{tenant: "t", collector: "hunting", query: "c"}, interval: time.Minute, timeout: refreshTimeout(time.Minute), calls: map[defender.Family]int{defender.FamilyHunting: 1}},
	}
	fp := familyOf(t, planTenant("t", jobs), defender.FamilyHunting)
	// 180/h against 1,500/h: fits. 45/min allows 2,700/h, so the hour binds.
	if len(fp.problems) > 0 {
		t.Fatalf("3 queries a minute: %v", fp.problems)
	}
	for i := 0; i < 30; i++ {
		jobs = append(jobs, planJob{key: jobKey{tenant: "t", collector: "hunting", query: fmt.Sprintf("q%02d", i)}, interval: time.Minute,
			timeout: refreshTimeout(time.Minute), calls: map[defender.Family]int{defender.FamilyHunting: 1}})
	}
	fp = familyOf(t, planTenant("t", jobs), defender.FamilyHunting)
	if len(fp.problems) != 1 || !strings.Contains(fp.problems[0], "raise every interval of the hunting family 1.5-fold") ||
		!strings.Contains(fp.problems[0], "the interval of hunting query a from 1m to 2m") {
		t.Errorf("problems = %q", fp.problems)
	}

	hopeless := []planJob{{key: jobKey{tenant: "t", collector: "av_health"}, interval: time.Hour, timeout: refreshTimeout(time.Hour),
		calls: map[defender.Family]int{defender.FamilyAVInfo: 1200}}}
	fp = familyOf(t, planTenant("t", hopeless), defender.FamilyAVInfo)
	if len(fp.problems) == 0 || !strings.Contains(fp.problems[0], "can never complete") {
		t.Errorf("problems = %q", fp.problems)
	}

	// 300 alert pages at 100/min take 2 minutes at least: within the 4m30s
	// timeout of a 5m interval, but not within the 54s of a 1m one.
	paced := []planJob{{key: jobKey{tenant: "t", collector: "alerts"}, interval: 5 * time.Minute, timeout: refreshTimeout(5 * time.Minute),
		calls: map[defender.Family]int{defender.FamilyMDE: 300}}}
	fp = familyOf(t, planTenant("t", paced), defender.FamilyMDE)
	for _, pr := range fp.problems {
		if strings.Contains(pr, "past its timeout") {
			t.Errorf("a paced refresh within its timeout is flagged: %s", pr)
		}
	}
	paced[0].interval, paced[0].timeout = 20*time.Minute, 54*time.Second
	fp = familyOf(t, planTenant("t", paced), defender.FamilyMDE)
	if len(fp.problems) == 0 || !strings.Contains(fp.problems[0], "takes at least 2m, past its timeout of 54s: raise collectors.alerts.interval to more than 4m") {
		t.Errorf("problems = %q", fp.problems)
	}
}

// syncBuffer is a log sink safe for the scheduler's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSchedulerPlansFromObservedRefreshes: Apply logs one estimated plan
// per tenant; after a refresh cycle the plan rests on the observed calls
// (a tenant whose alerts take several pages costs more than the estimate),
// is logged once more, and is exported next to the limits.
func TestSchedulerPlansFromObservedRefreshes(t *testing.T) {
	big, err := defendertest.New(defendertest.Options{Seed: 3, Size: defendertest.Size{Machines: 40, Alerts: 25000}, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	defer big.Close()
	var logs syncBuffer
	s := NewScheduler(log.NewLogfmtLogger(&logs), func(config.Tenant) (*defender.Client, error) {
		return newClient(t, big, nil), nil
	}, SchedulerOptions{Now: fixedNow, Manual: true})
	defer s.Stop()
	cfg, err := config.Parse([]byte(`tenants:
  - {name: contoso, tenant_id: `+big.TenantID()+`, client_id: 00000000-0000-0000-0000-000000000001, client_secret: x}
collectors:
  scores: {enabled: false}
  vulnerabilities: {enabled: false}
  recommendations: {enabled: false}
  av_health: {enabled: false}
  machine_actions: {enabled: false}
  incidents: {enabled: false}
  alerts: {api: mde}
`), "test.yml", config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	// alerts 2 calls / 5m, machines 1 / 15m: 28 calls an hour.
	wantEstimate := `level=info msg="planned Defender API calls per tenant" tenant=contoso basis=estimate mde="0.47/min 28/h of 100/min 1500/h"`
	if !strings.Contains(logs.String(), wantEstimate) {
		t.Errorf("log lacks %s:\n%s", wantEstimate, logs.String())
	}
	out := string(exposition(t, s))
	for _, want := range []string{
		`defender_api_planned_calls{family="mde",tenant="contoso",window="hour"} 28`,
		`defender_api_call_limit{family="mde",window="minute"} 100`,
		`defender_api_call_limit{family="avinfo",window="hour"} 1000`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("exposition lacks %s", want)
		}
	}

	s.RefreshNow(context.Background())
	// The alerts within the lookback take two pages of 10,000 here: 3
	// calls per refresh, 36 an hour, and machines 4: 40.
	s.mu.Lock()
	st := s.jobs[jobKey{tenant: "contoso", collector: "alerts"}].state.Load()
	s.mu.Unlock()
	if got := st.calls[defender.FamilyMDE]; got != 3 {
		t.Fatalf("alerts refresh observed %d calls, want 3 (listings %+v)", got, st.listings)
	}
	wantObserved := `msg="planned Defender API calls per tenant, from observed refreshes" tenant=contoso basis=observed mde="0.67/min 40/h of 100/min 1500/h"`
	if !strings.Contains(logs.String(), wantObserved) {
		t.Errorf("log lacks %s:\n%s", wantObserved, logs.String())
	}
	out = string(exposition(t, s))
	if want := `defender_api_planned_calls{family="mde",tenant="contoso",window="hour"} 40`; !strings.Contains(out, want) {
		t.Errorf("exposition lacks %s", want)
	}
	if strings.Contains(logs.String(), "level=warn") {
		t.Errorf("warnings for a plan within the limits:\n%s", logs.String())
	}

	// An alerts interval that breaks the hourly limit is warned about at
	// reload, with the advice, using the observed cost.
	cfg.Collectors["alerts"] = config.Collector{Name: "alerts", Enabled: true, Interval: 5 * time.Second, Lookback: 720 * time.Hour, API: "mde"}
	if err := s.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	wantWarn := `level=warn msg="planned Defender API calls exceed a limit; refreshes will wait for call slots and may time out" tenant=contoso family=mde problem="planned 2164 calls/h (36.1/min), over the limit of 100/min 1500/h: raise collectors.alerts.interval from 5s to 9s"`
	if !strings.Contains(logs.String(), wantWarn) {
		t.Errorf("log lacks %s:\n%s", wantWarn, logs.String())
	}
}

// TestEstimatedCallsMatchSmallTenant: for a tenant whose every listing fits
// one page, each collector's refresh costs exactly its estimate, so the
// planner's figures before the first refresh are right for most tenants.
func TestEstimatedCallsMatchSmallTenant(t *testing.T) {
	small := defendertest.DefaultSize
	small.Incidents = 40 // under one page: 50 on Graph, 100 on XDR
	_, target := fakeTenant(t, small)
	for name, byAPI := range estimatedCalls {
		for api, want := range byAPI {
			var c Collector
			var err error
			if name == huntingCollector {
				c, err = NewHuntingQuery("graph", huntingQueryConfig("q", sensorHealthKQL, "count_", "SensorHealthState"))
			} else {
				cc := config.DefaultCollector(name)
				cc.Enabled = true
				cc.API = api
				c, err = New(cc)
			}
			if err != nil {
				t.Fatal(err)
			}
			var calls defender.CallCounter
			if _, err := c.Refresh(defender.WithCallCounter(context.Background(), &calls), target); err != nil {
				t.Fatalf("%s (api %q): %v", name, api, err)
			}
			if got := calls.Calls(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s (api %q): a refresh took %v, the planner estimates %v", name, api, got, want)
			}
		}
	}
}
