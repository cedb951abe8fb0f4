package defendertest

// Vulnerability is one entry of GET /api/vulnerabilities (https://learn.microsoft.com/defender-endpoint/api/get-all-vulnerabilities):
// the tenant's CVE catalogue, including the many CVEs that expose no
// machine.
type Vulnerability struct {
	ID          string `json:"id"` // "CVE-2024-12345"
	Name        string `json:"name"`
	Description string `json:"description"`
	Severity    string `json:"severity"` // Low, Medium, High, Critical
	// CVSSV3 is null for the few CVEs not scored yet (HasCVSS false).
	CVSSV3          float64  `json:"cvssV3"`
	HasCVSS         bool     `json:"-"`
	CVSSVector      string   `json:"cvssVector"`
	ExposedMachines int64    `json:"exposedMachines"`
	PublishedOn     Time     `json:"publishedOn"`
	UpdatedOn       Time     `json:"updatedOn"`
	FirstDetected   Time     `json:"firstDetected"` // null when no machine was ever exposed
	PublicExploit   bool     `json:"publicExploit"`
	ExploitVerified bool     `json:"exploitVerified"`
	ExploitInKit    bool     `json:"exploitInKit"`
	ExploitTypes    []string `json:"exploitTypes"`
	ExploitURIs     []string `json:"exploitUris"`
	// CVESupportability is spelled "supported" in some answers, "Supported"
	// in others.
	CVESupportability string  `json:"cveSupportability"`
	EPSS              float64 `json:"epss"`
	HasEPSS           bool    `json:"-"`
	// product indexes cveProducts: the software the CVE is in, which the
	// advanced-hunting TVM tables name (hunting_tables_tvm.go).
	product int
}

var vulnerabilityFields = newFilterFields("Vulnerability",
	strField("id", func(v *Vulnerability) string { return v.ID }),
	strField("name", func(v *Vulnerability) string { return v.Name }),
	strField("description", func(v *Vulnerability) string { return v.Description }),
	floatField("cvssV3", func(v *Vulnerability) (float64, bool) { return v.CVSSV3, v.HasCVSS }),
	timeField("publishedOn", func(v *Vulnerability) Time { return v.PublishedOn }),
	strField("severity", func(v *Vulnerability) string { return v.Severity }),
	timeField("updatedOn", func(v *Vulnerability) Time { return v.UpdatedOn }),
)

// MarshalJSON writes the wire form.
func (v *Vulnerability) MarshalJSON() ([]byte, error) { return v.appendJSON(nil), nil }

func (v *Vulnerability) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, v.ID)
	b = appendStringField(b, "name", v.Name)
	b = appendStringField(b, "description", v.Description)
	b = appendStringField(b, "severity", v.Severity)
	b = appendNullableFloatField(b, "cvssV3", v.CVSSV3, v.HasCVSS)
	b = appendStringField(b, "cvssVector", v.CVSSVector)
	b = appendIntField(b, "exposedMachines", v.ExposedMachines)
	b = appendTimeField(b, "publishedOn", v.PublishedOn)
	b = appendTimeField(b, "updatedOn", v.UpdatedOn)
	b = appendTimeField(b, "firstDetected", v.FirstDetected)
	b = appendBoolField(b, "publicExploit", v.PublicExploit)
	b = appendBoolField(b, "exploitVerified", v.ExploitVerified)
	b = appendBoolField(b, "exploitInKit", v.ExploitInKit)
	b = append(b, `,"exploitTypes":`...)
	b = appendStrings(b, v.ExploitTypes)
	b = append(b, `,"exploitUris":`...)
	b = appendStrings(b, v.ExploitURIs)
	b = appendStringField(b, "cveSupportability", v.CVESupportability)
	b = appendNullableFloatField(b, "epss", v.EPSS, v.HasEPSS)
	return append(b, '}')
}
