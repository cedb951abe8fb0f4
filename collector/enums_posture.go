package collector

// Known enum values of the posture APIs (Microsoft Learn, Defender for Endpoint API reference:
// https://learn.microsoft.com/defender-endpoint/api/exposed-apis-list), mapped to
// one spelling as in enums.go; unknown values pass through.
var (
	cveSeverity           = newEnum("Low", "Medium", "High", "Critical")
	recCategory           = newEnum("Accounts", "Application", "Network", "OS", "SecurityControls")
	recRemediationType    = newEnum("ConfigurationChange", "Update", "Upgrade", "Uninstall")
	recStatus             = newEnum("Active", "Exception")
	avScanResult          = newEnum("Completed", "Canceled", "Failed")
	machineActionType     = newEnum("RunAntiVirusScan", "Offboard", "LiveResponse", "CollectInvestigationPackage", "Isolate", "Unisolate", "StopAndQuarantineFile", "RestrictCodeExecution", "UnrestrictCodeExecution")
	machineActionStatus   = newEnum("Pending", "InProgress", "Succeeded", "Failed", "TimeOut", "Cancelled")
	incidentStatus        = newEnum("Active", "InProgress", "Resolved", "Redirected")
	incidentDetermination = newEnum(
		// The older generation (XDR incidents list page) ...
		"NotAvailable", "Apt", "Malware", "SecurityPersonnel", "SecurityTesting", "UnwantedSoftware", "Other",
		// ... and the current one, shared with alerts.
		"MultiStagedAttack", "MaliciousUserActivity", "CompromisedUser", "Phishing", "LineOfBusinessApplication",
		"ConfirmedUserActivity", "Clean", "InsufficientData")
	indicatorType      = newEnum("FileSha1", "FileSha256", "FileMd5", "CertificateThumbprint", "IpAddress", "DomainName", "Url")
	indicatorAction    = newEnum("Warn", "Block", "Audit", "Alert", "AlertAndBlock", "BlockAndRemediate", "Allowed")
	indicatorSeverity  = newEnum("Informational", "Low", "Medium", "High")
	investigationState = newEnum("Unknown", "Terminated", "SuccessfullyRemediated", "Benign", "Failed", "PartiallyRemediated",
		"Running", "PendingApproval", "PendingResource", "PartiallyInvestigated", "TerminatedByUser", "TerminatedBySystem",
		"Queued", "InnerFailure", "PreexistingAlert", "UnsupportedOs", "UnsupportedAlertType", "SuppressedAlert")
)
