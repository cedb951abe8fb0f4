package defendertest

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

var (
	incidentSeverities = newWeighted[string]("Informational", 10, "Low", 30, "Medium", 35, "High", 22, "UnSpecified", 3)
	// The older generation of the enums, as the list page documents them.
	oldClassifications = newWeighted[string]("TruePositive", 45, "FalsePositive", 40, "Unknown", 15)
	oldDeterminations  = map[string]weighted[string]{
		"TruePositive": newWeighted[string]("Apt", 15, "Malware", 40, "SecurityPersonnel", 10, "SecurityTesting", 15,
			"UnwantedSoftware", 15, "Other", 5),
		"FalsePositive": newWeighted[string]("NotAvailable", 60, "Other", 40),
		"Unknown":       newWeighted[string]("NotAvailable", 1),
	}
	incidentTags      = [][]string{nil, nil, nil, {"Ransomware"}, {"BEC"}, {"Phishing", "Credential Phish"}, {"Red team"}}
	incidentWindow    = 60 * 24 * time.Hour
	incidentURLPrefix = "https://security.microsoft.com/incidents/"
)

// serviceSource is an embedded alert's serviceSource, in the spellings of
// the documented examples.
func serviceSource(detectionSource string) string {
	if detectionSource == "OfficeATP" {
		return "OfficeATP"
	}
	return "MicrosoftDefenderATP"
}

// generateIncidents makes n incidents created over the last 60 days,
// served newest first. Old incidents are mostly resolved; a few were
// redirected (merged) into another. Resolved incidents carry one of the two
// generations of classification enums; open ones are "Unknown" with
// "NotAvailable" on the older shape, or null.
func generateIncidents(d *Dataset, r *rand.Rand, n int) []Incident {
	created := make([]time.Time, n)
	for i := range created {
		created[i] = recentTime(d.Now, math.Pow(r.Float64(), 1.3), incidentWindow)
	}
	// Newest first, as the API lists them; ids grow with creation time.
	slices.SortFunc(created, func(a, b time.Time) int { return b.Compare(a) })
	firstID := int64(20000 + uint64(d.Seed)%70000)
	incs := make([]Incident, n)
	for i := range incs {
		x := &incs[i]
		c := created[i]
		x.IncidentID = firstID + int64(n-1-i)
		x.IncidentURI = incidentURLPrefix + strconv.FormatInt(x.IncidentID, 10) + "?tid=" + d.TenantID
		x.CreatedTime = TimeOf(c)
		x.Severity = incidentSeverities.pick(r)
		k := alertKinds.pick(r)
		devices := 1 + r.IntN(3)
		x.IncidentName = k.title + " on one endpoint"
		if devices > 1 {
			x.IncidentName = k.title + " on multiple endpoints"
		}
		x.Tags = incidentTags[r.IntN(len(incidentTags))]
		for j := range min(devices, 1+r.IntN(3)) {
			a := IncidentAlert{
				AlertID: alertID(r, c.Add(time.Duration(j)*time.Minute)), Title: k.title, Category: k.category,
				DetectionSource: k.source, ServiceSource: serviceSource(k.source),
				Severity: x.Severity, Status: "New", CreationTime: TimeOf(c.Add(time.Duration(j) * time.Minute)),
			}
			if len(d.Machines) > 0 {
				m := &d.Machines[r.IntN(len(d.Machines))]
				a.DeviceID, a.DeviceDNSName = m.ID, m.ComputerDNSName
			}
			x.Alerts = append(x.Alerts, a)
		}

		age := d.Now.Sub(c)
		pResolved := 0.25 + 0.65*min(1, age.Hours()/(14*24))
		oldShape := r.IntN(100) < 35
		switch u := r.Float64(); {
		case u < 0.04:
			x.Status = "Redirected"
			x.LastUpdateTime = TimeOf(c.Add(between(r, time.Minute, min(3*time.Hour, age+time.Second))))
		case u < pResolved:
			x.Status = "Resolved"
			x.AssignedTo = analysts[r.IntN(len(analysts))]
			x.LastUpdateTime = TimeOf(c.Add(between(r, 10*time.Minute, min(5*24*time.Hour, age+time.Second))))
			if oldShape {
				x.Classification = oldClassifications.pick(r)
				x.Determination = oldDeterminations[x.Classification].pick(r)
			} else {
				x.Classification = classifications.pick(r)
				x.Determination = determinations[x.Classification].pick(r)
			}
			for j := range x.Alerts {
				x.Alerts[j].Status = "Resolved"
			}
		case r.IntN(3) == 0:
			x.Status = "InProgress"
			x.AssignedTo = analysts[r.IntN(len(analysts))]
			x.LastUpdateTime = TimeOf(c.Add(between(r, 0, min(2*24*time.Hour, age+time.Second))))
			for j := range x.Alerts {
				x.Alerts[j].Status = "InProgress"
			}
		default:
			x.Status = "Active"
			x.LastUpdateTime = x.CreatedTime
		}
		if x.Status != "Resolved" && oldShape {
			x.Classification, x.Determination = "Unknown", "NotAvailable"
		}
	}
	// A redirected incident points at a newer one (lower index), set once
	// every id is known.
	for i := range incs {
		if incs[i].Status == "Redirected" {
			if i == 0 {
				incs[i].RedirectIncidentID = incs[i].IncidentID + 1
			} else {
				incs[i].RedirectIncidentID = incs[r.IntN(i)].IncidentID
			}
		}
	}
	return incs
}
