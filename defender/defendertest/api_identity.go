package defendertest

import "net/http"

// Microsoft Graph's Defender for Identity lists: audience graph, each with
// its own read permission.
const (
	// IdentityHealthIssuesPath needs SecurityIdentitiesHealth.Read.All
	// (https://learn.microsoft.com/graph/api/security-identitycontainer-list-healthissues).
	IdentityHealthIssuesPath = "/v1.0/security/identities/healthIssues"
	// IdentitySensorsPath needs SecurityIdentitiesSensors.Read.All
	// (https://learn.microsoft.com/graph/api/security-identitycontainer-list-sensors).
	IdentitySensorsPath = "/v1.0/security/identities/sensors"
)

// HealthIssue is one entry of GET /v1.0/security/identities/healthIssues
// (https://learn.microsoft.com/graph/api/resources/security-healthissue).
// The enums are Graph's camelCase: healthIssueType sensor|global, severity
// low|medium|high, status open|closed|suppressed.
type HealthIssue struct {
	ID                        string   `json:"id"`
	DisplayName               string   `json:"displayName"`
	Description               string   `json:"description"`
	IssueTypeID               string   `json:"issueTypeId"`
	HealthIssueType           string   `json:"healthIssueType"`
	Severity                  string   `json:"severity"`
	Status                    string   `json:"status"`
	CreatedDateTime           Time     `json:"createdDateTime"`
	LastModifiedDateTime      Time     `json:"lastModifiedDateTime"`
	DomainNames               []string `json:"domainNames"`
	SensorDNSNames            []string `json:"sensorDNSNames"`
	AdditionalInformation     []string `json:"additionalInformation"`
	Recommendations           []string `json:"recommendations"`
	RecommendedActionCommands []string `json:"recommendedActionCommands"`
}

// Sensor is one entry of GET /v1.0/security/identities/sensors
// (https://learn.microsoft.com/graph/api/resources/security-sensor). Its
// healthStatus follows the most severe open health issue naming it, and
// openHealthIssuesCount counts those.
type Sensor struct {
	ID                    string `json:"id"`
	DisplayName           string `json:"displayName"`
	SensorType            string `json:"sensorType"`
	Version               string `json:"version"`
	DeploymentStatus      string `json:"deploymentStatus"`
	CreatedDateTime       Time   `json:"createdDateTime"`
	DomainName            string `json:"domainName"`
	HealthStatus          string `json:"healthStatus"`
	OpenHealthIssuesCount int64  `json:"openHealthIssuesCount"`
	DNSName               string `json:"-"` // written in settings.domainControllerDnsNames
}

var healthIssueFields = newFilterFields("HealthIssue",
	strField("id", func(h *HealthIssue) string { return h.ID }),
	strField("status", func(h *HealthIssue) string { return h.Status }),
	strField("severity", func(h *HealthIssue) string { return h.Severity }),
	strField("healthIssueType", func(h *HealthIssue) string { return h.HealthIssueType }),
	strField("issueTypeId", func(h *HealthIssue) string { return h.IssueTypeID }),
	timeField("createdDateTime", func(h *HealthIssue) Time { return h.CreatedDateTime }),
	timeField("lastModifiedDateTime", func(h *HealthIssue) Time { return h.LastModifiedDateTime }),
	stringsField("domainNames", func(h *HealthIssue) []string { return h.DomainNames }),
	stringsField("sensorDNSNames", func(h *HealthIssue) []string { return h.SensorDNSNames }),
)

var sensorFields = newFilterFields("Sensor",
	strField("id", func(s *Sensor) string { return s.ID }),
	strField("displayName", func(s *Sensor) string { return s.DisplayName }),
	strField("sensorType", func(s *Sensor) string { return s.SensorType }),
	strField("deploymentStatus", func(s *Sensor) string { return s.DeploymentStatus }),
	strField("healthStatus", func(s *Sensor) string { return s.HealthStatus }),
	strField("domainName", func(s *Sensor) string { return s.DomainName }),
)

// identityAPIs serve the two lists with $top, $skip and $filter, and a
// nextLink whenever more remain, $top or not, as Graph does. Graph
// documents no largest $top for them; the fake's 100 is also the page a
// request without $top gets (Options.DefaultPageSize makes it smaller).
func identityAPIs() []*apiEntry {
	return []*apiEntry{
		listAPI(apiSpec{
			path: IdentityHealthIssuesPath, method: http.MethodGet, audience: audGraph, family: "graph",
			roles:       []string{"SecurityIdentitiesHealth.Read.All", "SecurityIdentitiesHealth.ReadWrite.All"},
			maxPageSize: 100, contextName: "security/identities/healthIssues", nextLinkWithTop: true,
		}, healthIssueFields, func(d *Dataset) []HealthIssue { return d.IdentityHealthIssues }, (*HealthIssue).appendJSON),
		listAPI(apiSpec{
			path: IdentitySensorsPath, method: http.MethodGet, audience: audGraph, family: "graph",
			roles:       []string{"SecurityIdentitiesSensors.Read.All", "SecurityIdentitiesSensors.ReadWrite.All"},
			maxPageSize: 100, contextName: "security/identities/sensors", nextLinkWithTop: true,
		}, sensorFields, func(d *Dataset) []Sensor { return d.IdentitySensors }, (*Sensor).appendJSON),
	}
}

// MarshalJSON writes the wire form.
func (h *HealthIssue) MarshalJSON() ([]byte, error) { return h.appendJSON(nil), nil }

func (h *HealthIssue) appendJSON(b []byte) []byte {
	b = append(b, `{"@odata.type":"#microsoft.graph.security.healthIssue","id":`...)
	b = appendString(b, h.ID)
	b = appendStringField(b, "displayName", h.DisplayName)
	b = appendStringField(b, "description", h.Description)
	b = appendStringField(b, "issueTypeId", h.IssueTypeID)
	b = appendStringField(b, "healthIssueType", h.HealthIssueType)
	b = appendStringField(b, "severity", h.Severity)
	b = appendStringField(b, "status", h.Status)
	b = appendTimeField(b, "createdDateTime", h.CreatedDateTime)
	b = appendTimeField(b, "lastModifiedDateTime", h.LastModifiedDateTime)
	for _, list := range []struct {
		name  string
		items []string
	}{
		{"domainNames", h.DomainNames}, {"sensorDNSNames", h.SensorDNSNames},
		{"additionalInformation", h.AdditionalInformation}, {"recommendations", h.Recommendations},
		{"recommendedActionCommands", h.RecommendedActionCommands},
	} {
		b = appendStrings(appendKey(b, list.name), list.items)
	}
	return append(b, '}')
}

// MarshalJSON writes the wire form.
func (s *Sensor) MarshalJSON() ([]byte, error) { return s.appendJSON(nil), nil }

func (s *Sensor) appendJSON(b []byte) []byte {
	b = append(b, `{"@odata.type":"#microsoft.graph.security.sensor","id":`...)
	b = appendString(b, s.ID)
	b = appendStringField(b, "displayName", s.DisplayName)
	b = appendStringField(b, "sensorType", s.SensorType)
	b = appendStringField(b, "version", s.Version)
	b = appendStringField(b, "deploymentStatus", s.DeploymentStatus)
	b = appendTimeField(b, "createdDateTime", s.CreatedDateTime)
	b = appendStringField(b, "domainName", s.DomainName)
	b = appendStringField(b, "healthStatus", s.HealthStatus)
	b = appendIntField(b, "openHealthIssuesCount", s.OpenHealthIssuesCount)
	// settings is a nested object, with a description of its own, that
	// a client must skip.
	b = append(b, `,"settings":{"@odata.type":"microsoft.graph.security.sensorSettings","description":null,"domainControllerDnsNames":`...)
	b = appendStrings(b, []string{s.DNSName})
	return append(b, `,"isDelayedDeploymentEnabled":true}}`...)
}
