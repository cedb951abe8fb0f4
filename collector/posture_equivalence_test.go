package collector

import (
	"fmt"
	"maps"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The graph back end must export what the MDE back end exports wherever
// docs/device-posture-graph.md says the two agree. Both run here on the same
// fake tenant, whose hunting tables are built from the same entries as its
// MDE APIs; what the docs name as a difference (a label the tables cannot
// give, the 30 days the tables keep, recommendations without an exposed
// device) is applied to the MDE side, and the rest must match exactly.

var seriesRE = regexp.MustCompile(`^([a-z_]+)\{(.*)\} (\S+)$`)
var labelRE = regexp.MustCompile(`([a-z_]+)="((?:[^"\\]|\\.)*)"`)

// family reads a metric family into label set -> value. project may rewrite
// the labels (as map) before they are keyed; series that project onto the
// same labels are added up.
func family(t *testing.T, ms metricSet, name string, project func(map[string]string)) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, line := range seriesOf(t, ms, name) {
		m := seriesRE.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("cannot read %q", line)
		}
		labels := map[string]string{}
		for _, l := range labelRE.FindAllStringSubmatch(m[2], -1) {
			labels[l[1]] = l[2]
		}
		delete(labels, "tenant")
		if project != nil {
			project(labels)
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			t.Fatal(err)
		}
		out[labelsOf(labels)] += v
	}
	return out
}

func labelsOf(labels map[string]string) string {
	names := make([]string, 0, len(labels))
	for n := range labels {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s=%q,", n, labels[n])
	}
	return b.String()
}

func dropZeros(m map[string]float64) map[string]float64 {
	maps.DeleteFunc(m, func(_ string, v float64) bool { return v == 0 })
	return m
}

func sameFamily(t *testing.T, name string, mde, graph map[string]float64) {
	t.Helper()
	mde, graph = dropZeros(mde), dropZeros(graph)
	if len(graph) == 0 {
		t.Errorf("%s: the graph back end exported nothing", name)
	}
	for k, v := range mde {
		if graph[k] != v {
			t.Errorf("%s{%s}: MDE %v, graph %v", name, k, v, graph[k])
		}
	}
	for k, v := range graph {
		if _, ok := mde[k]; !ok {
			t.Errorf("%s{%s}: graph %v, not on the MDE back end", name, k, v)
		}
	}
}

func TestGraphAndMDEBackEndsAgree(t *testing.T) {
	tenant, target := fakeTenant(t, postureSize)
	d := tenant.Data()
	both := func(name string) (mde, graph metricSet) {
		c, err := New(collectorConfig(t, name))
		if err != nil {
			t.Fatal(err)
		}
		return refresh(t, c, target), refresh(t, graphCollector(t, name), target)
	}

	t.Run("machines", func(t *testing.T) {
		mdeSet, graphSet := both("machines")
		// DeviceInfo has no risk score and no antivirus status.
		mde := family(t, mdeSet, "defender_machines", func(l map[string]string) { l["risk_score"], l["av_status"] = "", "" })
		// The hunting tables keep 30 days: a machine last seen before is
		// listed by the MDE API only.
		gone := 0
		for _, m := range d.Machines {
			if m.LastSeen.Time().Before(testNow.Add(-30 * 24 * time.Hour)) {
				gone++
				mde[labelsOf(map[string]string{
					"health_status": machineHealth.canon(m.HealthStatus), "os_platform": m.OSPlatform,
					"onboarding_status": machineOnboarding.canon(m.OnboardingStatus), "exposure_level": machineExposure.canon(m.ExposureLevel),
					"risk_score": "", "av_status": "", "device_group": m.RBACGroupName,
				})]--
			}
		}
		if gone == 0 {
			t.Fatal("no machine last seen over 30 days ago: the test no longer covers the retention difference")
		}
		sameFamily(t, "defender_machines", mde, family(t, graphSet, "defender_machines", nil))
		if s := seriesOf(t, graphSet, "defender_machines_stale"); len(s) != 0 {
			t.Errorf("defender_machines_stale on the graph back end: %v, want the family absent", s)
		}
	})

	t.Run("av_health", func(t *testing.T) {
		mdeSet, graphSet := both("av_health")
		// The export's Unknown is a null field in DeviceTvmInfoGathering.
		unknown := func(l map[string]string) {
			for _, k := range []string{"signature_up_to_date", "engine_up_to_date", "platform_up_to_date"} {
				if l[k] == "Unknown" {
					l[k] = ""
				}
			}
		}
		sameFamily(t, "defender_av_machines", family(t, mdeSet, "defender_av_machines", unknown), family(t, graphSet, "defender_av_machines", nil))
		if s := seriesOf(t, graphSet, "defender_av_scan_results"); len(s) != 0 {
			t.Errorf("defender_av_scan_results on the graph back end: %v, want the family absent", s)
		}
	})

	t.Run("vulnerabilities", func(t *testing.T) {
		mdeSet, graphSet := both("vulnerabilities")
		for _, name := range []string{"defender_vulnerabilities", "defender_vulnerability_exposed_machines"} {
			sameFamily(t, name, family(t, mdeSet, name, nil), family(t, graphSet, name, nil))
		}
	})

	t.Run("recommendations", func(t *testing.T) {
		mdeSet, graphSet := both("recommendations")
		// Configuration recommendations only, without a status, and only
		// those that expose a device.
		configOnly := func(l map[string]string) {
			if l["remediation_type"] != "ConfigurationChange" {
				l["category"] = "(software)"
			}
			l["status"] = ""
		}
		mde := family(t, mdeSet, "defender_recommendations", configOnly)
		for k := range mde {
			if strings.Contains(k, "(software)") {
				delete(mde, k)
			}
		}
		unexposed := 0
		for _, x := range d.Recommendations {
			if strings.HasPrefix(x.ID, "scid-") && x.ExposedMachinesCount == 0 {
				unexposed++
				mde[labelsOf(map[string]string{"category": recCategory.canon(x.RecommendationCategory), "remediation_type": "ConfigurationChange", "status": ""})]--
			}
		}
		t.Logf("%d configuration recommendations expose no machine", unexposed)
		sameFamily(t, "defender_recommendations", mde, family(t, graphSet, "defender_recommendations", nil))

		// Exposed machines agree for the categories that hold no software
		// recommendation.
		software := map[string]bool{}
		for _, x := range d.Recommendations {
			if !strings.HasPrefix(x.ID, "scid-") {
				software[recCategory.canon(x.RecommendationCategory)] = true
			}
		}
		keep := func(l map[string]string) {
			if software[l["category"]] {
				l["category"] = "(mixed)"
			}
		}
		mdeExposed := family(t, mdeSet, "defender_recommendation_exposed_machines", keep)
		graphExposed := family(t, graphSet, "defender_recommendation_exposed_machines", keep)
		delete(mdeExposed, labelsOf(map[string]string{"category": "(mixed)"}))
		delete(graphExposed, labelsOf(map[string]string{"category": "(mixed)"}))
		if len(mdeExposed) == 0 {
			t.Fatal("every category holds a software recommendation: nothing left to compare")
		}
		sameFamily(t, "defender_recommendation_exposed_machines", mdeExposed, graphExposed)
	})
}
