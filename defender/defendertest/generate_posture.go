package defendertest

import (
	"math"
	"math/rand/v2"
	"time"
)

// generatePosture fills the posture data, each entity type from its own
// stream of the seed so that one count never reshuffles another type.
func generatePosture(d *Dataset, seed int64, size Size) {
	stream := func(s uint64) *rand.Rand { return rand.New(rand.NewPCG(uint64(seed), s)) }
	generateScores(d, stream(streamScores))
	d.Vulnerabilities = generateVulnerabilities(d, stream(streamVulnerabilities), size.Vulnerabilities)
	d.Recommendations = generateRecommendations(d, stream(streamRecommendations), size.Recommendations)
	d.AVInfo = generateAVInfo(d, stream(streamAVInfo))
	d.MachineActions = generateMachineActions(d, stream(streamMachineActions), size.MachineActions)
	d.Incidents = generateIncidents(d, stream(streamIncidents), size.Incidents)
	d.Indicators = generateIndicators(d, stream(streamIndicators), size.Indicators)
	d.Investigations = generateInvestigations(d, stream(streamInvestigations), size.Investigations)
}

// round rounds v to n decimals, as Defender's scores and impacts are.
func round(v float64, n int) float64 {
	p := math.Pow(10, float64(n))
	return math.Round(v*p) / p
}

// recentTime is the time u·window before now, u in [0, 1); callers skew u
// towards 0 (math.Pow(u, 1.3)) for more recent activity than old, as alerts
// have.
func recentTime(now time.Time, u float64, window time.Duration) time.Time {
	return now.Add(-time.Duration(u * float64(window)))
}

func clamp(v, lo, hi float64) float64 { return max(lo, min(hi, v)) }

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
