package defendertest

import (
	"bytes"
	"encoding/json"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"
)

func datasetJSON(t testing.TB, d *Dataset) []byte {
	t.Helper()
	b, err := json.Marshal(struct {
		M []Machine
		A []Alert
	}{d.Machines, d.Alerts})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGenerateDeterministic(t *testing.T) {
	size := Size{Machines: 300, Alerts: 2000}
	a := datasetJSON(t, Generate(42, size, testNow))
	b := datasetJSON(t, Generate(42, size, testNow))
	if !bytes.Equal(a, b) {
		t.Fatal("same seed gave different data")
	}
	if bytes.Equal(a, datasetJSON(t, Generate(43, size, testNow))) {
		t.Fatal("different seeds gave the same data")
	}
	// More alerts must not reshuffle the machines.
	m1 := Generate(42, Size{Machines: 50, Alerts: 10}, testNow).Machines
	m2 := Generate(42, Size{Machines: 50, Alerts: 500}, testNow).Machines
	if m1[49].ID != m2[49].ID {
		t.Fatal("alert count changed the machines")
	}

	// Two tenants with one seed serve the same listing and tenant ID.
	t1 := newTestTenant(t, Options{Seed: 42, Size: Size{Machines: 20, Alerts: 50}})
	t2 := newTestTenant(t, Options{Seed: 42, Size: Size{Machines: 20, Alerts: 50}})
	if t1.TenantID() != t2.TenantID() || t1.TenantID() != t1.Data().TenantID || t1.NewApp().ClientID != t2.NewApp().ClientID {
		t.Fatal("tenant or client IDs are not deterministic")
	}
	for _, path := range []string{"/api/alerts", "/api/machines"} {
		_, _, r1 := get(t, t1, secretToken(t, t1, t1.NewApp(), mdeScope), path)
		_, _, r2 := get(t, t2, secretToken(t, t2, t2.NewApp(), mdeScope), path)
		v1, _ := json.Marshal(decodePage(t, r1).Value)
		v2, _ := json.Marshal(decodePage(t, r2).Value)
		if !bytes.Equal(v1, v2) {
			t.Fatalf("%s differs between tenants of one seed", path)
		}
	}
}

func TestWireJSON(t *testing.T) {
	d := Generate(1, Size{Machines: 200, Alerts: 200}, testNow)
	var ungrouped *Machine
	for i := range d.Machines {
		if d.Machines[i].RBACGroupID == 0 {
			ungrouped = &d.Machines[i]
			break
		}
	}
	if ungrouped == nil {
		t.Fatal("no ungrouped machine in 200")
	}
	var m map[string]any
	b, _ := json.Marshal(ungrouped)
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if v, ok := m["rbacGroupName"]; !ok || v != nil {
		t.Fatalf("rbacGroupName = %v, want null", v)
	}
	if m["rbacGroupId"] != float64(0) || m["vmMetadata"] != nil {
		t.Fatalf("rbacGroupId %v", m["rbacGroupId"])
	}
	for _, k := range []string{"id", "computerDnsName", "firstSeen", "lastSeen", "osPlatform", "version", "healthStatus",
		"onboardingStatus", "riskScore", "exposureLevel", "deviceValue", "defenderAvStatus", "agentVersion", "machineTags", "ipAddresses", "isExcluded"} {
		if _, ok := m[k]; !ok {
			t.Errorf("machine JSON lacks %q", k)
		}
	}
	if s, _ := m["lastSeen"].(string); !strings.HasSuffix(s, "Z") || len(s) != len("2025-06-01T10:20:30.1234567Z") {
		t.Errorf("lastSeen %q not in Defender's spelling", m["lastSeen"])
	}

	var a map[string]any
	b, _ = json.Marshal(&d.Alerts[0])
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "incidentId", "severity", "status", "classification", "determination", "category",
		"detectionSource", "alertCreationTime", "lastUpdateTime", "resolvedTime", "machineId", "aadTenantId", "evidence"} {
		if _, ok := a[k]; !ok {
			t.Errorf("alert JSON lacks %q", k)
		}
	}

	// The hand-written string encoder agrees with encoding/json.
	for _, s := range []string{"plain", `q"u\o`, "tab\tnl\nctl\x01", "<html>&", "é ☃ \u2028", "bad\xffutf8", ""} {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	}
}

func TestGeneratedDistributions(t *testing.T) {
	d := Generate(3, Size{Machines: 3000, Alerts: 6000}, testNow)
	count := map[string]int{}
	for _, m := range d.Machines {
		count["health:"+m.HealthStatus]++
		count["onboarding:"+m.OnboardingStatus]++
		count["platform:"+m.OSPlatform]++
		age := testNow.Sub(m.LastSeen.Time())
		switch {
		case age > 30*24*time.Hour:
			count["stale30d"]++
		case age > 7*24*time.Hour:
			count["stale7d"]++
		case age > 24*time.Hour:
			count["stale24h"]++
		}
		if m.RBACGroupID == 0 && m.RBACGroupName == "" {
			count["ungrouped"]++
		}
		if m.FirstSeen.Time().After(m.LastSeen.Time()) {
			t.Fatalf("machine %s first seen after last seen", m.ID)
		}
	}
	for _, a := range d.Alerts {
		count["status:"+a.Status]++
		if a.Category == "" {
			count["nullCategory"]++
		}
		if a.DetectionSource == "" {
			count["nullSource"]++
		}
		if a.Determination == "Apt" || a.Determination == "SecurityPersonnel" {
			count["deprecated"]++
		}
		if a.Status != "Resolved" && (a.Classification != "" || a.Determination != "" || !a.ResolvedTime.IsZero()) {
			t.Fatalf("unresolved alert %s is classified", a.ID)
		}
		if age := testNow.Sub(a.AlertCreationTime.Time()); age < 0 || age > alertWindow {
			t.Fatalf("alert %s created %v ago", a.ID, age)
		}
		if a.LastUpdateTime.Time().Before(a.AlertCreationTime.Time()) {
			t.Fatalf("alert %s updated before it was created", a.ID)
		}
	}
	for _, k := range []string{"health:Active", "health:Inactive", "health:ImpairedCommunication", "health:NoSensorData",
		"onboarding:Onboarded", "onboarding:onboarded", "onboarding:CanBeOnboarded", "platform:Windows11", "platform:macOS",
		"platform:WindowsServer2022", "stale30d", "stale7d", "stale24h", "ungrouped",
		"status:New", "status:InProgress", "status:Resolved", "status:Unknown", "nullCategory", "nullSource", "deprecated"} {
		if count[k] == 0 {
			t.Errorf("no %s in a large dataset", k)
		}
	}
	if count["health:Active"] < len(d.Machines)/2 || count["status:Resolved"] < len(d.Alerts)/3 {
		t.Errorf("implausible distribution: %v", count)
	}
}

func TestInjectAlertsAndDrift(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 12, Size: Size{Machines: 20, Alerts: 100}})
	tok := secretToken(t, tn, tn.NewApp(), mdeScope)
	injected := tn.InjectAlerts(3, "High")
	if len(injected) != 3 || injected[0].Status != "New" || injected[0].Severity != "High" || !injected[0].AlertCreationTime.Time().Equal(testNow) {
		t.Fatalf("injected %+v", injected)
	}
	filter := url.QueryEscape("alertCreationTime ge " + testNow.Format(time.RFC3339) + " and severity eq 'High' and status eq 'New'")
	_, _, raw := get(t, tn, tok, "/api/alerts?$filter="+filter)
	got := ids(t, decodePage(t, raw))
	if len(got) < 3 || got[len(got)-1] != injected[2].ID {
		t.Fatalf("served %v, want the injected alerts", got)
	}

	before := datasetJSON(t, tn.Data())
	countAlerts := func() (all, high int) {
		tn.Data().View(func(d *Dataset) {
			all = len(d.Alerts)
			for _, a := range d.Alerts {
				if a.Severity == "High" {
					high++
				}
			}
		})
		return all, high
	}
	allBefore, highBefore := countAlerts()
	for range 200 {
		tn.Data().driftStep(testNow.Add(time.Minute))
	}
	if bytes.Equal(before, datasetJSON(t, tn.Data())) {
		t.Fatal("drift changed nothing")
	}
	// New alerts arrive, but never High ones: those only come when asked.
	if all, high := countAlerts(); all <= allBefore+100 || high != highBefore {
		t.Errorf("after 200 drift steps: %d alerts (was %d), %d High (was %d); want ~300 more, no new High",
			all, allBefore, high, highBefore)
	}

	// The background drift runs and stops with Close.
	demo, err := New(Options{Seed: 1, Size: Size{Machines: 10, Alerts: 10}, Drift: true, DriftEvery: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		demo.Data().View(func(d *Dataset) { n = len(d.Alerts) })
		if n > 10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("drift added no alerts")
		}
		time.Sleep(time.Millisecond)
	}
	demo.Close()
	demo.Close() // idempotent
}

// The generation benchmarks report the heap a dataset keeps alive
// ("retainedMiB"); run with -benchmem. 100k machines with 1M alerts is the
// scale the fake must support.
func BenchmarkGenerate100kMachines(b *testing.B) {
	benchmarkGenerate(b, Size{Machines: 100_000})
}

func BenchmarkGenerate100kMachines1MAlerts(b *testing.B) {
	benchmarkGenerate(b, Size{Machines: 100_000, Alerts: 1_000_000})
}

func benchmarkGenerate(b *testing.B, size Size) {
	for b.Loop() {
		runtime.KeepAlive(Generate(1, size, testNow))
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	d := Generate(1, size, testNow)
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(d)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "retainedMiB")
}

// BenchmarkAlertsPage measures serving one full 10,000-alert page.
func BenchmarkAlertsPage(b *testing.B) {
	tn := newTestTenant(b, Options{Seed: 1, Size: Size{Machines: 1000, Alerts: 20_000}})
	tok := secretToken(b, tn, tn.NewApp(), mdeScope)
	client := tn.HTTPClient()
	b.ResetTimer()
	for b.Loop() {
		req, _ := newAuthRequest(tn, tok, "/api/alerts?$top=10000&$skip=5000")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := drain(resp)
		b.SetBytes(n)
	}
}
