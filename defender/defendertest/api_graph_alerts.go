package defendertest

import (
	"hash/fnv"
	"net/http"
	"strconv"
)

// GraphAlertsPath is Microsoft Graph's alert list, alerts_v2
// (https://learn.microsoft.com/graph/api/security-list-alerts_v2), served
// from the same alerts as /api/alerts.
const GraphAlertsPath = "/v1.0/security/alerts_v2"

// graphAlertsMaxPage is the largest $top the fake takes on alerts_v2. The
// page documents none; Microsoft's "Graph Security API error responses"
// page gives the security API's alerts a $top limit of 1000
// (https://learn.microsoft.com/graph/api/resources/security-error-codes).
const graphAlertsMaxPage = 1000

func init() {
	// The application permissions of alerts_v2 and incidents, kept beside
	// the APIs they guard.
	resourceRoles[audGraph] = append(resourceRoles[audGraph],
		"SecurityAlert.Read.All", "SecurityAlert.ReadWrite.All", "SecurityIncident.Read.All", "SecurityIncident.ReadWrite.All")
}

// graphAlertFields are the properties alerts_v2 documents for $filter, with
// their Graph values (late enum members by name, as a client that sends
// the Prefer header would write them).
var graphAlertFields = newFilterFields("microsoft.graph.security.alert",
	strField("assignedTo", func(a *Alert) string { return a.AssignedTo }),
	strField("classification", func(a *Alert) string { return graphClassification(a.Classification) }),
	strField("determination", func(a *Alert) string { return graphDetermination(a.Determination) }),
	timeField("createdDateTime", func(a *Alert) Time { return a.AlertCreationTime }),
	timeField("lastUpdateDateTime", func(a *Alert) Time { return a.LastUpdateTime }),
	strField("severity", func(a *Alert) string { return graphSeverity(a.Severity) }),
	strField("serviceSource", func(a *Alert) string { return graphServiceSource(a.DetectionSource) }),
	strField("status", func(a *Alert) string { return graphAlertStatus(a.Status) }),
)

func graphAlertsAPI() *apiEntry {
	return graphList[Alert]{
		spec: apiSpec{
			path: GraphAlertsPath, method: http.MethodGet, audience: audGraph, family: "graph",
			roles: []string{"SecurityAlert.Read.All", "SecurityAlert.ReadWrite.All"}, maxPageSize: graphAlertsMaxPage,
			contextName: "security/alerts_v2",
		},
		fields: graphAlertFields,
		count:  func(d *Dataset) int { return len(d.Alerts) },
		oldest: func(d *Dataset, j int) *Alert { return &d.Alerts[j] }, // Alerts are oldest first
		enc:    appendGraphAlert,
	}.entry()
}

// recommendedActions stands in for the analyst guidance every alert
// carries, a kilobyte or so of text.
const recommendedActions = "Establish scope: review the device timeline around the alert for related activity, " +
	"and record the files, addresses and accounts involved.\n" +
	"Search the other devices of the organisation for the same artifacts and compare what they have in common.\n" +
	"Send unknown files for deep analysis and read the resulting behaviour report.\n\n" +
	"Contain and mitigate:\n" +
	"Contact the user of the device to confirm whether the activity was intended, and remediate locally where needed.\n" +
	"Update the antivirus definitions and run a full scan; it may find further components that were not detected before.\n" +
	"Make sure the device has the latest operating system, browser and application updates.\n" +
	"If credentials may have been stolen, reset the passwords of the accounts involved and review their recent sign-ins.\n" +
	"Block communication with the addresses and URLs involved at the organisation's perimeter."

// appendGraphAlert writes a as alerts_v2 does, evidence included: a device,
// the processes involved, the detected file and the related user, a few
// kilobytes per alert, as on the real API, which takes no $select.
func appendGraphAlert(a *Alert, b []byte, v *graphView) []byte {
	h := fnv.New64a()
	_, _ = h.Write([]byte(a.ID))
	seed := h.Sum64()

	b = append(b, `{"@odata.type":"#microsoft.graph.security.alert","id":`...)
	b = appendString(b, a.ID)
	b = appendStringField(b, "providerAlertId", a.ID)
	if a.IncidentID != 0 {
		b = appendStringField(b, "incidentId", strconv.FormatInt(a.IncidentID, 10))
	} else {
		b = appendStringField(b, "incidentId", "")
	}
	b = appendStringField(b, "status", graphAlertStatus(a.Status))
	b = appendStringField(b, "severity", graphSeverity(a.Severity))
	b = appendStringField(b, "classification", graphClassification(a.Classification))
	b = appendStringField(b, "determination", graphDetermination(a.Determination))
	b = appendStringField(b, "serviceSource", v.late(graphServiceSource(a.DetectionSource), lateServiceSources))
	b = appendStringField(b, "detectionSource", v.late(graphDetectionSource(a.DetectionSource), lateDetectionSources))
	b = appendStringField(b, "productName", "Microsoft Defender for Endpoint")
	b = appendStringField(b, "detectorId", a.DetectorID)
	b = appendStringField(b, "tenantId", a.AADTenantID)
	b = appendStringField(b, "title", a.Title)
	b = appendStringField(b, "description", a.Description)
	b = appendStringField(b, "recommendedActions", recommendedActions)
	b = appendStringField(b, "category", a.Category)
	b = appendStringField(b, "assignedTo", a.AssignedTo)
	b = appendStringField(b, "alertWebUrl", "https://security.microsoft.com/alerts/"+a.ID+"?tid="+a.AADTenantID)
	if a.IncidentID != 0 {
		b = appendStringField(b, "incidentWebUrl", incidentURLPrefix+strconv.FormatInt(a.IncidentID, 10)+"?tid="+a.AADTenantID)
	} else {
		b = appendStringField(b, "incidentWebUrl", "")
	}
	b = appendStringField(b, "actorDisplayName", "")
	b = appendStringField(b, "threatDisplayName", a.ThreatName)
	b = appendStringField(b, "threatFamilyName", a.ThreatFamilyName)
	b = append(b, `,"mitreTechniques":`...)
	b = appendStrings(b, a.MITRETechniques)
	b = appendTimeField(b, "createdDateTime", a.AlertCreationTime)
	b = appendTimeField(b, "lastUpdateDateTime", a.LastUpdateTime)
	b = appendTimeField(b, "resolvedDateTime", a.ResolvedTime)
	b = appendTimeField(b, "firstActivityDateTime", a.FirstEventTime)
	b = appendTimeField(b, "lastActivityDateTime", a.LastEventTime)
	b = append(b, `,"comments":[],"evidence":[`...)
	b = appendEvidence(b, a, seed)
	b = append(b, `],"systemTags":[]}`...)
	return b
}

// appendEvidence writes an alert's evidence list; seed varies the details
// from one alert to the next, deterministically.
func appendEvidence(b []byte, a *Alert, seed uint64) []byte {
	created := a.AlertCreationTime
	n := 0
	sep := func() {
		if n > 0 {
			b = append(b, ',')
		}
		n++
	}
	common := func(kind, verdict string) {
		b = append(b, `{"@odata.type":"#microsoft.graph.security.`...)
		b = append(b, kind...)
		b = append(b, `","createdDateTime":`...)
		b = created.appendJSON(b)
		b = appendStringField(b, "verdict", verdict)
		b = appendStringField(b, "remediationStatus", [...]string{"none", "remediated", "prevented", "blocked"}[seed%4])
		b = appendStringField(b, "remediationStatusDetails", "")
	}
	if a.MachineID != "" {
		sep()
		common("deviceEvidence", "suspicious")
		b = appendTimeField(b, "firstSeenDateTime", created-Time(int64(seed%(400*24))*3600e9))
		b = appendStringField(b, "mdeDeviceId", a.MachineID)
		b = appendStringField(b, "azureAdDeviceId", formatGUID(seed, seed>>7))
		b = appendStringField(b, "deviceDnsName", a.ComputerDNSName)
		b = appendStringField(b, "osPlatform", [...]string{"Windows11", "Windows10", "WindowsServer2022", "Linux"}[seed%4])
		b = appendIntField(b, "osBuild", int64(19045+seed%3000))
		b = appendStringField(b, "version", "22H2")
		b = appendStringField(b, "healthStatus", "active")
		b = appendStringField(b, "riskScore", [...]string{"low", "medium", "high"}[seed%3])
		b = appendIntField(b, "rbacGroupId", int64(seed%90))
		b = appendStringField(b, "rbacGroupName", a.RBACGroupName)
		b = appendStringField(b, "onboardingStatus", "onboarded")
		b = appendStringField(b, "defenderAvStatus", "updated")
		b = append(b, `,"ipInterfaces":["10.`...)
		b = strconv.AppendUint(b, seed%250, 10)
		b = append(b, `.`...)
		b = strconv.AppendUint(b, (seed>>8)%250, 10)
		b = append(b, `.17","fe80::1c4e:`...)
		b = strconv.AppendUint(b, seed%9000+1000, 10)
		b = append(b, `:a3b2:77f1"],"loggedOnUsers":[`...)
		if a.RelatedUser != nil {
			b = append(b, `{"accountName":`...)
			b = appendString(b, a.RelatedUser.UserName)
			b = appendStringField(b, "domainName", a.RelatedUser.DomainName)
			b = append(b, '}')
		}
		b = append(b, `],"roles":["compromised"],"detailedRoles":["Main device"],"tags":["Tier 1"],"vmMetadata":null}`...)
	}
	procs := 1 + int(seed%2)
	for i := range procs {
		sep()
		common("processEvidence", "suspicious")
		pid := int64(1000 + (seed>>uint(i*5))%60000)
		b = appendIntField(b, "processId", pid)
		b = appendIntField(b, "parentProcessId", pid/3+4)
		b = appendStringField(b, "processCommandLine", processCommandLines[(seed>>uint(i*3))%uint64(len(processCommandLines))])
		b = appendTimeField(b, "processCreationDateTime", created-Time(int64(i+1)*61e9))
		b = appendTimeField(b, "parentProcessCreationDateTime", created-Time(int64(i+2)*3600e9))
		b = appendStringField(b, "detectionStatus", "detected")
		b = appendStringField(b, "mdeDeviceId", a.MachineID)
		b = append(b, `,"roles":[],"detailedRoles":["Created by"],"tags":[],"imageFile":`...)
		b = appendFileDetails(b, seed+uint64(i), "powershell.exe", `C:\Windows\System32\WindowsPowerShell\v1.0`)
		b = append(b, `,"parentProcessImageFile":`...)
		b = appendFileDetails(b, seed^uint64(i+7), "explorer.exe", `C:\Windows`)
		b = append(b, `,"userAccount":`...)
		b = appendUserAccount(b, a, seed)
		b = append(b, '}')
	}
	sep()
	common("fileEvidence", "malicious")
	b = appendStringField(b, "detectionStatus", "detected")
	b = appendStringField(b, "mdeDeviceId", a.MachineID)
	b = append(b, `,"roles":[],"detailedRoles":["Referred in command line"],"tags":[],"fileDetails":`...)
	b = appendFileDetails(b, seed>>3, "payload-"+strconv.FormatUint(seed%977, 10)+".dll", `C:\Users\Public\AppData\Local\Temp`)
	b = append(b, '}')
	if a.RelatedUser != nil {
		sep()
		common("userEvidence", "suspicious")
		b = append(b, `,"roles":["compromised"],"detailedRoles":[],"tags":[],"userAccount":`...)
		b = appendUserAccount(b, a, seed)
		b = append(b, '}')
	}
	return b
}

var processCommandLines = []string{
	`powershell.exe -NoProfile -ExecutionPolicy Bypass -WindowStyle Hidden -EncodedCommand SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA`,
	`"C:\Windows\System32\rundll32.exe" C:\Users\Public\AppData\Local\Temp\payload.dll,DllRegisterServer`,
	`cmd.exe /c schtasks /create /tn "OneDrive Standalone Update" /tr "C:\ProgramData\update.exe" /sc onlogon /rl highest`,
	`"C:\Program Files\Windows Defender\MsMpEng.exe"`,
	`wmic.exe /node:10.1.4.22 process call create "cmd.exe /c whoami > C:\Windows\Temp\o.txt"`,
}

func appendFileDetails(b []byte, seed uint64, name, dir string) []byte {
	b = append(b, `{"sha1":"`...)
	b = appendHex(b, seed, 40)
	b = append(b, `","sha256":"`...)
	b = appendHex(b, seed^0x9e3779b97f4a7c15, 64)
	b = append(b, '"')
	b = appendStringField(b, "fileName", name)
	b = appendStringField(b, "filePath", dir)
	b = appendIntField(b, "fileSize", int64(40000+seed%9000000))
	b = appendStringField(b, "filePublisher", "Microsoft Corporation")
	b = appendStringField(b, "signer", "")
	b = appendStringField(b, "issuer", "")
	return append(b, '}')
}

// appendHex writes n hex digits drawn from v (a hash's worth of them).
func appendHex(b []byte, v uint64, n int) []byte {
	for i := range n {
		if i%16 == 0 {
			v = v*6364136223846793005 + 1442695040888963407 // a step of a 64-bit LCG
		}
		b = append(b, hexDigits[(v>>uint(60-4*(i%16)))&0xf])
	}
	return b
}

func appendUserAccount(b []byte, a *Alert, seed uint64) []byte {
	user, domain := "SYSTEM", "NT AUTHORITY"
	if a.RelatedUser != nil {
		user, domain = a.RelatedUser.UserName, a.RelatedUser.DomainName
	}
	b = append(b, `{"accountName":`...)
	b = appendString(b, user)
	b = appendStringField(b, "domainName", domain)
	b = appendStringField(b, "userSid", "S-1-5-21-1004336348-1177238915-682003330-"+strconv.FormatUint(1000+seed%9000, 10))
	b = appendStringField(b, "azureAdUserId", formatGUID(seed>>5, seed<<3))
	b = appendStringField(b, "userPrincipalName", user+"@contoso.com")
	b = appendStringField(b, "displayName", user)
	return append(b, '}')
}
