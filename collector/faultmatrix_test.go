package collector

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/defender-exporter/defender_exporter/config"
	"github.com/defender-exporter/defender_exporter/defender"
	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

// The fault matrix drives every fault the fake tenant can produce through the
// real client and the scheduler, with two tenants and two collectors, and
// checks what an operator would see: how many calls Defender received, which
// self-metrics moved, what was logged, and that nothing but the failing job
// changed. The faults are always injected into tenant "contoso" (fake A);
// "fabrikam" (fake B) is the bystander.

const (
	faultTenant = "contoso"
	otherTenant = "fabrikam"
)

// lockedBuffer collects log output written from many goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// stepClock is the client's injected clock: it only moves when the client
// sleeps (backoff, Retry-After, budget waits), so retries cost no wall time
// and a Retry-After pause is over as soon as it has been "waited".
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return nil
}

// matrixClient builds a client for a fake tenant the way main does (secret
// credential, TLS with the fake's CA, shared metrics, the tenant's logger),
// with fast retries.
func matrixClient(t *testing.T, name string, ft *defendertest.Tenant, app *defendertest.App, m *defender.Metrics, logger log.Logger, mod func(*defender.Options)) *defender.Client {
	t.Helper()
	u := ft.URL()
	endpoints, scopes, err := defender.ResolveEndpoints("global", "", defender.Endpoints{Authority: u, MDE: u, XDR: u, Graph: u})
	if err != nil {
		t.Fatal(err)
	}
	clk := &stepClock{now: time.Now()}
	o := defender.Options{
		Tenant:           name,
		Credential:       defender.Credential{TenantID: ft.TenantID(), ClientID: app.ClientID, ClientSecret: app.Secret},
		Endpoints:        endpoints,
		Scopes:           scopes,
		RootCAs:          ft.CAPool(),
		RequestTimeout:   20 * time.Second,
		MaxResponseBytes: matrixBodyCap,
		RetryBase:        time.Millisecond,
		RetryMax:         4 * time.Millisecond,
		Metrics:          m,
		Logger:           log.With(logger, "tenant", name),
		Clock:            clk.Now,
		Sleep:            clk.Sleep,
	}
	if mod != nil {
		mod(&o)
	}
	c, err := defender.NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// matrixBodyCap is the clients' response cap: far above a normal page of the
// matrix tenants, far below the HugePage fault.
const matrixBodyCap = 1 << 20

// onlyCollectors is a collectors: section enabling exactly the named ones,
// so that collectors other helpers add later do not join the matrix. Alerts
// and incidents read the MDE and XDR back ends the rows were written for.
func onlyCollectors(names ...string) string {
	var b strings.Builder
	b.WriteString("collectors:\n")
	for _, n := range config.CollectorNames {
		on := false
		for _, want := range names {
			on = on || n == want
		}
		switch n {
		case "alerts":
			fmt.Fprintf(&b, "  %s: {enabled: %t, api: mde}\n", n, on)
		case "incidents":
			fmt.Fprintf(&b, "  %s: {enabled: %t, api: xdr}\n", n, on)
		default:
			fmt.Fprintf(&b, "  %s: {enabled: %t}\n", n, on)
		}
	}
	return b.String()
}

// matrixEnv is one row's exporter: a scheduler over both fakes, its
// registry, and the captured log.
type matrixEnv struct {
	a, b  *defendertest.Tenant
	appA  *defendertest.App
	appB  *defendertest.App
	reg   *prometheus.Registry
	sched *Scheduler
	logs  *lockedBuffer
}

// huntingSection adds one advanced hunting query (Graph) to both tenants.
const huntingSection = `hunting:
  api: graph
  queries:
    - name: devices_by_os
      help: Devices by OS platform.
      interval: 30m
      query: DeviceInfo | summarize arg_max(Timestamp, *) by DeviceId | summarize count() by OSPlatform
      labels: [OSPlatform]
      value: count_
`

func newMatrixEnv(t *testing.T, a, b *defendertest.Tenant, appA, appB *defendertest.App, row faultRow) *matrixEnv {
	t.Helper()
	e := &matrixEnv{a: a, b: b, appA: appA, appB: appB, reg: prometheus.NewRegistry(), logs: &lockedBuffer{}}
	logger := log.NewLogfmtLogger(e.logs)
	metrics := defender.NewMetrics(e.reg)
	clients := map[string]*defender.Client{
		faultTenant: matrixClient(t, faultTenant, a, appA, metrics, logger, row.opts),
		otherTenant: matrixClient(t, otherTenant, b, appB, metrics, logger, nil),
	}
	yml := fmt.Sprintf(`tenants:
  - {name: %s, tenant_id: %s, client_id: %s, client_secret: x}
  - {name: %s, tenant_id: %s, client_id: %s, client_secret: x}
`, faultTenant, a.TenantID(), appA.ClientID, otherTenant, b.TenantID(), appB.ClientID) + onlyCollectors("alerts", "machines")
	if row.hunting {
		yml += huntingSection
	}
	cfg, err := config.Parse([]byte(yml), "matrix.yml", config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.sched = NewScheduler(logger, func(tc config.Tenant) (*defender.Client, error) {
		return clients[tc.Name], nil
	}, SchedulerOptions{Manual: true, Now: fixedNow})
	if err := e.sched.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.sched.Stop)
	e.reg.MustRegister(e.sched)
	return e
}

// gather returns every sample of the registry keyed by its series, e.g.
// `defender_api_retries_total{api="mde",tenant="contoso"}`.
func (e *matrixEnv) gather(t *testing.T) map[string]float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var v float64
			switch {
			case m.Counter != nil:
				v = m.GetCounter().GetValue()
			case m.Gauge != nil:
				v = m.GetGauge().GetValue()
			case m.Histogram != nil:
				v = float64(m.GetHistogram().GetSampleCount())
			default:
				continue
			}
			out[seriesKey(mf.GetName(), m.GetLabel())] = v
		}
	}
	return out
}

func seriesKey(name string, labels []*dto.LabelPair) string {
	parts := make([]string, 0, len(labels))
	for _, l := range labels {
		parts = append(parts, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
	}
	sort.Strings(parts)
	return name + "{" + strings.Join(parts, ",") + "}"
}

// sum adds the samples of name whose labels include every given pair
// ("k=v" strings).
func sum(samples map[string]float64, name string, pairs ...string) float64 {
	total := 0.0
	for key, v := range samples {
		if !strings.HasPrefix(key, name+"{") {
			continue
		}
		ok := true
		for _, p := range pairs {
			k, val, _ := strings.Cut(p, "=")
			ok = ok && strings.Contains(key, fmt.Sprintf("%s=%q", k, val))
		}
		if ok {
			total += v
		}
	}
	return total
}

// jobSeries are the exposition lines that belong to one (tenant, collector)
// job: its Defender-derived series and its last-success timestamp.
func jobSeries(expo, tenant, coll string) []string {
	var out []string
	tl := fmt.Sprintf(`tenant=%q`, tenant)
	for _, line := range strings.Split(expo, "\n") {
		if strings.HasPrefix(line, "#") || !strings.Contains(line, tl) ||
			// The scheduler's own per-query health, not the snapshot.
			strings.HasPrefix(line, "defender_hunting_query_success{") || strings.HasPrefix(line, "defender_hunting_query_duration_seconds{") {
			continue
		}
		if strings.HasPrefix(line, "defender_"+coll+"{") || strings.HasPrefix(line, "defender_"+coll+"_") ||
			strings.HasPrefix(line, fmt.Sprintf(`defender_collector_last_success_timestamp_seconds{collector=%q,`, coll)) {
			out = append(out, line)
		}
	}
	return out
}

// dataSeries is jobSeries without the last-success timestamp, which a
// successful refresh moves.
func dataSeries(expo, tenant, coll string) []string {
	var out []string
	for _, l := range jobSeries(expo, tenant, coll) {
		if !strings.HasPrefix(l, "defender_collector_") {
			out = append(out, l)
		}
	}
	return out
}

func warnLines(logs string) []string {
	var out []string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "level=warn") || strings.Contains(l, "level=error") {
			out = append(out, l)
		}
	}
	return out
}

// faultRow is one line of the matrix. Counts are for one refresh cycle of
// every job after the fault was injected; the fault stays in place for a
// second cycle, which must log nothing new at warn level.
type faultRow struct {
	name string
	// opts adjusts the faulted tenant's client (timeouts, retries).
	opts func(*defender.Options)
	// inject sets the fault up, after a clean baseline refresh.
	inject func(t *testing.T, e *matrixEnv)
	// failing lists the faulted tenant's collectors whose refresh fails.
	failing []string
	// calls is what the fake saw per endpoint during the faulted cycle.
	calls map[string]int
	// requests are the increments of defender_api_requests_total of the
	// faulted tenant, keyed "api endpoint code"; keys not listed must
	// not move, except 200s of the other collector.
	requests map[string]float64
	retries  float64 // defender_api_retries_total{tenant=contoso} increment
	throttle float64 // defender_api_throttled_total{tenant=contoso} increment
	// logHas is in the one warn line logged per failing collector,
	// logHasNot is not.
	logHas, logHasNot string
	// check, for rows that succeed with altered data, inspects the result.
	check func(t *testing.T, before, after string)
	// counts, when set, replaces the checks of calls, requests and
	// retries, for a row whose counts depend on how the jobs interleave.
	counts func(t *testing.T, e *matrixEnv, m0, m1 map[string]float64)
	// hunting adds an advanced hunting query to the jobs of both tenants.
	hunting bool
	// clientWarns are warnings the client itself logs once, on top of
	// the scheduler's one per failing job.
	clientWarns []string
	// quiet lists failing collectors whose failure the scheduler logs at
	// debug only, because the client's warning already said it all.
	quiet []string
	// upStays: defender_up stays 1 despite the failure, which is about a
	// quota, not about reaching the tenant.
	upStays bool
	// second checks the calls of the second faulted cycle (ResetCalls
	// before it), when they differ from the first.
	second map[string]int
}

const (
	tokenEndpoint = "/{tenant}/oauth2/v2.0/token"
	oidcEndpoint  = "/{tenant}/v2.0/.well-known/openid-configuration"
)

// unknownEnumMachines is a page whose enum values Defender may add one day,
// plus a known value in the documented lower-case spelling.
const unknownEnumMachines = `{"@odata.context":"x","value":[
 {"id":"m1","computerDnsName":"new.contoso.local","healthStatus":"Quarantined","osPlatform":"Windows12",
  "onboardingStatus":"onboarded","exposureLevel":"Extreme","riskScore":"Critical","defenderAvStatus":"Tampered",
  "rbacGroupName":"Servers","lastSeen":"2026-11-01T11:00:00Z"}]}`

// nullAlerts has every field the collector reads set to null.
const nullAlerts = `{"value":[{"id":"a1","severity":null,"status":null,"category":null,"detectionSource":null,
 "classification":null,"determination":null,"alertCreationTime":null,"lastUpdateTime":null,"resolvedTime":null,"machineId":null}]}`

// huntingPath is the hunting query's endpoint (Graph).
const huntingPath = "/v1.0/security/runHuntingQuery"

func faultRows() []faultRow {
	fault := func(endpoint string, f defendertest.Fault) func(*testing.T, *matrixEnv) {
		return func(_ *testing.T, e *matrixEnv) { e.a.SetFault(endpoint, f) }
	}
	serverError := func(status int) faultRow {
		return faultRow{
			name:     fmt.Sprintf("%d", status),
			inject:   fault("/api/alerts", defendertest.Fault{Status: status}),
			failing:  []string{"alerts"},
			calls:    map[string]int{"/api/alerts": 4, "/api/machines": 1},
			requests: map[string]float64{fmt.Sprintf("mde /api/alerts %d", status): 4},
			retries:  3,
			logHas:   fmt.Sprintf("GET /api/alerts: HTTP %d", status),
		}
	}
	return []faultRow{
		{
			name:     "429 with Retry-After",
			inject:   fault("/api/alerts", defendertest.Fault{Status: 429, RetryAfter: "7"}),
			failing:  []string{"alerts"},
			calls:    map[string]int{"/api/alerts": 4, "/api/machines": 1},
			requests: map[string]float64{"mde /api/alerts 429": 4},
			retries:  3, throttle: 4,
			logHas: "HTTP 429 Too Many Requests",
		},
		{
			name:     "429 without Retry-After",
			inject:   fault("/api/alerts", defendertest.Fault{Status: 429}),
			failing:  []string{"alerts"},
			calls:    map[string]int{"/api/alerts": 4, "/api/machines": 1},
			requests: map[string]float64{"mde /api/alerts 429": 4},
			retries:  3, throttle: 4,
			logHas: "HTTP 429 Too Many Requests",
		},
		{
			// A spent CPU quota is not retried, and defers every hunting
			// call of the tenant: the next cycle sends nothing.
			name:     "429 hunting CPU quota",
			hunting:  true,
			inject:   fault(huntingPath, defendertest.HuntingCPUQuota()),
			failing:  []string{"hunting"},
			calls:    map[string]int{huntingPath: 1, "/api/alerts": 2, "/api/machines": 1},
			requests: map[string]float64{"graph " + huntingPath + " 429": 1},
			throttle: 1,
			quiet:    []string{"hunting"},
			upStays:  true,
			clientWarns: []string{
				`msg="advanced hunting CPU quota spent; every hunting query of the tenant is deferred, other collectors are not affected"`,
			},
			second: map[string]int{huntingPath: 0, "/api/alerts": 2, "/api/machines": 1},
		},
		serverError(500), serverError(502), serverError(503), serverError(504),
		{
			name:     "connection reset",
			inject:   fault("/api/alerts", defendertest.Fault{ResetConnection: true}),
			failing:  []string{"alerts"},
			calls:    map[string]int{"/api/alerts": 4, "/api/machines": 1},
			requests: map[string]float64{"mde /api/alerts error": 4},
			retries:  3,
			logHas:   "GET /api/alerts: stream error: ",
		},
		{
			// The one row that waits for real: a request timeout cannot be
			// faked. Kept short, with a single retry.
			name: "slow answer past the request timeout",
			opts: func(o *defender.Options) {
				o.RequestTimeout = 600 * time.Millisecond
				o.MaxRetries = 1
			},
			inject:   fault("/api/alerts", defendertest.Fault{Delay: time.Minute}),
			failing:  []string{"alerts"},
			calls:    map[string]int{"/api/alerts": 2, "/api/machines": 1},
			requests: map[string]float64{"mde /api/alerts error": 2},
			retries:  1,
			logHas:   "GET /api/alerts: no answer within the request timeout (600ms): context deadline exceeded",
			// The refresh itself had minutes left.
			logHasNot: "refresh took longer than",
		},
		{
			name:     "truncated JSON",
			inject:   fault("/api/alerts", defendertest.Fault{Truncated: true}),
			failing:  []string{"alerts"},
			calls:    map[string]int{"/api/alerts": 1, "/api/machines": 1},
			requests: map[string]float64{"mde /api/alerts 200": 1},
			logHas:   "listing alerts: /api/alerts page 1: ",
		},
		{
			name:     "malformed JSON",
			inject:   fault("/api/alerts", defendertest.Fault{Malformed: true}),
			failing:  []string{"alerts"},
			calls:    map[string]int{"/api/alerts": 1, "/api/machines": 1},
			requests: map[string]float64{"mde /api/alerts 200": 1},
			logHas:   "listing alerts: /api/alerts page 1: value[",
		},
		{
			name:     "wrong content type",
			inject:   fault("/api/alerts", defendertest.Fault{ContentType: "text/html; charset=utf-8"}),
			failing:  []string{"alerts"},
			calls:    map[string]int{"/api/alerts": 1, "/api/machines": 1},
			requests: map[string]float64{"mde /api/alerts 200": 1},
			logHas:   `unexpected content type: want application/json, got \"text/html; charset=utf-8\"`,
		},
		{
			name:     "empty page with a nextLink",
			inject:   fault("/api/alerts", defendertest.Fault{EmptyPageWithNextLink: true}),
			failing:  []string{"alerts"},
			calls:    map[string]int{"/api/alerts": 4, "/api/machines": 1},
			requests: map[string]float64{"mde /api/alerts 200": 4},
			logHas:   "4 empty pages in a row",
		},
		{
			name:     "nextLink loop",
			inject:   fault("/api/alerts", defendertest.Fault{NextLinkLoop: true}),
			failing:  []string{"alerts"},
			calls:    map[string]int{"/api/alerts": 1, "/api/machines": 1},
			requests: map[string]float64{"mde /api/alerts 200": 1},
			logHas:   "@odata.nextLink loop",
		},
		{
			name:     "nextLink to another host",
			inject:   fault("/api/alerts", defendertest.Fault{NextLinkOtherHost: true}),
			failing:  []string{"alerts"},
			calls:    map[string]int{"/api/alerts": 1, "/api/machines": 1, "otherhost": 0},
			requests: map[string]float64{"mde /api/alerts 200": 1},
			logHas:   "@odata.nextLink points to another origin",
		},
		{
			// The cached token must be rejected for the authority to be
			// asked at all: one 401 per job, one renewal attempt each.
			name: "token endpoint down",
			inject: func(_ *testing.T, e *matrixEnv) {
				e.a.SetFault("token", defendertest.Fault{Status: 503})
				e.a.ExpireTokens()
			},
			failing: []string{"alerts", "machines"},
			calls:   map[string]int{"/api/alerts": 1, "/api/machines": 1, "token": 2},
			requests: map[string]float64{
				"mde /api/alerts 401": 1, "mde /api/machines 401": 1, "entra " + tokenEndpoint + " 503": 2,
				"entra " + oidcEndpoint + " 200": 2,
			},
			logHas: "temporarily_unavailable AADSTS90033",
		},
		{
			name: "revoked secret",
			inject: func(_ *testing.T, e *matrixEnv) {
				e.a.RevokeApp(e.appA.ClientID)
				e.a.ExpireTokens()
			},
			failing: []string{"alerts", "machines"},
			calls:   map[string]int{"/api/alerts": 1, "/api/machines": 1, "token": 2},
			requests: map[string]float64{
				"mde /api/alerts 401": 1, "mde /api/machines 401": 1, "entra " + tokenEndpoint + " 401": 2,
				"entra " + oidcEndpoint + " 200": 2,
			},
			logHas: "invalid_client AADSTS7000215",
		},
		{
			// Expired tokens heal with one new token for both jobs. A job
			// that asks for its token after the other renewed it never
			// sees a 401, so there are one or two 401s, each retried once.
			name:   "expired tokens",
			inject: func(_ *testing.T, e *matrixEnv) { e.a.ExpireTokens() },
			counts: func(t *testing.T, e *matrixEnv, m0, m1 map[string]float64) {
				delta := func(pairs ...string) float64 {
					return sum(m1, "defender_api_requests_total", pairs...) - sum(m0, "defender_api_requests_total", pairs...)
				}
				rejected := delta("tenant="+faultTenant, "api=mde", "code=401")
				if rejected < 1 || rejected > 2 {
					t.Errorf("%g answers 401, want 1 or 2", rejected)
				}
				if got := float64(e.a.Calls("/api/alerts") + e.a.Calls("/api/machines")); got != 3+rejected {
					t.Errorf("%g API calls, want 3 + %g retried 401s", got, rejected)
				}
				if got := delta("tenant="+faultTenant, "api=mde", "code=200"); got != 3 {
					t.Errorf("%g API answers 200, want 3", got)
				}
				if got := delta("tenant="+faultTenant, "api=entra", "endpoint="+tokenEndpoint, "code=200"); got != 1 || e.a.Calls("token") != 1 {
					t.Errorf("%g new tokens (%d calls), want 1", got, e.a.Calls("token"))
				}
				retries := sum(m1, "defender_api_retries_total", "tenant="+faultTenant) - sum(m0, "defender_api_retries_total", "tenant="+faultTenant)
				if retries != rejected {
					t.Errorf("defender_api_retries_total moved by %g, want %g (one per 401)", retries, rejected)
				}
			},
		},
		{
			// A token the API rejects gets one renewal; the second 401 is final.
			name:    "401 on one API only",
			inject:  fault("/api/alerts", defendertest.Fault{Status: 401}),
			failing: []string{"alerts"},
			calls:   map[string]int{"/api/alerts": 2, "/api/machines": 1, "token": 1},
			requests: map[string]float64{
				"mde /api/alerts 401": 2, "entra " + tokenEndpoint + " 200": 1, "entra " + oidcEndpoint + " 200": 1,
			},
			retries: 1,
			logHas:  "GET /api/alerts: HTTP 401 Unauthorized",
		},
		{
			name:     "403 on one API only",
			inject:   fault("/api/machines", defendertest.Fault{Status: 403}),
			failing:  []string{"machines"},
			calls:    map[string]int{"/api/alerts": 2, "/api/machines": 1, "token": 0},
			requests: map[string]float64{"mde /api/machines 403": 1},
			logHas:   "GET /api/machines: HTTP 403 Forbidden",
		},
		{
			name:     "unknown enum values",
			inject:   fault("/api/machines", defendertest.Fault{Body: unknownEnumMachines}),
			calls:    map[string]int{"/api/alerts": 2, "/api/machines": 1},
			requests: map[string]float64{"mde /api/machines 200": 1},
			check: func(t *testing.T, _, after string) {
				got := dataSeries(after, faultTenant, "machines")
				want := []string{
					`defender_machines{av_status="Tampered",device_group="Servers",exposure_level="Extreme",health_status="Quarantined",onboarding_status="Onboarded",os_platform="Windows12",risk_score="Critical",tenant="contoso"} 1`,
					`defender_machines_stale{tenant="contoso",threshold="1d"} 0`,
					`defender_machines_stale{tenant="contoso",threshold="1w"} 0`,
					`defender_machines_stale{tenant="contoso",threshold="30d"} 0`,
				}
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("unknown enum values: got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
			},
		},
		{
			// Both alert listings get the same page, so the one alert counts twice.
			name:     "null fields",
			inject:   fault("/api/alerts", defendertest.Fault{Body: nullAlerts}),
			calls:    map[string]int{"/api/alerts": 2, "/api/machines": 1},
			requests: map[string]float64{"mde /api/alerts 200": 2},
			check: func(t *testing.T, _, after string) {
				got := dataSeries(after, faultTenant, "alerts")
				want := []string{`defender_alerts{category="",detection_source="",service_source="",severity="",status="",tenant="contoso"} 2`}
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("null fields: got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
			},
		},
		{
			name:     "enormous page past the body cap",
			inject:   fault("/api/alerts", defendertest.Fault{HugePage: 2 * matrixBodyCap}),
			failing:  []string{"alerts"},
			calls:    map[string]int{"/api/alerts": 1, "/api/machines": 1},
			requests: map[string]float64{"mde /api/alerts 200": 1},
			logHas:   "response too large: /api/alerts answered more than 1048576 bytes",
		},
	}
}

func TestFaultMatrix(t *testing.T) {
	a, err := defendertest.New(defendertest.Options{Seed: 1, Size: defendertest.Size{Machines: 30, Alerts: 60}, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := defendertest.New(defendertest.Options{Seed: 2, Size: defendertest.Size{Machines: 20, Alerts: 40}, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	appB := b.NewApp()
	var appA *defendertest.App

	for _, row := range faultRows() {
		t.Run(row.name, func(t *testing.T) {
			a.ClearFaults()
			b.ClearFaults()
			// A revoked app stays revoked: the next row gets a fresh one.
			if appA == nil || row.name == "revoked secret" {
				appA = a.NewApp()
			}
			e := newMatrixEnv(t, a, b, appA, appB, row)
			runFaultRow(t, e, row)
			if row.name == "revoked secret" {
				appA = nil
			}
		})
	}
}

func runFaultRow(t *testing.T, e *matrixEnv, row faultRow) {
	ctx := context.Background()
	secrets := []string{e.appA.Secret, e.appB.Secret}

	// A clean cycle: every job has a good snapshot and the tokens are cached.
	colls := []string{"alerts", "machines"}
	cleanCalls := map[string]int{"/api/alerts": 2, "/api/machines": 1}
	if row.hunting {
		colls = append(colls, "hunting")
		cleanCalls[huntingPath] = 1
	}
	// A machine busy with other tests may miss a short request timeout
	// once: the baseline is retried until every job has succeeded.
	var before string
	for attempt := 1; ; attempt++ {
		e.sched.RefreshNow(ctx)
		before = string(exposition(t, e.sched))
		m := e.gather(t)
		if sum(m, "defender_up", "tenant="+faultTenant) == 1 && sum(m, "defender_up", "tenant="+otherTenant) == 1 {
			break
		}
		if attempt == 5 {
			t.Fatalf("baseline: not every job succeeded in 5 cycles:\n%s", e.logs.String())
		}
	}
	for _, tenant := range []string{faultTenant, otherTenant} {
		for _, coll := range colls {
			if len(dataSeries(before, tenant, coll)) == 0 {
				t.Fatalf("baseline: no %s series for %s", coll, tenant)
			}
		}
	}
	m0 := e.gather(t)
	logsBefore := e.logs.String()

	row.inject(t, e)
	e.a.ResetCalls()
	e.b.ResetCalls()
	e.sched.RefreshNow(ctx)
	after := string(exposition(t, e.sched))
	m1 := e.gather(t)
	logs1 := strings.TrimPrefix(e.logs.String(), logsBefore)

	healthy := map[string]bool{}
	for _, c := range colls {
		healthy[c] = true
	}
	for _, c := range row.failing {
		healthy[c] = false
	}
	if row.counts != nil {
		row.counts(t, e, m0, m1)
	} else {
		// Calls the fake saw: retries and renewals are visible here.
		for endpoint, want := range row.calls {
			if got := e.a.Calls(endpoint); got != want {
				t.Errorf("calls to %s: %d, want %d", endpoint, got, want)
			}
		}
		checkRequestDeltas(t, m0, m1, row, healthy)
		if got := sum(m1, "defender_api_retries_total", "tenant="+faultTenant) - sum(m0, "defender_api_retries_total", "tenant="+faultTenant); got != row.retries {
			t.Errorf("defender_api_retries_total moved by %g, want %g", got, row.retries)
		}
	}
	for endpoint, want := range cleanCalls {
		if got := e.b.Calls(endpoint); got != want {
			t.Errorf("the other tenant's fake saw %d calls to %s, want %d", got, endpoint, want)
		}
	}
	if e.a.OtherHostSawToken() {
		t.Error("a bearer token reached the other host")
	}

	// Self-metrics of the faulted tenant.
	if got := sum(m1, "defender_api_throttled_total", "tenant="+faultTenant) - sum(m0, "defender_api_throttled_total", "tenant="+faultTenant); got != row.throttle {
		t.Errorf("defender_api_throttled_total moved by %g, want %g", got, row.throttle)
	}
	// The bystander: nothing but its usual 200s.
	delta := func(name string, pairs ...string) float64 { return sum(m1, name, pairs...) - sum(m0, name, pairs...) }
	for _, name := range []string{"defender_api_retries_total", "defender_api_throttled_total"} {
		if got := delta(name, "tenant="+otherTenant); got != 0 {
			t.Errorf("%s{tenant=%s} moved by %g, want 0", name, otherTenant, got)
		}
	}
	if got, ok := delta("defender_api_requests_total", "tenant="+otherTenant), delta("defender_api_requests_total", "tenant="+otherTenant, "code=200"); got != ok {
		t.Errorf("the other tenant got %g answers other than 200", got-ok)
	}
	wantUp := 1.0
	if len(row.failing) > 0 && !row.upStays {
		wantUp = 0
	}
	if got := sum(m1, "defender_up", "tenant="+faultTenant); got != wantUp {
		t.Errorf("defender_up{tenant=%s} = %g, want %g", faultTenant, got, wantUp)
	}
	if got := sum(m1, "defender_up", "tenant="+otherTenant); got != 1 {
		t.Errorf("defender_up{tenant=%s} = %g, want 1", otherTenant, got)
	}
	for _, coll := range colls {
		want := 0.0
		if healthy[coll] {
			want = 1
		}
		if got := sum(m1, "defender_collector_success", "tenant="+faultTenant, "collector="+coll); got != want {
			t.Errorf("defender_collector_success{tenant=%s,collector=%s} = %g, want %g", faultTenant, coll, got, want)
		}
		if got := sum(m1, "defender_collector_success", "tenant="+otherTenant, "collector="+coll); got != 1 {
			t.Errorf("defender_collector_success{tenant=%s,collector=%s} = %g, want 1", otherTenant, coll, got)
		}
	}

	// Snapshots: a failing job serves its last good snapshot unchanged,
	// last-success timestamp included; everything else is as before.
	for _, coll := range colls {
		if !healthy[coll] {
			sameLines(t, "failing "+faultTenant+"/"+coll, jobSeries(before, faultTenant, coll), jobSeries(after, faultTenant, coll))
		} else if row.check == nil {
			sameLines(t, "healthy "+faultTenant+"/"+coll, dataSeries(before, faultTenant, coll), dataSeries(after, faultTenant, coll))
		}
		sameLines(t, "bystander "+otherTenant+"/"+coll, dataSeries(before, otherTenant, coll), dataSeries(after, otherTenant, coll))
	}
	if row.check != nil {
		row.check(t, before, after)
	}

	// The log: one readable warning per failing job, nothing else at warn.
	warns := warnLines(logs1)
	if want := len(row.failing) - len(row.quiet) + len(row.clientWarns); len(warns) != want {
		t.Errorf("first failing cycle logged %d warnings, want %d:\n%s", len(warns), want, strings.Join(warns, "\n"))
	}
	for _, cw := range row.clientWarns {
		if !strings.Contains(logs1, cw) {
			t.Errorf("the client did not warn %s", cw)
		}
	}
	for _, coll := range row.failing {
		if slices.Contains(row.quiet, coll) {
			continue
		}
		var line string
		for _, w := range warns {
			if strings.Contains(w, "collector="+coll) && strings.Contains(w, "msg=\"refresh failed") {
				line = w
			}
		}
		switch {
		case line == "":
			t.Errorf("no warning for %s", coll)
		case !strings.Contains(line, `msg="refresh failed; keeping the last good snapshot"`) || !strings.Contains(line, "tenant="+faultTenant):
			t.Errorf("warning for %s lacks the message or the tenant: %s", coll, line)
		case !strings.Contains(line, row.logHas):
			t.Errorf("warning for %s does not say %q: %s", coll, row.logHas, line)
		case row.logHasNot != "" && strings.Contains(line, row.logHasNot):
			t.Errorf("warning for %s says %q: %s", coll, row.logHasNot, line)
		case strings.Contains(line, "%!") || strings.Contains(line, "&{") || strings.Contains(line, "0xc") ||
			strings.Contains(line, `Get \"http`): // a *url.Error repeating the URL and its query
			t.Errorf("warning for %s is not readable: %s", coll, line)
		}
	}

	// What an operator saw, for go test -v.
	var moved []string
	for key, v := range m1 {
		if strings.HasPrefix(key, "defender_api_") && strings.Contains(key, fmt.Sprintf("tenant=%q", faultTenant)) &&
			!strings.HasPrefix(key, "defender_api_request_duration") && v != m0[key] {
			moved = append(moved, fmt.Sprintf("%s +%g", strings.TrimPrefix(key, "defender_"), v-m0[key]))
		}
	}
	sort.Strings(moved)
	var seen []string
	for _, ep := range []string{"/api/alerts", "/api/machines", huntingPath, "token", "openid-configuration", "otherhost"} {
		if n := e.a.Calls(ep); n > 0 {
			seen = append(seen, fmt.Sprintf("%s=%d", ep, n))
		}
	}
	t.Logf("calls: %s\nmetrics: %s\nup: %g\nwarnings:\n%s", strings.Join(seen, " "), strings.Join(moved, "; "),
		sum(m1, "defender_up", "tenant="+faultTenant), strings.Join(warns, "\n"))

	// The same failure again: nothing new at warn level, snapshot unchanged.
	e.a.ResetCalls()
	e.sched.RefreshNow(ctx)
	for endpoint, want := range row.second {
		if got := e.a.Calls(endpoint); got != want {
			t.Errorf("second cycle: calls to %s: %d, want %d", endpoint, got, want)
		}
	}
	after2 := string(exposition(t, e.sched))
	logs2 := strings.TrimPrefix(e.logs.String(), logsBefore+logs1)
	if row.check == nil {
		if w := warnLines(logs2); len(w) > 0 {
			t.Errorf("the same failure logged again at warn level:\n%s", strings.Join(w, "\n"))
		}
	}
	for _, coll := range row.failing {
		sameLines(t, "failing "+faultTenant+"/"+coll+" (second cycle)", jobSeries(before, faultTenant, coll), jobSeries(after2, faultTenant, coll))
	}

	// No secret and no token in any log line, at any level.
	all := e.logs.String()
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Fatal("a client secret reached the log")
		}
	}
	if strings.Contains(all, "eyJ") || strings.Contains(all, "Bearer ") {
		t.Fatalf("a token reached the log:\n%s", all)
	}
	if t.Failed() {
		t.Logf("log:\n%s", all)
	}
}

// checkRequestDeltas compares the increments of defender_api_requests_total
// of the faulted tenant with the row: every listed series moved by exactly
// the stated amount, the healthy collectors' 200s moved as a clean refresh
// does, and nothing else moved.
func checkRequestDeltas(t *testing.T, m0, m1 map[string]float64, row faultRow, healthy map[string]bool) {
	t.Helper()
	want := map[string]float64{}
	for k, v := range row.requests {
		want[k] = v
	}
	cleanCalls := map[string]float64{"alerts": 2, "machines": 1, "hunting": 1}
	for coll, ok := range healthy {
		key := "mde /api/" + coll + " 200"
		if coll == "hunting" {
			key = "graph " + huntingPath + " 200"
		}
		if _, listed := want[key]; ok && !listed {
			want[key] = cleanCalls[coll]
		}
	}
	got := map[string]float64{}
	for key, v := range m1 {
		if !strings.HasPrefix(key, "defender_api_requests_total{") || !strings.Contains(key, fmt.Sprintf("tenant=%q", faultTenant)) {
			continue
		}
		if d := v - m0[key]; d != 0 {
			got[fmt.Sprintf("%s %s %s", label(key, "api"), label(key, "endpoint"), label(key, "code"))] = d
		}
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("defender_api_requests_total{%s} moved by %g, want %g", k, got[k], v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("defender_api_requests_total{%s} moved by %g, not expected", k, v)
		}
	}
}

// label extracts one label value from a seriesKey.
func label(key, name string) string {
	_, rest, ok := strings.Cut(key, name+`="`)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, `"`)
	return v
}

func sameLines(t *testing.T, what string, before, after []string) {
	t.Helper()
	if strings.Join(before, "\n") != strings.Join(after, "\n") {
		t.Errorf("%s: series changed\nbefore:\n%s\nafter:\n%s", what, strings.Join(before, "\n"), strings.Join(after, "\n"))
	}
}
