package defendertest

import "strconv"

// IncidentAlert is an alert as embedded in an incident. The real answer
// nests devices and entities in each; the fake keeps a small version of
// that shape so that clients must skip nested data they do not use.
type IncidentAlert struct {
	AlertID         string `json:"alertId"`
	ServiceSource   string `json:"serviceSource"`
	DetectionSource string `json:"detectionSource"`
	Title           string `json:"title"`
	Category        string `json:"category"`
	Severity        string `json:"severity"`
	Status          string `json:"status"`
	CreationTime    Time   `json:"creationTime"`
	DeviceID        string `json:"-"` // written as devices[0].mdatpDeviceId
	DeviceDNSName   string `json:"-"`
}

// Incident is one entry of Defender XDR's GET /api/incidents
// (https://learn.microsoft.com/defender-xdr/api-list-incidents). Classification and determination come in both generations of the
// enums: Unknown/NotAvailable and Apt, SecurityPersonnel... on older
// answers, InformationalExpectedActivity and the new determinations on
// newer ones.
type Incident struct {
	IncidentID         int64           `json:"incidentId"`
	IncidentURI        string          `json:"incidentUri"`
	RedirectIncidentID int64           `json:"redirectIncidentId"` // 0 = null
	IncidentName       string          `json:"incidentName"`
	CreatedTime        Time            `json:"createdTime"`
	LastUpdateTime     Time            `json:"lastUpdateTime"`
	AssignedTo         string          `json:"assignedTo"`
	Classification     string          `json:"classification"`
	Determination      string          `json:"determination"`
	Status             string          `json:"status"` // Active, InProgress, Resolved, Redirected
	Severity           string          `json:"severity"`
	Tags               []string        `json:"tags"`
	Alerts             []IncidentAlert `json:"alerts"`
}

var incidentFields = newFilterFields("Incident",
	timeField("lastUpdateTime", func(x *Incident) Time { return x.LastUpdateTime }),
	timeField("createdTime", func(x *Incident) Time { return x.CreatedTime }),
	strField("status", func(x *Incident) string { return x.Status }),
	strField("assignedTo", func(x *Incident) string { return x.AssignedTo }),
)

// MarshalJSON writes the wire form.
func (x *Incident) MarshalJSON() ([]byte, error) { return x.appendJSON(nil), nil }

func (x *Incident) appendJSON(b []byte) []byte {
	b = append(b, `{"incidentId":`...)
	b = strconv.AppendInt(b, x.IncidentID, 10)
	b = appendStringField(b, "incidentUri", x.IncidentURI)
	b = appendNullableInt(b, "redirectIncidentId", x.RedirectIncidentID)
	b = appendStringField(b, "incidentName", x.IncidentName)
	b = appendTimeField(b, "createdTime", x.CreatedTime)
	b = appendTimeField(b, "lastUpdateTime", x.LastUpdateTime)
	b = appendStringField(b, "assignedTo", x.AssignedTo)
	b = appendStringField(b, "classification", x.Classification)
	b = appendStringField(b, "determination", x.Determination)
	b = appendStringField(b, "status", x.Status)
	b = appendStringField(b, "severity", x.Severity)
	b = append(b, `,"tags":`...)
	b = appendStrings(b, x.Tags)
	b = append(b, `,"comments":[],"alerts":[`...)
	for i := range x.Alerts {
		a := &x.Alerts[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"alertId":`...)
		b = appendString(b, a.AlertID)
		b = appendIntField(b, "incidentId", x.IncidentID)
		b = appendStringField(b, "serviceSource", a.ServiceSource)
		b = appendTimeField(b, "creationTime", a.CreationTime)
		b = appendStringField(b, "title", a.Title)
		b = appendStringField(b, "category", a.Category)
		// status and severity again, one level down: a decoder that does
		// not skip nested objects properly picks these up.
		b = appendStringField(b, "status", a.Status)
		b = appendStringField(b, "severity", a.Severity)
		b = appendStringField(b, "detectionSource", a.DetectionSource)
		b = append(b, `,"devices":[{"mdatpDeviceId":`...)
		b = appendString(b, a.DeviceID)
		b = appendStringField(b, "deviceDnsName", a.DeviceDNSName)
		b = append(b, `,"tags":[],"loggedOnUsers":[]}],"entities":[{"entityType":"Process","processId":4242,"processCommandLine":"powershell.exe -nop -w hidden","evidenceCreationTime":`...)
		b = a.CreationTime.appendJSON(b)
		b = append(b, `}]}`...)
	}
	return append(b, "]}"...)
}
