package collector

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

// seriesSet flattens families into "name{labels} value" lines, sorted.
func seriesSet(mfs map[string]*dto.MetricFamily) []string {
	var out []string
	for name, mf := range mfs {
		for _, m := range mf.Metric {
			var lp []string
			for _, l := range m.Label {
				lp = append(lp, l.GetName()+"="+l.GetValue())
			}
			sort.Strings(lp)
			out = append(out, fmt.Sprintf("%s %s{%s} %g", mf.GetType(), name, strings.Join(lp, ","), m.GetGauge().GetValue()+m.GetCounter().GetValue()))
		}
	}
	sort.Strings(out)
	return out
}

func parseText(t *testing.T, r io.Reader) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(r)
	if err != nil {
		t.Fatalf("the exposition does not parse: %v", err)
	}
	return mfs
}

// TestHandlerServesWhatTheRegistryWould: /metrics through Handler (the
// registry with Status, then the rendered snapshots) has exactly the
// series a registry with the whole Scheduler has, plain or gzipped, and
// costs Defender nothing.
func TestHandlerServesWhatTheRegistryWould(t *testing.T) {
	fakes := map[string]*defendertest.Tenant{}
	for i, name := range []string{"contoso", "fabrikam"} {
		ft, err := defendertest.New(defendertest.Options{Seed: int64(i + 1), Size: smallSize, Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		defer ft.Close()
		fakes[name] = ft
	}
	s := schedulerFor(t, fakes)
	s.RefreshNow(context.Background())

	whole := prometheus.NewRegistry()
	whole.MustRegister(s)
	wantMFs, err := whole.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*dto.MetricFamily{}
	for _, mf := range wantMFs {
		want[mf.GetName()] = mf
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(s.Status())
	srv := httptest.NewServer(s.Handler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	defer srv.Close()
	before := allCalls(fakes["contoso"]) + allCalls(fakes["fabrikam"])

	for _, gz := range []bool{false, true} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		// What Prometheus sends: it would take protobuf or OpenMetrics,
		// and gets the text format it also takes.
		req.Header.Set("Accept", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3")
		if gz {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		// A bare transport, so that Go does not gunzip on its own.
		resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		body := io.Reader(resp.Body)
		if gz {
			if resp.Header.Get("Content-Encoding") != "gzip" {
				t.Fatalf("asked for gzip, got Content-Encoding %q", resp.Header.Get("Content-Encoding"))
			}
			zr, err := gzip.NewReader(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			body = zr
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
			t.Errorf("Content-Type %q", ct)
		}
		got := parseText(t, body)
		resp.Body.Close()
		gs, ws := seriesSet(got), seriesSet(want)
		if strings.Join(gs, "\n") != strings.Join(ws, "\n") {
			t.Errorf("gzip %v: the handler serves %d series, the registry %d; first difference:\n%s", gz, len(gs), len(ws), firstDiff(gs, ws))
		}
		for name, mf := range want {
			if got[name] == nil || got[name].GetHelp() != mf.GetHelp() || got[name].GetType() != mf.GetType() {
				t.Errorf("family %s: HELP or TYPE differs: %v", name, got[name])
			}
		}
	}
	if after := allCalls(fakes["contoso"]) + allCalls(fakes["fabrikam"]); after != before {
		t.Errorf("scrapes made %d calls", after-before)
	}
	if !strings.Contains(string(exposition(t, s)), "defender_alerts{") {
		t.Error("Collect no longer has the snapshots")
	}
	var status strings.Builder
	for _, line := range strings.Split(string(exposition(t, s.Status())), "\n") {
		if strings.HasPrefix(line, "defender_alerts") || strings.HasPrefix(line, "defender_machines") {
			status.WriteString(line + "\n")
		}
	}
	if status.Len() > 0 {
		t.Errorf("Status has snapshot series:\n%s", status.String())
	}
}

func firstDiff(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return "handler:  " + a[i] + "\nregistry: " + b[i]
		}
	}
	return fmt.Sprintf("one is a prefix of the other (%d vs %d)", len(a), len(b))
}

// TestHandlerPassesErrorsOn: when the registry's handler does not answer
// 200, its answer goes out as it is, with no snapshot appended.
func TestHandlerPassesErrorsOn(t *testing.T) {
	s := NewScheduler(log.NewNopLogger(), nil, SchedulerOptions{Manual: true})
	h := s.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "Limit of concurrent requests reached.", http.StatusServiceUnavailable)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "1" || !strings.Contains(rec.Body.String(), "Limit") {
		t.Errorf("got %d %v %q", rec.Code, rec.Header(), rec.Body.String())
	}
}

func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{"": false, "gzip": true, "deflate, gzip;q=1.0, *;q=0.5": true, "br": false, "gzip;q=0": false, "GZIP": true} {
		if acceptsGzip(h) != want {
			t.Errorf("acceptsGzip(%q) = %v", h, !want)
		}
	}
}
