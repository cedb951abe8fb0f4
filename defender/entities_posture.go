package defender

// Entities of the posture APIs: scores, TVM, AV health, machine actions,
// XDR incidents, indicators and investigations. As in entities.go, only the
// fields the collectors use are kept and unknown fields are ignored; the
// tolerant types (Time, Bool, Number) absorb the APIs' loose typing.

// Score is GET /api/exposureScore, /api/configurationScore, or one entry of
// /api/exposureScore/ByMachineGroups (which adds rbacGroupName). Score.Known
// is false when the answer had no score, e.g. an unexpected wrapper object.
type Score struct {
	Time          Time   `json:"time"`
	Score         Number `json:"score"`
	RBACGroupName string `json:"rbacGroupName"`
}

// Vulnerability is one entry of GET /api/vulnerabilities.
type Vulnerability struct {
	Severity        string `json:"severity"`
	ExposedMachines Number `json:"exposedMachines"`
	PublicExploit   Bool   `json:"publicExploit"`
}

// Recommendation is one entry of GET /api/recommendations.
type Recommendation struct {
	RecommendationCategory string `json:"recommendationCategory"`
	RemediationType        string `json:"remediationType"`
	Status                 string `json:"status"`
	ExposedMachinesCount   Number `json:"exposedMachinesCount"`
}

// DeviceAVInfo is one row of GET /api/deviceavinfo. avMode is a
// string-typed integer ("" for unknown); the up-to-date flags are the
// strings "True", "False", "Unknown" or "".
type DeviceAVInfo struct {
	MachineID             string `json:"machineId"`
	AVMode                Number `json:"avMode"`
	AVIsSignatureUpToDate Bool   `json:"avIsSignatureUpToDate"`
	AVIsEngineUpToDate    Bool   `json:"avIsEngineUpToDate"`
	AVIsPlatformUpToDate  Bool   `json:"avIsPlatformUpToDate"`
	QuickScanResult       string `json:"quickScanResult"`
	FullScanResult        string `json:"fullScanResult"`
}

// MachineAction is one entry of GET /api/machineactions. The update time
// comes as lastUpdateDateTimeUtc (resource docs) or lastUpdateTimeUtc (list
// examples); LastUpdate reads either.
type MachineAction struct {
	Type                  string `json:"type"`
	Status                string `json:"status"`
	MachineID             string `json:"machineId"`
	CreationDateTimeUTC   Time   `json:"creationDateTimeUtc"`
	LastUpdateDateTimeUTC Time   `json:"lastUpdateDateTimeUtc"`
	LastUpdateTimeUTC     Time   `json:"lastUpdateTimeUtc"`
}

// LastUpdate is the action's last update time in either spelling, falling
// back to its creation time (a Pending action has none).
func (a *MachineAction) LastUpdate() Time {
	switch {
	case !a.LastUpdateDateTimeUTC.IsZero():
		return a.LastUpdateDateTimeUTC
	case !a.LastUpdateTimeUTC.IsZero():
		return a.LastUpdateTimeUTC
	}
	return a.CreationDateTimeUTC
}

// Incident is one entry of Defender XDR's GET /api/incidents. The embedded
// alerts, comments and tags are not needed and are skipped by the decoder.
type Incident struct {
	CreatedTime    Time   `json:"createdTime"`
	Status         string `json:"status"`
	Severity       string `json:"severity"`
	Classification string `json:"classification"`
	Determination  string `json:"determination"`
}

// Indicator is one entry of GET /api/indicators.
type Indicator struct {
	IndicatorType string `json:"indicatorType"`
	Action        string `json:"action"`
	Severity      string `json:"severity"`
}

// Investigation is one entry of GET /api/investigations.
type Investigation struct {
	State string `json:"state"`
}
