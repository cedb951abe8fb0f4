package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/defender-exporter/defender_exporter/collector"
	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

// demoEnv is --demo: fake Defender tenants served inside the process, and a
// configuration file that points the exporter at them over TLS with a real
// client secret, so the demo goes through the same code as production.
type demoEnv struct {
	tenants    []*defendertest.Tenant
	tenantName []string
	dir        string
	configFile string
}

// demoTenants are two organisations of different sizes, to show the
// tenant label doing its job. Their CVE catalogues are sized so that, with
// --demo.api=graph, the fake tenant evaluates the vulnerabilities query
// (every exposed device of every CVE, about a million rows for contoso) in
// about a second.
var demoTenants = []struct {
	name string
	seed int64
	size defendertest.Size
}{
	{"contoso", 1, defendertest.Size{Machines: 3200, Alerts: 450, Vulnerabilities: 4000, Recommendations: 320,
		MachineActions: 900, Incidents: 260, Indicators: 150, Investigations: 400}},
	{"fabrikam", 2, defendertest.Size{Machines: 850, Alerts: 140, Vulnerabilities: 5000, Recommendations: 210,
		MachineActions: 240, Incidents: 80, Indicators: 40, Investigations: 120}},
}

// demoCollectors refresh faster than production defaults so the drift of
// the fake data shows within minutes; two queries of examples/hunting.yml
// show advanced hunting.
const demoCollectors = `collectors:
  alerts:          {interval: 30s}
  machines:        {interval: 1m}
  scores:          {interval: 1m}
  vulnerabilities: {interval: 2m}
  recommendations: {interval: 2m}
  av_health:       {interval: 2m}
  machine_actions: {interval: 1m}
  incidents:       {interval: 30s}
  indicators:      {enabled: true, interval: 2m}
  investigations:  {enabled: true, interval: 1m}
  secure_score:    {interval: 1m, per_control: true}
  identity:        {enabled: true, interval: 1m}
hunting:
  api: graph
  queries:
    - name: devices_by_sensor_health
      help: Onboarded devices by sensor health state, from each device's latest DeviceInfo report.
      interval: 2m
      query: |
        DeviceInfo
        | summarize arg_max(Timestamp, *) by DeviceId
        | where OnboardingStatus == "Onboarded"
        | summarize count() by SensorHealthState
      labels: [SensorHealthState]
      value: count_
    - name: asr_events_1d
      help: Attack surface reduction rule events in the last 24 hours, by ActionType.
      interval: 2m
      timespan: P1D
      query: |
        DeviceEvents
        | where Timestamp > ago(1d)
        | where ActionType startswith "Asr"
        | summarize count() by ActionType
      labels: [ActionType]
      value: count_
`

// demoCollectorsFor is demoCollectors with api set on every collector that
// this build implements on that back end ("mde" changes nothing: it is the
// default), so --demo.api=graph shows what a tenant moved to Microsoft
// Graph exports.
func demoCollectorsFor(api string) string {
	if api == "" || api == "mde" {
		return demoCollectors
	}
	var b strings.Builder
	for _, line := range strings.SplitAfter(demoCollectors, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "   ") && slices.Contains(collector.Backends(name), api) {
			rest = strings.TrimSpace(rest)
			line = "  " + name + ": {api: " + api + ", " + strings.TrimPrefix(rest, "{") + "\n"
		}
		b.WriteString(line)
	}
	return b.String()
}

func startDemo(logger log.Logger, api string) (*demoEnv, error) {
	dir, err := os.MkdirTemp("", "defender-exporter-demo-")
	if err != nil {
		return nil, err
	}
	d := &demoEnv{dir: dir}
	var cfg strings.Builder
	cfg.WriteString("defaults:\n  request_timeout: 20s\ntenants:\n")
	for _, spec := range demoTenants {
		t, err := defendertest.New(defendertest.Options{Seed: spec.seed, Size: spec.size, Drift: true})
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("demo tenant %s: %w", spec.name, err)
		}
		d.tenants = append(d.tenants, t)
		d.tenantName = append(d.tenantName, spec.name)
		app := t.NewApp()
		caFile := filepath.Join(dir, spec.name+"-ca.pem")
		if err := os.WriteFile(caFile, t.CACertPEM(), 0o600); err != nil {
			d.Close()
			return nil, err
		}
		// The first tenant signs in with a client secret, the second with a
		// certificate, so the demo shows both credential kinds (and the
		// certificate expiry metric).
		credKey, credFile, credData := "client_secret_file", filepath.Join(dir, spec.name+".secret"), []byte(app.Secret)
		if len(d.tenants) > 1 {
			credKey, credFile = "certificate_file", filepath.Join(dir, spec.name+"-app.pem")
			credData = append(append([]byte{}, app.CertPEM...), app.KeyPEM...)
		}
		if err := os.WriteFile(credFile, credData, 0o600); err != nil {
			d.Close()
			return nil, err
		}
		u := t.URL()
		fmt.Fprintf(&cfg, `  - name: %s
    tenant_id: %s
    client_id: %s
    %s: %s
    endpoints: {authority: %q, mde: %q, xdr: %q, graph: %q}
    tls: {ca_file: %s}
`, spec.name, t.TenantID(), app.ClientID, credKey, credFile, u, u, u, u, caFile)
	}
	cfg.WriteString(demoCollectorsFor(api))
	d.configFile = filepath.Join(dir, "demo.yml")
	if err := os.WriteFile(d.configFile, []byte(cfg.String()), 0o600); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func (d *demoEnv) names() []string { return d.tenantName }

// demoBurstSize is large enough to stand out on the dashboards and to trip
// the new-high-severity-alerts rule.
const demoBurstSize = 25

// alertBurst is the scripted incident of --demo.alert-burst-after: a burst
// of new High-severity alerts in the first tenant.
func (d *demoEnv) alertBurst(ctx context.Context, after time.Duration, logger log.Logger) {
	select {
	case <-ctx.Done():
		return
	case <-time.After(after):
	}
	d.tenants[0].InjectAlerts(demoBurstSize, "High")
	level.Info(logger).Log("msg", "demo: injected a burst of new High-severity alerts", "tenant", d.tenantName[0], "alerts", demoBurstSize)
}

// Close stops the fake tenants and removes the demo's files.
func (d *demoEnv) Close() {
	for _, t := range d.tenants {
		t.Close()
	}
	os.RemoveAll(d.dir)
}
