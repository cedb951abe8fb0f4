package collector

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/defender-exporter/defender_exporter/config"
	"github.com/defender-exporter/defender_exporter/defender"
	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

// apiEndpoints are the path templates of every API the collectors read.
var apiEndpoints = []string{
	"/api/alerts", "/api/machines", "/api/exposureScore", "/api/exposureScore/ByMachineGroups",
	"/api/configurationScore", "/api/vulnerabilities", "/api/recommendations", "/api/deviceavinfo",
	"/api/machineactions", "/api/incidents", "/api/indicators", "/api/investigations",
	secureScoresPath, identityHealthIssuesPath, identitySensorsPath,
	defendertest.GraphAlertsPath, defendertest.GraphIncidentsPath,
}

// apiCalls sums the calls a fake tenant received on every API.
func apiCalls(ft *defendertest.Tenant) int {
	n := 0
	for _, e := range apiEndpoints {
		n += ft.Calls(e)
	}
	return n
}

// hang makes every API of ft answer only when the request is cancelled.
func hang(ft *defendertest.Tenant) {
	for _, e := range apiEndpoints {
		ft.SetFault(e, defendertest.Fault{Delay: time.Hour})
	}
}

var smallSize = defendertest.Size{Machines: 20, Alerts: 30, Vulnerabilities: 50, Recommendations: 10,
	MachineActions: 10, Incidents: 10, Indicators: 5, Investigations: 5}

// allCollectorsConfig enables every collector for the named tenants.
func allCollectorsConfig(t *testing.T, tenants map[string]*defendertest.Tenant, names ...string) *config.Config {
	t.Helper()
	var yml strings.Builder
	yml.WriteString("tenants:\n")
	for _, name := range names {
		fmt.Fprintf(&yml, "  - {name: %s, tenant_id: %s, client_id: 00000000-0000-0000-0000-000000000001, client_secret: x}\n", name, tenants[name].TenantID())
	}
	yml.WriteString("collectors:\n  indicators: {enabled: true}\n  investigations: {enabled: true}\n  identity: {enabled: true}\n")
	cfg, err := config.Parse([]byte(yml.String()), "test.yml", config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// waitFor polls cond until it holds, failing the test after a generous
// deadline; it bounds a test that would otherwise hang, it measures nothing.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSlowTenantCannotStarveOthers: a tenant whose every API hangs holds
// at most TenantConcurrency (2) of the 4 global slots, so a healthy
// tenant's ten refreshes all complete while the slow tenant's first two
// are still waiting for an answer. Without the per-tenant cap the slow
// tenant's ten jobs take all four slots and the healthy tenant never runs.
func TestSlowTenantCannotStarveOthers(t *testing.T) {
	fakes := map[string]*defendertest.Tenant{}
	clients := map[string]*defender.Client{}
	for i, name := range []string{"slow", "healthy"} {
		ft, err := defendertest.New(defendertest.Options{Seed: int64(i + 1), Size: smallSize, Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		defer ft.Close()
		fakes[name], clients[name] = ft, newClient(t, ft, nil)
	}
	hang(fakes["slow"])

	s := NewScheduler(log.NewNopLogger(), func(tc config.Tenant) (*defender.Client, error) { return clients[tc.Name], nil },
		SchedulerOptions{Now: fixedNow, Manual: true, Concurrency: 4, TenantConcurrency: 2})
	defer s.Stop()
	done := make(chan jobKey, 100)
	s.onRefresh = func(k jobKey, _ *jobState) { done <- k }

	// The slow tenant alone first, so that it has every chance to take
	// every global slot before the healthy one asks for any.
	if err := s.Apply(allCollectorsConfig(t, fakes, "slow")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cycles := make(chan struct{}, 2)
	go func() { s.RefreshNow(ctx); cycles <- struct{}{} }()
	waitFor(t, "the slow tenant's first two calls", func() bool { return apiCalls(fakes["slow"]) >= 2 })

	if err := s.Apply(allCollectorsConfig(t, fakes, "slow", "healthy")); err != nil {
		t.Fatal(err)
	}
	go func() { s.RefreshNow(ctx); cycles <- struct{}{} }()
	healthy := map[string]bool{}
	deadline := time.After(60 * time.Second)
	for len(healthy) < len(config.CollectorNames) {
		select {
		case k := <-done:
			if k.tenant != "healthy" {
				t.Fatalf("a refresh of the hanging tenant ended: %v", k)
			}
			healthy[k.collector] = true
		case <-deadline:
			t.Fatalf("the healthy tenant finished %d of %d refreshes while the slow one hangs: it is starved", len(healthy), len(config.CollectorNames))
		}
	}
	if n := apiCalls(fakes["slow"]); n != 2 {
		t.Errorf("the hanging tenant sent %d calls at once, want its cap of 2", n)
	}
	out := string(exposition(t, s))
	if !strings.Contains(out, `defender_up{tenant="healthy"} 1`) {
		t.Error("the healthy tenant is not up after its refreshes")
	}

	// Cancelling ends the hanging calls and both cycles.
	cancel()
	for range 2 {
		select {
		case <-cycles:
		case <-time.After(60 * time.Second):
			t.Fatal("RefreshNow did not return after its context was cancelled")
		}
	}
}

// TestGlobalConcurrencyAcrossTenants: three hanging tenants, each capped at
// two, share four global slots: four calls are in flight, never more.
func TestGlobalConcurrencyAcrossTenants(t *testing.T) {
	fakes := map[string]*defendertest.Tenant{}
	clients := map[string]*defender.Client{}
	names := []string{"a", "b", "c"}
	for i, name := range names {
		ft, err := defendertest.New(defendertest.Options{Seed: int64(i + 1), Size: smallSize, Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		defer ft.Close()
		hang(ft)
		fakes[name], clients[name] = ft, newClient(t, ft, nil)
	}
	s := NewScheduler(log.NewNopLogger(), func(tc config.Tenant) (*defender.Client, error) { return clients[tc.Name], nil },
		SchedulerOptions{Now: fixedNow, Manual: true, Concurrency: 4, TenantConcurrency: 2})
	defer s.Stop()
	if err := s.Apply(allCollectorsConfig(t, fakes, names...)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cycle := make(chan struct{})
	go func() { s.RefreshNow(ctx); close(cycle) }()
	total := func() (n int, per []int) {
		for _, name := range names {
			c := apiCalls(fakes[name])
			per = append(per, c)
			n += c
		}
		return n, per
	}
	waitFor(t, "four calls in flight", func() bool { n, _ := total(); return n >= 4 })
	// Let whatever else would start start: a broken cap shows as more.
	for range 20 {
		time.Sleep(time.Millisecond)
	}
	n, per := total()
	if n != 4 {
		t.Errorf("%d calls in flight (per tenant %v), want the global cap of 4", n, per)
	}
	for i, c := range per {
		if c > 2 {
			t.Errorf("tenant %s has %d calls in flight, over its cap of 2", names[i], c)
		}
	}
	cancel()
	<-cycle
}
