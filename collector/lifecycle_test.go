package collector

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/defender-exporter/defender_exporter/config"
	"github.com/defender-exporter/defender_exporter/defender"
)

// Lifecycle faults: tenants whose client cannot be built, refreshes that
// panic, reloads that must not stall scrapes.

// flakyFactory wraps a fleet's factory: tenant broken fails to build
// while broken is set, and every build is counted.
type flakyFactory struct {
	fleet  *reloadFleet
	tenant string
	broken atomic.Bool
	builds atomic.Int32
}

var errBrokenFile = errors.New("certificate /etc/defender/fabrikam.pfx: PKCS#12: not a PKCS#12 file")

func (f *flakyFactory) build(tc config.Tenant) (*defender.Client, error) {
	if tc.Name == f.tenant {
		f.builds.Add(1)
		if f.broken.Load() {
			return nil, errBrokenFile
		}
	}
	return f.fleet.factory(tc)
}

// TestReloadRebuildsFailedTenant: a tenant whose client could not be
// built is built again by the next reload, even though its configuration
// did not change (the file it names did).
func TestReloadRebuildsFailedTenant(t *testing.T) {
	fleet := newReloadFleet(t, nil)
	f := &flakyFactory{fleet: fleet, tenant: "fabrikam"}
	f.broken.Store(true)
	// Retries far off: only the reload can rebuild the tenant here.
	s := NewScheduler(log.NewNopLogger(), f.build, SchedulerOptions{Manual: true, Now: fixedNow, BuildRetryBase: time.Hour})
	defer s.Stop()
	cfg := reloadConfig(t, fleet, "5m", "720h", "contoso", "fabrikam")
	if err := s.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	s.RefreshNow(context.Background())
	out := string(exposition(t, s))
	for _, want := range []string{`defender_up{tenant="contoso"} 1`, `defender_up{tenant="fabrikam"} 0`} {
		if !strings.Contains(out, want) {
			t.Fatalf("with the broken file: lacks %s", want)
		}
	}

	f.broken.Store(false) // the operator fixed the file
	if err := s.Apply(reloadConfig(t, fleet, "5m", "720h", "contoso", "fabrikam")); err != nil {
		t.Fatal(err)
	}
	s.RefreshNow(context.Background())
	out = string(exposition(t, s))
	if !strings.Contains(out, `defender_up{tenant="fabrikam"} 1`) {
		t.Errorf("the reload did not rebuild the failed tenant (%d builds):\n%s", f.builds.Load(), grepLines(out, "defender_up"))
	}
	s.Stop()
	fleet.closeAll()
}

// TestFailedTenantRetried: without any reload, a tenant whose client
// failed is built again with backoff until it works; it is logged once at
// error level however often the same failure repeats, and its jobs refresh
// as soon as the client is there rather than at their next interval.
func TestFailedTenantRetried(t *testing.T) {
	fleet := newReloadFleet(t, nil)
	f := &flakyFactory{fleet: fleet, tenant: "fabrikam"}
	f.broken.Store(true)
	logs := &lockedBuffer{}
	// Hour-long intervals: a refresh after the first one is the retry's.
	s := NewScheduler(log.NewLogfmtLogger(logs), f.build, SchedulerOptions{Now: fixedNow, MaxJitter: time.Millisecond,
		BuildRetryBase: 5 * time.Millisecond, BuildRetryMax: 20 * time.Millisecond})
	defer s.Stop()
	if err := s.Apply(reloadConfig(t, fleet, "1h", "720h", "contoso", "fabrikam")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first refresh cycle", s.Ready)
	waitFor(t, "four failed builds", func() bool { return f.builds.Load() >= 4 })
	if out := string(exposition(t, s)); !strings.Contains(out, `defender_up{tenant="fabrikam"} 0`) {
		t.Fatalf("fabrikam is not down with a broken file:\n%s", grepLines(out, "defender_up"))
	}
	f.broken.Store(false)
	waitFor(t, "fabrikam up without a reload", func() bool {
		return strings.Contains(string(exposition(t, s)), `defender_up{tenant="fabrikam"} 1`)
	})
	s.Stop()
	text := logs.String()
	if n := strings.Count(text, "level=error"); n != 1 || !strings.Contains(text, "fabrikam.pfx") || !strings.Contains(text, "tenant=fabrikam") {
		t.Errorf("want one error line naming the tenant and the file, got %d:\n%s", n, text)
	}
	if n := strings.Count(text, "level=warn"); n != 0 {
		t.Errorf("the jobs of the tenant without a client logged %d warnings of their own:\n%s", n, text)
	}
	fleet.closeAll()
}

func TestBuildBackoff(t *testing.T) {
	base, max := 2*time.Second, 15*time.Second
	for attempt, want := range []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 15 * time.Second, 15 * time.Second} {
		if got := buildBackoff(attempt, base, max); got != want {
			t.Errorf("attempt %d: %s, want %s", attempt, got, want)
		}
	}
	if got := buildBackoff(1000, base, max); got != max {
		t.Errorf("attempt 1000: %s, want the cap %s", got, max)
	}
}

// panicky is a collector whose refresh panics, as one meeting a nil in
// remote data or a metric constructor refusing a value would.
type panicky struct{ calls atomic.Int32 }

func (p *panicky) Refresh(_ context.Context, t *Target) ([]prometheus.Metric, error) {
	p.calls.Add(1)
	desc := prometheus.NewDesc("defender_test", "A metric with two labels.", []string{"tenant", "kind"}, nil)
	// One label value short: MustNewConstMetric panics.
	return []prometheus.Metric{prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, 1, t.Tenant)}, nil
}

// TestRefreshPanicRecovered: a refresh that panics fails that collector
// alone, logs its stack once, and leaves every other job running.
func TestRefreshPanicRecovered(t *testing.T) {
	fleet := newReloadFleet(t, nil)
	p := &panicky{}
	real := factories["machines"]
	factories["machines"] = func(config.Collector) (Collector, error) { return p, nil }
	t.Cleanup(func() { factories["machines"] = real })
	logs := &lockedBuffer{}
	s := NewScheduler(log.NewLogfmtLogger(logs), fleet.factory, SchedulerOptions{Manual: true, Now: fixedNow})
	defer s.Stop()
	if err := s.Apply(reloadConfig(t, fleet, "5m", "720h", "contoso", "fabrikam")); err != nil {
		t.Fatal(err)
	}
	s.RefreshNow(context.Background())
	s.RefreshNow(context.Background())
	out := string(exposition(t, s))
	for _, want := range []string{
		`defender_collector_success{collector="machines",tenant="contoso"} 0`,
		`defender_collector_success{collector="machines",tenant="fabrikam"} 0`,
		`defender_collector_success{collector="alerts",tenant="contoso"} 1`,
		`defender_collector_success{collector="alerts",tenant="fabrikam"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %s", want)
		}
	}
	if p.calls.Load() != 4 {
		t.Errorf("%d refreshes of the panicking collector, want 4", p.calls.Load())
	}
	text := logs.String()
	if n := strings.Count(text, "[running]"); n != 2 {
		t.Errorf("%d stacks logged, want one per job:\n%s", n, text)
	}
	if !strings.Contains(text, "inconsistent label cardinality") || !strings.Contains(text, "lifecycle_test.go") {
		t.Errorf("the log does not say what panicked where:\n%s", text)
	}
	s.Stop()
	fleet.closeAll()
}

// TestScrapeDuringReload: a reload that takes long to build a client
// (PKCS#12 parsing, a slow file system) does not hold up scrapes.
func TestScrapeDuringReload(t *testing.T) {
	fleet := newReloadFleet(t, nil)
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	factory := func(tc config.Tenant) (*defender.Client, error) {
		if tc.Name == "northwind" {
			once.Do(func() { close(entered) })
			<-release
		}
		return fleet.factory(tc)
	}
	s := NewScheduler(log.NewNopLogger(), factory, SchedulerOptions{Manual: true, Now: fixedNow})
	defer s.Stop()
	if err := s.Apply(reloadConfig(t, fleet, "5m", "720h", "contoso", "fabrikam")); err != nil {
		t.Fatal(err)
	}
	s.RefreshNow(context.Background())
	applied := make(chan error, 1)
	go func() { applied <- s.Apply(reloadConfig(t, fleet, "5m", "720h", "contoso", "fabrikam", "northwind")) }()
	<-entered
	scraped := make(chan string, 1)
	go func() {
		out, _ := render(s)
		scraped <- out
	}()
	select {
	case out := <-scraped:
		if !strings.Contains(out, `defender_up{tenant="contoso"} 1`) {
			t.Errorf("the scrape during the reload lacks contoso:\n%s", grepLines(out, "defender_up"))
		}
	case <-time.After(10 * time.Second):
		t.Error("a scrape waited for a reload's client build")
		close(release)
		<-scraped
		release = nil
	}
	if release != nil {
		close(release)
	}
	if err := <-applied; err != nil {
		t.Fatal(err)
	}
	s.Stop()
	fleet.closeAll()
}

// grepLines keeps the lines of text that contain s.
func grepLines(text, s string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// stubborn is a collector whose refresh ignores its context and returns
// only when release is closed, as one stuck in a long computation would.
type stubborn struct {
	entered chan struct{}
	once    sync.Once
	release chan struct{}
}

func (s *stubborn) Refresh(context.Context, *Target) ([]prometheus.Metric, error) {
	s.once.Do(func() { close(s.entered) })
	<-s.release
	return nil, errors.New("released")
}

// TestScrapeWhileReplacedJobStops: a reload waits for the jobs it replaces
// to stop; scrapes are served meanwhile.
func TestScrapeWhileReplacedJobStops(t *testing.T) {
	fleet := newReloadFleet(t, nil)
	st := &stubborn{entered: make(chan struct{}), release: make(chan struct{})}
	real := factories["alerts"]
	factories["alerts"] = func(config.Collector) (Collector, error) { return st, nil }
	t.Cleanup(func() { factories["alerts"] = real })
	s := NewScheduler(log.NewNopLogger(), fleet.factory, SchedulerOptions{Now: fixedNow, MaxJitter: time.Millisecond})
	defer s.Stop()
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { close(st.release) }) }
	defer release() // before Stop, which waits for the refresh
	if err := s.Apply(reloadConfig(t, fleet, "5m", "720h", "contoso")); err != nil {
		t.Fatal(err)
	}
	<-st.entered
	// Another lookback: the alerts job is replaced, and its refresh does
	// not end before release.
	applied := make(chan error, 1)
	go func() { applied <- s.Apply(reloadConfig(t, fleet, "5m", "2160h", "contoso")) }()
	waitFor(t, "the reload to swap the jobs", func() bool {
		if !s.mu.TryLock() {
			return false
		}
		defer s.mu.Unlock()
		return s.jobs[jobKey{tenant: "contoso", collector: "alerts"}].spec.coll.Lookback == 2160*time.Hour
	})
	scraped := make(chan struct{})
	go func() {
		_, _ = render(s)
		close(scraped)
	}()
	select {
	case <-scraped:
	case <-time.After(10 * time.Second):
		t.Error("a scrape waited for a replaced job to stop")
	}
	release()
	if err := <-applied; err != nil {
		t.Fatal(err)
	}
	<-scraped
	s.Stop()
	fleet.closeAll()
}

// TestClientBuildPanicFailsItsTenant: a client factory that panics (a
// parser meeting a file it did not expect) fails that tenant alone.
func TestClientBuildPanicFailsItsTenant(t *testing.T) {
	fleet := newReloadFleet(t, nil)
	logs := &lockedBuffer{}
	s := NewScheduler(log.NewLogfmtLogger(logs), func(tc config.Tenant) (*defender.Client, error) {
		if tc.Name == "fabrikam" {
			panic("index out of range [3] with length 3")
		}
		return fleet.factory(tc)
	}, SchedulerOptions{Manual: true, Now: fixedNow, BuildRetryBase: time.Hour})
	defer s.Stop()
	if err := s.Apply(reloadConfig(t, fleet, "5m", "720h", "contoso", "fabrikam")); err != nil {
		t.Fatal(err)
	}
	s.RefreshNow(context.Background())
	out := string(exposition(t, s))
	for _, want := range []string{`defender_up{tenant="contoso"} 1`, `defender_up{tenant="fabrikam"} 0`} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %s", want)
		}
	}
	if text := logs.String(); !strings.Contains(text, "index out of range") || !strings.Contains(text, "tenant=fabrikam") {
		t.Errorf("the panic is not in the log:\n%s", text)
	}
	s.Stop()
	fleet.closeAll()
}
