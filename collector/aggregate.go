package collector

import (
	"slices"
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// metricDesc is a metric whose first label is always tenant.
type metricDesc struct {
	desc   *prometheus.Desc
	labels int // labels besides tenant
	// order lists the label positions (0 = the first label after tenant)
	// in the order of the label names, tenant left out: the order in
	// which a registry sorts series. Emitting in that order leaves the
	// registry's sort of each scrape next to nothing to do.
	order []int
}

func newDesc(name, help string, labels ...string) metricDesc {
	order := make([]int, len(labels))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return labels[order[a]] < labels[order[b]] })
	return metricDesc{
		desc:   prometheus.NewDesc(namespace+"_"+name, help+cachedHelp, append([]string{"tenant"}, labels...), nil),
		labels: len(labels),
		order:  order,
	}
}

// keySep cannot appear in label values that matter to us; joining on it
// gives a cheap comparable map key for a label set (emit, hunting).
const keySep = "\xff"

// maxLabels is the most labels (besides tenant) an aggregated metric has;
// defender_machines has 7.
const maxLabels = 8

// labelKey is a label set as a map key. Counting an entity looks up an
// array of the strings the entity already has: no key is built, so nothing
// is allocated per entity (a joined string key cost one allocation per
// entity and counter). A key keeps its strings only when it is new, i.e.
// once per series.
type labelKey [maxLabels]string

func makeKey(labelValues []string) labelKey {
	var k labelKey
	copy(k[:], labelValues)
	return k
}

// counter counts entities by label set. Only label sets that occur are kept,
// so only combinations that occur are emitted.
type counter struct {
	d      metricDesc
	counts map[labelKey]float64
}

func newCounter(d metricDesc) *counter {
	d.mustFitKey()
	return &counter{d: d, counts: map[labelKey]float64{}}
}

func (c *counter) add(v float64, labelValues ...string) {
	if len(labelValues) != c.d.labels {
		panic("collector: label count mismatch for " + c.d.desc.String())
	}
	c.counts[makeKey(labelValues)] += v
}

func (c *counter) inc(labelValues ...string) { c.add(1, labelValues...) }

// minimum keeps the smallest value per label set.
type minimum struct {
	d    metricDesc
	vals map[labelKey]float64
}

func newMinimum(d metricDesc) *minimum {
	d.mustFitKey()
	return &minimum{d: d, vals: map[labelKey]float64{}}
}

// mustFitKey panics, at start-up, for a metric too wide to aggregate:
// labelKey would silently drop its last labels.
func (d metricDesc) mustFitKey() {
	if d.labels > maxLabels {
		panic("collector: more labels than maxLabels to aggregate " + d.desc.String())
	}
}

func (m *minimum) observe(v float64, labelValues ...string) {
	if len(labelValues) != m.d.labels {
		panic("collector: label count mismatch for " + m.d.desc.String())
	}
	k := makeKey(labelValues)
	if old, ok := m.vals[k]; !ok || v < old {
		m.vals[k] = v
	}
}

// emitKeyed appends const gauges for every label set of vals, sorted as a
// registry sorts them.
func emitKeyed(out []prometheus.Metric, d metricDesc, tenant string, vals map[labelKey]float64) []prometheus.Metric {
	keys := make([]labelKey, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b labelKey) int {
		for _, i := range d.order {
			if c := strings.Compare(a[i], b[i]); c != 0 {
				return c
			}
		}
		return 0
	})
	out = slices.Grow(out, len(keys))
	for _, k := range keys {
		lv := make([]string, 1+d.labels)
		lv[0] = tenant
		copy(lv[1:], k[:d.labels])
		out = append(out, prometheus.MustNewConstMetric(d.desc, prometheus.GaugeValue, vals[k], lv...))
	}
	return out
}

// emit appends const gauges for every label set of vals, whose keys are
// label values joined with keySep.
func emit(out []prometheus.Metric, d metricDesc, tenant string, vals map[string]float64) []prometheus.Metric {
	d.mustFitKey()
	keyed := make(map[labelKey]float64, len(vals))
	for k, v := range vals {
		var lv []string
		if d.labels > 0 {
			lv = strings.Split(k, keySep)
		}
		keyed[makeKey(lv)] = v
	}
	return emitKeyed(out, d, tenant, keyed)
}

func (c *counter) emit(out []prometheus.Metric, tenant string) []prometheus.Metric {
	return emitKeyed(out, c.d, tenant, c.counts)
}

func (m *minimum) emit(out []prometheus.Metric, tenant string) []prometheus.Metric {
	return emitKeyed(out, m.d, tenant, m.vals)
}

// gauge emits a single value with fixed labels.
func gauge(out []prometheus.Metric, d metricDesc, tenant string, v float64, labelValues ...string) []prometheus.Metric {
	return append(out, prometheus.MustNewConstMetric(d.desc, prometheus.GaugeValue, v, append([]string{tenant}, labelValues...)...))
}
