package collector

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/go-kit/log"

	"github.com/defender-exporter/defender_exporter/config"
	"github.com/defender-exporter/defender_exporter/defender"
	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

// schedulerFor builds a scheduler over the given fake tenants, each under
// its own name, with alerts and machines enabled.
func schedulerFor(t *testing.T, tenants map[string]*defendertest.Tenant) *Scheduler {
	t.Helper()
	var yml strings.Builder
	yml.WriteString("tenants:\n")
	clients := map[string]*defender.Client{}
	for name, ft := range tenants {
		c := newClient(t, ft, nil)
		clients[name] = c
		// The YAML only has to validate; the factory below hands out
		// the clients built above.
		fmt.Fprintf(&yml, "  - {name: %s, tenant_id: %s, client_id: 00000000-0000-0000-0000-000000000001, client_secret: x}\n", name, ft.TenantID())
	}
	yml.WriteString(`collectors:
  alerts: {api: mde}
  scores: {enabled: false}
  vulnerabilities: {enabled: false}
  recommendations: {enabled: false}
  av_health: {enabled: false}
  machine_actions: {enabled: false}
  incidents: {enabled: false}
`)
	cfg, err := config.Parse([]byte(yml.String()), "test.yml", config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := NewScheduler(log.NewNopLogger(), func(tc config.Tenant) (*defender.Client, error) {
		return clients[tc.Name], nil
	}, SchedulerOptions{Now: fixedNow, Manual: true})
	if err := s.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// TestFailingCollectorKeepsOthers: a collector that starts failing keeps
// its last good snapshot, says so in defender_collector_success, and
// neither the tenant's other collector nor the other tenant lose anything.
func TestFailingCollectorKeepsOthers(t *testing.T) {
	a, _ := defendertest.New(defendertest.Options{Seed: 1, Size: defendertest.Size{Machines: 30, Alerts: 80}, Now: fixedNow})
	defer a.Close()
	b, _ := defendertest.New(defendertest.Options{Seed: 2, Size: defendertest.Size{Machines: 20, Alerts: 40}, Now: fixedNow})
	defer b.Close()
	s := schedulerFor(t, map[string]*defendertest.Tenant{"contoso": a, "fabrikam": b})
	s.RefreshNow(context.Background())
	if !s.Ready() {
		t.Fatal("not ready after a full refresh cycle")
	}
	before := string(exposition(t, s))
	for _, want := range []string{
		`defender_up{tenant="contoso"} 1`, `defender_up{tenant="fabrikam"} 1`,
		`defender_collector_success{collector="alerts",tenant="contoso"} 1`,
	} {
		if !strings.Contains(before, want) {
			t.Fatalf("before the fault: lacks %s", want)
		}
	}

	a.SetFault("/api/alerts", defendertest.Fault{Status: 500})
	s.RefreshNow(context.Background())
	after := string(exposition(t, s))
	for _, want := range []string{
		`defender_up{tenant="contoso"} 0`,
		`defender_up{tenant="fabrikam"} 1`,
		`defender_collector_success{collector="alerts",tenant="contoso"} 0`,
		`defender_collector_success{collector="machines",tenant="contoso"} 1`,
		`defender_collector_success{collector="alerts",tenant="fabrikam"} 1`,
	} {
		if !strings.Contains(after, want) {
			t.Errorf("after the fault: lacks %s", want)
		}
	}
	// Every Defender-derived series from before is still there, with the
	// same value: the failing collector's last good snapshot is served.
	for _, line := range strings.Split(before, "\n") {
		if strings.HasPrefix(line, "defender_alerts") || strings.HasPrefix(line, "defender_machines") {
			if !strings.Contains(after, line) {
				t.Errorf("series lost or changed after the fault: %s", line)
			}
		}
	}
	if !strings.Contains(after, `defender_collector_last_success_timestamp_seconds{collector="alerts",tenant="contoso"}`) {
		t.Error("last success timestamp of the failing collector is gone")
	}
}

// TestReloadKeepsUnchangedJobs: applying the same configuration again
// restarts nothing and costs no calls; removing a tenant drops its series.
func TestReloadKeepsUnchangedJobs(t *testing.T) {
	a, _ := defendertest.New(defendertest.Options{Seed: 1, Size: defendertest.Size{Machines: 10, Alerts: 10}, Now: fixedNow})
	defer a.Close()
	s := schedulerFor(t, map[string]*defendertest.Tenant{"contoso": a})
	s.RefreshNow(context.Background())
	jobsBefore := map[jobKey]*job{}
	for k, j := range s.jobs {
		jobsBefore[k] = j
	}
	cfg, err := config.Parse([]byte(`tenants:
  - {name: contoso, tenant_id: `+a.TenantID()+`, client_id: 00000000-0000-0000-0000-000000000001, client_secret: x}
collectors:
  alerts: {api: mde}
  scores: {enabled: false}
  vulnerabilities: {enabled: false}
  recommendations: {enabled: false}
  av_health: {enabled: false}
  machine_actions: {enabled: false}
  incidents: {enabled: false}
`), "test.yml", config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	for k, j := range s.jobs {
		if jobsBefore[k] != j {
			t.Errorf("job %v restarted by an identical configuration", k)
		}
	}
	// Disable machines: its series go, alerts stay.
	cfg.Collectors["machines"] = config.Collector{Name: "machines", Enabled: false}
	if err := s.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	out := string(exposition(t, s))
	if strings.Contains(out, "defender_machines{") {
		t.Error("machines series remain after disabling the collector")
	}
	if !strings.Contains(out, "defender_alerts{") {
		t.Error("alerts series lost by an unrelated change")
	}
}

// TestIntervalExported: each (tenant, collector) exports its configured
// interval from the start, before any refresh, so that staleness rules can
// count missed refreshes; hunting exports the longest of its queries.
func TestIntervalExported(t *testing.T) {
	a, _ := defendertest.New(defendertest.Options{Seed: 1, Size: defendertest.Size{Machines: 10, Alerts: 10}, Now: fixedNow})
	defer a.Close()
	cfg, err := config.Parse([]byte(`tenants:
  - {name: contoso, tenant_id: `+a.TenantID()+`, client_id: 00000000-0000-0000-0000-000000000001, client_secret: x}
`+strings.Replace(onlyCollectors("alerts", "machines"), "machines: {enabled: true}", "machines: {enabled: true, interval: 20m}", 1)+huntingSection+`    - name: devices_by_os_daily
      help: Devices by OS platform, daily.
      interval: 2h
      query: DeviceInfo | summarize arg_max(Timestamp, *) by DeviceId | summarize count() by OSPlatform
      labels: [OSPlatform]
      value: count_
`), "test.yml", config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, a, nil)
	s := NewScheduler(log.NewNopLogger(), func(config.Tenant) (*defender.Client, error) { return c, nil },
		SchedulerOptions{Now: fixedNow, Manual: true})
	if err := s.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	want := []string{
		`defender_collector_interval_seconds{collector="alerts",tenant="contoso"} 300`,
		`defender_collector_interval_seconds{collector="machines",tenant="contoso"} 1200`,
		`defender_collector_interval_seconds{collector="hunting",tenant="contoso"} 7200`,
	}
	for _, when := range []string{"before the first refresh", "after it"} {
		got := string(exposition(t, s))
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: lacks %s", when, w)
			}
		}
		if n := strings.Count(got, "defender_collector_interval_seconds{"); n != len(want) {
			t.Errorf("%s: %d interval series, want %d", when, n, len(want))
		}
		s.RefreshNow(context.Background())
	}
	if got := string(exposition(t, s)); !strings.Contains(got, `defender_collector_success{collector="hunting",tenant="contoso"} 1`) {
		t.Error("the hunting queries did not run")
	}
}
