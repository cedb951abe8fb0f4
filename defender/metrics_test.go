package defender

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestMetricsMove(t *testing.T) {
	calls := 0
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		calls++
		switch calls {
		case 1:
			w.Header().Set("Retry-After", "1")
			writeJSON(w, 429, `{"error":{"code":"TooManyRequests"}}`)
		case 2:
			writeJSON(w, 502, `{}`)
		default:
			writeJSON(w, 200, `{"value":[{"id":"a"}]}`)
		}
	})
	reg := prometheus.NewRegistry()
	c, _, _ := testClient(t, ts, func(o *Options) { o.Metrics = NewMetrics(reg) })
	if _, err := List(context.Background(), c, alertsReq, func(*item) error { return nil }); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP defender_api_requests_total HTTP requests sent to Defender, Graph and Entra, by path template and HTTP status ("error" when no answer came).
# TYPE defender_api_requests_total counter
defender_api_requests_total{api="entra",code="200",endpoint="/{tenant}/oauth2/v2.0/token",tenant="contoso"} 1
defender_api_requests_total{api="entra",code="200",endpoint="/{tenant}/v2.0/.well-known/openid-configuration",tenant="contoso"} 1
defender_api_requests_total{api="mde",code="200",endpoint="/api/alerts",tenant="contoso"} 1
defender_api_requests_total{api="mde",code="429",endpoint="/api/alerts",tenant="contoso"} 1
defender_api_requests_total{api="mde",code="502",endpoint="/api/alerts",tenant="contoso"} 1
# HELP defender_api_retries_total Requests sent again after a 5xx, a 429, a 401 (with a fresh token) or a network error.
# TYPE defender_api_retries_total counter
defender_api_retries_total{api="entra",tenant="contoso"} 0
defender_api_retries_total{api="graph",tenant="contoso"} 0
defender_api_retries_total{api="mde",tenant="contoso"} 2
defender_api_retries_total{api="xdr",tenant="contoso"} 0
# HELP defender_api_throttled_total Answers with HTTP 429 (Too Many Requests) from Defender or Graph.
# TYPE defender_api_throttled_total counter
defender_api_throttled_total{api="entra",tenant="contoso"} 0
defender_api_throttled_total{api="graph",tenant="contoso"} 0
defender_api_throttled_total{api="mde",tenant="contoso"} 1
defender_api_throttled_total{api="xdr",tenant="contoso"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"defender_api_requests_total", "defender_api_retries_total", "defender_api_throttled_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(c.metrics.duration); n != 3 {
		t.Errorf("duration series = %d, want 3 (token, discovery, alerts)", n)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}

	// Another tenant's series survive the removal of this one.
	c.metrics.observe("fabrikam", APIMDE, "/api/alerts", 200, 0)
	c.metrics.DeleteTenant("contoso")
	if n := testutil.CollectAndCount(c.metrics.requests); n != 1 {
		t.Errorf("after DeleteTenant: %d request series, want 1 (fabrikam)", n)
	}
	if n := testutil.CollectAndCount(c.metrics.retries) + testutil.CollectAndCount(c.metrics.throttled); n != 0 {
		t.Errorf("after DeleteTenant: %d retry/throttle series left", n)
	}
}

func TestMetricsRegisterTwiceAndNil(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, b := NewMetrics(reg), NewMetrics(reg)
	a.retry("t", APIMDE)
	if got := testutil.ToFloat64(b.retries.WithLabelValues("t", "mde")); got != 1 {
		t.Errorf("second NewMetrics does not share the first's collectors: %v", got)
	}
	var m *Metrics // nil records nothing and does not panic
	m.observe("t", APIMDE, "/x", 200, 0)
	m.retry("t", APIMDE)
	m.throttle("t", APIMDE)
	m.DeleteTenant("t")
}
