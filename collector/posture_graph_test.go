package collector

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/go-kit/log"

	"github.com/defender-exporter/defender_exporter/config"
	"github.com/defender-exporter/defender_exporter/defender"
	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

// postureSize is a small tenant with some of every posture entity.
var postureSize = defendertest.Size{Machines: 300, Alerts: 1, Vulnerabilities: 400, Recommendations: 60}

func graphCollector(t testing.TB, name string) Collector {
	t.Helper()
	cfg := config.DefaultCollector(name)
	cfg.API = "graph"
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("%s on the graph back end: %v", name, err)
	}
	return c
}

// TestGraphPostureGolden: each posture collector on the graph back end,
// against testdata/<name>_graph.prom.
func TestGraphPostureGolden(t *testing.T) {
	_, target := fakeTenant(t, postureSize)
	for _, name := range []string{"machines", "av_health", "vulnerabilities", "recommendations", "scores"} {
		t.Run(name, func(t *testing.T) {
			ms := refresh(t, graphCollector(t, name), target)
			if name == "scores" {
				if len(ms) != 0 {
					t.Errorf("scores on the graph back end: %d series, want none (no hunting table holds the scores)", len(ms))
				}
				return
			}
			compareGolden(t, ms, name+"_graph")
		})
	}
}

// TestGraphPostureCalls: a refresh costs one hunting call per built-in
// query, to the Graph endpoint, and nothing else.
func TestGraphPostureCalls(t *testing.T) {
	tenant, target := fakeTenant(t, postureSize)
	for _, name := range []string{"machines", "av_health", "vulnerabilities", "recommendations", "scores"} {
		tenant.ResetCalls()
		var calls defender.CallCounter
		if _, err := graphCollector(t, name).Refresh(defender.WithCallCounter(context.Background(), &calls), target); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := len(graphQueries[name])
		if got := tenant.Calls(defendertest.HuntingGraphPath); got != want {
			t.Errorf("%s: %d runHuntingQuery calls, want %d", name, got, want)
		}
		if got := calls.Calls()[defender.FamilyHunting]; got != want {
			t.Errorf("%s: %d calls counted in the hunting family, want %d", name, got, want)
		}
		if got := tenant.Calls(defendertest.HuntingMDEPath) + tenant.Calls("/api/machines") + tenant.Calls("/api/deviceavinfo"); got != 0 {
			t.Errorf("%s: %d calls to the MDE API, want none", name, got)
		}
	}
}

// TestScoresGraphSaysWhyItIsEmpty: scores on the graph back end has nothing
// to export and says so once, not at every refresh.
func TestScoresGraphSaysWhyItIsEmpty(t *testing.T) {
	_, target := fakeTenant(t, postureSize)
	var buf bytes.Buffer
	target.Logger = log.NewLogfmtLogger(&buf)
	c := graphCollector(t, "scores")
	for range 3 {
		if ms := refresh(t, c, target); len(ms) != 0 {
			t.Fatalf("%d series", len(ms))
		}
	}
	if n := strings.Count(buf.String(), "level=warn"); n != 1 || !strings.Contains(buf.String(), "no advanced hunting table holds the exposure score") {
		t.Errorf("%d warnings:\n%s", n, buf.String())
	}
}
