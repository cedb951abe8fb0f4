package defendertest

import (
	"math/rand/v2"
	"time"
)

// unassignedGroup is the name the exposure score by device group gives the
// devices in no device group.
const unassignedGroup = "UnassignedGroup"

// exposurePoints turns a machine's exposure level into its share of an
// exposure score (0–100, lower is better).
var exposurePoints = map[string]float64{"None": 0, "Low": 22, "Medium": 52, "High": 84}

// generateScores derives the exposure scores from the machines' exposure
// levels (per device group that has machines, and for the organisation),
// plus some noise, and draws a secure score for devices. Defender recomputes
// scores a few times a day, so their time is a little in the past.
func generateScores(d *Dataset, r *rand.Rand) {
	at := TimeOf(d.Now.Add(-between(r, 10*time.Minute, 4*time.Hour)).Truncate(time.Second))
	sums := map[string]float64{}
	counts := map[string]int{}
	var total float64
	for i := range d.Machines {
		m := &d.Machines[i]
		p := exposurePoints[m.ExposureLevel]
		g := m.RBACGroupName
		if g == "" {
			g = unassignedGroup
		}
		sums[g] += p
		counts[g]++
		total += p
	}
	noise := func() float64 { return (r.Float64() - 0.5) * 8 }
	org := 35 + noise()
	if n := len(d.Machines); n > 0 {
		org = total/float64(n) + noise()
	}
	d.ExposureScore = Score{Time: at, Score: round(clamp(org, 0, 100), 4)}

	names := make([]string, 0, len(deviceGroups)+1)
	for _, g := range deviceGroups {
		names = append(names, g.Name)
	}
	d.GroupExposureScores = nil
	for _, name := range append(names, unassignedGroup) {
		if counts[name] == 0 {
			continue
		}
		s := sums[name]/float64(counts[name]) + noise()
		d.GroupExposureScores = append(d.GroupExposureScores, GroupScore{Time: at, Score: round(clamp(s, 0, 100), 4), RBACGroupName: name})
	}
	// The secure score for devices is in points, integer-valued in the
	// documented examples.
	d.ConfigurationScore = Score{Time: at, Score: float64(280 + r.IntN(460))}
}
