package collector

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/defender-exporter/defender_exporter/config"
	"github.com/defender-exporter/defender_exporter/defender"
	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

// TestRetiredAPIAdvice: an MDE or XDR answer that the API is retired (the
// fake's Retired fault, through a real client) fails the refresh with
// advice that fits the collector, keeps the answer's own words, and is
// still an ErrAPIRetired and an HTTP 410 for errors.Is and IsStatus.
func TestRetiredAPIAdvice(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 20, Alerts: 20, Incidents: 5, MachineActions: 5})
	for _, c := range []struct {
		name, endpoint, want string
	}{
		// alerts and incidents default to graph: the retired back ends are asked for below.
		{"alerts", "/api/alerts", "the mde API answers that it is retired: set collectors.alerts.api: graph ("},
		{"incidents", "/api/incidents", "the xdr API answers that it is retired: set collectors.incidents.api: graph ("},
		{"machines", "/api/machines", "the mde API answers that it is retired: set collectors.machines.api: graph ("},
		{"machine_actions", "/api/machineactions", "the mde API answers that it is retired, and there is no Microsoft Graph replacement for machine_actions yet; disable it with collectors.machine_actions.enabled: false ("},
		{"indicators", "/api/indicators", "there is no Microsoft Graph replacement for indicators yet; disable it with collectors.indicators.enabled: false"},
		{"investigations", "/api/investigations", "there is no Microsoft Graph replacement for investigations yet; disable it with collectors.investigations.enabled: false"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := config.DefaultCollector(c.name)
			cfg.Enabled = true
			switch c.name {
			case "alerts":
				cfg.API = "mde"
			case "incidents":
				cfg.API = "xdr"
			}
			coll, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			tenant.SetFault(c.endpoint, defendertest.Fault{Retired: true, Times: 1})
			ms, err := coll.Refresh(context.Background(), target)
			if err == nil || ms != nil {
				t.Fatalf("refresh against a retired API: %d metrics, %v", len(ms), err)
			}
			msg := err.Error()
			if !strings.Contains(msg, c.want) || !strings.Contains(msg, "HTTP 410 Gone") || !strings.Contains(msg, "has been retired and no longer functions") {
				t.Errorf("error:\n%s\nwant it to contain %q and the answer", msg, c.want)
			}
			if !errors.Is(err, defender.ErrAPIRetired) || !defender.IsStatus(err, 410) {
				t.Errorf("error chain lost: %v", err)
			}
			if strings.Count(msg, "retired") != 2 {
				t.Errorf("the advice is given more than once: %s", msg)
			}
			refresh(t, coll, target) // the fault was for one call
		})
	}

	// Hunting through the MDE API: the advice is the hunting section's.
	q, err := NewHuntingQuery(defender.HuntingMDE, huntingQueryConfig("q", sensorHealthKQL, "count_", "SensorHealthState"))
	if err != nil {
		t.Fatal(err)
	}
	tenant.SetFault(defendertest.HuntingMDEPath, defendertest.Fault{Retired: true, Times: 1})
	if _, err := q.Refresh(context.Background(), target); err == nil || !strings.Contains(err.Error(), "the mde API answers that it is retired: set hunting.api: graph (") {
		t.Errorf("hunting: %v", err)
	}

	// Other failures pass unchanged.
	tenant.SetFault("/api/machineactions", defendertest.Fault{Status: 403, Times: 1})
	coll, _ := New(config.DefaultCollector("machine_actions"))
	if _, err := coll.Refresh(context.Background(), target); err == nil || strings.Contains(err.Error(), "retired") || !defender.IsStatus(err, 403) {
		t.Errorf("403: %v", err)
	}
}

// TestRetiredAPIMetric: defender_collector_api_retired is 1 for the
// collector whose latest refresh failed that way and 0 for the others; the
// refresh counts as failed, and a persisting retirement is logged once.
func TestRetiredAPIMetric(t *testing.T) {
	tenant, err := defendertest.New(defendertest.Options{Seed: 3, Size: defendertest.Size{Machines: 20, Alerts: 20, MachineActions: 5}, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	defer tenant.Close()
	var logs syncBuffer
	s := NewScheduler(log.NewLogfmtLogger(&logs), func(config.Tenant) (*defender.Client, error) {
		return newClient(t, tenant, nil), nil
	}, SchedulerOptions{Now: fixedNow, Manual: true})
	defer s.Stop()
	cfg, err := config.Parse([]byte(`tenants:
  - {name: contoso, tenant_id: `+tenant.TenantID()+`, client_id: 00000000-0000-0000-0000-000000000001, client_secret: x}
`+onlyCollectors("alerts", "machine_actions", "secure_score")), "test.yml", config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(s.Status())
	tenant.SetFault("/api/machineactions", defendertest.Fault{Retired: true})
	s.RefreshNow(context.Background())
	s.RefreshNow(context.Background())

	want := `# HELP defender_collector_api_retired 1 if the latest background refresh of the collector failed because the MDE or XDR API answered that it is retired (the log says what to change), else 0.
# TYPE defender_collector_api_retired gauge
defender_collector_api_retired{collector="alerts",tenant="contoso"} 0
defender_collector_api_retired{collector="machine_actions",tenant="contoso"} 1
defender_collector_api_retired{collector="secure_score",tenant="contoso"} 0
# HELP defender_collector_success 1 if the latest background refresh of the collector succeeded.
# TYPE defender_collector_success gauge
defender_collector_success{collector="alerts",tenant="contoso"} 1
defender_collector_success{collector="machine_actions",tenant="contoso"} 0
defender_collector_success{collector="secure_score",tenant="contoso"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "defender_collector_api_retired", "defender_collector_success"); err != nil {
		t.Error(err)
	}
	warned := 0
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "level=warn") && strings.Contains(l, "collector=machine_actions") {
			warned++
			if !strings.Contains(l, "disable it with collectors.machine_actions.enabled: false") {
				t.Errorf("the warning lacks the advice: %s", l)
			}
		}
	}
	if warned != 1 {
		t.Errorf("%d warnings for a retirement seen twice, want 1:\n%s", warned, logs.String())
	}

	// Back (say a proxy answered 410 for a while): the flag drops to 0.
	tenant.ClearFaults()
	s.RefreshNow(context.Background())
	recovered := strings.NewReplacer(
		`api_retired{collector="machine_actions",tenant="contoso"} 1`, `api_retired{collector="machine_actions",tenant="contoso"} 0`,
		`success{collector="machine_actions",tenant="contoso"} 0`, `success{collector="machine_actions",tenant="contoso"} 1`,
	).Replace(want)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(recovered), "defender_collector_api_retired", "defender_collector_success"); err != nil {
		t.Error(err)
	}
}
