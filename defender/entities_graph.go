package defender

// Entities of Microsoft Graph's security API (v1.0). As in entities.go, only
// the fields the collectors use are kept: an alert's evidence, comments and
// descriptions (kilobytes per alert) are skipped by the decoder unread.
// Enum fields are strings, because Graph's enums are evolvable: a member
// added after the exporter was built must come through as it is sent.

// GraphAlert is one entry of GET /v1.0/security/alerts_v2
// (https://learn.microsoft.com/graph/api/resources/security-alert).
type GraphAlert struct {
	ID              string `json:"id"`
	Severity        string `json:"severity"`
	Status          string `json:"status"`
	Category        string `json:"category"`
	DetectionSource string `json:"detectionSource"`
	ServiceSource   string `json:"serviceSource"`
	Classification  string `json:"classification"`
	Determination   string `json:"determination"`
	CreatedDateTime Time   `json:"createdDateTime"`
}

// GraphIncident is one entry of GET /v1.0/security/incidents
// (https://learn.microsoft.com/graph/api/resources/security-incident).
type GraphIncident struct {
	Severity        string `json:"severity"`
	Status          string `json:"status"`
	Classification  string `json:"classification"`
	Determination   string `json:"determination"`
	CreatedDateTime Time   `json:"createdDateTime"`
}
