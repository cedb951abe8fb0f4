package defendertest

import "net/http"

// SecureScoresPath is Microsoft Graph's list of Microsoft Secure Score
// snapshots (https://learn.microsoft.com/graph/api/security-list-securescores):
// audience graph, SecurityEvents.Read.All.
const SecureScoresPath = "/v1.0/security/secureScores"

// SecureScore is one daily snapshot of GET /v1.0/security/secureScores
// (https://learn.microsoft.com/graph/api/resources/securescore). Graph keeps
// 90 of them and lists them newest first, so $top=1 is today's. The fake
// keeps its snapshots consistent (currentScore is the sum of the control
// scores, maxScore the sum of the controls' maxima); Microsoft's own example
// is not, which the exporter's tests cover with that example.
type SecureScore struct {
	ID                       string                    `json:"id"` // <tenant id>_<yyyy-mm-dd>
	AzureTenantID            string                    `json:"azureTenantId"`
	ActiveUserCount          int64                     `json:"activeUserCount"`
	CreatedDateTime          Time                      `json:"createdDateTime"`
	CurrentScore             float64                   `json:"currentScore"`
	EnabledServices          []string                  `json:"enabledServices"`
	LicensedUserCount        int64                     `json:"licensedUserCount"`
	MaxScore                 float64                   `json:"maxScore"`
	AverageComparativeScores []AverageComparativeScore `json:"averageComparativeScores"`
	ControlScores            []ControlScore            `json:"controlScores"`
}

// ControlScore is a snapshot's score for one improvement action. Max and
// Base are the fake's own: the points the control can give (the sum is
// maxScore) and the level drift wiggles around; Graph sends neither.
type ControlScore struct {
	ControlCategory      string  `json:"controlCategory"` // Identity, Data, Device, Apps, Infrastructure
	ControlName          string  `json:"controlName"`
	Description          string  `json:"description"`
	Score                float64 `json:"score"`
	ImplementationStatus string  `json:"implementationStatus"`
	LastSynced           Time    `json:"lastSynced"`
	Max                  float64 `json:"-"`
	Base                 float64 `json:"-"`
}

// AverageComparativeScore is the average of a group of tenants: all of
// them, those of similar seat count, those of the same industry.
type AverageComparativeScore struct {
	Basis               string  `json:"basis"` // AllTenants, TotalSeats, IndustryTypes
	AverageScore        float64 `json:"averageScore"`
	IdentityScore       float64 `json:"identityScore"`
	DataScore           float64 `json:"dataScore"`
	DeviceScore         float64 `json:"deviceScore"`
	AppsScore           float64 `json:"appsScore"`
	InfrastructureScore float64 `json:"infrastructureScore"`
	// SeatSizeRange is set on the TotalSeats basis only, as "100"/"500".
	SeatSizeRangeLower string `json:"seatSizeRangeLowerValue,omitempty"`
	SeatSizeRangeUpper string `json:"seatSizeRangeUpperValue,omitempty"`
}

var secureScoreFields = newFilterFields("SecureScore",
	strField("id", func(s *SecureScore) string { return s.ID }),
	strField("azureTenantId", func(s *SecureScore) string { return s.AzureTenantID }),
	timeField("createdDateTime", func(s *SecureScore) Time { return s.CreatedDateTime }),
)

// secureScoreAPI serves the snapshots, newest first, with $top, $skip and
// $filter. Graph documents no largest $top here; the fake's 100 holds
// every snapshot Graph keeps. Like every Graph list, it sends a nextLink
// also when $top was given and more remain.
func secureScoreAPI() *apiEntry {
	return listAPI(apiSpec{
		path: SecureScoresPath, method: http.MethodGet, audience: audGraph, family: "graph",
		roles:       []string{"SecurityEvents.Read.All", "SecurityEvents.ReadWrite.All"},
		maxPageSize: 100, contextName: "security/secureScores", nextLinkWithTop: true,
	}, secureScoreFields, func(d *Dataset) []SecureScore { return d.SecureScores }, (*SecureScore).appendJSON)
}

// MarshalJSON writes the wire form.
func (s *SecureScore) MarshalJSON() ([]byte, error) { return s.appendJSON(nil), nil }

func (s *SecureScore) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, s.ID)
	b = appendStringField(b, "azureTenantId", s.AzureTenantID)
	b = appendIntField(b, "activeUserCount", s.ActiveUserCount)
	b = appendTimeField(b, "createdDateTime", s.CreatedDateTime)
	b = appendFloatField(b, "currentScore", s.CurrentScore)
	b = append(b, `,"enabledServices":`...)
	b = appendStrings(b, s.EnabledServices)
	b = appendIntField(b, "licensedUserCount", s.LicensedUserCount)
	b = appendFloatField(b, "maxScore", s.MaxScore)
	b = append(b, `,"averageComparativeScores":[`...)
	for i := range s.AverageComparativeScores {
		if i > 0 {
			b = append(b, ',')
		}
		b = s.AverageComparativeScores[i].appendJSON(b)
	}
	b = append(b, `],"controlScores":[`...)
	for i := range s.ControlScores {
		if i > 0 {
			b = append(b, ',')
		}
		b = s.ControlScores[i].appendJSON(b)
	}
	return append(b, `],"vendorInformation":{"provider":"SecureScore","providerVersion":null,"subProvider":null,"vendor":"Microsoft"}}`...)
}

func (a *AverageComparativeScore) appendJSON(b []byte) []byte {
	b = append(b, `{"basis":`...)
	b = appendString(b, a.Basis)
	b = appendFloatField(b, "averageScore", a.AverageScore)
	b = appendFloatField(b, "identityScore", a.IdentityScore)
	b = appendFloatField(b, "dataScore", a.DataScore)
	b = appendFloatField(b, "deviceScore", a.DeviceScore)
	b = appendFloatField(b, "appsScore", a.AppsScore)
	b = appendFloatField(b, "infrastructureScore", a.InfrastructureScore)
	if a.SeatSizeRangeLower != "" {
		b = appendStringField(b, "seatSizeRangeLowerValue", a.SeatSizeRangeLower)
		b = appendStringField(b, "seatSizeRangeUpperValue", a.SeatSizeRangeUpper)
	}
	return append(b, '}')
}

func (c *ControlScore) appendJSON(b []byte) []byte {
	b = append(b, `{"controlCategory":`...)
	b = appendString(b, c.ControlCategory)
	b = appendStringField(b, "controlName", c.ControlName)
	b = appendStringField(b, "description", c.Description)
	b = appendFloatField(b, "score", c.Score)
	pct := 0.0
	if c.Max > 0 {
		pct = round(100*c.Score/c.Max, 2)
	}
	b = appendFloatField(b, "scoreInPercentage", pct)
	b = appendStringField(b, "implementationStatus", c.ImplementationStatus)
	b = appendTimeField(b, "lastSynced", c.LastSynced)
	return append(b, '}')
}
