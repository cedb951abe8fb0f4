package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/defender-exporter/defender_exporter/collector"
)

// stalledWriter is a scraper that reads nothing: its first Write blocks
// until release is closed.
type stalledWriter struct {
	header  http.Header
	writing chan struct{} // closed at the first Write
	release chan struct{}
	started bool
}

func (w *stalledWriter) Header() http.Header { return w.header }
func (w *stalledWriter) WriteHeader(int)     {}
func (w *stalledWriter) Write(p []byte) (int, error) {
	if !w.started {
		w.started = true
		close(w.writing)
		<-w.release
	}
	return len(p), nil
}

// TestMaxRequestsCoversTheWholeAnswer: --web.max-requests bounds scrapes
// until their answer is written, snapshots included, not only while the
// registries are gathered: a slow scraper holds its slot, and the next
// scrape beyond the limit is refused.
func TestMaxRequestsCoversTheWholeAnswer(t *testing.T) {
	f := &flags{maxRequests: 1}
	sched := collector.NewScheduler(log.NewNopLogger(), nil, collector.SchedulerOptions{Manual: true})
	defer sched.Stop()
	exporterReg, reg := prometheus.NewRegistry(), prometheus.NewRegistry()
	reg.MustRegister(sched.Status())
	h := metricsHandler(f, sched, exporterReg, reg, slog.New(slog.NewTextHandler(io.Discard, nil)))

	slow := &stalledWriter{header: http.Header{}, writing: make(chan struct{}), release: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(slow, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	}()
	<-slow.writing

	second := httptest.NewRecorder()
	h.ServeHTTP(second, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if second.Code != http.StatusServiceUnavailable || !strings.Contains(second.Body.String(), "Limit of concurrent requests reached (1)") {
		t.Errorf("a scrape beyond the limit while another is being written: %d %s", second.Code, second.Body.String())
	}
	close(slow.release)
	<-done

	third := httptest.NewRecorder()
	h.ServeHTTP(third, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	// The refused scrape is counted as before.
	if third.Code != http.StatusOK || !strings.Contains(third.Body.String(), `promhttp_metric_handler_requests_total{code="503"} 1`) {
		t.Errorf("a scrape once the slot is free: %d\n%s", third.Code, third.Body.String())
	}
}
