package collector

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/defender-exporter/defender_exporter/defender"
	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

func TestVulnerabilitiesGolden(t *testing.T) {
	_, target := fakeTenant(t, defendertest.Size{Machines: 300, Vulnerabilities: 3000})
	c, err := newVulnerabilitiesCollector(collectorConfig(t, "vulnerabilities"))
	if err != nil {
		t.Fatal(err)
	}
	compareGolden(t, refresh(t, c, target), "vulnerabilities")
}

func TestVulnerabilitiesMatchData(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 800, Vulnerabilities: 9000})
	c, _ := newVulnerabilitiesCollector(collectorConfig(t, "vulnerabilities"))
	ms := refresh(t, c, target)
	count := map[string]int{}
	exposed := map[string]int64{}
	unexposed := 0
	for _, v := range tenant.Data().Vulnerabilities {
		if v.ExposedMachines == 0 {
			unexposed++
			continue
		}
		count[v.Severity+"/"+strconv.FormatBool(v.PublicExploit)]++
		exposed[v.Severity] += v.ExposedMachines
	}
	if unexposed == 0 || len(count) < 6 {
		t.Fatalf("the dataset lacks unexposed CVEs (%d) or variety (%v); the test proves little", unexposed, count)
	}
	for k, want := range count {
		sev, pub, _ := strings.Cut(k, "/")
		if got := valueOf(t, ms, "defender_vulnerabilities", `severity="`+sev+`"`, `public_exploit="`+pub+`"`); int(got) != want {
			t.Errorf("%s: %v, want %d", k, got, want)
		}
	}
	if n := len(seriesOf(t, ms, "defender_vulnerabilities")); n != len(count) {
		t.Errorf("%d series, want %d", n, len(count))
	}
	for sev, want := range exposed {
		if got := valueOf(t, ms, "defender_vulnerability_exposed_machines", `severity="`+sev+`"`); int64(got) != want {
			t.Errorf("exposed machines %s: %v, want %d", sev, got, want)
		}
	}
}

// TestVulnerabilitiesCallCount: the whole catalogue at 8,000 CVEs a page.
func TestVulnerabilitiesCallCount(t *testing.T) {
	for _, n := range []int{20000, 16000} {
		tenant, target := fakeTenant(t, defendertest.Size{Machines: 50, Vulnerabilities: n})
		c, _ := newVulnerabilitiesCollector(collectorConfig(t, "vulnerabilities"))
		tenant.ResetCalls()
		refresh(t, c, target)
		if got, want := tenant.Calls("/api/vulnerabilities"), skipPages(n, vulnerabilitiesMaxPage); got != want {
			t.Errorf("%d CVEs: %d calls, want %d", n, got, want)
		}
	}
}

func TestVulnerabilitiesFailure(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 20, Vulnerabilities: 100})
	c, _ := newVulnerabilitiesCollector(collectorConfig(t, "vulnerabilities"))
	ms, err := c.Refresh(context.Background(), targetWithRoles(t, tenant, "Score.Read.All"))
	if !defender.IsStatus(err, 403) || !strings.HasPrefix(err.Error(), "listing vulnerabilities: ") || ms != nil {
		t.Fatalf("without Vulnerability.Read.All: %v", err)
	}
	tenant.SetFault("/api/vulnerabilities", defendertest.Fault{Truncated: true})
	if ms, err := c.Refresh(context.Background(), target); err == nil || ms != nil {
		t.Fatalf("truncated page: %v, %d metrics", err, len(ms))
	}
}
