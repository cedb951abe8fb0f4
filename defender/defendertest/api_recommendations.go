package defendertest

// Recommendation is one entry of GET /api/recommendations (https://learn.microsoft.com/defender-endpoint/api/recommendation).
type Recommendation struct {
	ID                            string   `json:"id"` // "scid-2010" or "va-_-google-_-chrome"
	ProductName                   string   `json:"productName"`
	RecommendationName            string   `json:"recommendationName"`
	Weaknesses                    int64    `json:"weaknesses"`
	Vendor                        string   `json:"vendor"`
	RecommendedVersion            string   `json:"recommendedVersion"`
	RecommendedProgram            string   `json:"recommendedProgram"`
	RecommendedVendor             string   `json:"recommendedVendor"`
	RecommendationCategory        string   `json:"recommendationCategory"` // Accounts, Application, Network, OS, SecurityControls
	SubCategory                   string   `json:"subCategory"`
	SeverityScore                 float64  `json:"severityScore"`
	PublicExploit                 bool     `json:"publicExploit"`
	ActiveAlert                   bool     `json:"activeAlert"`
	AssociatedThreats             []string `json:"associatedThreats"`
	RemediationType               string   `json:"remediationType"` // ConfigurationChange, Update, Upgrade, Uninstall
	Status                        string   `json:"status"`          // Active, Exception
	ConfigScoreImpact             float64  `json:"configScoreImpact"`
	ExposureImpact                float64  `json:"exposureImpact"`
	TotalMachineCount             int64    `json:"totalMachineCount"`
	ExposedMachinesCount          int64    `json:"exposedMachinesCount"`
	NonProductivityImpactedAssets int64    `json:"nonProductivityImpactedAssets"`
	RelatedComponent              string   `json:"relatedComponent"`
	ExposedCriticalDevices        int64    `json:"exposedCriticalDevices"`
}

var recommendationFields = newFilterFields("Recommendation",
	strField("id", func(x *Recommendation) string { return x.ID }),
	strField("productName", func(x *Recommendation) string { return x.ProductName }),
	strField("vendor", func(x *Recommendation) string { return x.Vendor }),
	strField("recommendedVersion", func(x *Recommendation) string { return x.RecommendedVersion }),
	strField("recommendationCategory", func(x *Recommendation) string { return x.RecommendationCategory }),
	strField("subCategory", func(x *Recommendation) string { return x.SubCategory }),
	floatField("severityScore", func(x *Recommendation) (float64, bool) { return x.SeverityScore, true }),
	strField("remediationType", func(x *Recommendation) string { return x.RemediationType }),
	strField("recommendedProgram", func(x *Recommendation) string { return x.RecommendedProgram }),
	strField("recommendedVendor", func(x *Recommendation) string { return x.RecommendedVendor }),
	strField("status", func(x *Recommendation) string { return x.Status }),
)

// MarshalJSON writes the wire form.
func (x *Recommendation) MarshalJSON() ([]byte, error) { return x.appendJSON(nil), nil }

func (x *Recommendation) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, x.ID)
	b = appendStringField(b, "productName", x.ProductName)
	b = appendStringField(b, "recommendationName", x.RecommendationName)
	b = appendIntField(b, "weaknesses", x.Weaknesses)
	b = appendStringField(b, "vendor", x.Vendor)
	b = appendStringField(b, "recommendedVersion", x.RecommendedVersion)
	b = appendStringField(b, "recommendedProgram", x.RecommendedProgram)
	b = appendStringField(b, "recommendedVendor", x.RecommendedVendor)
	b = appendStringField(b, "recommendationCategory", x.RecommendationCategory)
	b = appendStringField(b, "subCategory", x.SubCategory)
	b = appendFloatField(b, "severityScore", x.SeverityScore)
	b = appendBoolField(b, "publicExploit", x.PublicExploit)
	b = appendBoolField(b, "activeAlert", x.ActiveAlert)
	b = append(b, `,"associatedThreats":`...)
	b = appendStrings(b, x.AssociatedThreats)
	b = appendStringField(b, "remediationType", x.RemediationType)
	b = appendStringField(b, "status", x.Status)
	b = appendFloatField(b, "configScoreImpact", x.ConfigScoreImpact)
	b = appendFloatField(b, "exposureImpact", x.ExposureImpact)
	b = appendIntField(b, "totalMachineCount", x.TotalMachineCount)
	b = appendIntField(b, "exposedMachinesCount", x.ExposedMachinesCount)
	b = appendIntField(b, "nonProductivityImpactedAssets", x.NonProductivityImpactedAssets)
	b = appendStringField(b, "relatedComponent", x.RelatedComponent)
	b = appendIntField(b, "exposedCriticalDevices", x.ExposedCriticalDevices)
	return append(b, '}')
}
