package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/defender-exporter/defender_exporter/collector"
	"github.com/defender-exporter/defender_exporter/config"
)

// TestDemoCollectorsForGraph: --demo.api=graph sets api: graph on every
// collector this build implements on Graph, and nothing else changes.
func TestDemoCollectorsForGraph(t *testing.T) {
	if demoCollectorsFor("mde") != demoCollectors {
		t.Error("--demo.api=mde changed the demo's collectors")
	}
	yml := "defaults:\n  request_timeout: 20s\ntenants:\n  - {name: a, tenant_id: 11111111-1111-1111-1111-111111111111, client_id: 22222222-2222-2222-2222-222222222222, client_secret: s}\n" +
		demoCollectorsFor("graph")
	cfg, err := config.Parse([]byte(yml), "demo.yml", config.Options{})
	if err != nil {
		t.Fatalf("%v\n%s", err, yml)
	}
	graph := 0
	for _, name := range config.CollectorNames {
		c := cfg.Collectors[name]
		want := config.DefaultCollector(name).API
		for _, b := range collector.Backends(name) {
			if b == "graph" {
				want = "graph"
				graph++
			}
		}
		if c.API != want {
			t.Errorf("%s: api %q, want %q", name, c.API, want)
		}
	}
	if graph < 5 {
		t.Errorf("only %d collectors on graph; the posture ones alone are 5", graph)
	}
	if len(cfg.Hunting.Queries) != 2 || cfg.Collectors["indicators"].Enabled != true {
		t.Errorf("the rest of the demo configuration changed: %+v", cfg.Hunting)
	}
}

// TestDemoGraphServesPosture drives the binary: --demo --demo.api=graph
// exports the posture families from advanced hunting, without calling the
// MDE device APIs.
func TestDemoGraphServesPosture(t *testing.T) {
	e := startExporter(t, "--demo", "--demo.api=graph")
	e.waitReady(t)
	code, body := e.get(t, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d\n%s", code, body)
	}
	for _, want := range []string{
		`defender_up{tenant="contoso"} 1`,
		`defender_collector_success{collector="machines",tenant="contoso"} 1`,
		`defender_collector_success{collector="av_health",tenant="fabrikam"} 1`,
		`defender_collector_success{collector="vulnerabilities",tenant="contoso"} 1`,
		`defender_collector_success{collector="recommendations",tenant="fabrikam"} 1`,
		`defender_collector_success{collector="scores",tenant="contoso"} 1`,
		`defender_machines{av_status="",device_group=`,
		`defender_av_machines{av_mode="Active",`,
		`defender_vulnerabilities{public_exploit="true",severity="Critical",tenant="contoso"}`,
		`defender_vulnerability_exposed_machines{severity="High",tenant="fabrikam"}`,
		`defender_recommendations{category="SecurityControls",remediation_type="ConfigurationChange",status="",tenant="contoso"}`,
		`defender_recommendation_exposed_machines{category="Network",tenant="contoso"}`,
		`defender_api_requests_total{api="graph",code="200",endpoint="/v1.0/security/runHuntingQuery",tenant="contoso"}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, absent := range []string{
		`defender_machines_stale{`, `defender_exposure_score`, `defender_configuration_score`, `defender_av_scan_results{`,
		`endpoint="/api/machines"`, `endpoint="/api/deviceavinfo"`, `endpoint="/api/vulnerabilities"`, `endpoint="/api/recommendations"`,
	} {
		if strings.Contains(body, absent) {
			t.Errorf("/metrics has %s, which the graph back end does not export or call", absent)
		}
	}
}
