package collector

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

// TestBackendsAgree: on one fake tenant, the Graph and MDE/XDR back ends
// expose the same families and count the same alerts and incidents,
// wherever the two APIs use the same words. Where they do not, the test
// names the difference: UnSpecified severity is Graph's Unknown; an
// unclassified alert is null on MDE, unknown on Graph; XDR has no
// awaitingAction status (the fake shows those incidents as Active there);
// detection sources have other names, and only Graph has a service source.
func TestBackendsAgree(t *testing.T) {
	_, target := fakeTenant(t, defendertest.Size{Machines: 40, Alerts: 2000, Incidents: 600})
	run := func(name, api string) []prometheus.Metric {
		t.Helper()
		c, err := New(collectorConfigAPI(t, name, api))
		if err != nil {
			t.Fatal(err)
		}
		return refresh(t, c, target)
	}
	severity := func(v string) string {
		if v == "UnSpecified" {
			return "Unknown"
		}
		return v
	}
	unset := func(v string) string {
		if v == "" {
			return "Unknown"
		}
		return v
	}
	status := func(v string) string {
		if v == "AwaitingAction" {
			return "Active"
		}
		return v
	}
	bySeverity := func(l map[string]string) string { return severity(l["severity"]) }

	mde, graph := run("alerts", "mde"), run("alerts", "graph")
	sameFamilies(t, mde, graph)
	agree(t, "defender_alerts by severity, status, category",
		sumBy(t, mde, "defender_alerts", func(l map[string]string) string {
			return severity(l["severity"]) + " " + l["status"] + " " + l["category"]
		}),
		sumBy(t, graph, "defender_alerts", func(l map[string]string) string {
			return l["severity"] + " " + l["status"] + " " + l["category"]
		}))
	agree(t, "defender_alerts_classified by severity and classification",
		sumBy(t, mde, "defender_alerts_classified", func(l map[string]string) string {
			return severity(l["severity"]) + " " + unset(l["classification"])
		}),
		sumBy(t, graph, "defender_alerts_classified", func(l map[string]string) string {
			return l["severity"] + " " + l["classification"]
		}))
	agree(t, "defender_alerts_oldest_unresolved_timestamp_seconds",
		minBy(t, mde, "defender_alerts_oldest_unresolved_timestamp_seconds", bySeverity),
		minBy(t, graph, "defender_alerts_oldest_unresolved_timestamp_seconds", bySeverity))
	if got := labelValues(t, mde, "defender_alerts", "service_source"); !slices.Equal(got, []string{""}) {
		t.Errorf("service_source on the MDE back end: %q, want only \"\"", got)
	}
	if got := labelValues(t, graph, "defender_alerts", "service_source"); len(got) < 3 || slices.Contains(got, "") {
		t.Errorf("service_source on the Graph back end: %q", got)
	}
	// The detection sources are the same alerts under other names: as many
	// distinct values, and the same count under each, matched by size.
	agree(t, "defender_alerts by detection source (sorted counts)",
		sortedCounts(sumBy(t, mde, "defender_alerts", func(l map[string]string) string { return l["detection_source"] })),
		sortedCounts(sumBy(t, graph, "defender_alerts", func(l map[string]string) string { return l["detection_source"] })))

	xdr, graph := run("incidents", "xdr"), run("incidents", "graph")
	sameFamilies(t, xdr, graph)
	agree(t, "defender_incidents by severity and status",
		sumBy(t, xdr, "defender_incidents", func(l map[string]string) string { return severity(l["severity"]) + " " + l["status"] }),
		sumBy(t, graph, "defender_incidents", func(l map[string]string) string { return l["severity"] + " " + status(l["status"]) }))
	agree(t, "defender_incidents_oldest_unresolved_timestamp_seconds",
		minBy(t, xdr, "defender_incidents_oldest_unresolved_timestamp_seconds", bySeverity),
		minBy(t, graph, "defender_incidents_oldest_unresolved_timestamp_seconds", bySeverity))
}

// agree fails unless the two maps are equal and say something.
func agree(t *testing.T, what string, mde, graph map[string]float64) {
	t.Helper()
	if len(mde) < 2 {
		t.Errorf("%s: only %d values; the comparison proves little", what, len(mde))
	}
	if fmt.Sprint(mde) != fmt.Sprint(graph) {
		t.Errorf("%s:\nMDE/XDR %v\nGraph   %v", what, mde, graph)
	}
}

func sameFamilies(t *testing.T, a, b []prometheus.Metric) {
	t.Helper()
	names := func(ms []prometheus.Metric) string {
		seen := map[string]bool{}
		for _, s := range samples(t, ms) {
			seen[s.name] = true
		}
		var out []string
		for n := range seen {
			out = append(out, n)
		}
		sort.Strings(out)
		return strings.Join(out, " ")
	}
	if names(a) != names(b) {
		t.Errorf("families differ: %s\nvs %s", names(a), names(b))
	}
}

// sortedCounts forgets the keys: the counts, in order, keyed by rank.
func sortedCounts(m map[string]float64) map[string]float64 {
	var vs []float64
	for _, v := range m {
		vs = append(vs, v)
	}
	sort.Float64s(vs)
	out := map[string]float64{}
	for i, v := range vs {
		out[fmt.Sprintf("%03d", i)] = v
	}
	return out
}
