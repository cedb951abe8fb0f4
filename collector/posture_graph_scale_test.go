package collector

import (
	"context"
	"fmt"
	"testing"

	"github.com/go-kit/log"

	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

var graphPostureCollectors = []string{"machines", "av_health", "vulnerabilities", "recommendations", "scores"}

// graphCost refreshes a graph-back-end collector once and returns the
// runHuntingQuery calls it made, the answer bytes and the series exported.
func graphCost(tb testing.TB, tenant *defendertest.Tenant, target *Target, name string) (calls, bytes, series int) {
	tb.Helper()
	c := graphCollector(tb, name)
	tenant.ResetCalls()
	ms, err := c.Refresh(context.Background(), target)
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return tenant.Calls(defendertest.HuntingGraphPath), tenant.AnswerBytes(defendertest.HuntingGraphPath), len(ms)
}

// TestGraphPostureCostDoesNotGrowWithTheFleet: the built-in queries
// aggregate on the server, so a tenant a hundred times larger costs the same
// calls, and an answer has one row per series exported (label combination),
// not one per device.
func TestGraphPostureCostDoesNotGrowWithTheFleet(t *testing.T) {
	small, smallTarget := fakeTenant(t, defendertest.Size{Machines: 200, Alerts: 1, Vulnerabilities: 300, Recommendations: 60})
	large, largeTarget := fakeTenant(t, defendertest.Size{Machines: 20000, Alerts: 1, Vulnerabilities: 300, Recommendations: 60})
	for _, name := range graphPostureCollectors {
		sc, sb, ss := graphCost(t, small, smallTarget, name)
		lc, lb, ls := graphCost(t, large, largeTarget, name)
		t.Logf("%s: 200 machines %d call(s), %d answer bytes, %d series; 20,000 machines %d call(s), %d answer bytes, %d series", name, sc, sb, ss, lc, lb, ls)
		if sc != len(graphQueries[name]) || lc != sc {
			t.Errorf("%s: %d and %d calls, want %d for either tenant", name, sc, lc, len(graphQueries[name]))
		}
		// One row per series exported (a label combination), never one
		// per device: a row of the widest answer (machines) is under 200
		// bytes, so an answer much larger than its series would be rows
		// the server did not aggregate.
		if perSeries := 400*ls + 2048; lb > perSeries {
			t.Errorf("%s: %d answer bytes for %d series: more than a row per series (%d bytes at most)", name, lb, ls, perSeries)
		}
		if lb >= 20000*10 {
			t.Errorf("%s: %d answer bytes for 20,000 machines: as large as a row per device", name, lb)
		}
	}
}

// BenchmarkGraphPosture500k refreshes each posture collector on the graph
// back end against a 500,000-device tenant. Reported per refresh: the
// runHuntingQuery calls, the answer's bytes and the series exported; the
// time and allocations are mostly the fake tenant evaluating the query.
func BenchmarkGraphPosture500k(b *testing.B) {
	tenant, target := fakeTenant(b, defendertest.Size{Machines: 500000, Alerts: 1, Vulnerabilities: 40, Recommendations: 8})
	target.Logger = log.NewNopLogger()
	for _, name := range graphPostureCollectors {
		b.Run(name, func(b *testing.B) {
			var calls, bytes, series int
			for range b.N {
				c, by, s := graphCost(b, tenant, target, name)
				calls, bytes, series = calls+c, bytes+by, s
			}
			b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
			b.ReportMetric(float64(bytes)/float64(b.N), "answer-B/op")
			b.ReportMetric(float64(series), "series")
			if calls != b.N*len(graphQueries[name]) {
				b.Errorf("%s", fmt.Sprintf("%d calls for %d refreshes, want %d each", calls, b.N, len(graphQueries[name])))
			}
		})
	}
}
