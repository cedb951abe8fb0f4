package defendertest

// Indicator is one entry of GET /api/indicators (https://learn.microsoft.com/defender-endpoint/api/ti-indicator), a custom
// indicator of compromise. Alert and AlertAndBlock are legacy actions that
// only old indicators carry.
type Indicator struct {
	ID                      string   `json:"id"`
	IndicatorValue          string   `json:"indicatorValue"`
	IndicatorType           string   `json:"indicatorType"`
	Action                  string   `json:"action"`
	Application             string   `json:"application"`
	Source                  string   `json:"source"`
	SourceType              string   `json:"sourceType"` // User, AadApp
	CreatedBy               string   `json:"createdBy"`
	CreatedByDisplayName    string   `json:"createdByDisplayName"`
	CreatedBySource         string   `json:"createdBySource"`
	LastUpdatedBy           string   `json:"lastUpdatedBy"`
	CreationTimeDateTimeUTC Time     `json:"creationTimeDateTimeUtc"`
	ExpirationTime          Time     `json:"expirationTime"` // null = never
	LastUpdateTime          Time     `json:"lastUpdateTime"`
	Severity                string   `json:"severity"`
	Title                   string   `json:"title"`
	Description             string   `json:"description"`
	RecommendedActions      string   `json:"recommendedActions"`
	RBACGroupNames          []string `json:"rbacGroupNames"`
	RBACGroupIDs            []int64  `json:"rbacGroupIds"`
	GenerateAlert           bool     `json:"generateAlert"`
	ExternalID              string   `json:"externalID"`
}

// The filterable properties (rbacGroupIds, a number collection, is left
// out: the fake's $filter has no any()).
var indicatorFields = newFilterFields("Indicator",
	strField("application", func(x *Indicator) string { return x.Application }),
	strField("createdByDisplayName", func(x *Indicator) string { return x.CreatedByDisplayName }),
	timeField("expirationTime", func(x *Indicator) Time { return x.ExpirationTime }),
	boolField("generateAlert", func(x *Indicator) bool { return x.GenerateAlert }),
	strField("title", func(x *Indicator) string { return x.Title }),
	stringsField("rbacGroupNames", func(x *Indicator) []string { return x.RBACGroupNames }),
	strField("indicatorValue", func(x *Indicator) string { return x.IndicatorValue }),
	strField("indicatorType", func(x *Indicator) string { return x.IndicatorType }),
	timeField("creationTimeDateTimeUtc", func(x *Indicator) Time { return x.CreationTimeDateTimeUTC }),
	strField("createdBy", func(x *Indicator) string { return x.CreatedBy }),
	strField("action", func(x *Indicator) string { return x.Action }),
	strField("severity", func(x *Indicator) string { return x.Severity }),
)

// MarshalJSON writes the wire form.
func (x *Indicator) MarshalJSON() ([]byte, error) { return x.appendJSON(nil), nil }

func (x *Indicator) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, x.ID)
	b = appendStringField(b, "indicatorValue", x.IndicatorValue)
	b = appendStringField(b, "indicatorType", x.IndicatorType)
	b = appendStringField(b, "action", x.Action)
	b = appendStringField(b, "application", x.Application)
	b = appendStringField(b, "source", x.Source)
	b = appendStringField(b, "sourceType", x.SourceType)
	b = appendStringField(b, "createdBy", x.CreatedBy)
	b = appendStringField(b, "createdByDisplayName", x.CreatedByDisplayName)
	b = appendStringField(b, "createdBySource", x.CreatedBySource)
	b = appendStringField(b, "lastUpdatedBy", x.LastUpdatedBy)
	b = appendTimeField(b, "creationTimeDateTimeUtc", x.CreationTimeDateTimeUTC)
	b = appendTimeField(b, "expirationTime", x.ExpirationTime)
	b = appendTimeField(b, "lastUpdateTime", x.LastUpdateTime)
	b = appendStringField(b, "severity", x.Severity)
	b = appendStringField(b, "title", x.Title)
	b = appendStringField(b, "description", x.Description)
	b = appendStringField(b, "recommendedActions", x.RecommendedActions)
	b = append(b, `,"rbacGroupNames":`...)
	b = appendStrings(b, x.RBACGroupNames)
	b = append(b, `,"rbacGroupIds":`...)
	b = appendInts(b, x.RBACGroupIDs)
	b = appendBoolField(b, "generateAlert", x.GenerateAlert)
	b = appendStringField(b, "externalID", x.ExternalID)
	b = append(b, `,"mitreTechniques":[],"category":null}`...)
	return b
}
