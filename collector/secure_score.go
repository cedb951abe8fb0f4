package collector

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/defender-exporter/defender_exporter/config"
	"github.com/defender-exporter/defender_exporter/defender"
)

// Microsoft Secure Score is a daily snapshot, so an hourly refresh sees each
// new one within the hour.
func init() {
	register(Spec{
		Config: config.CollectorSpec{
			Name: "secure_score", Order: 110,
			Default: config.Collector{Enabled: true, Interval: time.Hour},
			Keys:    []string{"per_control"},
		},
		New:   newSecureScoreCollector,
		Calls: map[string]map[defender.Family]int{"": {defender.FamilyGraph: 1}}, // the newest snapshot
	})
}

// secureScoresPath lists Microsoft Secure Score's daily snapshots, newest
// first (SecurityEvents.Read.All;
// https://learn.microsoft.com/graph/api/security-list-securescores).
const secureScoresPath = "/v1.0/security/secureScores"

var (
	secureScoreDesc = newDesc("secure_score",
		"Microsoft Secure Score of the tenant's newest daily snapshot, in points (currentScore, as Graph sends it).")
	secureScoreMaxDesc = newDesc("secure_score_max",
		"Highest Microsoft Secure Score the tenant can reach on the newest snapshot's day, in points (maxScore).")
	secureScoreCategoryDesc = newDesc("secure_score_category",
		"Sum of the newest snapshot's control scores per control category (Identity, Data, Device, Apps, Infrastructure), in points.",
		"category")
	secureScoreComparativeDesc = newDesc("secure_score_comparative",
		"Average Microsoft Secure Score of comparable tenants on the newest snapshot's day, by basis (AllTenants, TotalSeats, IndustryTypes), in points.",
		"basis")
	secureScoreTimestampDesc = newDesc("secure_score_timestamp_seconds",
		"Creation time of the newest Microsoft Secure Score snapshot (createdDateTime), as a Unix timestamp.")
	secureScoreControlDesc = newDesc("secure_score_control",
		"Score of each control (improvement action) in the newest Microsoft Secure Score snapshot, in points (per_control: true).",
		"control", "category")
)

type secureScoreCollector struct{ perControl bool }

func newSecureScoreCollector(cfg config.Collector) (Collector, error) {
	return secureScoreCollector{perControl: cfg.PerControl}, nil
}

var (
	// errNoSnapshotList flags an answer without the "value" array: an
	// error, not "no snapshot yet".
	errNoSnapshotList = errors.New(`the answer has no "value" array of snapshots`)
	// errNoCurrentScore flags a snapshot without currentScore, which would
	// otherwise read as a score of 0.
	errNoCurrentScore = errors.New("no currentScore")
)

// Refresh costs one call, whatever the tenant: the newest snapshot only
// ($top=1; Graph lists them newest first), read in one answer whose nextLink
// to the 89 older ones is not followed. One call per refresh also keeps the
// exporter far below Graph's limit for secureScore of 4 concurrent requests
// per app and tenant (https://learn.microsoft.com/graph/throttling-limits),
// however many tenants it serves.
func (c secureScoreCollector) Refresh(ctx context.Context, t *Target) ([]prometheus.Metric, error) {
	var page struct {
		Value *[]defender.SecureScore `json:"value"`
	}
	err := defender.Get(ctx, t.Client, defender.Request{
		API: defender.APIGraph, Family: defender.FamilyGraph,
		Endpoint: secureScoresPath, Path: secureScoresPath, Query: url.Values{"$top": {"1"}},
	}, &page)
	if err != nil {
		return nil, fmt.Errorf("getting the newest Secure Score snapshot: %w", err)
	}
	if page.Value == nil {
		return nil, fmt.Errorf("getting the newest Secure Score snapshot: %w", errNoSnapshotList)
	}
	if len(*page.Value) == 0 {
		// A tenant gets its first snapshot a day after it starts: until
		// then there is nothing to report, which is not a failure. The
		// families are absent, so nothing reads as a score of 0.
		if t.Logger != nil {
			level.Debug(t.Logger).Log("msg", "no Secure Score snapshot yet")
		}
		return nil, nil
	}
	// Newest first as documented; should several come, the latest
	// createdDateTime wins all the same.
	s := &(*page.Value)[0]
	for i := range *page.Value {
		if x := &(*page.Value)[i]; x.CreatedDateTime.After(s.CreatedDateTime.Time) {
			s = x
		}
	}
	if !s.CurrentScore.Known {
		return nil, fmt.Errorf("the newest Secure Score snapshot (%s) has %w", s.CreatedDateTime.Format("2006-01-02"), errNoCurrentScore)
	}
	return c.metrics(t.Tenant, s), nil
}

// metrics turns a snapshot into series. currentScore is exported as Graph
// sends it, not recomputed from the control scores: Microsoft's own
// example does not add up, and the portal shows currentScore.
func (c secureScoreCollector) metrics(tenant string, s *defender.SecureScore) []prometheus.Metric {
	out := gauge(nil, secureScoreDesc, tenant, s.CurrentScore.Value)
	if s.MaxScore.Known {
		out = gauge(out, secureScoreMaxDesc, tenant, s.MaxScore.Value)
	}
	if !s.CreatedDateTime.IsZero() {
		out = gauge(out, secureScoreTimestampDesc, tenant, float64(s.CreatedDateTime.UnixNano())/1e9)
	}
	// Control names and categories are plain strings, not Graph enums:
	// kept as sent. A control listed twice adds up, as its category does.
	categories := map[string]float64{}
	controls := map[string]float64{}
	for _, cs := range s.ControlScores {
		if !cs.Score.Known {
			continue
		}
		categories[cs.ControlCategory] += cs.Score.Value
		controls[cs.ControlName+keySep+cs.ControlCategory] += cs.Score.Value
	}
	out = emit(out, secureScoreCategoryDesc, tenant, categories)
	// A basis listed twice would give two identical series and fail the
	// scrape; the last one wins, as for the exposure score by group.
	bases := map[string]float64{}
	for _, a := range s.AverageComparativeScores {
		if a.AverageScore.Known {
			bases[a.Basis] = a.AverageScore.Value
		}
	}
	out = emit(out, secureScoreComparativeDesc, tenant, bases)
	if c.perControl {
		out = emit(out, secureScoreControlDesc, tenant, controls)
	}
	return out
}
