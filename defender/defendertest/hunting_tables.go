package defendertest

import (
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"time"
)

// Advanced-hunting tables derived from the dataset, so that hunting answers
// agree with the MDE APIs: DeviceInfo with /api/machines, AlertInfo with
// /api/alerts, the TVM tables with /api/vulnerabilities, /api/recommendations
// and /api/deviceavinfo (hunting_tables_tvm.go), CloudAppEvents with
// /api/machineactions (hunting_tables_audit.go). Rows the dataset does not
// hold (device events) come from a generator seeded by the dataset seed and
// the machine id: the same machine always has the same events, whatever
// else changes. Column names and value spellings follow the advanced-hunting
// schema; only the columns the example and built-in queries and the tests
// need are present. Tables stream their rows (kTable.gen), built as a query
// reads them.

// huntingTableNames lists the tables the fake serves, for error messages
// and docs.
var huntingTableNames = []string{
	"DeviceInfo", "AlertInfo", "DeviceEvents",
	"DeviceTvmSoftwareVulnerabilities", "DeviceTvmSoftwareVulnerabilitiesKB",
	"DeviceTvmSecureConfigurationAssessment", "DeviceTvmInfoGathering", "CloudAppEvents",
}

// huntingTable builds the named table (case-sensitive, as in Kusto). The
// caller holds the dataset's read lock while the table's rows are read.
func huntingTable(d *Dataset, name string) (*kTable, bool) {
	switch name {
	case "DeviceInfo":
		return deviceInfoTable(d), true
	case "AlertInfo":
		return alertInfoTable(d), true
	case "DeviceEvents":
		return deviceEventsTable(d), true
	case "DeviceTvmSoftwareVulnerabilities":
		return softwareVulnerabilitiesTable(d), true
	case "DeviceTvmSoftwareVulnerabilitiesKB":
		return softwareVulnerabilitiesKBTable(d), true
	case "DeviceTvmSecureConfigurationAssessment":
		return configurationAssessmentTable(d), true
	case "DeviceTvmInfoGathering":
		return infoGatheringTable(d), true
	case "CloudAppEvents":
		return cloudAppEventsTable(d), true
	}
	return nil, false
}

// machineRand is a generator private to one machine and one table.
func machineRand(d *Dataset, m *Machine, stream uint64) *rand.Rand {
	h := fnv.New64a()
	_, _ = h.Write([]byte(m.ID))
	return rand.New(rand.NewPCG(h.Sum64()^uint64(d.Seed), stream))
}

const streamDeviceEvents = 0x657674

func onboarded(m *Machine) bool { return strings.EqualFold(m.OnboardingStatus, "Onboarded") }

func isWindows(m *Machine) bool { return strings.HasPrefix(m.OSPlatform, "Windows") }

func isServer(m *Machine) bool {
	return strings.HasPrefix(m.OSPlatform, "WindowsServer") || isLinux(m.OSPlatform)
}

// nullableLong is a long column that is null when zero.
func nullableLong(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

// DeviceInfo onboarding statuses are spelled out, unlike the API's.
var deviceInfoOnboarding = map[string]string{
	"Onboarded": "Onboarded", "onboarded": "Onboarded", "CanBeOnboarded": "Can be onboarded",
	"Unsupported": "Unsupported", "InsufficientInfo": "Insufficient info",
}

var deviceInfoColumns = []kColumn{
	{"Timestamp", kDatetime}, {"DeviceId", kString}, {"DeviceName", kString}, {"ClientVersion", kString},
	{"PublicIP", kString}, {"OSArchitecture", kString}, {"OSPlatform", kString}, {"OSBuild", kLong},
	{"IsAzureADJoined", kBool}, {"AadDeviceId", kString}, {"MachineGroup", kString}, {"OSVersion", kString},
	{"OnboardingStatus", kString}, {"SensorHealthState", kString}, {"ExposureLevel", kString},
	{"DeviceType", kString}, {"DeviceCategory", kString}, {"IsExcluded", kBool}, {"ExclusionReason", kString},
}

// deviceInfoTable has two reports per machine, as the real table has many:
// the latest at lastSeen, and one a day earlier in which a machine that is
// no longer active still reported Active. Counting by a state therefore
// needs "summarize arg_max(Timestamp, *) by DeviceId" first, as it does on
// a real tenant.
func deviceInfoTable(d *Dataset) *kTable {
	return streamed(deviceInfoColumns, func(yield func([]any) bool) {
		for i := range d.Machines {
			m := &d.Machines[i]
			deviceType := "Workstation"
			if isServer(m) {
				deviceType = "Server"
			}
			row := func(ts time.Time, health string) []any {
				return []any{
					ts, m.ID, m.ComputerDNSName, m.AgentVersion,
					m.LastExternalIPAddress, m.OSArchitecture, m.OSPlatform, nullableLong(m.OSBuild),
					m.IsAADJoined, m.AADDeviceID, m.RBACGroupName, m.Version,
					deviceInfoOnboarding[m.OnboardingStatus], health, m.ExposureLevel,
					deviceType, "Endpoint", m.IsExcluded, m.ExclusionReason,
				}
			}
			last := m.LastSeen.Time()
			if earlier := last.Add(-24 * time.Hour); !earlier.Before(m.FirstSeen.Time()) {
				health := m.HealthStatus
				if onboarded(m) {
					health = "Active"
				}
				if !yield(row(earlier, health)) {
					return
				}
			}
			if !yield(row(last, m.HealthStatus)) {
				return
			}
		}
	})
}

var alertInfoColumns = []kColumn{
	{"Timestamp", kDatetime}, {"AlertId", kString}, {"Title", kString}, {"Category", kString},
	{"Severity", kString}, {"ServiceSource", kString}, {"DetectionSource", kString}, {"AttackTechniques", kString},
}

// AlertInfo names detection sources and services in words, not with the
// API's enum names.
var alertInfoSources = map[string][2]string{ // detectionSource -> DetectionSource, ServiceSource
	"WindowsDefenderAtp":         {"EDR", "Microsoft Defender for Endpoint"},
	"WindowsDefenderAv":          {"Antivirus", "Microsoft Defender for Endpoint"},
	"WindowsDefenderSmartScreen": {"SmartScreen", "Microsoft Defender for Endpoint"},
	"CustomDetection":            {"Custom detection", "Microsoft Defender for Endpoint"},
	"AutomatedInvestigation":     {"Automated investigation", "Microsoft Defender for Endpoint"},
	"CustomerTI":                 {"Custom TI", "Microsoft Defender for Endpoint"},
	"ThreatExperts":              {"Microsoft Defender Experts", "Microsoft Defender for Endpoint"},
	"ThirdPartySensors":          {"Third party sensors", "Microsoft Defender for Endpoint"},
	"MTP":                        {"Microsoft Defender XDR", "Microsoft Defender XDR"},
	"OfficeATP":                  {"Microsoft Defender for Office 365", "Microsoft Defender for Office 365"},
}

func alertInfoTable(d *Dataset) *kTable {
	return streamed(alertInfoColumns, func(yield func([]any) bool) {
		for i := range d.Alerts {
			a := &d.Alerts[i]
			src, ok := alertInfoSources[a.DetectionSource]
			if !ok {
				src = [2]string{a.DetectionSource, "Microsoft Defender for Endpoint"}
			}
			sev := a.Severity
			if sev == "UnSpecified" {
				sev = "Informational"
			}
			if !yield([]any{
				a.AlertCreationTime.Time(), a.ID, a.Title, a.Category, sev, src[1], src[0], string(appendStrings(nil, a.MITRETechniques)),
			}) {
				return
			}
		}
	})
}

var deviceEventsColumns = []kColumn{
	{"Timestamp", kDatetime}, {"DeviceId", kString}, {"DeviceName", kString}, {"ActionType", kString},
	{"FileName", kString}, {"FolderPath", kString}, {"InitiatingProcessFileName", kString},
	{"InitiatingProcessAccountName", kString}, {"AdditionalFields", kString},
}

// deviceEvent is a kind of DeviceEvents row: attack surface reduction
// rules (audit and block), tampering attempts, and a few other sensor events.
type deviceEvent struct {
	action, file, folder, initiator, account, additional string
}

var deviceEvents = newWeighted[*deviceEvent](
	&deviceEvent{"AsrLsassCredentialTheftAudited", "lsass.exe", `C:\Windows\System32\lsass.exe`, "procdump64.exe", "admin.helpdesk", `{"IsAudit":true}`}, 14,
	&deviceEvent{"AsrLsassCredentialTheftBlocked", "lsass.exe", `C:\Windows\System32\lsass.exe`, "rundll32.exe", "alice", `{"IsAudit":false}`}, 4,
	&deviceEvent{"AsrOfficeChildProcessAudited", "cmd.exe", `C:\Windows\System32\cmd.exe`, "winword.exe", "bob", `{"IsAudit":true}`}, 8,
	&deviceEvent{"AsrOfficeChildProcessBlocked", "powershell.exe", `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, "excel.exe", "carol", `{"IsAudit":false}`}, 5,
	&deviceEvent{"AsrObfuscatedScriptAudited", "update.ps1", `C:\Users\Public\update.ps1`, "powershell.exe", "dave", `{"IsAudit":true}`}, 6,
	&deviceEvent{"AsrExecutableEmailContentBlocked", "invoice.exe", `C:\Users\alice\AppData\Local\Temp\invoice.exe`, "outlook.exe", "alice", `{"IsAudit":false}`}, 3,
	&deviceEvent{"AsrPsexecWmiChildProcessAudited", "cmd.exe", `C:\Windows\System32\cmd.exe`, "wmiprvse.exe", "system", `{"IsAudit":true}`}, 6,
	&deviceEvent{"AsrUntrustedUsbProcessBlocked", "setup.exe", `E:\setup.exe`, "explorer.exe", "bob", `{"IsAudit":false}`}, 2,
	&deviceEvent{"TamperingAttempt", "MsMpEng.exe", `C:\ProgramData\Microsoft\Windows Defender\Platform\MsMpEng.exe`, "powershell.exe", "admin.helpdesk", `{"TamperingAction":"RegistryModification","Status":"Blocked"}`}, 4,
	&deviceEvent{"AntivirusDetection", "payload.dll", `C:\Users\dave\Downloads\payload.dll`, "chrome.exe", "dave", `{"ThreatName":"Trojan:Win32/Wacatac.B!ml","WasRemediated":true}`}, 8,
	&deviceEvent{"SmartScreenUrlWarning", "", "", "msedge.exe", "carol", `{"Experience":"Phishing"}`}, 6,
	&deviceEvent{"ExploitGuardNetworkProtectionBlocked", "", "", "chrome.exe", "bob", `{"ResponseCategory":"CustomBlockList"}`}, 3,
)

// deviceEventsTable gives each onboarded Windows machine up to six events
// within the week before it was last seen.
func deviceEventsTable(d *Dataset) *kTable {
	return streamed(deviceEventsColumns, func(yield func([]any) bool) {
		for i := range d.Machines {
			m := &d.Machines[i]
			if !onboarded(m) || !isWindows(m) {
				continue
			}
			r := machineRand(d, m, streamDeviceEvents)
			for range r.IntN(7) {
				e := deviceEvents.pick(r)
				ts := m.LastSeen.Time().Add(-between(r, time.Minute, 7*24*time.Hour))
				if !yield([]any{ts, m.ID, m.ComputerDNSName, e.action, e.file, e.folder, e.initiator, e.account, e.additional}) {
					return
				}
			}
		}
	})
}
