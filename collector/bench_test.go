package collector

// Benchmarks of the refresh and scrape paths at fleet sizes, and the tests
// that keep their claims checked in CI at a moderate size. scripts/bench.sh
// (make bench) runs the benchmarks and writes bench/REPORT.md.
//
// The large fake tenants run in a child process (this test binary again,
// TestMain): their generated data (400 MiB for a million
// alerts) and their JSON encoding would otherwise sit in the heap and the
// allocation counts being measured. This process then holds only the
// exporter's side, so B/op and the sampled peak heap are the exporter's.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/defender-exporter/defender_exporter/config"
	"github.com/defender-exporter/defender_exporter/defender"
	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

// midSize is a mid-size tenant: a few thousand devices.
var midSize = defendertest.Size{Machines: 2000, Alerts: 3000, Vulnerabilities: 3000, Recommendations: 180,
	MachineActions: 400, Incidents: 300, Indicators: 120, Investigations: 250}

// ---------------------------------------------------------------------------
// The fake tenants' process.

const fakeProcEnv = "DEFENDER_EXPORTER_BENCH_FAKE"

// fakeProcTenant is what the parent needs to reach one fake tenant.
type fakeProcTenant struct {
	URL, TenantID, ClientID, Secret string
	CAPEM                           []byte
}

// TestMain turns the test binary into the benchmarks' fake-tenant process
// when they start it with $DEFENDER_EXPORTER_BENCH_FAKE set, instead of
// running the tests; otherwise it runs the tests.
func TestMain(m *testing.M) {
	if raw := os.Getenv(fakeProcEnv); raw != "" {
		os.Exit(benchFakeProcess(raw))
	}
	os.Exit(m.Run())
}

// benchFakeProcess serves one fake tenant per size in raw (JSON), prints
// how to reach them, then answers "calls" and "reset" on stdin until stdin
// closes.
func benchFakeProcess(raw string) int {
	var sizes []defendertest.Size
	if err := json.Unmarshal([]byte(raw), &sizes); err != nil {
		fmt.Fprintln(os.Stderr, "fake-tenant process:", err)
		return 1
	}
	var fakes []*defendertest.Tenant
	var infos []fakeProcTenant
	for i, size := range sizes {
		ft, err := defendertest.New(defendertest.Options{Seed: int64(i + 1), Size: size, Now: fixedNow})
		if err != nil {
			fmt.Fprintln(os.Stderr, "fake-tenant process:", err)
			return 1
		}
		defer ft.Close()
		app := ft.NewApp()
		fakes = append(fakes, ft)
		infos = append(infos, fakeProcTenant{URL: ft.URL(), TenantID: ft.TenantID(), ClientID: app.ClientID, Secret: app.Secret, CAPEM: ft.CACertPEM()})
	}
	runtime.GC() // the generator's garbage is not the fake's working set
	say := func(tag string, v any) {
		b, _ := json.Marshal(v)
		fmt.Printf("%s %s\n", tag, b)
	}
	say("READY", infos)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch in.Text() {
		case "calls":
			all := make([]map[string]int, len(fakes))
			for i, ft := range fakes {
				all[i] = map[string]int{"token": ft.Calls("token")}
				for _, e := range apiEndpoints {
					if n := ft.Calls(e); n > 0 {
						all[i][e] = n
					}
				}
			}
			say("CALLS", all)
		case "reset":
			for _, ft := range fakes {
				ft.ResetCalls()
			}
			say("OK", nil)
		}
	}
	return 0
}

// fakeProc is the parent's handle on the fake-tenant process.
type fakeProc struct {
	tenants []fakeProcTenant
	in      io.WriteCloser
	out     *bufio.Scanner
}

func startFakeProc(tb testing.TB, sizes ...defendertest.Size) *fakeProc {
	tb.Helper()
	spec, _ := json.Marshal(sizes)
	cmd := exec.Command(os.Args[0], "-test.timeout=0")
	cmd.Env = append(os.Environ(), fakeProcEnv+"="+string(spec))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		in.Close()
		_ = cmd.Wait()
	})
	p := &fakeProc{in: in, out: bufio.NewScanner(out)}
	p.out.Buffer(make([]byte, 1<<20), 64<<20)
	p.read(tb, "READY", &p.tenants)
	return p
}

// read skips to the next line tagged tag and decodes the rest into v.
func (p *fakeProc) read(tb testing.TB, tag string, v any) {
	tb.Helper()
	for p.out.Scan() {
		rest, ok := strings.CutPrefix(p.out.Text(), tag+" ")
		if !ok {
			continue // the testing package's own output
		}
		if err := json.Unmarshal([]byte(rest), v); err != nil {
			tb.Fatalf("fake process: %v", err)
		}
		return
	}
	tb.Fatalf("fake process ended before %s: %v", tag, p.out.Err())
}

func (p *fakeProc) calls(tb testing.TB) []map[string]int {
	tb.Helper()
	fmt.Fprintln(p.in, "calls")
	var all []map[string]int
	p.read(tb, "CALLS", &all)
	return all
}

func (p *fakeProc) reset(tb testing.TB) {
	tb.Helper()
	fmt.Fprintln(p.in, "reset")
	var ignored any
	p.read(tb, "OK", &ignored)
}

// apiCallsOf sums the API calls in one tenant's counts (not "token").
func apiCallsOf(calls map[string]int) int {
	n := 0
	for e, c := range calls {
		if e != "token" {
			n += c
		}
	}
	return n
}

// unlimited lifts the client's call budgets: a benchmark refreshes far more
// often than Defender would allow, and waiting for call slots is not what
// it measures.
var unlimited = map[defender.Family]defender.Limit{
	defender.FamilyMDE: {}, defender.FamilyAVInfo: {}, defender.FamilyIncidents: {}, defender.FamilyHunting: {},
	defender.FamilyGraph: {},
}

// benchClient is a client of a fake tenant in the child process.
func benchClient(tb testing.TB, name string, ft fakeProcTenant, wrap func(http.RoundTripper) http.RoundTripper) *defender.Client {
	tb.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ft.CAPEM)
	endpoints, scopes, err := defender.ResolveEndpoints("global", "", defender.Endpoints{Authority: ft.URL, MDE: ft.URL, XDR: ft.URL, Graph: ft.URL})
	if err != nil {
		tb.Fatal(err)
	}
	c, err := defender.NewClient(defender.Options{
		Tenant:        name,
		Credential:    defender.Credential{TenantID: ft.TenantID, ClientID: ft.ClientID, ClientSecret: ft.Secret},
		Endpoints:     endpoints,
		Scopes:        scopes,
		RootCAs:       pool,
		RetryBase:     time.Millisecond,
		RetryMax:      5 * time.Millisecond,
		Budgets:       unlimited,
		WrapTransport: wrap,
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.Close)
	return c
}

// ---------------------------------------------------------------------------
// Measuring.

// heapSampler records the largest heap in use (HeapInuse: live and not yet
// swept objects, plus the free space of their spans) while it runs, from
// runtime/metrics every millisecond, which does not stop the world.
type heapSampler struct {
	stop, done chan struct{}
	peak, goal uint64
}

func startHeapSampler() *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/gc/heap/goal:bytes"},
	}
	go func() {
		defer close(h.done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(samples)
			h.peak = max(h.peak, samples[0].Value.Uint64()+samples[1].Value.Uint64())
			h.goal = max(h.goal, samples[2].Value.Uint64())
			select {
			case <-h.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return h
}

// Stop ends sampling and returns the peak heap in use and the largest GC
// heap goal seen, in bytes.
func (h *heapSampler) Stop() (peak, goal uint64) {
	close(h.stop)
	<-h.done
	return h.peak, h.goal
}

// cpuTime is the user and system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func heapInuse() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

const mib = 1 << 20

// measure runs body b.N times and reports, besides ns/op and B/op, what a
// refresh costs per entity and the peak heap while it ran. body returns the
// entities it processed.
func measure(b *testing.B, body func() int) {
	runtime.GC()
	base := heapInuse()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	h := startHeapSampler()
	b.ResetTimer()
	start, cpuStart := time.Now(), cpuTime()
	entities := 0
	for range b.N {
		entities += body()
	}
	elapsed, cpu := time.Since(start), cpuTime()-cpuStart
	b.StopTimer()
	peak, goal := h.Stop()
	runtime.ReadMemStats(&after)
	if entities == 0 {
		b.Fatal("no entities processed")
	}
	b.ReportMetric(float64(entities)/float64(b.N), "entities/op")
	b.ReportMetric(float64(entities)/elapsed.Seconds(), "entities/s")
	// CPU time, this process's (GC included): other work on the machine
	// slows the wall clock, not this.
	b.ReportMetric(float64(entities)/cpu.Seconds(), "entities/cpu-s")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(entities), "B/entity")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(entities), "allocs/entity")
	b.ReportMetric(float64(peak)/mib, "peak-heap-MiB")
	b.ReportMetric(float64(peak-min(peak, base))/mib, "peak-over-base-MiB")
	b.ReportMetric(float64(goal)/mib, "gc-goal-MiB")
}

// minimalPages is the fewest calls a listing of items entities can take
// with pages of pageSize: the page-size limit allows no fewer.
func minimalPages(items, pageSize int) int {
	if pageSize <= 0 || items <= pageSize {
		return 1
	}
	return (items + pageSize - 1) / pageSize
}

// listingReport sums what listings took against the minimum: pages, the
// minimal pages, and entities; per endpoint for the log.
func listingReport(ls []defender.Listing) (pages, minPages, items int, detail string) {
	type row struct{ pages, min, items, listings int }
	per := map[string]*row{}
	for _, l := range ls {
		r := per[l.Endpoint]
		if r == nil {
			r = &row{}
			per[l.Endpoint] = r
		}
		r.pages += l.Pages
		r.min += minimalPages(l.Items, l.PageSize)
		r.items += l.Items
		r.listings++
		pages += l.Pages
		minPages += minimalPages(l.Items, l.PageSize)
		items += l.Items
	}
	keys := make([]string, 0, len(per))
	for k := range per {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	for _, k := range keys {
		r := per[k]
		fmt.Fprintf(&sb, "%s: %d calls (minimum %d) for %d entities in %d listing(s); ", k, r.pages, r.min, r.items, r.listings)
	}
	return pages, minPages, items, strings.TrimSuffix(sb.String(), "; ")
}

// ---------------------------------------------------------------------------
// Large single-collector refreshes.

// BenchmarkRefresh refreshes one collector against a large tenant: 1M
// alerts, 100k machines, 200k device AV rows (the AV report has one row per
// onboarded machine; 220k machines give 200,050 rows). Each op is one full
// refresh: every page over TLS from the fake process, decoded and
// aggregated. Reported: calls per refresh as counted by the fake and the
// minimum the page-size limits allow, entities per second, bytes and
// allocations per entity, and the peak heap in use.
func BenchmarkRefresh(b *testing.B) {
	proc := startFakeProc(b,
		defendertest.Size{Machines: 100000, Alerts: 1000000},
		defendertest.Size{Machines: 220000},
	)
	for _, bc := range []struct {
		name     string
		tenant   int
		endpoint string
	}{
		{"alerts_1M", 0, "/api/alerts"},
		{"machines_100k", 0, "/api/machines"},
		{"av_health_200k", 1, "/api/deviceavinfo"},
	} {
		collectorName, _, _ := strings.Cut(bc.name, "_")
		if collectorName == "av" {
			collectorName = "av_health"
		}
		cfg := config.DefaultCollector(collectorName)
		if collectorName == "alerts" {
			cfg.API = "mde" // the Graph back end has its own rows, BenchmarkGraphAlerts
		}
		c, err := New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		client := benchClient(b, "bench", proc.tenants[bc.tenant], nil)
		if err := client.Token(context.Background(), defender.APIMDE); err != nil {
			b.Fatal(err)
		}
		target := &Target{Tenant: "bench", Client: client, Now: fixedNow, Logger: log.NewNopLogger()}
		b.Run(bc.name, func(b *testing.B) {
			proc.reset(b)
			var last []defender.Listing
			measure(b, func() int {
				var calls defender.CallCounter
				if _, err := c.Refresh(defender.WithCallCounter(context.Background(), &calls), target); err != nil {
					b.Fatal(err)
				}
				last = calls.Listings()
				_, _, items, _ := listingReport(last)
				return items
			})
			got := proc.calls(b)[bc.tenant][bc.endpoint]
			pages, minPages, items, detail := listingReport(last)
			if got != pages*b.N {
				b.Errorf("the fake counted %d calls for %d refreshes; the client's counter says %d per refresh", got, b.N, pages)
			}
			b.ReportMetric(float64(got)/float64(b.N), "calls/op")
			b.ReportMetric(float64(minPages), "min-calls/op")
			b.Logf("%s; %d entities", detail, items)
		})
	}
}

// ---------------------------------------------------------------------------
// A fleet of tenants.

const fleetTenants = 200

// fleetScheduler builds a scheduler over every tenant of proc with the
// default collectors, and the fake-process clients.
func fleetScheduler(tb testing.TB, proc *fakeProc) *Scheduler {
	tb.Helper()
	var yml strings.Builder
	yml.WriteString("tenants:\n")
	clients := map[string]*defender.Client{}
	for i, ft := range proc.tenants {
		name := fmt.Sprintf("tenant%03d", i)
		clients[name] = benchClient(tb, name, ft, nil)
		fmt.Fprintf(&yml, "  - {name: %s, tenant_id: %s, client_id: 00000000-0000-0000-0000-000000000001, client_secret: x}\n", name, ft.TenantID)
	}
	cfg, err := config.Parse([]byte(yml.String()), "bench.yml", config.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	s := NewScheduler(log.NewNopLogger(), func(t config.Tenant) (*defender.Client, error) { return clients[t.Name], nil },
		SchedulerOptions{Now: fixedNow, Manual: true})
	if err := s.Apply(cfg); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Stop)
	return s
}

// cycleListings gathers the listings of every job's latest refresh and
// the calls they took (listings and single objects), and fails if a
// refresh failed.
func cycleListings(tb testing.TB, s *Scheduler) ([]defender.Listing, int) {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []defender.Listing
	calls := 0
	for k, j := range s.jobs {
		st := j.state.Load()
		if st == nil || !st.success {
			tb.Fatalf("job %v did not succeed: %+v", k, st)
		}
		all = append(all, st.listings...)
		for _, n := range st.calls {
			calls += n
		}
	}
	return all, calls
}

// BenchmarkFleet is a partner's exporter: 200 mid-size tenants (2,000
// machines, 3,000 alerts, ... each) with the default collectors, refreshed
// through the scheduler (8 refreshes at once, 2 per tenant), then scraped.
func BenchmarkFleet(b *testing.B) {
	sizes := make([]defendertest.Size, fleetTenants)
	for i := range sizes {
		sizes[i] = midSize
	}
	proc := startFakeProc(b, sizes...)
	s := fleetScheduler(b, proc)
	s.RefreshNow(context.Background()) // tokens, connections

	b.Run(fmt.Sprintf("refresh_%d_tenants", fleetTenants), func(b *testing.B) {
		proc.reset(b)
		measure(b, func() int {
			s.RefreshNow(context.Background())
			ls, _ := cycleListings(b, s)
			_, _, items, _ := listingReport(ls)
			return items
		})
		calls := 0
		for _, c := range proc.calls(b) {
			calls += apiCallsOf(c)
		}
		ls, perCycle := cycleListings(b, s)
		pages, minPages, _, detail := listingReport(ls)
		if calls != perCycle*b.N {
			b.Errorf("the fake counted %d calls for %d cycles; the jobs' counters say %d per cycle", calls, b.N, perCycle)
		}
		b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
		// Single objects (the scores) cost one call each: the minimum.
		b.ReportMetric(float64(minPages+perCycle-pages), "min-calls/op")
		b.Logf("per cycle: %s; and %d calls for single objects", detail, perCycle-pages)
	})
	calls := func() int {
		n := 0
		for _, c := range proc.calls(b) {
			n += apiCallsOf(c) + c["token"]
		}
		return n
	}
	b.Run(fmt.Sprintf("scrape_%d_tenants", fleetTenants), func(b *testing.B) { scrapeHandler(b, s, calls) })
}

// ---------------------------------------------------------------------------
// Scrapes.

// scrapeHandler serves /metrics as the exporter does (Handler: the status
// metrics through a registry, then the snapshots rendered at refresh) b.N
// times, uncompressed.
func scrapeHandler(b *testing.B, s *Scheduler, calls func() int) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(s.Status())
	h := s.Handler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	before := calls()
	var w *countingWriter
	b.ReportAllocs()
	b.ResetTimer()
	cpuStart := cpuTime()
	for range b.N {
		w = &countingWriter{header: http.Header{}}
		h.ServeHTTP(w, req)
	}
	cpu := cpuTime() - cpuStart
	b.StopTimer()
	if after := calls(); after != before {
		b.Fatalf("scraping called Defender: %d calls before, %d after", before, after)
	}
	if w.status != 0 && w.status != http.StatusOK {
		b.Fatalf("status %d", w.status)
	}
	reportScrape(b, w.samples, w.bytes, cpu)
}

// countingWriter stands for the connection a scrape is written to: it
// keeps nothing, it counts bytes and sample lines (lines not starting
// with #).
type countingWriter struct {
	header         http.Header
	status         int
	bytes, samples int
	atLineStart    bool
}

func (w *countingWriter) Header() http.Header { return w.header }
func (w *countingWriter) WriteHeader(s int)   { w.status = s }
func (w *countingWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	lines := bytes.Count(p, []byte("\n"))
	comments := bytes.Count(p, []byte("\n#"))
	if (w.bytes == 0 || w.atLineStart) && p[0] == '#' {
		comments++
	}
	w.samples += lines - comments
	w.atLineStart = p[len(p)-1] == '\n'
	w.bytes += len(p)
	return len(p), nil
}

func reportScrape(b *testing.B, series, size int, cpu time.Duration) {
	b.ReportMetric(float64(series), "series")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(series), "ns/series")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(size), "bytes")
}

// midTenantScheduler refreshes one in-process mid-size tenant with the
// default collectors.
func midTenantScheduler(t testing.TB) (*defendertest.Tenant, *Scheduler) {
	t.Helper()
	ft, err := defendertest.New(defendertest.Options{Seed: 11, Size: midSize, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ft.Close)
	client := newClient(t, ft, nil)
	cfg, err := config.Parse([]byte(`tenants:
  - {name: contoso, tenant_id: `+ft.TenantID()+`, client_id: 00000000-0000-0000-0000-000000000001, client_secret: x}
`), "test.yml", config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := NewScheduler(log.NewNopLogger(), func(config.Tenant) (*defender.Client, error) { return client, nil },
		SchedulerOptions{Now: fixedNow, Manual: true})
	if err := s.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	s.RefreshNow(context.Background())
	if !s.Ready() {
		t.Fatal("not ready after a refresh cycle")
	}
	return ft, s
}

func allCalls(ft *defendertest.Tenant) int { return apiCalls(ft) + ft.Calls("token") }

// BenchmarkScrape is one /metrics scrape of a mid-size tenant as the
// exporter serves it: Handler, with the status metrics gathered and
// encoded by the registry and the snapshots rendered at refresh.
func BenchmarkScrape(b *testing.B) {
	ft, s := midTenantScheduler(b)
	b.Run("1_tenant", func(b *testing.B) { scrapeHandler(b, s, func() int { return allCalls(ft) }) })
}

// TestScrapeNeverCallsDefender: scrapes replay the snapshots; not one call
// reaches Defender or Entra, through a registry or through Handler, and
// Handler's scrape does no work per snapshot series: its allocations come
// from the few status series, fewer than one per series in all.
func TestScrapeNeverCallsDefender(t *testing.T) {
	ft, s := midTenantScheduler(t)
	before := allCalls(ft)
	whole := prometheus.NewRegistry()
	whole.MustRegister(s)
	status := prometheus.NewRegistry()
	status.MustRegister(s.Status())
	h := s.Handler(promhttp.HandlerFor(status, promhttp.HandlerOpts{}))
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	series := 0
	for range 3 {
		if _, err := whole.Gather(); err != nil {
			t.Fatal(err)
		}
		w := &countingWriter{header: http.Header{}}
		h.ServeHTTP(w, req)
		series = w.samples
	}
	if after := allCalls(ft); after != before {
		t.Errorf("six scrapes made %d calls", after-before)
	}
	allocs := testing.AllocsPerRun(5, func() { h.ServeHTTP(&countingWriter{header: http.Header{}}, req) })
	if series < 1000 || allocs >= float64(series) {
		t.Errorf("a scrape of %d series makes %.0f allocations", series, allocs)
	}
}

// ---------------------------------------------------------------------------
// API calls per refresh, in CI.

// TestRefreshCallsAreMinimal: every collector's refresh takes exactly the
// calls the page-size limits require, ceil(entities / max page) per
// listing, at a size where several listings span pages. The fake's own
// count agrees with the client's counter. Sizes avoid exact multiples of a
// page: a listing paged with $top and $skip (Defender sends no nextLink
// then) needs one more, empty, answer after a full last page, since a full
// page cannot tell it is the last.
func TestRefreshCallsAreMinimal(t *testing.T) {
	size := defendertest.Size{Machines: 12345, Alerts: 23456, Vulnerabilities: 9001, Recommendations: 180,
		MachineActions: 400, Incidents: 777, Indicators: 120, Investigations: 250}
	bigFT, bigTarget := fakeTenant(t, size)
	// A smaller tenant for the Graph alerts and the built-in hunting
	// queries: a tenth of the alerts still spans pages of 1,000 (each
	// alert carries kilobytes of evidence), and a hunting query costs one
	// call whatever the fleet, while the fake's KQL join of 12,345
	// machines with 9,001 CVEs took most of this test's time.
	graphFT, graphTarget := fakeTenant(t, defendertest.Size{Machines: 200, Alerts: 2345, Vulnerabilities: 300, Recommendations: 40})
	type job struct{ name, api string }
	var jobs []job
	for _, name := range config.CollectorNames {
		apis := Backends(name) // every back end this build has
		if len(apis) == 0 {
			apis = []string{""}
		}
		for _, api := range apis {
			jobs = append(jobs, job{name, api})
		}
	}
	for _, j := range jobs {
		name := j.name
		if j.api != "" {
			name += " (" + j.api + ")"
		}
		ft, target := bigFT, bigTarget
		if j.api == "graph" && j.name != "incidents" {
			ft, target = graphFT, graphTarget
		}
		cfg := config.DefaultCollector(j.name)
		cfg.Enabled = true
		cfg.API = j.api
		c, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if av, ok := unwrapCollector(c).(*avHealthCollector); ok {
			av.pageSize = 5000 // 11k rows: three nextLink pages
		}
		ft.ResetCalls()
		var calls defender.CallCounter
		if _, err := c.Refresh(defender.WithCallCounter(context.Background(), &calls), target); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		perEndpoint := map[string]int{}
		for _, l := range calls.Listings() {
			perEndpoint[l.Endpoint] += l.Pages
			if l.PageSize > 0 && l.Items > 0 && l.Items%l.PageSize == 0 {
				t.Fatalf("%s: %s listing has %d entities, an exact multiple of its page: pick another size", name, l.Endpoint, l.Items)
			}
			if want := minimalPages(l.Items, l.PageSize); l.Pages != want {
				t.Errorf("%s: %s took %d calls for %d entities in pages of %d, want %d", name, l.Endpoint, l.Pages, l.Items, l.PageSize, want)
			}
		}
		total := 0
		for e, n := range perEndpoint {
			if got := ft.Calls(e); got != n {
				t.Errorf("%s: the fake counted %d calls on %s, the client's counter %d", name, got, e, n)
			}
			total += n
		}
		// Built-in hunting queries (the graph back end of the posture
		// collectors) are one call each, whatever the tenant's size.
		hunting := ft.Calls(defendertest.HuntingGraphPath)
		if want := len(graphQueries[j.name]); j.api == "graph" && hunting != want {
			t.Errorf("%s: %d hunting calls, want one per built-in query (%d)", name, hunting, want)
		}
		if got := calls.Total(); got < total || apiCalls(ft)+hunting != got {
			t.Errorf("%s: the counter has %d calls, listings %d, the fake %d", name, got, total, apiCalls(ft)+hunting)
		}
		_, _, _, detail := listingReport(calls.Listings())
		t.Logf("%s: %s", name, detail)
	}
}

// ---------------------------------------------------------------------------
// Decode and aggregate throughput, CPU-bound.

// replay records the API answers of a first refresh and serves them again
// from memory, so that a benchmark measures decoding and aggregation, not
// TLS or the fake's encoding.
type replay struct {
	next http.RoundTripper

	mu     sync.Mutex
	record bool
	pages  map[string]*recorded
	order  map[string][]*recorded // by path, in the order recorded
}

type recorded struct {
	status int
	header http.Header
	body   []byte
}

func (r *replay) RoundTrip(req *http.Request) (*http.Response, error) {
	key := req.URL.String()
	r.mu.Lock()
	rec, ok := r.pages[key]
	recording := r.record
	r.mu.Unlock()
	if !ok {
		if !recording {
			return nil, fmt.Errorf("replay: %s was not recorded", req.URL.Path)
		}
		resp, err := r.next.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		rec = &recorded{status: resp.StatusCode, header: resp.Header, body: body}
		r.mu.Lock()
		r.pages[key] = rec
		r.order[req.URL.Path] = append(r.order[req.URL.Path], rec)
		r.mu.Unlock()
	}
	return &http.Response{
		StatusCode: rec.status, Header: rec.header, Body: io.NopCloser(bytes.NewReader(rec.body)),
		ContentLength: int64(len(rec.body)), Request: req, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
	}, nil
}

// BenchmarkDecode compares the refresh of alerts and machines, served from
// memory (decode + aggregate, entity by entity, through the client), with
// plain encoding/json decoding of the same pages into a slice per page.
// bench.sh reports the ratio of their entities/s.
func BenchmarkDecode(b *testing.B) {
	ft, err := defendertest.New(defendertest.Options{Seed: 5, Size: defendertest.Size{Machines: 50000, Alerts: 100000}, Now: fixedNow})
	if err != nil {
		b.Fatal(err)
	}
	rp := &replay{record: true, pages: map[string]*recorded{}, order: map[string][]*recorded{}}
	info := fakeProcTenant{URL: ft.URL(), TenantID: ft.TenantID(), CAPEM: ft.CACertPEM()}
	app := ft.NewApp()
	info.ClientID, info.Secret = app.ClientID, app.Secret
	client := benchClient(b, "bench", info, func(next http.RoundTripper) http.RoundTripper { rp.next = next; return rp })
	target := &Target{Tenant: "bench", Client: client, Now: fixedNow, Logger: log.NewNopLogger()}
	collectors := map[string]Collector{}
	for _, name := range []string{"alerts", "machines"} {
		cfg := config.DefaultCollector(name)
		cfg.API = "mde" // compared with encoding/json on the MDE API's entities
		c, err := New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		collectors[name] = c
		if _, err := c.Refresh(context.Background(), target); err != nil {
			b.Fatal(err)
		}
	}
	rp.mu.Lock()
	rp.record = false
	rp.mu.Unlock()
	ft.Close() // from here on every answer comes from memory

	for _, name := range []string{"alerts", "machines"} {
		b.Run(name+"/exporter", func(b *testing.B) {
			measure(b, func() int {
				var calls defender.CallCounter
				if _, err := collectors[name].Refresh(defender.WithCallCounter(context.Background(), &calls), target); err != nil {
					b.Fatal(err)
				}
				_, _, items, _ := listingReport(calls.Listings())
				return items
			})
		})
		b.Run(name+"/encoding_json", func(b *testing.B) {
			pages := rp.order["/api/"+name]
			measure(b, func() int {
				n := 0
				for _, p := range pages {
					var err error
					if name == "alerts" {
						var page struct {
							Value    []defender.Alert `json:"value"`
							NextLink string           `json:"@odata.nextLink"`
						}
						err = json.Unmarshal(p.body, &page)
						n += len(page.Value)
					} else {
						var page struct {
							Value    []defender.Machine `json:"value"`
							NextLink string             `json:"@odata.nextLink"`
						}
						err = json.Unmarshal(p.body, &page)
						n += len(page.Value)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				return n
			})
		})
	}
}
