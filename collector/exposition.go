package collector

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// A scrape of the snapshots through a registry costs about two
// microseconds per series on a small server (the registry builds, checks,
// hashes and sorts every series, then the encoder escapes every label),
// 3 to 5 ms for one mid-size tenant's 1,500 series, and the snapshots only
// change when a refresh ends. So each refresh renders its snapshot in the
// text format once, checked by a registry as a scrape would be, and a
// scrape writes the rendered bytes: O(series) copying, no Defender call,
// no per-series work. Handler serves them after the exporter's own metrics.

// renderedFamily is one metric family of a snapshot in the text format.
type renderedFamily struct {
	name   string
	header []byte // # HELP and # TYPE lines
	body   []byte // the samples
}

// snapshotCollector adapts a snapshot to a registry, for rendering.
type snapshotCollector []prometheus.Metric

func (snapshotCollector) Describe(chan<- *prometheus.Desc) {}

func (s snapshotCollector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range s {
		ch <- m
	}
}

// renderSnapshot checks a snapshot as a registry does at a scrape (label values,
// duplicate series) and writes it in the text format, by family.
func renderSnapshot(metrics []prometheus.Metric) ([]renderedFamily, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(snapshotCollector(metrics)); err != nil {
		return nil, err
	}
	mfs, err := reg.Gather()
	if err != nil {
		return nil, err
	}
	out := make([]renderedFamily, 0, len(mfs))
	var buf bytes.Buffer
	for _, mf := range mfs {
		buf.Reset()
		if _, err := expfmt.MetricFamilyToText(&buf, mf); err != nil {
			return nil, err
		}
		b := buf.Bytes()
		// The header is the comment lines before the first sample.
		split := 0
		for split < len(b) && b[split] == '#' {
			nl := bytes.IndexByte(b[split:], '\n')
			if nl < 0 {
				break
			}
			split += nl + 1
		}
		out = append(out, renderedFamily{
			name:   mf.GetName(),
			header: bytes.Clone(b[:split]),
			body:   bytes.Clone(b[split:]),
		})
	}
	return out, nil
}

// metricsOf parses a rendered snapshot back into metrics, for Collect: the
// tests and any registry other than the exporter's own.
func metricsOf(rendered []renderedFamily) []prometheus.Metric {
	if len(rendered) == 0 {
		return nil
	}
	var buf bytes.Buffer
	for _, rf := range rendered {
		buf.Write(rf.header)
		buf.Write(rf.body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(&buf)
	if err != nil {
		// Rendered by us and checked by a registry: cannot happen. Say so
		// through the registry rather than drop series silently.
		return []prometheus.Metric{prometheus.NewInvalidMetric(snapshotErrorDesc, err)}
	}
	var out []prometheus.Metric
	for _, rf := range rendered {
		mf := mfs[rf.name]
		if mf == nil {
			continue
		}
		vt := prometheus.UntypedValue
		switch mf.GetType() {
		case dto.MetricType_GAUGE:
			vt = prometheus.GaugeValue
		case dto.MetricType_COUNTER:
			vt = prometheus.CounterValue
		}
		var desc *prometheus.Desc
		for _, m := range mf.Metric {
			names := make([]string, len(m.Label))
			values := make([]string, len(m.Label))
			for i, l := range m.Label {
				names[i], values[i] = l.GetName(), l.GetValue()
			}
			if desc == nil {
				desc = prometheus.NewDesc(rf.name, mf.GetHelp(), names, nil)
			}
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue() + m.GetUntyped().GetValue()
			cm, err := prometheus.NewConstMetric(desc, vt, v, values...)
			if err != nil {
				cm = prometheus.NewInvalidMetric(desc, err)
			}
			out = append(out, cm)
		}
	}
	return out
}

var snapshotErrorDesc = prometheus.NewDesc(namespace+"_snapshot_error", "A snapshot that could not be read back.", nil, nil)

// writeSnapshots writes every job's rendered snapshot and the rendered
// intervals, one family at a time (the text format wants a family's
// samples together), families and jobs in a stable order.
func (s *Scheduler) writeSnapshots(w io.Writer) error {
	s.mu.Lock()
	jobs := make([]*job, 0, len(s.jobs))
	for _, j := range s.jobs {
		jobs = append(jobs, j)
	}
	intervals := s.intervals
	s.mu.Unlock()
	sort.Slice(jobs, func(a, b int) bool {
		ka, kb := jobs[a].key, jobs[b].key
		if ka.tenant != kb.tenant {
			return ka.tenant < kb.tenant
		}
		if ka.collector != kb.collector {
			return ka.collector < kb.collector
		}
		return ka.query < kb.query
	})
	type family struct {
		header []byte
		bodies [][]byte
	}
	families := map[string]*family{}
	var names []string
	add := func(rendered []renderedFamily) {
		for _, rf := range rendered {
			f := families[rf.name]
			if f == nil {
				f = &family{header: rf.header}
				families[rf.name] = f
				names = append(names, rf.name)
			}
			f.bodies = append(f.bodies, rf.body)
		}
	}
	add(intervals)
	for _, j := range jobs {
		if st := j.state.Load(); st != nil {
			add(st.rendered)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		f := families[name]
		if _, err := w.Write(f.header); err != nil {
			return err
		}
		for _, b := range f.bodies {
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
	}
	return nil
}

// Status is the scheduler's metrics without the snapshots: defender_up,
// the per-collector health, the call plan. Register it, not the Scheduler,
// in the registry whose handler Handler wraps.
func (s *Scheduler) Status() prometheus.Collector { return statusCollector{s} }

type statusCollector struct{ s *Scheduler }

func (statusCollector) Describe(chan<- *prometheus.Desc) {}

func (c statusCollector) Collect(ch chan<- prometheus.Metric) { c.s.collect(ch, false) }

// textFormat is what Handler asks next for: the text format its rendered
// snapshots are in.
const textFormat = "text/plain;version=0.0.4"

var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

// Handler serves /metrics: next (the registry holding Status and the
// exporter's own metrics, through promhttp) in the text format, followed
// by the rendered snapshots, gzipped when the scraper accepts it. An answer
// of next other than 200 (too many scrapes at once, a gathering error that
// promhttp does not tolerate) is passed on as is.
func (s *Scheduler) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner := r.Clone(r.Context())
		inner.Header.Set("Accept", textFormat)
		inner.Header.Del("Accept-Encoding")
		rec := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
		next.ServeHTTP(rec, inner)
		if rec.status != http.StatusOK {
			for k, v := range rec.header {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.status)
			_, _ = w.Write(rec.body.Bytes())
			return
		}
		w.Header().Set("Content-Type", rec.header.Get("Content-Type"))
		w.Header().Add("Vary", "Accept-Encoding")
		var out io.Writer = w
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			w.Header().Set("Content-Encoding", "gzip")
			gz := gzipWriters.Get().(*gzip.Writer)
			gz.Reset(w)
			defer func() {
				_ = gz.Close()
				gzipWriters.Put(gz)
			}()
			out = gz
		}
		if _, err := out.Write(rec.body.Bytes()); err != nil {
			return // the scraper went away
		}
		_ = s.writeSnapshots(out)
	})
}

func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(strings.TrimSpace(params), " ", "") != "q=0" {
			return true
		}
	}
	return false
}

// bufferedResponse keeps next's answer, to be completed before it is sent.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header         { return b.header }
func (b *bufferedResponse) WriteHeader(status int)      { b.status = status }
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }
