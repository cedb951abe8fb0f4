package collector

import (
	"context"
	"strings"
	"testing"

	"github.com/defender-exporter/defender_exporter/defender"
	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

func TestRecommendationsGolden(t *testing.T) {
	_, target := fakeTenant(t, defendertest.Size{Machines: 300, Recommendations: 150})
	c, err := newRecommendationsCollector(collectorConfig(t, "recommendations"))
	if err != nil {
		t.Fatal(err)
	}
	compareGolden(t, refresh(t, c, target), "recommendations")
}

func TestRecommendationsMatchData(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 700, Recommendations: 2000})
	c, _ := newRecommendationsCollector(collectorConfig(t, "recommendations"))
	ms := refresh(t, c, target)
	count := map[[3]string]int{}
	exposed := map[string]int64{}
	for _, r := range tenant.Data().Recommendations {
		count[[3]string{r.RecommendationCategory, r.RemediationType, r.Status}]++
		exposed[r.RecommendationCategory] += r.ExposedMachinesCount
	}
	for k, want := range count {
		got := valueOf(t, ms, "defender_recommendations", `category="`+k[0]+`"`, `remediation_type="`+k[1]+`"`, `status="`+k[2]+`"`)
		if int(got) != want {
			t.Errorf("%v: %v, want %d", k, got, want)
		}
	}
	if n := len(seriesOf(t, ms, "defender_recommendations")); n != len(count) || n < 8 {
		t.Errorf("%d series, want %d", n, len(count))
	}
	for cat, want := range exposed {
		if got := valueOf(t, ms, "defender_recommendation_exposed_machines", `category="`+cat+`"`); int64(got) != want {
			t.Errorf("exposed machines %s: %v, want %d", cat, got, want)
		}
	}
}

func TestRecommendationsCallCount(t *testing.T) {
	for _, n := range []int{23000, 10000} {
		tenant, target := fakeTenant(t, defendertest.Size{Machines: 50, Recommendations: n})
		c, _ := newRecommendationsCollector(collectorConfig(t, "recommendations"))
		tenant.ResetCalls()
		refresh(t, c, target)
		if got, want := tenant.Calls("/api/recommendations"), skipPages(n, recommendationsMaxPage); got != want {
			t.Errorf("%d recommendations: %d calls, want %d", n, got, want)
		}
	}
}

func TestRecommendationsFailure(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 20, Recommendations: 50})
	c, _ := newRecommendationsCollector(collectorConfig(t, "recommendations"))
	ms, err := c.Refresh(context.Background(), targetWithRoles(t, tenant, "Vulnerability.Read.All"))
	if !defender.IsStatus(err, 403) || !strings.HasPrefix(err.Error(), "listing recommendations: ") || ms != nil {
		t.Fatalf("without SecurityRecommendation.Read.All: %v", err)
	}
	tenant.SetFault("/api/recommendations", defendertest.Fault{Malformed: true})
	if ms, err := c.Refresh(context.Background(), target); err == nil || ms != nil {
		t.Fatalf("malformed page: %v, %d metrics", err, len(ms))
	}
}
