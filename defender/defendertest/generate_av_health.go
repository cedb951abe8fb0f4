package defendertest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

var (
	// avModes are the string-typed avMode codes: "0" Active, "1" Passive,
	// "2" Disabled, "3" Other, "4" EDRBlocked, "5" PassiveAudit, "" Other.
	avModes        = newWeighted[string]("0", 80, "1", 7, "4", 3, "5", 4, "3", 2, "", 4)
	avServerModes  = newWeighted[string]("0", 62, "1", 22, "4", 6, "5", 6, "", 4)
	avUpToDate     = newWeighted[string]("True", 93, "False", 5, "Unknown", 1, "", 1)
	avEngineFlag   = newWeighted[string]("True", 91, "False", 6, "Unknown", 2, "", 1)
	avPlatformFlag = newWeighted[string]("True", 86, "False", 11, "Unknown", 2, "", 1)
	quickScans     = newWeighted[string]("Completed", 82, "", 9, "Failed", 4, "Canceled", 5)
	fullScans      = newWeighted[string]("Completed", 33, "", 56, "Failed", 4, "Canceled", 7)
	scanErrors     = []string{"0x80508023", "0x80070015", "0x8050800c"}
)

func osKind(platform string) string {
	switch {
	case platform == "macOS":
		return "mac"
	case isLinux(platform):
		return "linux"
	}
	return "windows"
}

// generateAVInfo makes one row per onboarded machine, consistent with the
// machine's defenderAvStatus: a Disabled machine reports avMode "2", a
// NotUpdated one stale signatures, a NotReporting one mostly Unknown.
func generateAVInfo(d *Dataset, r *rand.Rand) []DeviceAVInfo {
	var rows []DeviceAVInfo
	refreshed := d.Now.Add(-between(r, time.Hour, 6*time.Hour)).Truncate(time.Second)
	for i := range d.Machines {
		m := &d.Machines[i]
		if m.OnboardingStatus != "Onboarded" && m.OnboardingStatus != "onboarded" {
			continue
		}
		x := DeviceAVInfo{
			ID:              formatGUID(r.Uint64(), r.Uint64()),
			MachineID:       m.ID,
			ComputerDNSName: m.ComputerDNSName,
			OSKind:          osKind(m.OSPlatform),
			OSPlatform:      m.OSPlatform,
			OSVersion:       m.Version,
			RBACGroupName:   m.RBACGroupName,
			RBACGroupID:     m.RBACGroupID,
			LastSeenTime:    m.LastSeen,
		}
		modes := avModes
		if isLinux(m.OSPlatform) || strings.HasPrefix(m.OSPlatform, "WindowsServer") {
			modes = avServerModes
		}
		x.AVMode = modes.pick(r)
		x.AVIsSignatureUpToDate = avUpToDate.pick(r)
		x.AVIsEngineUpToDate = avEngineFlag.pick(r)
		x.AVIsPlatformUpToDate = avPlatformFlag.pick(r)
		switch m.DefenderAVStatus {
		case "Disabled":
			x.AVMode = "2"
		case "NotUpdated":
			x.AVIsSignatureUpToDate = "False"
		case "NotReporting", "Unknown":
			x.AVIsSignatureUpToDate = [...]string{"Unknown", "", "Unknown"}[r.IntN(3)]
			x.AVIsEngineUpToDate, x.AVIsPlatformUpToDate = "Unknown", "Unknown"
		}
		sigAge := between(r, time.Hour, 30*time.Hour)
		if x.AVIsSignatureUpToDate == "False" {
			sigAge = between(r, 4*24*time.Hour, 40*24*time.Hour)
		}
		build := 421 - int(sigAge/(8*time.Hour))
		x.AVSignatureVersion = fmt.Sprintf("1.%d.%d.0", build, r.IntN(2000))
		x.AVEngineVersion = "1.1.24090.11"
		x.AVPlatformVersion = "4.18.24090.11"
		if x.OSKind != "windows" {
			x.AVEngineVersion, x.AVPlatformVersion = "1.1.24080.2000", m.AgentVersion
		}
		if x.AVIsPlatformUpToDate == "False" {
			x.AVPlatformVersion = "4.18.24070.5"
		}
		sigUpdate := d.Now.Add(-sigAge).Truncate(time.Second)
		x.AVSignatureUpdateTime = TimeOf(sigUpdate)
		x.AVSignaturePublishTime = TimeOf(sigUpdate.Add(-between(r, 30*time.Minute, 3*time.Hour)))
		x.AVEngineUpdateTime = TimeOf(sigUpdate.Add(-between(r, 0, 20*24*time.Hour)))
		x.AVPlatformUpdateTime = TimeOf(sigUpdate.Add(-between(r, 0, 40*24*time.Hour)))

		if x.QuickScanResult = quickScans.pick(r); x.QuickScanResult != "" {
			x.QuickScanTime = TimeOf(d.Now.Add(-between(r, time.Hour, 8*24*time.Hour)).Truncate(time.Second))
			if x.QuickScanResult == "Failed" {
				x.QuickScanError = scanErrors[r.IntN(len(scanErrors))]
			}
		}
		if x.FullScanResult = fullScans.pick(r); x.FullScanResult != "" {
			x.FullScanTime = TimeOf(d.Now.Add(-between(r, time.Hour, 60*24*time.Hour)).Truncate(time.Second))
			if x.FullScanResult == "Failed" {
				x.FullScanError = scanErrors[r.IntN(len(scanErrors))]
			}
		}
		x.DataRefreshTimestamp = TimeOf(refreshed)
		rows = append(rows, x)
	}
	return rows
}
