package collector

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/defender-exporter/defender_exporter/defender"
	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

func TestAVHealthGolden(t *testing.T) {
	_, target := fakeTenant(t, defendertest.Size{Machines: 400})
	c, err := newAVHealthCollector(collectorConfig(t, "av_health"))
	if err != nil {
		t.Fatal(err)
	}
	compareGolden(t, refresh(t, c, target), "av_health")
}

// TestAVHealthMatchData recomputes the counts from the fake's rows with the
// documented avMode table and flag spellings.
func TestAVHealthMatchData(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 2000})
	c, _ := newAVHealthCollector(collectorConfig(t, "av_health"))
	ms := refresh(t, c, target)
	modes := map[string]string{"": "Other", "0": "Active", "1": "Passive", "2": "Disabled", "3": "Other", "4": "EDRBlocked", "5": "PassiveAudit"}
	flag := func(s string) string {
		if s == "" {
			return "Unknown"
		}
		return s
	}
	machines := map[[4]string]int{}
	scans := map[[2]string]int{}
	for _, r := range tenant.Data().AVInfo {
		mode, ok := modes[r.AVMode]
		if !ok {
			t.Fatalf("undocumented avMode %q in the fake", r.AVMode)
		}
		machines[[4]string{mode, flag(r.AVIsSignatureUpToDate), flag(r.AVIsEngineUpToDate), flag(r.AVIsPlatformUpToDate)}]++
		scans[[2]string{"quick", r.QuickScanResult}]++
		scans[[2]string{"full", r.FullScanResult}]++
	}
	for k, want := range machines {
		got := valueOf(t, ms, "defender_av_machines", `av_mode="`+k[0]+`"`, `signature_up_to_date="`+k[1]+`"`,
			`engine_up_to_date="`+k[2]+`"`, `platform_up_to_date="`+k[3]+`"`)
		if int(got) != want {
			t.Errorf("%v: %v, want %d", k, got, want)
		}
	}
	if n := len(seriesOf(t, ms, "defender_av_machines")); n != len(machines) {
		t.Errorf("%d av_machines series, want %d", n, len(machines))
	}
	for k, want := range scans {
		if got := valueOf(t, ms, "defender_av_scan_results", `scan_type="`+k[0]+`"`, `result="`+k[1]+`"`); int(got) != want {
			t.Errorf("%v: %v, want %d", k, got, want)
		}
	}
	if got := sumSeries(t, ms, "defender_av_machines"); int(got) != len(tenant.Data().AVInfo) {
		t.Errorf("defender_av_machines sums to %v, want one per row (%d)", got, len(tenant.Data().AVInfo))
	}
}

func TestAVModeLabel(t *testing.T) {
	for in, want := range map[string]string{`""`: "Other", `null`: "Other", `"0"`: "Active", `"1"`: "Passive", `"2"`: "Disabled",
		`"3"`: "Other", `"4"`: "EDRBlocked", `"5"`: "PassiveAudit", `5`: "PassiveAudit", `"7"`: "7", `"12"`: "12"} {
		var n defender.Number
		if err := n.UnmarshalJSON([]byte(in)); err != nil {
			t.Fatal(err)
		}
		if got := avModeLabel(n); got != want {
			t.Errorf("avMode %s: %q, want %q", in, got, want)
		}
	}
}

// TestAVHealthCallCount: a tenant's whole report is one call at 200,000
// rows a page (the fake rejects $top above 10,000, so this also shows that
// pageSize was used). With a smaller page the nextLinks ($skiptoken) are
// followed, and only a single full page costs an extra call.
func TestAVHealthCallCount(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 2500})
	rows := len(tenant.Data().AVInfo)
	c := &avHealthCollector{pageSize: avInfoMaxPage}
	tenant.ResetCalls()
	refresh(t, c, target)
	if got := tenant.Calls("/api/deviceavinfo"); got != 1 {
		t.Errorf("%d rows at %d a page: %d calls, want 1", rows, avInfoMaxPage, got)
	}
	for _, page := range []int{1000, rows / 2, rows} {
		c := &avHealthCollector{pageSize: page}
		tenant.ResetCalls()
		ms := refresh(t, c, target)
		if got, want := tenant.Calls("/api/deviceavinfo"), nextLinkPages(rows, page); got != want {
			t.Errorf("%d rows at %d a page: %d calls, want %d", rows, page, got, want)
		}
		if got := sumSeries(t, ms, "defender_av_machines"); int(got) != rows {
			t.Errorf("page %d: %v machines, want %d", page, got, rows)
		}
	}
}

func TestAVHealthFailure(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 300})
	c := &avHealthCollector{pageSize: 100}
	ms, err := c.Refresh(context.Background(), targetWithRoles(t, tenant, "Alert.Read.All"))
	if !defender.IsStatus(err, 403) || !strings.HasPrefix(err.Error(), "listing device AV health: ") || ms != nil {
		t.Fatalf("without Machine.Read.All: %v", err)
	}
	// The second page's link points elsewhere: no partial snapshot, and the
	// token stays home.
	tenant.SetFault("/api/deviceavinfo", defendertest.Fault{NextLinkOtherHost: true})
	ms, err = c.Refresh(context.Background(), target)
	if !errors.Is(err, defender.ErrForeignNextLink) || ms != nil || tenant.OtherHostSawToken() {
		t.Fatalf("foreign nextLink: %v, %d metrics", err, len(ms))
	}
}
