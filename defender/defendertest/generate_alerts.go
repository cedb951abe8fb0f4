package defendertest

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// alertKind is one detection: the fields that belong together (title,
// category, source, threat, techniques). Categories mix the MITRE tactic
// names with the legacy names that alerts created before the switch keep.
type alertKind struct {
	title, description string
	category           string
	source             string
	detectorID         string
	threatFamily       string
	threatName         string
	techniques         []string
}

var alertKinds = newWeighted[*alertKind](
	&alertKind{"'Mimikatz' hacktool was detected", "Readily available tools such as hacking programs can be used by unauthorized individuals to spy on users.",
		"CredentialAccess", "WindowsDefenderAv", "2f8e21c1-5a2b-4b8f-93c1-a5de4cbb37a1", "Mimikatz", "HackTool:Win32/Mimikatz.D", []string{"T1003"}}, 6,
	&alertKind{"'Wacatac' malware was detected", "Malware and unwanted software are undesirable applications that perform annoying, disruptive, or harmful actions.",
		"Malware", "WindowsDefenderAv", "a0f1e3d2-77aa-4d3c-9c1b-0b7d33c1e521", "Wacatac", "Trojan:Win32/Wacatac.B!ml", nil}, 12,
	&alertKind{"'CoinMiner' unwanted software was detected", "Potentially unwanted applications were detected on the device.",
		"UnwantedSoftware", "WindowsDefenderAv", "5c4b0a5e-18b2-4f6e-bb7e-98b4ab2e3d10", "CoinMiner", "PUA:Win32/CoinMiner", nil}, 6,
	&alertKind{"Suspicious PowerShell command line", "A suspicious PowerShell activity was observed on the machine.",
		"Execution", "WindowsDefenderAtp", "6b0d3a1f-5b9c-4bc4-8c8b-7d0d24b0bd11", "", "", []string{"T1059.001"}}, 14,
	&alertKind{"Suspicious process injection observed", "A process was observed injecting code into another process.",
		"DefenseEvasion", "WindowsDefenderAtp", "2d1e3f9b-9a43-4c8f-a1b2-4e8e1a7c0c22", "", "", []string{"T1055"}}, 8,
	&alertKind{"Suspicious scheduled task", "A scheduled task was created that runs a suspicious command.",
		"Persistence", "WindowsDefenderAtp", "e3c6a4b1-0d2f-4e56-9a1b-77e3c2f1d033", "", "", []string{"T1053.005"}}, 6,
	&alertKind{"Suspicious remote activity", "Remote execution of commands was observed between devices.",
		"LateralMovement", "WindowsDefenderAtp", "f1a2b3c4-d5e6-47f8-9a0b-1c2d3e4f5a44", "", "", []string{"T1021.002", "T1570"}}, 4,
	&alertKind{"Suspicious access to LSASS service", "A process accessed the LSASS process memory.",
		"CredentialAccess", "WindowsDefenderAtp", "0b9a8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c55", "", "", []string{"T1003.001"}}, 5,
	&alertKind{"Suspicious network connection to a known C2 address", "A process connected to an address associated with command-and-control infrastructure.",
		"CommandAndControl", "WindowsDefenderAtp", "9c8b7a6d-5e4f-4a3b-9c1d-2e3f4a5b6c66", "", "", []string{"T1071"}}, 4,
	&alertKind{"Ransomware behavior detected in the file system", "Files were encrypted in a pattern typical of ransomware.",
		"Ransomware", "WindowsDefenderAtp", "7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c77", "", "", []string{"T1486"}}, 1,
	&alertKind{"Suspicious activity", "Legacy EDR detection kept under its original category.",
		"SuspiciousActivity", "WindowsDefenderAtp", "3f4e5d6c-7b8a-4912-8a3b-4c5d6e7f8a88", "", "", nil}, 4,
	&alertKind{"Custom detection: rare admin tool executed", "A custom detection rule matched.",
		"Discovery", "CustomDetection", "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e99", "", "", []string{"T1087"}}, 6,
	&alertKind{"Automated investigation started manually", "An automated investigation was started on the device.",
		"SuspiciousActivity", "AutomatedInvestigation", "d2e3f4a5-b6c7-4d8e-9f0a-1b2c3d4e5faa", "", "", nil}, 5,
	&alertKind{"Multi-stage incident involving Initial access & Command and control", "Correlated activity across several products.",
		"InitialAccess", "MTP", "e3f4a5b6-c7d8-4e9f-8a1b-2c3d4e5f6abb", "", "", []string{"T1566.001", "T1071"}}, 6,
	&alertKind{"Email messages containing malicious URL removed after delivery", "Messages with a malicious URL were removed after delivery.",
		"InitialAccess", "OfficeATP", "f4a5b6c7-d8e9-4f0a-9b2c-3d4e5f6a7bcc", "", "", []string{"T1566.002"}}, 3,
	&alertKind{"Malicious file download blocked by SmartScreen", "SmartScreen blocked a download of a known malicious file.",
		"Malware", "WindowsDefenderSmartScreen", "a5b6c7d8-e9f0-4a1b-8c3d-4e5f6a7b8cdd", "", "", nil}, 4,
	&alertKind{"Custom TI indicator match", "A file or network indicator from the tenant's indicators matched.",
		"Exfiltration", "CustomerTI", "b6c7d8e9-f0a1-4b2c-9d4e-5f6a7b8c9dee", "", "", []string{"T1041"}}, 2,
	&alertKind{"Defender Experts: hands-on-keyboard activity", "Microsoft Defender Experts notified about attacker activity.",
		"Impact", "ThreatExperts", "c7d8e9f0-a1b2-4c3d-8e5f-6a7b8c9d0eff", "", "", []string{"T1490"}}, 1,
	&alertKind{"Third-party sensor alert", "An alert raised by a third-party sensor.",
		"Collection", "ThirdPartySensors", "d8e9f0a1-b2c3-4d4e-9f6a-7b8c9d0e1f10", "", "", []string{"T1005"}}, 1,
	&alertKind{"Privilege escalation via token manipulation", "A process adjusted its token to gain privileges.",
		"PrivilegeEscalation", "WindowsDefenderAtp", "e9f0a1b2-c3d4-4e5f-8a7b-8c9d0e1f2a21", "", "", []string{"T1134"}}, 3,
)

var (
	severities = newWeighted[string]("Informational", 15, "Low", 30, "Medium", 35, "High", 17, "UnSpecified", 3)
	// Classification "Informational, expected activity" has no documented
	// wire name; InformationalExpectedActivity is the likely one.
	classifications = newWeighted[string]("TruePositive", 30, "InformationalExpectedActivity", 35, "FalsePositive", 35)
	determinations  = map[string]weighted[string]{
		"TruePositive": newWeighted[string]("MultiStagedAttack", 10, "MaliciousUserActivity", 10, "CompromisedUser", 10,
			"Malware", 30, "Phishing", 15, "UnwantedSoftware", 15, "Other", 10),
		"InformationalExpectedActivity": newWeighted[string]("SecurityTesting", 40, "LineOfBusinessApplication", 30,
			"ConfirmedUserActivity", 20, "Other", 10),
		"FalsePositive": newWeighted[string]("Clean", 60, "InsufficientData", 25, "Other", 15),
	}
	investigationStates = newWeighted[string]("SuccessfullyRemediated", 25, "Benign", 30, "PartiallyRemediated", 5,
		"Running", 5, "PendingApproval", 5, "TerminatedBySystem", 5, "Failed", 2, "UnsupportedOs", 3, "PartiallyInvestigated", 5)
	relatedUsers = []*RelatedUser{
		{UserName: "alice", DomainName: "CONTOSO"}, {UserName: "bob", DomainName: "CONTOSO"},
		{UserName: "carol.admin", DomainName: "CONTOSO"}, {UserName: "svc_backup", DomainName: "CONTOSO"},
		{UserName: "root", DomainName: ""}, {UserName: "dave", DomainName: "FABRIKAM"},
	}
	analysts = []string{"secops@contoso.com", "alice.soc@contoso.com", "Automation"}
)

// alertWindow is how far back generated alerts go, so lookback filters on
// alertCreationTime and lastUpdateTime select a real subset.
const alertWindow = 60 * 24 * time.Hour

func generateAlerts(d *Dataset, r *rand.Rand, n int) []Alert {
	created := make([]time.Time, n)
	for i := range created {
		// Skewed towards recent: more alerts in the last days than 60 days ago.
		u := math.Pow(r.Float64(), 1.3)
		created[i] = d.Now.Add(-time.Duration(u * float64(alertWindow)))
	}
	slices.SortFunc(created, func(a, b time.Time) int { return a.Compare(b) })
	alerts := make([]Alert, n)
	for i := range alerts {
		fillAlert(d, r, &alerts[i], created[i], "")
	}
	return alerts
}

// fillAlert makes one alert created at created; severity "" picks one.
// Its status depends on age: the older an alert, the likelier it is resolved.
func fillAlert(d *Dataset, r *rand.Rand, a *Alert, created time.Time, severity string) {
	k := alertKinds.pick(r)
	a.ID = alertID(r, created)
	a.Title, a.Description = k.title, k.description
	a.Category, a.DetectionSource, a.DetectorID = k.category, k.source, k.detectorID
	a.ThreatFamilyName, a.ThreatName, a.MITRETechniques = k.threatFamily, k.threatName, k.techniques
	// A few nulls where consumers must cope with them.
	if r.IntN(100) == 0 {
		a.Category = ""
	}
	if r.IntN(60) == 0 {
		a.DetectionSource = ""
	}
	a.Severity = severity
	if a.Severity == "" {
		a.Severity = severities.pick(r)
	}
	a.AADTenantID = d.TenantID
	if len(d.Machines) > 0 {
		// Square of a uniform value: a few machines carry many alerts.
		u := r.Float64()
		m := &d.Machines[int(u*u*float64(len(d.Machines)))]
		a.MachineID, a.ComputerDNSName, a.RBACGroupName = m.ID, m.ComputerDNSName, m.RBACGroupName
	}
	if r.IntN(2) == 0 {
		a.RelatedUser = relatedUsers[r.IntN(len(relatedUsers))]
	}
	a.AlertCreationTime = TimeOf(created)
	first := created.Add(-between(r, time.Minute, 2*time.Hour))
	a.FirstEventTime = TimeOf(first)
	a.LastEventTime = TimeOf(first.Add(between(r, 0, created.Sub(first))))
	if r.IntN(50) != 0 {
		// A third of the alerts join the previous alert's incident.
		if d.lastIncident == 0 || r.IntN(3) != 0 {
			d.nextIncident++
			d.lastIncident = d.nextIncident
		}
		a.IncidentID = d.lastIncident
	}
	if r.IntN(10) < 4 {
		d.nextInvestig++
		a.InvestigationID = d.nextInvestig
		a.InvestigationState = investigationStates.pick(r)
	} else {
		a.InvestigationState = "UnsupportedAlertType"
	}

	age := d.Now.Sub(created)
	pResolved := 0.25 + 0.65*min(1, age.Hours()/(14*24))
	switch x := r.Float64(); {
	case x < pResolved:
		resolveAlert(r, a, created.Add(between(r, 10*time.Minute, min(5*24*time.Hour, age+time.Second))), age > 40*24*time.Hour)
	case x < pResolved+0.03:
		a.Status = "Unknown"
		a.LastUpdateTime = TimeOf(created)
	case r.IntN(3) == 0:
		a.Status = "InProgress"
		a.AssignedTo = analysts[r.IntN(len(analysts))]
		a.LastUpdateTime = TimeOf(created.Add(between(r, 0, min(2*24*time.Hour, age+time.Second))))
	default:
		a.Status = "New"
		a.LastUpdateTime = TimeOf(created)
	}
}

// resolveAlert resolves a at when. Old alerts sometimes carry the
// determinations deprecated in 2022 (Apt, SecurityPersonnel).
func resolveAlert(r *rand.Rand, a *Alert, when time.Time, old bool) {
	a.Status = "Resolved"
	a.ResolvedTime = TimeOf(when)
	a.LastUpdateTime = a.ResolvedTime
	if a.AssignedTo == "" {
		a.AssignedTo = analysts[r.IntN(len(analysts))]
	}
	if r.IntN(100) < 15 {
		return // resolved without a classification
	}
	a.Classification = classifications.pick(r)
	a.Determination = determinations[a.Classification].pick(r)
	if old && a.Classification == "TruePositive" && r.IntN(4) == 0 {
		a.Determination = [...]string{"Apt", "SecurityPersonnel"}[r.IntN(2)]
	}
}

// alertID follows Defender's shape: "da" + the creation time in .NET ticks
// + "_" + a signed 32-bit number.
func alertID(r *rand.Rand, created time.Time) string {
	const unixEpochTicks = 621355968000000000
	ticks := created.UnixNano()/100 + unixEpochTicks
	b := make([]byte, 0, 32)
	b = append(b, "da"...)
	b = strconv.AppendInt(b, ticks, 10)
	b = append(b, '_')
	b = strconv.AppendInt(b, int64(int32(r.Uint32())), 10)
	return string(b)
}
