package defendertest

import (
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"time"
)

// Advanced-hunting tables derived from the dataset, so that hunting answers
// agree with /api/machines and /api/alerts. Rows the dataset does not hold
// (device events, vulnerable software, configuration assessments) come from
// a generator seeded by the dataset seed and the machine id: the same
// machine always has the same events, whatever else changes. Column names
// and value spellings follow the advanced-hunting schema; only the columns
// the example queries and tests need are present.

// huntingTableNames lists the tables the fake serves, for error messages
// and docs.
var huntingTableNames = []string{
	"DeviceInfo", "AlertInfo", "DeviceEvents",
	"DeviceTvmSoftwareVulnerabilities", "DeviceTvmSecureConfigurationAssessment",
}

// huntingTable builds the named table (case-sensitive, as in Kusto). The
// caller holds the dataset's read lock.
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
	case "DeviceTvmSecureConfigurationAssessment":
		return configurationAssessmentTable(d), true
	}
	return nil, false
}

// machineRand is a generator private to one machine and one table.
func machineRand(d *Dataset, m *Machine, stream uint64) *rand.Rand {
	h := fnv.New64a()
	_, _ = h.Write([]byte(m.ID))
	return rand.New(rand.NewPCG(h.Sum64()^uint64(d.Seed), stream))
}

const (
	streamDeviceEvents = 0x657674
	streamSoftware     = 0x737774
	streamConfig       = 0x636667
)

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
	t := &kTable{cols: deviceInfoColumns}
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
			t.rows = append(t.rows, row(earlier, health))
		}
		t.rows = append(t.rows, row(last, m.HealthStatus))
	}
	return t
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
	t := &kTable{cols: alertInfoColumns}
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
		t.rows = append(t.rows, []any{
			a.AlertCreationTime.Time(), a.ID, a.Title, a.Category, sev, src[1], src[0], string(appendStrings(nil, a.MITRETechniques)),
		})
	}
	return t
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
	t := &kTable{cols: deviceEventsColumns}
	for i := range d.Machines {
		m := &d.Machines[i]
		if !onboarded(m) || !isWindows(m) {
			continue
		}
		r := machineRand(d, m, streamDeviceEvents)
		for range r.IntN(7) {
			e := deviceEvents.pick(r)
			ts := m.LastSeen.Time().Add(-between(r, time.Minute, 7*24*time.Hour))
			t.rows = append(t.rows, []any{
				ts, m.ID, m.ComputerDNSName, e.action, e.file, e.folder, e.initiator, e.account, e.additional,
			})
		}
	}
	return t
}

var softwareVulnerabilitiesColumns = []kColumn{
	{"DeviceId", kString}, {"DeviceName", kString}, {"OSPlatform", kString}, {"OSVersion", kString},
	{"OSArchitecture", kString}, {"SoftwareVendor", kString}, {"SoftwareName", kString}, {"SoftwareVersion", kString},
	{"CveId", kString}, {"VulnerabilitySeverityLevel", kString}, {"RecommendedSecurityUpdate", kString},
	{"RecommendedSecurityUpdateId", kString}, {"CveMitigationStatus", kString},
}

type vulnCVE struct{ id, severity, update, updateID string }

// vulnSoftware is an installed product with known CVEs. The CVE numbers
// are synthetic (a range real advisories do not describe); the product
// spellings follow TVM's lower-case vendor/name convention.
type vulnSoftware struct {
	vendor, name, version string
	on                    func(m *Machine) bool
	os                    bool // the operating system itself: present whenever it applies
	cves                  []vulnCVE
}

func platformIs(names ...string) func(*Machine) bool {
	return func(m *Machine) bool {
		for _, n := range names {
			if m.OSPlatform == n {
				return true
			}
		}
		return false
	}
}

func workstation(m *Machine) bool { return !isServer(m) }

var vulnCatalogue = []vulnSoftware{
	{"microsoft", "windows_10", "10.0.19045.4651", platformIs("Windows10"), true, []vulnCVE{
		{"CVE-2024-90001", "Critical", "July 2024 cumulative update", "KB5040427"}, {"CVE-2024-90002", "High", "July 2024 cumulative update", "KB5040427"}}},
	{"microsoft", "windows_11", "10.0.22631.3880", platformIs("Windows11"), true, []vulnCVE{
		{"CVE-2024-90003", "High", "July 2024 cumulative update", "KB5040442"}, {"CVE-2024-90004", "Medium", "July 2024 cumulative update", "KB5040442"}}},
	{"microsoft", "windows_server_2016", "10.0.14393.7159", platformIs("WindowsServer2016"), true, []vulnCVE{
		{"CVE-2024-90006", "High", "July 2024 cumulative update", "KB5040434"}}},
	{"microsoft", "windows_server_2019", "10.0.17763.6054", platformIs("WindowsServer2019"), true, []vulnCVE{
		{"CVE-2024-90005", "Critical", "July 2024 cumulative update", "KB5040430"}}},
	{"microsoft", "windows_server_2022", "10.0.20348.2582", platformIs("WindowsServer2022"), true, []vulnCVE{
		{"CVE-2024-90007", "Medium", "July 2024 cumulative update", "KB5040437"}}},
	{"apple", "macos", "14.6", platformIs("macOS"), true, []vulnCVE{
		{"CVE-2024-90021", "High", "macOS 14.7", ""}}},
	{"google", "chrome", "126.0.6478.127", workstation, false, []vulnCVE{
		{"CVE-2024-90011", "High", "Update Chrome to 127.0.6533.72", ""}, {"CVE-2024-90012", "Medium", "Update Chrome to 127.0.6533.72", ""}}},
	{"mozilla", "firefox", "127.0.2", func(m *Machine) bool { return workstation(m) || isLinux(m.OSPlatform) }, false, []vulnCVE{
		{"CVE-2024-90013", "High", "Update Firefox to 128.0", ""}}},
	{"oracle", "jre", "8.0.4110", isWindows, false, []vulnCVE{
		{"CVE-2024-90014", "Medium", "Update JRE to 8u421", ""}, {"CVE-2024-90015", "Low", "Update JRE to 8u421", ""}}},
	{"adobe", "acrobat_reader_dc", "24.002.20857", workstation, false, []vulnCVE{
		{"CVE-2024-90016", "Critical", "Update Acrobat Reader DC to 24.002.20965", ""}}},
	{"7-zip", "7-zip", "23.1.0.0", isWindows, false, []vulnCVE{
		{"CVE-2024-90017", "High", "Update 7-Zip to 24.07", ""}}},
	{"videolan", "vlc_media_player", "3.0.20", workstation, false, []vulnCVE{
		{"CVE-2024-90018", "Medium", "Update VLC media player to 3.0.21", ""}}},
	{"openssl", "openssl", "3.0.2", func(m *Machine) bool { return isLinux(m.OSPlatform) }, false, []vulnCVE{
		{"CVE-2024-90019", "High", "Update OpenSSL to 3.0.14", ""}, {"CVE-2024-90020", "Low", "Update OpenSSL to 3.0.14", ""}}},
}

// softwareVulnerabilitiesTable: per onboarded machine, its operating system
// (seven times in ten still missing an update) and each applicable
// third-party product with a chance of one in three, with all their CVEs.
// The table has no Timestamp: it is the current state.
func softwareVulnerabilitiesTable(d *Dataset) *kTable {
	t := &kTable{cols: softwareVulnerabilitiesColumns}
	for i := range d.Machines {
		m := &d.Machines[i]
		if !onboarded(m) {
			continue
		}
		r := machineRand(d, m, streamSoftware)
		for _, s := range vulnCatalogue {
			if !s.on(m) {
				continue
			}
			if (s.os && r.IntN(10) >= 7) || (!s.os && r.IntN(3) != 0) {
				continue
			}
			for _, c := range s.cves {
				t.rows = append(t.rows, []any{
					m.ID, m.ComputerDNSName, m.OSPlatform, m.Version, m.OSArchitecture,
					s.vendor, s.name, s.version, c.id, c.severity, c.update, c.updateID, "",
				})
			}
		}
	}
	return t
}

var configurationAssessmentColumns = []kColumn{
	{"DeviceId", kString}, {"DeviceName", kString}, {"OSPlatform", kString}, {"Timestamp", kDatetime},
	{"ConfigurationId", kString}, {"ConfigurationCategory", kString}, {"ConfigurationSubcategory", kString},
	{"ConfigurationImpact", kReal}, {"IsApplicable", kBool}, {"IsCompliant", kBool}, {"IsExpectedUserImpact", kBool},
}

// TamperProtectionConfigurationID is the secure-configuration id that
// community queries use for "Turn on Tamper Protection".
const TamperProtectionConfigurationID = "scid-2003"

// configurationAssessmentTable holds the tamper-protection assessment of
// every onboarded Windows machine: mostly on where antivirus is up to date,
// a coin toss elsewhere.
func configurationAssessmentTable(d *Dataset) *kTable {
	t := &kTable{cols: configurationAssessmentColumns}
	for i := range d.Machines {
		m := &d.Machines[i]
		if !onboarded(m) || !isWindows(m) {
			continue
		}
		r := machineRand(d, m, streamConfig)
		compliant := r.IntN(2) == 0
		if m.DefenderAVStatus == "Updated" {
			compliant = r.IntN(10) != 0
		}
		t.rows = append(t.rows, []any{
			m.ID, m.ComputerDNSName, m.OSPlatform, m.LastSeen.Time(),
			TamperProtectionConfigurationID, "Security controls", "Antivirus", 9.0, true, compliant, false,
		})
	}
	return t
}
