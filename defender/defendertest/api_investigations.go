package defendertest

// Investigation is one entry of GET /api/investigations (https://learn.microsoft.com/defender-endpoint/api/investigation),
// an automated investigation.
type Investigation struct {
	ID                string `json:"id"`
	StartTime         Time   `json:"startTime"`
	EndTime           Time   `json:"endTime"` // null while running
	CancelledBy       string `json:"cancelledBy"`
	State             string `json:"state"` // the alert investigationState values
	StatusDetails     string `json:"statusDetails"`
	MachineID         string `json:"machineId"`
	ComputerDNSName   string `json:"computerDnsName"`
	TriggeringAlertID string `json:"triggeringAlertId"`
}

var investigationFields = newFilterFields("Investigation",
	timeField("startTime", func(x *Investigation) Time { return x.StartTime }),
	strField("id", func(x *Investigation) string { return x.ID }),
	strField("state", func(x *Investigation) string { return x.State }),
	strField("machineId", func(x *Investigation) string { return x.MachineID }),
	strField("triggeringAlertId", func(x *Investigation) string { return x.TriggeringAlertID }),
)

// MarshalJSON writes the wire form.
func (x *Investigation) MarshalJSON() ([]byte, error) { return x.appendJSON(nil), nil }

func (x *Investigation) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, x.ID)
	b = appendTimeField(b, "startTime", x.StartTime)
	b = appendTimeField(b, "endTime", x.EndTime)
	b = appendStringField(b, "cancelledBy", x.CancelledBy)
	b = appendStringField(b, "state", x.State)
	b = appendStringField(b, "statusDetails", x.StatusDetails)
	b = appendStringField(b, "machineId", x.MachineID)
	b = appendStringField(b, "computerDnsName", x.ComputerDNSName)
	b = appendStringField(b, "triggeringAlertId", x.TriggeringAlertID)
	return append(b, '}')
}
