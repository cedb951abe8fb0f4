package collector

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// metricDesc is a metric whose first label is always tenant.
type metricDesc struct {
	desc   *prometheus.Desc
	labels int // labels besides tenant
}

func newDesc(name, help string, labels ...string) metricDesc {
	return metricDesc{
		desc:   prometheus.NewDesc(namespace+"_"+name, help+cachedHelp, append([]string{"tenant"}, labels...), nil),
		labels: len(labels),
	}
}

// keySep cannot appear in label values that matter to us; joining on it
// gives a cheap comparable map key for a label set.
const keySep = "\xff"

// counter counts entities by label set. Only label sets that occur are kept,
// so only combinations that occur are emitted.
type counter struct {
	d      metricDesc
	counts map[string]float64
}

func newCounter(d metricDesc) *counter {
	return &counter{d: d, counts: map[string]float64{}}
}

func (c *counter) add(v float64, labelValues ...string) {
	if len(labelValues) != c.d.labels {
		panic("collector: label count mismatch for " + c.d.desc.String())
	}
	c.counts[strings.Join(labelValues, keySep)] += v
}

func (c *counter) inc(labelValues ...string) { c.add(1, labelValues...) }

// minimum keeps the smallest value per label set.
type minimum struct {
	d    metricDesc
	vals map[string]float64
}

func newMinimum(d metricDesc) *minimum { return &minimum{d: d, vals: map[string]float64{}} }

func (m *minimum) observe(v float64, labelValues ...string) {
	k := strings.Join(labelValues, keySep)
	if old, ok := m.vals[k]; !ok || v < old {
		m.vals[k] = v
	}
}

// emit appends const gauges for every label set of vals.
func emit(out []prometheus.Metric, d metricDesc, tenant string, vals map[string]float64) []prometheus.Metric {
	for k, v := range vals {
		lv := []string{tenant}
		if d.labels > 0 {
			lv = append(lv, strings.Split(k, keySep)...)
		}
		out = append(out, prometheus.MustNewConstMetric(d.desc, prometheus.GaugeValue, v, lv...))
	}
	return out
}

func (c *counter) emit(out []prometheus.Metric, tenant string) []prometheus.Metric {
	return emit(out, c.d, tenant, c.counts)
}

func (m *minimum) emit(out []prometheus.Metric, tenant string) []prometheus.Metric {
	return emit(out, m.d, tenant, m.vals)
}

// gauge emits a single value with fixed labels.
func gauge(out []prometheus.Metric, d metricDesc, tenant string, v float64, labelValues ...string) []prometheus.Metric {
	return append(out, prometheus.MustNewConstMetric(d.desc, prometheus.GaugeValue, v, append([]string{tenant}, labelValues...)...))
}
