package defendertest

import (
	"slices"
	"strconv"
	"time"
)

// driftPosture moves the posture data a little each drift period, from its
// own random stream so that the alert and machine drift stay as they were:
// the exposure scores wiggle, the oldest pending or running machine action
// completes, now and then a new action is requested, and incidents arrive
// and move on. The rates (at the default 5 s period: an action a minute, an
// incident every ten minutes) keep a demo left running for days within the
// call budgets. The caller holds the write lock.
func (d *Dataset) driftPosture(now time.Time) {
	r := d.postureRNG
	at := TimeOf(now)
	wiggle := func(s float64) float64 { return round(clamp(s+(r.Float64()-0.5)*2, 0, 100), 4) }
	d.ExposureScore = Score{Time: at, Score: wiggle(d.ExposureScore.Score)}
	for i := range d.GroupExposureScores {
		g := &d.GroupExposureScores[i]
		g.Time, g.Score = at, wiggle(g.Score)
	}
	if r.IntN(4) == 0 {
		d.ConfigurationScore = Score{Time: at, Score: max(0, d.ConfigurationScore.Score+float64(r.IntN(5)-2))}
	}

	for i := range d.MachineActions {
		if a := &d.MachineActions[i]; a.Status == "Pending" || a.Status == "InProgress" {
			a.Status, a.LastUpdateDateTimeUTC = "Succeeded", at
			break
		}
	}
	if n := len(d.Machines); n > 0 && r.IntN(12) == 0 {
		m := &d.Machines[r.IntN(n)]
		typ := actionTypes.pick(r)
		d.MachineActions = append(d.MachineActions, MachineAction{
			ID: formatGUID(r.Uint64(), r.Uint64()), Type: typ, Title: actionTitles[typ] + " " + m.ComputerDNSName,
			Requestor: analysts[r.IntN(2)], RequestSource: "Portal", Status: "Pending",
			MachineID: m.ID, ComputerDNSName: m.ComputerDNSName, CreationDateTimeUTC: at, LegacyUpdateKey: r.IntN(2) == 0,
		})
	}

	if r.IntN(120) == 0 {
		id := int64(20000 + uint64(d.Seed)%70000)
		if len(d.Incidents) > 0 {
			id = d.Incidents[0].IncidentID + 1
		}
		k := alertKinds.pick(r)
		sev := incidentSeverities.pick(r)
		inc := Incident{
			IncidentID: id, IncidentURI: incidentURLPrefix + strconv.FormatInt(id, 10) + "?tid=" + d.TenantID,
			IncidentName: k.title + " on one endpoint", CreatedTime: at, LastUpdateTime: at,
			Status: "Active", Severity: sev,
			Alerts: []IncidentAlert{{AlertID: alertID(r, now), Title: k.title, Category: k.category, DetectionSource: k.source,
				ServiceSource: serviceSource(k.source), Severity: sev, Status: "New", CreationTime: at}},
		}
		d.Incidents = slices.Insert(d.Incidents, 0, inc) // newest first
	}
	if n := len(d.Incidents); n > 0 {
		x := &d.Incidents[r.IntN(min(n, 50))]
		switch x.Status {
		case "Active":
			x.Status, x.AssignedTo, x.LastUpdateTime = "InProgress", analysts[r.IntN(len(analysts))], at
		case "InProgress":
			x.Status, x.LastUpdateTime = "Resolved", at
			x.Classification = classifications.pick(r)
			x.Determination = determinations[x.Classification].pick(r)
		}
	}
}
