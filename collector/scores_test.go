package collector

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/defender-exporter/defender_exporter/defender"
	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

func TestScoresGolden(t *testing.T) {
	_, target := fakeTenant(t, defendertest.Size{Machines: 200})
	c, err := newScoresCollector(collectorConfig(t, "scores"))
	if err != nil {
		t.Fatal(err)
	}
	compareGolden(t, refresh(t, c, target), "scores")
}

func TestScoresMatchData(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 500})
	c, _ := newScoresCollector(collectorConfig(t, "scores"))
	ms := refresh(t, c, target)
	d := tenant.Data()
	if got := valueOf(t, ms, "defender_exposure_score"); got != d.ExposureScore.Score {
		t.Errorf("exposure score %v, want %v", got, d.ExposureScore.Score)
	}
	if got := valueOf(t, ms, "defender_configuration_score"); got != d.ConfigurationScore.Score {
		t.Errorf("configuration score %v, want %v", got, d.ConfigurationScore.Score)
	}
	if n := len(seriesOf(t, ms, "defender_exposure_score_by_device_group")); n != len(d.GroupExposureScores) || n < 2 {
		t.Errorf("%d group series for %d groups", n, len(d.GroupExposureScores))
	}
	for _, g := range d.GroupExposureScores {
		if got := valueOf(t, ms, "defender_exposure_score_by_device_group", `device_group="`+g.RBACGroupName+`"`); got != g.Score {
			t.Errorf("group %s: %v, want %v", g.RBACGroupName, got, g.Score)
		}
	}
}

// TestScoresCallCount: three calls, whatever the tenant's size. The fake
// answers 400 to a $top on the by-group collection, so success also shows
// that none was sent.
func TestScoresCallCount(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 3000})
	c, _ := newScoresCollector(collectorConfig(t, "scores"))
	tenant.ResetCalls()
	refresh(t, c, target)
	for _, e := range []string{"/api/exposureScore", "/api/exposureScore/ByMachineGroups", "/api/configurationScore"} {
		if got := tenant.Calls(e); got != 1 {
			t.Errorf("%s: %d calls, want 1", e, got)
		}
	}
}

func TestScoresFailure(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 20})
	c, _ := newScoresCollector(collectorConfig(t, "scores"))

	ms, err := c.Refresh(context.Background(), targetWithRoles(t, tenant, "Machine.Read.All"))
	if !defender.IsStatus(err, 403) || !strings.HasPrefix(err.Error(), "getting exposure score: ") || ms != nil {
		t.Fatalf("without Score.Read.All: %v", err)
	}

	// A collection where an object was expected decodes to nothing: an
	// error, not a score of 0.
	tenant.SetFault("/api/exposureScore", defendertest.Fault{Body: `{"value":[{"score":12}]}`, Times: 1})
	if _, err := c.Refresh(context.Background(), target); !errors.Is(err, errNoScore) {
		t.Fatalf("wrapper answer: %v", err)
	}

	// The last call failing drops the whole snapshot.
	tenant.SetFault("/api/configurationScore", defendertest.Fault{Status: 403})
	ms, err = c.Refresh(context.Background(), target)
	if !defender.IsStatus(err, 403) || !strings.HasPrefix(err.Error(), "getting configuration score: ") || ms != nil {
		t.Fatalf("configuration score failing: %v, %d metrics", err, len(ms))
	}
	tenant.ClearFaults()
	tenant.SetFault("/api/exposureScore/ByMachineGroups", defendertest.Fault{NextLinkLoop: true})
	if _, err := c.Refresh(context.Background(), target); !errors.Is(err, defender.ErrNextLinkLoop) ||
		!strings.HasPrefix(err.Error(), "listing exposure score by device group: ") {
		t.Fatalf("by-group loop: %v", err)
	}
}
