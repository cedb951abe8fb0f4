package defender

// Entities of Microsoft Graph's security API that have no MDE or XDR
// counterpart: Microsoft Secure Score and Defender for Identity health. As in
// entities.go, only the fields the collectors use are kept; Graph's enums are
// kept as sent (camelCase, evolvable) and normalised by the collectors.

// SecureScore is one daily snapshot of GET /v1.0/security/secureScores
// (https://learn.microsoft.com/graph/api/resources/securescore). The list
// holds up to 90 of them, newest first.
type SecureScore struct {
	CreatedDateTime          Time                      `json:"createdDateTime"`
	CurrentScore             Number                    `json:"currentScore"`
	MaxScore                 Number                    `json:"maxScore"`
	ControlScores            []ControlScore            `json:"controlScores"`
	AverageComparativeScores []AverageComparativeScore `json:"averageComparativeScores"`
}

// ControlScore is a snapshot's score for one control
// (https://learn.microsoft.com/graph/api/resources/controlscore).
type ControlScore struct {
	ControlCategory string `json:"controlCategory"`
	ControlName     string `json:"controlName"`
	Score           Number `json:"score"`
}

// AverageComparativeScore is the average score of a group of tenants
// (basis AllTenants, TotalSeats, IndustryTypes, ...), for comparison
// (https://learn.microsoft.com/graph/api/resources/averagecomparativescore).
type AverageComparativeScore struct {
	Basis        string `json:"basis"`
	AverageScore Number `json:"averageScore"`
}

// IdentityHealthIssue is one entry of GET
// /v1.0/security/identities/healthIssues, a Defender for Identity health
// issue (https://learn.microsoft.com/graph/api/resources/security-healthissue).
type IdentityHealthIssue struct {
	HealthIssueType string `json:"healthIssueType"` // sensor, global
	Severity        string `json:"severity"`        // low, medium, high
	Status          string `json:"status"`          // open, closed, suppressed
}

// IdentitySensor is one entry of GET /v1.0/security/identities/sensors, a
// Defender for Identity sensor
// (https://learn.microsoft.com/graph/api/resources/security-sensor).
type IdentitySensor struct {
	HealthStatus     string `json:"healthStatus"`     // healthy, notHealthyLow, ...
	DeploymentStatus string `json:"deploymentStatus"` // upToDate, outdated, ...
	SensorType       string `json:"sensorType"`       // domainControllerIntegrated, ...
}
