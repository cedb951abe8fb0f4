package defendertest

// FileInfo is a machine action's relatedFileInfo.
type FileInfo struct {
	FileIdentifier     string `json:"fileIdentifier"`
	FileIdentifierType string `json:"fileIdentifierType"` // Sha1, Sha256, Md5
}

// MachineAction is one entry of GET /api/machineactions (https://learn.microsoft.com/defender-endpoint/api/machineaction).
// The list examples spell the update time lastUpdateTimeUtc, the resource
// page lastUpdateDateTimeUtc; the fake writes the first spelling on the
// rows with LegacyUpdateKey, the second on the others.
type MachineAction struct {
	ID                      string    `json:"id"`
	Type                    string    `json:"type"`
	Title                   string    `json:"title"`
	Requestor               string    `json:"requestor"`
	RequestorComment        string    `json:"requestorComment"`
	Status                  string    `json:"status"`
	MachineID               string    `json:"machineId"`
	ComputerDNSName         string    `json:"computerDnsName"`
	CreationDateTimeUTC     Time      `json:"creationDateTimeUtc"`
	LastUpdateDateTimeUTC   Time      `json:"lastUpdateDateTimeUtc"` // null while Pending
	LegacyUpdateKey         bool      `json:"-"`
	CancellationRequestor   string    `json:"cancellationRequestor"`
	CancellationComment     string    `json:"cancellationComment"`
	CancellationDateTimeUTC Time      `json:"cancellationDateTimeUtc"`
	ErrorHResult            int64     `json:"errorHResult"`
	Scope                   string    `json:"scope"` // Full/Selective (isolation), Quick/Full (AV scan)
	ExternalID              string    `json:"externalId"`
	RequestSource           string    `json:"requestSource"`
	RelatedFileInfo         *FileInfo `json:"relatedFileInfo"`
}

var machineActionFields = newFilterFields("MachineAction",
	strField("id", func(a *MachineAction) string { return a.ID }),
	strField("status", func(a *MachineAction) string { return a.Status }),
	strField("machineId", func(a *MachineAction) string { return a.MachineID }),
	strField("type", func(a *MachineAction) string { return a.Type }),
	strField("requestor", func(a *MachineAction) string { return a.Requestor }),
	timeField("creationDateTimeUtc", func(a *MachineAction) Time { return a.CreationDateTimeUTC }),
)

// MarshalJSON writes the wire form.
func (a *MachineAction) MarshalJSON() ([]byte, error) { return a.appendJSON(nil), nil }

func (a *MachineAction) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, a.ID)
	b = appendStringField(b, "type", a.Type)
	b = appendStringField(b, "title", a.Title)
	b = appendStringField(b, "requestor", a.Requestor)
	b = appendStringField(b, "requestorComment", a.RequestorComment)
	b = appendStringField(b, "status", a.Status)
	b = appendStringField(b, "machineId", a.MachineID)
	b = appendStringField(b, "computerDnsName", a.ComputerDNSName)
	b = appendTimeField(b, "creationDateTimeUtc", a.CreationDateTimeUTC)
	if a.LegacyUpdateKey {
		b = appendTimeField(b, "lastUpdateTimeUtc", a.LastUpdateDateTimeUTC)
	} else {
		b = appendTimeField(b, "lastUpdateDateTimeUtc", a.LastUpdateDateTimeUTC)
	}
	b = appendStringField(b, "cancellationRequestor", a.CancellationRequestor)
	b = appendStringField(b, "cancellationComment", a.CancellationComment)
	b = appendTimeField(b, "cancellationDateTimeUtc", a.CancellationDateTimeUTC)
	b = appendIntField(b, "errorHResult", a.ErrorHResult)
	b = appendStringField(b, "scope", a.Scope)
	b = appendStringField(b, "externalId", a.ExternalID)
	b = appendStringField(b, "requestSource", a.RequestSource)
	b = append(b, `,"relatedFileInfo":`...)
	if a.RelatedFileInfo == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"fileIdentifier":`...)
		b = appendString(b, a.RelatedFileInfo.FileIdentifier)
		b = appendStringField(b, "fileIdentifierType", a.RelatedFileInfo.FileIdentifierType)
		b = append(b, '}')
	}
	b = append(b, `,"commands":[],"troubleshootInfo":null}`...)
	return b
}
