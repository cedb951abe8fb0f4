package collector

import (
	"testing"

	"github.com/defender-exporter/defender_exporter/config"
	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

// targetWithRoles is a target whose app holds only roles, so that the fake
// answers 403 on APIs needing another permission.
func targetWithRoles(t testing.TB, tenant *defendertest.Tenant, roles ...string) *Target {
	t.Helper()
	app := tenant.NewApp()
	tenant.SetAppRoles(app.ClientID, roles...)
	c := fakeClient(t, tenant, app, nil)
	return &Target{Tenant: "contoso", Client: c, Now: fixedNow}
}

// skipPages is the cost of a listing paged with $top and $skip (MDE): a
// page per pageSize entities, and a last short page — an extra call when
// the last full page ends the listing exactly.
func skipPages(n, pageSize int) int { return n/pageSize + 1 }

// nextLinkPages is the cost of a listing whose server sends a nextLink
// while more remain (XDR incidents, the AV export): only a single full page
// leaves the client unsure whether more follow, and costs one more call.
func nextLinkPages(n, pageSize int) int {
	switch {
	case n == 0:
		return 1
	case n == pageSize:
		return 2
	}
	return (n + pageSize - 1) / pageSize
}

// sumSeries adds up the values of one metric family.
func sumSeries(t testing.TB, ms metricSet, name string) float64 {
	t.Helper()
	var total float64
	for _, l := range seriesOf(t, ms, name) {
		total += lastFloat(t, l)
	}
	return total
}

// valueOf returns the value of the one series of name whose line contains
// every label pair given, or fails.
func valueOf(t testing.TB, ms metricSet, name string, labels ...string) float64 {
	t.Helper()
	var found []string
	for _, l := range seriesOf(t, ms, name) {
		if containsAll(l, labels...) {
			found = append(found, l)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s%v: want one series, found %q", name, labels, found)
	}
	return lastFloat(t, found[0])
}

func TestEveryCollectorRegistered(t *testing.T) {
	for _, name := range config.CollectorNames {
		if _, err := New(config.DefaultCollector(name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
