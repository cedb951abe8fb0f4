package defendertest

import "strings"

// The Graph view of the dataset: the same alerts and incidents the MDE and
// XDR APIs serve, in Graph's camelCase enums
// (https://learn.microsoft.com/graph/api/resources/security-alert,
// .../security-incident), so that the two back ends of a collector agree
// on what they count and differ only where the APIs' vocabularies do.

// lowerFirst is Graph's spelling of a Defender enum value whose words are
// the same: InProgress -> inProgress.
func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// graphSeverity: Defender's UnSpecified is Graph's unknown.
func graphSeverity(s string) string {
	if s == "UnSpecified" {
		return "unknown"
	}
	return lowerFirst(s)
}

// graphClassification: an alert or incident not classified yet is
// "unknown" on Graph, null on Defender's APIs.
func graphClassification(s string) string {
	if s == "" {
		return "unknown"
	}
	return lowerFirst(s)
}

// graphDeterminations are the determinations Graph names differently
// (alertDetermination in the SDKs generated from Graph's metadata);
// NotAvailable, the older XDR spelling of "not set", is unknown.
var graphDeterminations = map[string]string{
	"":                      "unknown",
	"NotAvailable":          "unknown",
	"CompromisedUser":       "compromisedAccount",
	"Clean":                 "notMalicious",
	"InsufficientData":      "notEnoughDataToValidate",
	"ConfirmedUserActivity": "confirmedActivity",
}

func graphDetermination(s string) string {
	if g, ok := graphDeterminations[s]; ok {
		return g
	}
	return lowerFirst(s)
}

// graphDetectionSources maps Defender's detectionSource API values to
// Graph's detectionSource members. Graph has no member for third-party
// sensors; the fake uses those alerts as its Defender for Cloud
// (servers) alerts, whose members came after unknownFutureValue.
var graphDetectionSources = map[string]string{
	"WindowsDefenderAv":          "antivirus",
	"WindowsDefenderAtp":         "microsoftDefenderForEndpoint",
	"WindowsDefenderSmartScreen": "smartScreen",
	"CustomerTI":                 "customTi",
	"CustomDetection":            "customDetection",
	"AutomatedInvestigation":     "automatedInvestigation",
	"ThreatExperts":              "microsoftThreatExperts",
	"OfficeATP":                  "microsoftDefenderForOffice365",
	"MTP":                        "microsoft365Defender",
	"ThirdPartySensors":          "microsoftDefenderForServers",
}

func graphDetectionSource(s string) string {
	if g, ok := graphDetectionSources[s]; ok {
		return g
	}
	return lowerFirst(s)
}

// graphServiceSource is the product an alert comes from, which Defender's
// /api/alerts does not say; it follows from the detection source.
func graphServiceSource(detectionSource string) string {
	switch detectionSource {
	case "OfficeATP":
		return "microsoftDefenderForOffice365"
	case "MTP":
		return "microsoft365Defender"
	case "ThirdPartySensors":
		return "microsoftDefenderForCloud"
	}
	return "microsoftDefenderForEndpoint"
}

// graphAlertStatus: the same words, camelCase.
func graphAlertStatus(s string) string { return lowerFirst(s) }

// graphIncidentStatus: XDR's API predates the awaitingAction status; the
// fake shows every fifth active incident (by id) as awaiting action on
// Graph and as Active on XDR.
func graphIncidentStatus(x *Incident) string {
	if x.Status == "Active" && x.IncidentID%5 == 0 {
		return "awaitingAction"
	}
	return lowerFirst(x.Status)
}

// The members that evolvable enums gained after unknownFutureValue, which
// Graph sends by name only with "Prefer: include-unknown-enum-members".
var (
	lateServiceSources   = map[string]bool{"microsoftDefenderForCloud": true}
	lateDetectionSources = map[string]bool{
		"microsoftDefenderForCloud": true, "microsoftDefenderForIoT": true, "microsoftDefenderForServers": true,
		"microsoftDefenderForStorage": true, "microsoftDefenderForDNS": true, "microsoftDefenderForDatabases": true,
		"microsoftDefenderForContainers": true, "microsoftDefenderForNetwork": true, "microsoftDefenderForAppService": true,
		"microsoftDefenderForKeyVault": true, "microsoftDefenderForResourceManager": true, "microsoftDefenderForApiManagement": true,
		"nrtAlerts": true, "scheduledAlerts": true, "microsoftDefenderThreatIntelligenceAnalytics": true,
		"builtInMl": true, "microsoftSentinel": true,
	}
	lateIncidentStatuses = map[string]bool{"awaitingAction": true}
)
