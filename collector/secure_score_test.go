package collector

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/defender-exporter/defender_exporter/config"
	"github.com/defender-exporter/defender_exporter/defender"
	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

func secureScoreCollectorFor(t *testing.T, perControl bool) Collector {
	t.Helper()
	cfg := collectorConfig(t, "secure_score")
	cfg.PerControl = perControl
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSecureScoreGolden(t *testing.T) {
	_, target := fakeTenant(t, defendertest.Size{Machines: 200})
	compareGolden(t, refresh(t, secureScoreCollectorFor(t, false), target), "secure_score")
	compareGolden(t, refresh(t, secureScoreCollectorFor(t, true), target), "secure_score_per_control")
}

// TestSecureScoreMatchData: every family is the newest snapshot's, and
// per_control adds exactly one series per control.
func TestSecureScoreMatchData(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 500})
	ms := refresh(t, secureScoreCollectorFor(t, true), target)
	snaps := tenant.Data().SecureScores
	if len(snaps) != 90 {
		t.Fatalf("the fake keeps %d snapshots, want 90", len(snaps))
	}
	s := snaps[0]
	if got := valueOf(t, ms, "defender_secure_score"); got != s.CurrentScore {
		t.Errorf("score %v, want the newest snapshot's %v (the oldest is %v)", got, s.CurrentScore, snaps[89].CurrentScore)
	}
	if got := valueOf(t, ms, "defender_secure_score_max"); got != s.MaxScore {
		t.Errorf("max %v, want %v", got, s.MaxScore)
	}
	if got := valueOf(t, ms, "defender_secure_score_timestamp_seconds"); got != float64(s.CreatedDateTime.Time().Unix()) {
		t.Errorf("timestamp %v, want %v", got, s.CreatedDateTime.Time())
	}
	want := map[string]float64{}
	for _, c := range s.ControlScores {
		want[c.ControlCategory] += c.Score
		if got := valueOf(t, ms, "defender_secure_score_control", `control="`+c.ControlName+`"`, `category="`+c.ControlCategory+`"`); got != c.Score {
			t.Errorf("control %s: %v, want %v", c.ControlName, got, c.Score)
		}
	}
	if n := len(seriesOf(t, ms, "defender_secure_score_control")); n != len(s.ControlScores) {
		t.Errorf("%d control series for %d controls", n, len(s.ControlScores))
	}
	if len(want) < 4 {
		t.Fatalf("the fake's controls span %d categories; the test wants several", len(want))
	}
	for cat, v := range want {
		if got := valueOf(t, ms, "defender_secure_score_category", `category="`+cat+`"`); math.Abs(got-v) > 1e-9 {
			t.Errorf("category %s: %v, want %v", cat, got, v)
		}
	}
	for _, a := range s.AverageComparativeScores {
		if got := valueOf(t, ms, "defender_secure_score_comparative", `basis="`+a.Basis+`"`); got != a.AverageScore {
			t.Errorf("basis %s: %v, want %v", a.Basis, got, a.AverageScore)
		}
	}
	if n := len(seriesOf(t, ms, "defender_secure_score_comparative")); n != 3 {
		t.Errorf("%d comparative series, want 3", n)
	}
}

// TestSecureScoreCallCount: one call, whatever the tenant: the fake sends a
// nextLink to the 89 older snapshots, which is not followed.
func TestSecureScoreCallCount(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 3000})
	c := secureScoreCollectorFor(t, true)
	tenant.ResetCalls()
	var calls defender.CallCounter
	if _, err := c.Refresh(defender.WithCallCounter(context.Background(), &calls), target); err != nil {
		t.Fatal(err)
	}
	if got := tenant.Calls(defendertest.SecureScoresPath); got != 1 {
		t.Errorf("%d calls, want 1", got)
	}
	if got := calls.Calls()[defender.FamilyGraph]; got != 1 {
		t.Errorf("counted %v, want 1 graph call", calls.Calls())
	}
}

// TestSecureScoreNoSnapshotYet: a tenant without a snapshot (the first
// comes a day after it starts) refreshes successfully with no series, so
// nothing reads as a score of 0.
func TestSecureScoreNoSnapshotYet(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{})
	if n := len(tenant.Data().SecureScores); n != 0 {
		t.Fatalf("an empty tenant has %d snapshots", n)
	}
	ms, err := secureScoreCollectorFor(t, true).Refresh(context.Background(), target)
	if err != nil || len(ms) != 0 {
		t.Fatalf("no snapshot: %d metrics, %v", len(ms), err)
	}
}

// TestSecureScoreMicrosoftExample runs the documented example answer
// (https://learn.microsoft.com/graph/api/security-list-securescores, saved
// in testdata) through the collector. Its control scores add up to 55, its
// currentScore is 387: currentScore is exported as sent.
func TestSecureScoreMicrosoftExample(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 10})
	tenant.SetFault(defendertest.SecureScoresPath, defendertest.Fault{Body: readTestdata(t, "msgraph-list-securescores.json")})
	ms := refresh(t, secureScoreCollectorFor(t, true), target)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"defender_secure_score", nil, 387},
		{"defender_secure_score_max", nil, 697},
		{"defender_secure_score_timestamp_seconds", nil, 1553008860}, // 2019-03-19T15:21:00Z
		{"defender_secure_score_category", []string{`category="Identity"`}, 35},
		{"defender_secure_score_category", []string{`category="Data"`}, 20},
		{"defender_secure_score_comparative", []string{`basis="AllTenants"`}, 37},
		{"defender_secure_score_comparative", []string{`basis="TotalSeats"`}, 46},
		{"defender_secure_score_comparative", []string{`basis="IndustryTypes"`}, 109},
		{"defender_secure_score_control", []string{`control="AdminMFA"`, `category="Identity"`}, 35},
		{"defender_secure_score_control", []string{`control="DLPEnabled"`, `category="Data"`}, 20},
	} {
		if got := valueOf(t, ms, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

// TestSecureScoreOddAnswers: duplicates add up or the last wins, as
// documented in the collector; a snapshot without a score, or an answer
// that is no list, is an error, not a 0.
func TestSecureScoreOddAnswers(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 10})
	c := secureScoreCollectorFor(t, true)

	// Two snapshots, the newer second: the newer one is reported. A
	// control listed twice and a control without a score.
	tenant.SetFault(defendertest.SecureScoresPath, defendertest.Fault{Body: `{"value":[
		{"createdDateTime":"2026-10-30T02:00:00Z","currentScore":10,"maxScore":100},
		{"createdDateTime":"2026-10-31T02:00:00Z","currentScore":12.5,"maxScore":null,
		 "controlScores":[{"controlCategory":"Identity","controlName":"A","score":2},{"controlCategory":"Identity","controlName":"A","score":3},
		   {"controlCategory":null,"controlName":"B","score":1},{"controlCategory":"Apps","controlName":"C","score":null}],
		 "averageComparativeScores":[{"basis":"AllTenants","averageScore":5},{"basis":"AllTenants","averageScore":6},{"basis":"TotalSeats","averageScore":null}]}]}`})
	ms := refresh(t, c, target)
	for _, x := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"defender_secure_score", nil, 12.5},
		{"defender_secure_score_category", []string{`category="Identity"`}, 5},
		{"defender_secure_score_category", []string{`category=""`}, 1},
		{"defender_secure_score_control", []string{`control="A"`}, 5},
		{"defender_secure_score_comparative", []string{`basis="AllTenants"`}, 6},
	} {
		if got := valueOf(t, ms, x.name, x.labels...); got != x.want {
			t.Errorf("%s%v = %v, want %v", x.name, x.labels, got, x.want)
		}
	}
	for _, absent := range []string{"defender_secure_score_max", `category="Apps"`, `basis="TotalSeats"`} {
		for _, l := range strings.Split(string(exposition(t, ms)), "\n") {
			if !strings.HasPrefix(l, "#") && strings.Contains(l, absent) {
				t.Errorf("%s has a series: %s", absent, l)
			}
		}
	}

	tenant.SetFault(defendertest.SecureScoresPath, defendertest.Fault{Body: `{"value":[{"createdDateTime":"2026-10-31T02:00:00Z","maxScore":100}]}`})
	if _, err := c.Refresh(context.Background(), target); !errors.Is(err, errNoCurrentScore) || !strings.Contains(err.Error(), "2026-10-31") {
		t.Errorf("snapshot without currentScore: %v", err)
	}
	tenant.SetFault(defendertest.SecureScoresPath, defendertest.Fault{Body: `{"currentScore":12}`})
	if _, err := c.Refresh(context.Background(), target); !errors.Is(err, errNoSnapshotList) {
		t.Errorf("an object instead of a list: %v", err)
	}
}

func TestSecureScoreFailure(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 20})
	c := secureScoreCollectorFor(t, false)
	ms, err := c.Refresh(context.Background(), targetWithRoles(t, tenant, "ThreatHunting.Read.All"))
	if !defender.IsStatus(err, 403) || !strings.HasPrefix(err.Error(), "getting the newest Secure Score snapshot: ") || ms != nil {
		t.Fatalf("without SecurityEvents.Read.All: %v", err)
	}
	if !strings.Contains(err.Error(), "SecurityEvents.Read.All") {
		t.Errorf("the error does not name the permission: %v", err)
	}
	tenant.SetFault(defendertest.SecureScoresPath, defendertest.Fault{Malformed: true, Times: 1})
	if _, err := c.Refresh(context.Background(), target); err == nil || !strings.Contains(err.Error(), "decode") {
		t.Fatalf("malformed answer: %v", err)
	}
	// Graph answering 410 is not "the MDE API is retired".
	tenant.SetFault(defendertest.SecureScoresPath, defendertest.Fault{Retired: true, Times: 1})
	if _, err := c.Refresh(context.Background(), target); !defender.IsStatus(err, 410) || errors.Is(err, defender.ErrAPIRetired) {
		t.Fatalf("graph 410: %v", err)
	}
	refresh(t, c, target) // and it recovers
}

func TestSecureScoreRegisteredAsGraphOnly(t *testing.T) {
	if apis := config.CollectorAPIs("secure_score"); apis != nil {
		t.Errorf("secure_score takes api: %v", apis)
	}
	cfg := config.DefaultCollector("secure_score")
	cfg.API = "mde"
	if _, err := New(cfg); err == nil {
		t.Error("an mde back end for secure_score was accepted")
	}
}

func readTestdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
