package collector

import (
	"context"
	"io"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/defender-exporter/defender_exporter/defender"
	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

// BenchmarkGraphAlerts is the graph back end of the alerts collector on the
// tenant of BenchmarkRefresh/alerts_1M (the same seed and size, so the same
// 627,965 alerts in scope), whose alerts_v2 answers carry each alert's
// evidence: a few kilobytes an alert.
//
//   - first_load_1M: a refresh of a new collector, which lists every alert
//     in scope and builds the state.
//   - incremental_1M: a refresh 5 minutes after the previous one, which
//     lists the alerts updated since, less the overlap, and computes the
//     metrics from the state.
//
// Reported besides measure's figures: calls and the minimum the page size
// allows, bytes of JSON received per refresh, and the state's bytes per
// alert (the heap a copy of its map holds).
func BenchmarkGraphAlerts(b *testing.B) {
	proc := startFakeProc(b, defendertest.Size{Machines: 100000, Alerts: 1000000})
	var received atomic.Int64
	client := benchClient(b, "bench", proc.tenants[0], func(next http.RoundTripper) http.RoundTripper {
		return &countingTransport{next: next, n: &received}
	})
	if err := client.Token(context.Background(), defender.APIGraph); err != nil {
		b.Fatal(err)
	}
	target := &Target{Tenant: "bench", Client: client, Now: fixedNow, Logger: log.NewNopLogger()}
	newCollector := func() *graphAlertsCollector {
		c, err := New(collectorConfigAPI(b, "alerts", "graph"))
		if err != nil {
			b.Fatal(err)
		}
		return unwrapCollector(c).(*graphAlertsCollector)
	}
	// run measures refreshes of the collector prepare returns, once per
	// op.
	run := func(b *testing.B, prepare func() *graphAlertsCollector) {
		proc.reset(b)
		received.Store(0)
		var c *graphAlertsCollector
		var last []defender.Listing
		measure(b, func() int {
			c = prepare()
			var calls defender.CallCounter
			if _, err := c.Refresh(defender.WithCallCounter(context.Background(), &calls), target); err != nil {
				b.Fatal(err)
			}
			last = calls.Listings()
			_, _, items, _ := listingReport(last)
			return items
		})
		got := proc.calls(b)[0][defendertest.GraphAlertsPath]
		pages, minPages, items, detail := listingReport(last)
		if got != pages*b.N {
			b.Errorf("the fake counted %d calls for %d refreshes; the client's counter says %d per refresh", got, b.N, pages)
		}
		b.ReportMetric(float64(got)/float64(b.N), "calls/op")
		b.ReportMetric(float64(minPages), "min-calls/op")
		b.ReportMetric(float64(received.Load())/float64(b.N)/mib, "MiB-received/op")
		b.ReportMetric(stateBytesPerAlert(c.state), "state-B/alert")
		b.Logf("%s; %d entities; %d alerts in the state", detail, items, c.state.len())
	}

	b.Run("first_load_1M", func(b *testing.B) {
		run(b, newCollector)
	})

	// The previous refresh, a full listing, ran 5 minutes before.
	inc := newCollector()
	earlier := *target
	earlier.Now = func() time.Time { return fixedNow().Add(-5 * time.Minute) }
	if _, err := inc.Refresh(context.Background(), &earlier); err != nil {
		b.Fatal(err)
	}
	b.Run("incremental_1M", func(b *testing.B) {
		run(b, func() *graphAlertsCollector {
			inc.lastStart = earlier.Now() // each op is the refresh after that one
			return inc
		})
	})
}

// stateBytesPerAlert is the heap a state like st holds, per alert: that
// of a copy of its map built as a refresh builds it, one alert at a time
// (the table of label combinations is a few kilobytes). st is untouched.
func stateBytesPerAlert(st *alertState) float64 {
	runtime.GC()
	before := heapAlloc()
	cp := map[uint64]uint64{}
	for k, v := range st.alerts {
		cp[k] = v
	}
	runtime.GC()
	after := heapAlloc()
	runtime.KeepAlive(cp)
	if after < before || len(cp) == 0 {
		return 0
	}
	return float64(after-before) / float64(len(cp))
}

func heapAlloc() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// countingTransport counts the bytes of the answers' bodies.
type countingTransport struct {
	next http.RoundTripper
	n    *atomic.Int64
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err == nil {
		resp.Body = &countingBody{ReadCloser: resp.Body, n: t.n}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}
