package defender

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

// TestMetricsRefuseRemovedTenant: what a removed tenant's client records
// after DeleteTenant (a request cancelled by the reload that removed the
// tenant) brings no series back; a client built again for that name
// records as before, and other tenants are not affected.
func TestMetricsRefuseRemovedTenant(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry())
	m.initTenant("contoso")
	m.initTenant("fabrikam")
	m.observe("contoso", APIMDE, "/api/alerts", 200, 0)
	m.DeleteTenant("contoso")
	m.observe("contoso", APIMDE, "/api/alerts", 0, 0)
	m.retry("contoso", APIMDE)
	m.throttle("contoso", APIMDE)
	m.observe("fabrikam", APIMDE, "/api/alerts", 200, 0)
	count := func(tenant string) int {
		n := 0
		for _, c := range []prometheus.Collector{m.requests, m.duration, m.retries, m.throttled} {
			ch := make(chan prometheus.Metric, 100)
			c.Collect(ch)
			close(ch)
			for metric := range ch {
				if hasLabel(t, metric, "tenant", tenant) {
					n++
				}
			}
		}
		return n
	}
	if n := count("contoso"); n != 0 {
		t.Errorf("%d series of the removed tenant after it recorded again", n)
	}
	if n := testutil.CollectAndCount(m.requests); n != 1 {
		t.Errorf("%d request series, want fabrikam's one", n)
	}
	m.initTenant("contoso") // configured again
	m.observe("contoso", APIMDE, "/api/alerts", 200, 0)
	if n := count("contoso"); n != 2+8 { // request, duration; retries and throttles of 4 APIs
		t.Errorf("%d series of the tenant configured again, want 10", n)
	}
}

func hasLabel(t *testing.T, m prometheus.Metric, name, value string) bool {
	t.Helper()
	var pb dto.Metric
	if err := m.Write(&pb); err != nil {
		t.Fatal(err)
	}
	for _, l := range pb.GetLabel() {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}
