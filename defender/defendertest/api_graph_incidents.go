package defendertest

import (
	"net/http"
	"strconv"
)

// GraphIncidentsPath is Microsoft Graph's incident list
// (https://learn.microsoft.com/graph/api/security-list-incidents), served
// from the same incidents as XDR's /api/incidents.
const GraphIncidentsPath = "/v1.0/security/incidents"

// graphIncidentsMaxPage is the largest $top Graph takes on incidents. The
// page documents none; users quote Graph refusing more than 50 ("The limit
// of '50' for Top query has been exceeded", wazuh/wazuh#28070), and its
// nextLinks without $top move on by 50.
const graphIncidentsMaxPage = 50

// graphIncidentFields are the properties the incidents list documents for
// $filter, with their Graph values.
var graphIncidentFields = newFilterFields("microsoft.graph.security.incident",
	strField("assignedTo", func(x *Incident) string { return x.AssignedTo }),
	strField("classification", func(x *Incident) string { return graphClassification(x.Classification) }),
	timeField("createdDateTime", func(x *Incident) Time { return x.CreatedTime }),
	strField("determination", func(x *Incident) string { return graphDetermination(x.Determination) }),
	timeField("lastUpdateDateTime", func(x *Incident) Time { return x.LastUpdateTime }),
	strField("severity", func(x *Incident) string { return graphSeverity(x.Severity) }),
	strField("status", graphIncidentStatus),
)

func graphIncidentsAPI() *apiEntry {
	return graphList[Incident]{
		spec: apiSpec{
			path: GraphIncidentsPath, method: http.MethodGet, audience: audGraph, family: "graph",
			roles: []string{"SecurityIncident.Read.All", "SecurityIncident.ReadWrite.All"}, maxPageSize: graphIncidentsMaxPage,
			contextName: "security/incidents",
		},
		fields: graphIncidentFields,
		count:  func(d *Dataset) int { return len(d.Incidents) },
		// Incidents are newest first in the dataset.
		oldest: func(d *Dataset, j int) *Incident { return &d.Incidents[len(d.Incidents)-1-j] },
		enc:    appendGraphIncident,
	}.entry()
}

// appendGraphIncident writes x as Graph's incident list does (without
// $expand=alerts).
func appendGraphIncident(x *Incident, b []byte, v *graphView) []byte {
	id := strconv.FormatInt(x.IncidentID, 10)
	b = append(b, `{"@odata.type":"#microsoft.graph.security.incident","id":`...)
	b = appendString(b, id)
	b = appendStringField(b, "incidentWebUrl", x.IncidentURI)
	if x.RedirectIncidentID != 0 {
		b = appendStringField(b, "redirectIncidentId", strconv.FormatInt(x.RedirectIncidentID, 10))
	} else {
		b = appendStringField(b, "redirectIncidentId", "")
	}
	tenant := ""
	if i := len(incidentURLPrefix) + len(id) + len("?tid="); len(x.IncidentURI) > i {
		tenant = x.IncidentURI[i:]
	}
	b = appendStringField(b, "tenantId", tenant)
	b = appendStringField(b, "displayName", x.IncidentName)
	b = appendTimeField(b, "createdDateTime", x.CreatedTime)
	b = appendTimeField(b, "lastUpdateDateTime", x.LastUpdateTime)
	b = appendStringField(b, "assignedTo", x.AssignedTo)
	b = appendStringField(b, "classification", graphClassification(x.Classification))
	b = appendStringField(b, "determination", graphDetermination(x.Determination))
	b = appendStringField(b, "status", v.late(graphIncidentStatus(x), lateIncidentStatuses))
	b = appendStringField(b, "severity", graphSeverity(x.Severity))
	b = append(b, `,"customTags":`...)
	b = appendStrings(b, x.Tags)
	b = append(b, `,"systemTags":[],"description":null,"summary":null,"comments":[],"resolvingComment":null}`...)
	return b
}
