package defendertest

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

var (
	// Final states of automated investigations (the 18 investigationState
	// values less the ones that only last while running).
	investigationFinal = newWeighted[string]("SuccessfullyRemediated", 22, "Benign", 28, "PartiallyRemediated", 4,
		"TerminatedBySystem", 5, "TerminatedByUser", 3, "Failed", 2, "InnerFailure", 1, "PartiallyInvestigated", 5,
		"UnsupportedOs", 4, "UnsupportedAlertType", 3, "SuppressedAlert", 2, "PreexistingAlert", 3, "Terminated", 1, "Unknown", 1)
	investigationOpen = newWeighted[string]("Running", 50, "PendingApproval", 30, "PendingResource", 10, "Queued", 10)
)

// investigationWindow is how far back investigations started.
const investigationWindow = 60 * 24 * time.Hour

// generateInvestigations makes n investigations, oldest first; the ones
// started in the last two days may still be running or pending.
func generateInvestigations(d *Dataset, r *rand.Rand, n int) []Investigation {
	started := make([]time.Time, n)
	for i := range started {
		started[i] = recentTime(d.Now, math.Pow(r.Float64(), 1.3), investigationWindow)
	}
	slices.SortFunc(started, func(a, b time.Time) int { return a.Compare(b) })
	firstID := 100 + int64(uint64(d.Seed)%900)
	out := make([]Investigation, n)
	for i := range out {
		x := &out[i]
		s := started[i]
		x.ID = strconv.FormatInt(firstID+int64(i), 10)
		x.StartTime = TimeOf(s)
		x.TriggeringAlertID = alertID(r, s.Add(-between(r, time.Minute, 10*time.Minute)))
		if len(d.Machines) > 0 {
			m := &d.Machines[r.IntN(len(d.Machines))]
			x.MachineID, x.ComputerDNSName = m.ID, m.ComputerDNSName
		}
		age := d.Now.Sub(s)
		if age < 2*24*time.Hour && r.IntN(100) < 35 {
			x.State = investigationOpen.pick(r)
			continue // no endTime while open
		}
		x.State = investigationFinal.pick(r)
		x.EndTime = TimeOf(s.Add(between(r, 5*time.Minute, min(6*time.Hour, age))))
		if x.State == "TerminatedByUser" {
			x.CancelledBy = analysts[r.IntN(2)]
		}
		if x.State == "Failed" || x.State == "InnerFailure" {
			x.StatusDetails = "The investigation could not complete."
		}
	}
	return out
}
