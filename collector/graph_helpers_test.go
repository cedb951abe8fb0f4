package collector

import (
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/defender-exporter/defender_exporter/defender"
	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

// requestLog records the Graph requests a client sends: path and $filter.
type requestLog struct {
	next http.RoundTripper
	mu   sync.Mutex
	reqs []string
}

func (l *requestLog) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasPrefix(r.URL.Path, "/v1.0/security/") {
		l.mu.Lock()
		l.reqs = append(l.reqs, r.URL.Path+" "+r.URL.Query().Get("$filter"))
		l.mu.Unlock()
	}
	return l.next.RoundTrip(r)
}

// take returns the requests recorded since the last take.
func (l *requestLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.reqs
	l.reqs = nil
	return out
}

// graphTarget is a target on tenant with its own clock and a client whose
// Graph requests are recorded.
func graphTarget(t testing.TB, tenant *defendertest.Tenant, now func() time.Time) (*Target, *requestLog) {
	t.Helper()
	log := &requestLog{}
	c := fakeClient(t, tenant, tenant.NewApp(), func(o *defender.Options) {
		o.WrapTransport = func(next http.RoundTripper) http.RoundTripper { log.next = next; return log }
	})
	return &Target{Tenant: "contoso", Client: c, Now: now}, log
}

// sample is one series of a snapshot.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

func samples(t testing.TB, ms []prometheus.Metric) []sample {
	t.Helper()
	out := make([]sample, 0, len(ms))
	for _, m := range ms {
		var d dto.Metric
		if err := m.Write(&d); err != nil {
			t.Fatal(err)
		}
		s := sample{name: fqName.FindStringSubmatch(m.Desc().String())[1], labels: map[string]string{}, value: d.GetGauge().GetValue()}
		for _, lp := range d.GetLabel() {
			s.labels[lp.GetName()] = lp.GetValue()
		}
		out = append(out, s)
	}
	return out
}

// sumBy adds up a family's series by the key key makes of their labels.
func sumBy(t testing.TB, ms []prometheus.Metric, name string, key func(l map[string]string) string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, s := range samples(t, ms) {
		if s.name == name {
			out[key(s.labels)] += s.value
		}
	}
	return out
}

// minBy is sumBy with the smallest value instead of the sum.
func minBy(t testing.TB, ms []prometheus.Metric, name string, key func(l map[string]string) string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, s := range samples(t, ms) {
		if s.name != name {
			continue
		}
		if v, ok := out[key(s.labels)]; !ok || s.value < v {
			out[key(s.labels)] = s.value
		}
	}
	return out
}

// labelValues lists the distinct values of a label in a family.
func labelValues(t testing.TB, ms []prometheus.Metric, name, label string) []string {
	t.Helper()
	seen := map[string]bool{}
	for _, s := range samples(t, ms) {
		if s.name == name {
			seen[s.labels[label]] = true
		}
	}
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}
