package defendertest

import (
	"math/rand/v2"
	"strconv"
	"time"
)

// secureScoreControl is an improvement action of the fake's Secure Score,
// with the points it can give. The names and weights are plausible, not a
// copy of Microsoft's catalogue.
type secureScoreControl struct {
	category, name, description string
	max                         float64
}

var secureScoreControls = []secureScoreControl{
	{"Identity", "AdminMFAV2", "Ensure multifactor authentication is enabled for all users in administrative roles", 10},
	{"Identity", "MFARegistrationV2", "Ensure all users can complete multifactor authentication", 9},
	{"Identity", "BlockLegacyAuthentication", "Block legacy authentication", 8},
	{"Identity", "SigninRiskPolicy", "Turn on sign-in risk policy", 7},
	{"Identity", "UserRiskPolicy", "Turn on user risk policy", 7},
	{"Identity", "SelfServicePasswordReset", "Enable self-service password reset", 1},
	{"Identity", "OneAdmin", "Designate more than one global admin", 1},
	{"Data", "DLPEnabled", "Create data loss prevention policies", 10},
	{"Data", "SensitivityLabelsPolicies", "Publish sensitivity labels", 8},
	{"Data", "AutoSensitivityLabeling", "Apply sensitivity labels automatically", 6},
	{"Device", "scid_2010", "Turn on Microsoft Defender Antivirus", 9},
	{"Device", "scid_2011", "Update Microsoft Defender Antivirus definitions", 9},
	{"Device", "scid_91", "Enable attack surface reduction rules", 8},
	{"Device", "scid_5090", "Turn on tamper protection", 7},
	{"Apps", "mdo_safeattachments", "Turn on Safe Attachments in block mode", 8},
	{"Apps", "mdo_safelinksforemail", "Turn on Safe Links for email", 8},
	{"Apps", "mdo_atpprotection", "Turn on Defender for Office 365 in SharePoint, OneDrive and Teams", 8},
	{"Apps", "meeting_restrictanonymousjoin", "Prevent anonymous users from joining meetings", 5},
	{"Infrastructure", "mdi_ntlmauditing", "Configure NTLM auditing on domain controllers", 6},
	{"Infrastructure", "mdi_directoryservicesauditing", "Configure Directory Services object auditing", 6},
}

// The comparison groups a snapshot carries, with their averages as a share
// of the tenant's maxScore.
var secureScoreBases = []struct {
	basis string
	share float64
}{{"AllTenants", 0.43}, {"TotalSeats", 0.47}, {"IndustryTypes", 0.52}}

// secureScoreDays is how many daily snapshots Graph keeps.
const secureScoreDays = 90

// secureScoreHour is the time of day a snapshot is stamped with.
const secureScoreHour = 2*time.Hour + 17*time.Minute

// generateSecureScores builds 90 daily snapshots, newest first, the newest
// the latest one stamped by d.Now. A tenant without machines has none yet,
// as a tenant onboarded today. The score improves over the 90 days, a
// control at a time, as a tenant working through its improvement actions.
func generateSecureScores(d *Dataset, r *rand.Rand) []SecureScore {
	if len(d.Machines) == 0 {
		return nil
	}
	newest := d.Now.Truncate(24 * time.Hour).Add(secureScoreHour)
	if newest.After(d.Now) {
		newest = newest.Add(-24 * time.Hour)
	}
	users := int64(len(d.Machines))*6/5 + 10
	controls := make([]ControlScore, len(secureScoreControls))
	for i, c := range secureScoreControls {
		// 90 days ago each control was at most half done.
		level := float64(r.IntN(3)) / 4
		controls[i] = ControlScore{
			ControlCategory: c.category, ControlName: c.name, Description: c.description,
			Score: round(c.max*level, 2), Max: c.max,
		}
	}
	out := make([]SecureScore, secureScoreDays)
	for day := secureScoreDays - 1; day >= 0; day-- {
		at := newest.Add(-time.Duration(day) * 24 * time.Hour)
		if r.IntN(5) == 0 { // now and then an action is taken
			c := &controls[r.IntN(len(controls))]
			c.Score = round(min(c.Max, c.Score+c.Max/4), 2)
		}
		s := SecureScore{
			ID: d.TenantID + "_" + at.Format("2006-01-02"), AzureTenantID: d.TenantID,
			ActiveUserCount: users - int64(r.IntN(10)), LicensedUserCount: users,
			CreatedDateTime: TimeOf(at),
			EnabledServices: []string{"HasExchange", "HasSharePoint", "HasOD4B", "HasTeams", "HasMDEP"},
			ControlScores:   append([]ControlScore(nil), controls...),
		}
		for i := range s.ControlScores {
			c := &s.ControlScores[i]
			c.Base, c.LastSynced = c.Score, TimeOf(at.Add(-time.Hour))
		}
		s.total()
		s.compare(r, int64(len(d.Machines)))
		out[day] = s
	}
	return out
}

// total recomputes a snapshot's totals and implementation statuses from
// its control scores.
func (s *SecureScore) total() {
	s.CurrentScore, s.MaxScore = 0, 0
	for i := range s.ControlScores {
		c := &s.ControlScores[i]
		s.CurrentScore += c.Score
		s.MaxScore += c.Max
		switch {
		case c.Score >= c.Max:
			c.ImplementationStatus = "Completed"
		case c.Score > 0:
			c.ImplementationStatus = "Partially implemented: " + strconv.FormatFloat(round(100*c.Score/c.Max, 0), 'f', -1, 64) + "%"
		default:
			c.ImplementationStatus = "Not implemented"
		}
	}
	s.CurrentScore = round(s.CurrentScore, 2)
}

// compare draws the day's comparative averages: each group's share of the
// tenant's maxScore, per category too.
func (s *SecureScore) compare(r *rand.Rand, seats int64) {
	byCategory := map[string]float64{}
	for _, c := range s.ControlScores {
		byCategory[c.ControlCategory] += c.Max
	}
	s.AverageComparativeScores = nil
	for _, b := range secureScoreBases {
		share := b.share + (r.Float64()-0.5)/50
		a := AverageComparativeScore{
			Basis: b.basis, AverageScore: round(s.MaxScore*share, 2),
			IdentityScore: round(byCategory["Identity"]*share, 2), DataScore: round(byCategory["Data"]*share, 2),
			DeviceScore: round(byCategory["Device"]*share, 2), AppsScore: round(byCategory["Apps"]*share, 2),
			InfrastructureScore: round(byCategory["Infrastructure"]*share, 2),
		}
		if b.basis == "TotalSeats" {
			lo, hi := seatRange(seats)
			a.SeatSizeRangeLower, a.SeatSizeRangeUpper = strconv.FormatInt(lo, 10), strconv.FormatInt(hi, 10)
		}
		s.AverageComparativeScores = append(s.AverageComparativeScores, a)
	}
}

// seatRange is the seat-count band a tenant is compared within.
func seatRange(seats int64) (int64, int64) {
	lo := int64(1)
	for _, hi := range []int64{100, 500, 1000, 5000, 10000} {
		if seats < hi {
			return lo, hi
		}
		lo = hi
	}
	return lo, 100000
}

// driftSecureScore moves today's snapshot slowly (a control's score steps
// around the level it was generated at, so the total stays within a few
// points), and starts a new snapshot when a day has passed. The caller
// holds the write lock.
func (d *Dataset) driftSecureScore(r *rand.Rand, now time.Time) {
	if len(d.SecureScores) == 0 {
		return
	}
	s := &d.SecureScores[0]
	if next := s.CreatedDateTime.Time().Add(24 * time.Hour); !now.Before(next) {
		fresh := *s
		fresh.ID = d.TenantID + "_" + next.Format("2006-01-02")
		fresh.CreatedDateTime = TimeOf(next)
		fresh.ControlScores = append([]ControlScore(nil), s.ControlScores...)
		fresh.total()
		fresh.compare(r, fresh.LicensedUserCount)
		d.SecureScores = append([]SecureScore{fresh}, d.SecureScores[:min(len(d.SecureScores), secureScoreDays-1)]...)
		s = &d.SecureScores[0]
	}
	if r.IntN(12) != 0 {
		return
	}
	c := &s.ControlScores[r.IntN(len(s.ControlScores))]
	// Small steps around the control's base: partly-met controls move by
	// fractions of a point, and the demo must not look like a drop of the
	// score (DefenderSecureScoreDropped wants 2% of the maximum for an hour).
	step := []float64{-0.2, -0.1, 0, 0.1, 0.2}[r.IntN(5)] * min(1, c.Max/10)
	c.Score = round(clamp(c.Base+step, 0, c.Max), 2)
	c.LastSynced = TimeOf(now)
	s.total()
}
