package defendertest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

var (
	// Unisolate outweighs Isolate and only releases isolated machines (an
	// Unisolate drawn when none is isolated becomes an Isolate), so a few
	// machines are isolated at any time, whatever the tenant's size.
	actionTypes = newWeighted[string]("RunAntiVirusScan", 30, "CollectInvestigationPackage", 14, "Isolate", 10,
		"Unisolate", 14, "LiveResponse", 8, "StopAndQuarantineFile", 9, "RestrictCodeExecution", 5,
		"UnrestrictCodeExecution", 4, "Offboard", 2)
	actionFinal   = newWeighted[string]("Succeeded", 82, "Failed", 8, "TimeOut", 5, "Cancelled", 5)
	actionRecent  = newWeighted[string]("Pending", 35, "InProgress", 25, "Succeeded", 35, "Failed", 5)
	actionTitles  = map[string]string{"RunAntiVirusScan": "Run antivirus scan on", "CollectInvestigationPackage": "Collect investigation package from", "Isolate": "Isolate", "Unisolate": "Release from isolation", "LiveResponse": "Live response session on", "StopAndQuarantineFile": "Stop and quarantine file on", "RestrictCodeExecution": "Restrict app execution on", "UnrestrictCodeExecution": "Remove app restriction from", "Offboard": "Offboard"}
	actionReasons = []string{"Suspicious activity in incident", "Ransomware behaviour", "Routine check", "Requested by the service desk", "Part of investigation"}
)

// actionWindow is how far back generated actions go, so the lookback
// filter on creationDateTimeUtc selects a real subset.
const actionWindow = 60 * 24 * time.Hour

// generateMachineActions makes n actions ordered by creation time. Isolate
// actions go to a small pool of machines and Unisolate actions release the
// isolated ones; recent actions may still be Pending or InProgress.
func generateMachineActions(d *Dataset, r *rand.Rand, n int) []MachineAction {
	created := make([]time.Time, n)
	for i := range created {
		created[i] = recentTime(d.Now, math.Pow(r.Float64(), 1.3), actionWindow)
	}
	slices.SortFunc(created, func(a, b time.Time) int { return a.Compare(b) })
	pool := min(len(d.Machines), 25)
	var isolated []int // pool machines isolated so far
	actions := make([]MachineAction, n)
	for i := range actions {
		a := &actions[i]
		a.ID = formatGUID(r.Uint64(), r.Uint64())
		a.Type = actionTypes.pick(r)
		idx := -1
		if len(d.Machines) > 0 {
			u := r.Float64()
			idx = int(u * u * float64(len(d.Machines)))
		}
		if (a.Type == "Isolate" || a.Type == "Unisolate") && pool > 0 {
			if a.Type == "Unisolate" && len(isolated) > 0 {
				idx = isolated[r.IntN(len(isolated))]
			} else {
				a.Type, idx = "Isolate", r.IntN(pool)
			}
		}
		if idx >= 0 {
			a.MachineID, a.ComputerDNSName = d.Machines[idx].ID, d.Machines[idx].ComputerDNSName
		} else {
			a.MachineID = fmt.Sprintf("%016x%016x%08x", r.Uint64(), r.Uint64(), r.Uint32())
		}
		a.Title = actionTitles[a.Type] + " " + a.ComputerDNSName
		a.RequestorComment = actionReasons[r.IntN(len(actionReasons))]
		a.Requestor, a.RequestSource = analysts[r.IntN(len(analysts))], "Portal"
		if r.IntN(4) == 0 {
			a.Requestor, a.RequestSource = formatGUID(r.Uint64(), r.Uint64()), "PublicApi" // an app's client ID
			a.ExternalID = fmt.Sprintf("soar-%06d", r.IntN(1000000))
		}
		switch a.Type {
		case "Isolate", "Unisolate":
			a.Scope = [...]string{"Full", "Full", "Selective"}[r.IntN(3)]
		case "RunAntiVirusScan":
			a.Scope = [...]string{"Quick", "Quick", "Full"}[r.IntN(3)]
		case "StopAndQuarantineFile":
			a.RelatedFileInfo = &FileInfo{FileIdentifier: fmt.Sprintf("%016x%016x%08x", r.Uint64(), r.Uint64(), r.Uint32()), FileIdentifierType: "Sha1"}
		}

		c := created[i]
		a.CreationDateTimeUTC = TimeOf(c)
		age := d.Now.Sub(c)
		if age < 2*time.Hour {
			a.Status = actionRecent.pick(r)
		} else {
			a.Status = actionFinal.pick(r)
		}
		switch a.Status {
		case "Pending":
			if r.IntN(2) == 0 {
				a.LastUpdateDateTimeUTC = a.CreationDateTimeUTC
			} // else null until the device picks it up
		case "InProgress":
			a.LastUpdateDateTimeUTC = TimeOf(c.Add(between(r, 0, min(10*time.Minute, age))))
		default:
			a.LastUpdateDateTimeUTC = TimeOf(c.Add(between(r, time.Minute, min(45*time.Minute, age))))
		}
		switch a.Status {
		case "Cancelled":
			a.CancellationRequestor = analysts[r.IntN(len(analysts))]
			a.CancellationComment = "Not needed any more"
			a.CancellationDateTimeUTC = a.LastUpdateDateTimeUTC
		case "Failed":
			a.ErrorHResult = -2147024894
		case "Succeeded":
			if pool > 0 && (a.Type == "Isolate" || a.Type == "Unisolate") {
				isolated = slices.DeleteFunc(isolated, func(i int) bool { return i == idx })
				if a.Type == "Isolate" {
					isolated = append(isolated, idx)
				}
			}
		}
		a.LegacyUpdateKey = r.IntN(2) == 0
	}
	return actions
}
