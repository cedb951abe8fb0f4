package collector

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/defender-exporter/defender_exporter/config"
	"github.com/defender-exporter/defender_exporter/defender"
	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

// Reloads under load: configurations are applied while refreshes are in
// flight (held up by Delay faults) and scrapes are running. A job whose
// configuration did not change must never lose a series, and nothing may
// be left running once the scheduler is stopped.

// reloadFleet is the fakes and the clients the factory built for them.
type reloadFleet struct {
	fakes   map[string]*defendertest.Tenant // tenant name -> fake
	apps    map[string]*defendertest.App
	metrics *defender.Metrics

	mu    sync.Mutex
	built []builtClient
}

type builtClient struct {
	tenant string
	cfg    config.Tenant
	client *defender.Client
}

func newReloadFleet(t *testing.T, reg prometheus.Registerer) *reloadFleet {
	t.Helper()
	a, err := defendertest.New(defendertest.Options{Seed: 1, Size: defendertest.Size{Machines: 20, Alerts: 30}, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	b, err := defendertest.New(defendertest.Options{Seed: 2, Size: defendertest.Size{Machines: 15, Alerts: 20}, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	appA, appB := a.NewApp(), b.NewApp()
	// northwind is a third tenant name served by fabrikam's fake, for
	// reloads that add and remove a tenant.
	return &reloadFleet{
		fakes:   map[string]*defendertest.Tenant{"contoso": a, "fabrikam": b, "northwind": b},
		apps:    map[string]*defendertest.App{"contoso": appA, "fabrikam": appB, "northwind": appB},
		metrics: defender.NewMetrics(reg),
	}
}

// factory builds clients the way main does, from the tenant's configuration
// (request_timeout included), and remembers them.
func (f *reloadFleet) factory(tc config.Tenant) (*defender.Client, error) {
	ft, app := f.fakes[tc.Name], f.apps[tc.Name]
	if ft == nil {
		return nil, fmt.Errorf("no fake for %s", tc.Name)
	}
	u := ft.URL()
	endpoints, scopes, err := defender.ResolveEndpoints("global", "", defender.Endpoints{Authority: u, MDE: u, XDR: u, Graph: u})
	if err != nil {
		return nil, err
	}
	clk := &stepClock{now: time.Now()}
	c, err := defender.NewClient(defender.Options{
		Tenant:         tc.Name,
		Credential:     defender.Credential{TenantID: ft.TenantID(), ClientID: app.ClientID, ClientSecret: app.Secret},
		Endpoints:      endpoints,
		Scopes:         scopes,
		RootCAs:        ft.CAPool(),
		RequestTimeout: tc.RequestTimeout,
		RetryBase:      time.Millisecond,
		RetryMax:       4 * time.Millisecond,
		Metrics:        f.metrics,
		Clock:          clk.Now,
		Sleep:          clk.Sleep,
	})
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.built = append(f.built, builtClient{tenant: tc.Name, cfg: tc, client: c})
	f.mu.Unlock()
	return c, nil
}

// closeAll closes every client ever built: what is left running after that
// is not the clients' doing.
func (f *reloadFleet) closeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, b := range f.built {
		b.client.Close()
	}
}

// closeCurrent closes only the clients of cfg's tenants as they are
// configured now, as a process that stops its scheduler would; clients of
// tenants a reload dropped or changed are the scheduler's to release.
func (f *reloadFleet) closeCurrent(cfg *config.Config) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, b := range f.built {
		for _, tc := range cfg.Tenants {
			if b.tenant == tc.Name && fmt.Sprint(b.cfg) == fmt.Sprint(tc) {
				b.client.Close()
			}
		}
	}
}

// reloadConfig is a configuration over the named tenants; lookback and
// timeout vary between reloads to change some jobs and not others.
func reloadConfig(t *testing.T, f *reloadFleet, interval, lookback string, tenants ...string) *config.Config {
	t.Helper()
	var b strings.Builder
	b.WriteString("defaults: {request_timeout: 1s}\ntenants:\n")
	for _, name := range tenants {
		fmt.Fprintf(&b, "  - {name: %s, tenant_id: %s, client_id: %s, client_secret: x}\n", name, f.fakes[name].TenantID(), f.apps[name].ClientID)
	}
	b.WriteString(onlyCollectors("alerts", "machines"))
	yml := strings.Replace(b.String(), "  alerts: {enabled: true, api: mde}", fmt.Sprintf("  alerts: {enabled: true, api: mde, interval: %s, lookback: %s}", interval, lookback), 1)
	yml = strings.Replace(yml, "  machines: {enabled: true}", fmt.Sprintf("  machines: {enabled: true, interval: %s}", interval), 1)
	cfg, err := config.Parse([]byte(yml), "reload.yml", config.Options{})
	if err != nil {
		t.Fatalf("%v\n%s", err, yml)
	}
	return cfg
}

// render is exposition without testing.TB, for goroutines other than the
// test's.
func render(c prometheus.Collector) (string, error) {
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		return "", err
	}
	mfs, err := reg.Gather()
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return "", err
		}
	}
	return buf.String(), nil
}

// scrapeWhile scrapes s until stop is closed and checks every scrape with
// check; it returns the number of scrapes done.
func scrapeWhile(t *testing.T, s *Scheduler, stop <-chan struct{}, check func(expo string) error) <-chan int {
	done := make(chan int, 1)
	go func() {
		n := 0
		defer func() { done <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			expo, err := render(s)
			if err == nil {
				err = check(expo)
			}
			if err != nil {
				t.Errorf("scrape %d: %v", n, err)
				return
			}
			n++
		}
	}()
	return done
}

// keeps returns a scrape check: the given series are all present with the
// same values, and each named job has some series.
func keeps(fixed []string, nonEmpty map[string][]string) func(string) error {
	return func(expo string) error {
		lines := map[string]bool{}
		for _, l := range strings.Split(expo, "\n") {
			lines[l] = true
		}
		for _, l := range fixed {
			if !lines[l] {
				return fmt.Errorf("series of an unchanged job lost or changed: %s", l)
			}
		}
		for tenant, colls := range nonEmpty {
			for _, coll := range colls {
				if len(dataSeries(expo, tenant, coll)) == 0 {
					return fmt.Errorf("%s/%s has no series", tenant, coll)
				}
			}
		}
		return nil
	}
}

// settleGoroutines waits until at most want goroutines run; the deadline
// bounds a failure, it measures nothing.
func settleGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > want {
		if time.Now().After(deadline) {
			var buf bytes.Buffer
			_ = pprof.Lookup("goroutine").WriteTo(&buf, 1)
			t.Fatalf("%d goroutines still running, %d before the test:\n%s", runtime.NumGoroutine(), want, buf.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestReloadDuringRefreshNow applies configurations while RefreshNow runs
// in several goroutines and the fakes hold answers back.
func TestReloadDuringRefreshNow(t *testing.T) {
	reg := prometheus.NewRegistry()
	fleet := newReloadFleet(t, reg)
	baseline := runtime.NumGoroutine()
	fleet.fakes["contoso"].SetFault("/api/alerts", defendertest.Fault{Delay: 20 * time.Millisecond})
	fleet.fakes["fabrikam"].SetFault("/api/machines", defendertest.Fault{Delay: 20 * time.Millisecond})

	s := NewScheduler(log.NewNopLogger(), fleet.factory, SchedulerOptions{Manual: true, Now: fixedNow})
	cfg0 := reloadConfig(t, fleet, "5m", "720h", "contoso", "fabrikam")
	if err := s.Apply(cfg0); err != nil {
		t.Fatal(err)
	}
	s.RefreshNow(context.Background())
	before := string(exposition(t, s))
	// machines is never changed below: its series must survive every
	// reload byte for byte. alerts changes (lookback) and must never be
	// empty, since each changed job carries its snapshot over.
	var fixed []string
	for _, tenant := range []string{"contoso", "fabrikam"} {
		fixed = append(fixed, dataSeries(before, tenant, "machines")...)
	}
	if len(fixed) == 0 {
		t.Fatal("no machines series before the reloads")
	}
	check := keeps(fixed, map[string][]string{"contoso": {"alerts", "machines"}, "fabrikam": {"alerts", "machines"}})

	ctx, cancel := context.WithCancel(context.Background())
	var refreshers sync.WaitGroup
	for range 3 {
		refreshers.Add(1)
		go func() {
			defer refreshers.Done()
			for ctx.Err() == nil {
				s.RefreshNow(ctx)
			}
		}()
	}
	stopScrapes := make(chan struct{})
	scrapes := scrapeWhile(t, s, stopScrapes, check)

	configs := []*config.Config{
		reloadConfig(t, fleet, "5m", "2160h", "contoso", "fabrikam"),              // alerts jobs change
		reloadConfig(t, fleet, "5m", "2160h", "contoso", "fabrikam", "northwind"), // a tenant joins
		reloadConfig(t, fleet, "5m", "720h", "contoso", "fabrikam", "northwind"),  // alerts change back
		reloadConfig(t, fleet, "5m", "720h", "contoso", "fabrikam"),               // and it leaves
	}
	for round := range 5 {
		for i, cfg := range configs {
			if err := s.Apply(cfg); err != nil {
				t.Fatalf("round %d, config %d: %v", round, i, err)
			}
			// Let refreshes of the new jobs get going before the next one.
			waitCalls(t, fleet.fakes["contoso"], "/api/alerts")
		}
	}
	// A configuration whose collector cannot be built is refused as a
	// whole: every job keeps running as it was.
	bad := *cfg0
	bad.Collectors = map[string]config.Collector{}
	for k, v := range cfg0.Collectors {
		bad.Collectors[k] = v
	}
	badAlerts := bad.Collectors["alerts"]
	badAlerts.Lookback = 0
	bad.Collectors["alerts"] = badAlerts
	if err := s.Apply(&bad); err == nil {
		t.Error("a configuration with an unbuildable collector was applied")
	}
	waitCalls(t, fleet.fakes["contoso"], "/api/alerts")

	cancel()
	refreshers.Wait()
	close(stopScrapes)
	if n := <-scrapes; n == 0 {
		t.Error("no scrape ran during the reloads")
	}
	after := string(exposition(t, s))
	if err := check(after); err != nil {
		t.Error(err)
	}
	if strings.Contains(after, `tenant="northwind"`) {
		t.Error("series of the removed tenant northwind remain")
	}
	// The refused configuration left the alerts jobs as configured before.
	if err := s.Apply(cfg0); err != nil {
		t.Fatal(err)
	}

	s.Stop()
	fleet.closeAll()
	settleGoroutines(t, baseline)
}

// waitCalls waits until the fake has received one more call to endpoint:
// proof that a refresh is running.
func waitCalls(t *testing.T, ft *defendertest.Tenant, endpoint string) {
	t.Helper()
	start := ft.Calls(endpoint)
	deadline := time.Now().Add(10 * time.Second)
	for ft.Calls(endpoint) == start {
		if time.Now().After(deadline) {
			t.Fatalf("no call to %s within 10s", endpoint)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestReloadWithTimers is the production mode: job loops on timers, each
// reload stopping changed jobs while their refreshes are in flight. After
// Stop, and closing the clients of the final configuration, nothing the
// scheduler started may still run: no job loop, no refresh, no connection
// of a client that a reload replaced.
func TestReloadWithTimers(t *testing.T) {
	reg := prometheus.NewRegistry()
	fleet := newReloadFleet(t, reg)
	baseline := runtime.NumGoroutine()
	// Long enough that a reload always finds the alerts call in flight.
	fleet.fakes["contoso"].SetFault("/api/alerts", defendertest.Fault{Delay: time.Minute})

	s := NewScheduler(log.NewNopLogger(), fleet.factory, SchedulerOptions{Now: fixedNow, MaxJitter: time.Millisecond})
	cfg := reloadConfig(t, fleet, "2s", "720h", "contoso", "fabrikam")
	if err := s.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	// Every job runs once: contoso's alerts fails on its 1s request
	// timeout, the others succeed.
	deadline := time.Now().Add(30 * time.Second)
	for !s.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("not ready within 30s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	before := string(exposition(t, s))
	var fixed []string
	for _, tenant := range []string{"contoso", "fabrikam"} {
		fixed = append(fixed, dataSeries(before, tenant, "machines")...)
	}
	fixed = append(fixed, dataSeries(before, "fabrikam", "alerts")...)
	if len(fixed) == 0 {
		t.Fatal("no series before the reloads")
	}
	stopScrapes := make(chan struct{})
	scrapes := scrapeWhile(t, s, stopScrapes, keeps(fixed, nil))

	// Each reload changes contoso's tenant settings (its alerts call is
	// in flight, held by the fake) and adds or removes northwind; fabrikam
	// and contoso's collectors' settings stay. Changing contoso's request
	// timeout replaces its client.
	for round := range 4 {
		waitCalls(t, fleet.fakes["contoso"], "/api/alerts")
		timeout := []string{"1s", "1500ms"}[round%2]
		tenants := []string{"contoso", "fabrikam"}
		if round%2 == 0 {
			tenants = append(tenants, "northwind")
		}
		next := reloadConfig(t, fleet, "2s", "720h", tenants...)
		for i := range next.Tenants {
			if next.Tenants[i].Name == "contoso" {
				d, _ := time.ParseDuration(timeout)
				next.Tenants[i].RequestTimeout = d
			}
		}
		if err := s.Apply(next); err != nil {
			t.Fatal(err)
		}
		cfg = next
	}
	close(stopScrapes)
	if n := <-scrapes; n == 0 {
		t.Error("no scrape ran during the reloads")
	}

	s.Stop()
	if err := s.Apply(cfg); err == nil || !strings.Contains(err.Error(), "stopped") {
		t.Errorf("Apply after Stop: %v", err)
	}
	fleet.closeCurrent(cfg)
	settleGoroutines(t, baseline)
}
