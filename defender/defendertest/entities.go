package defendertest

import (
	"strconv"
	"time"
)

// Entities are plain structs with the wire names in their json tags, and
// each encodes itself with a hand-written appendJSON: a page of 10,000 alerts
// encodes without reflection, and null handling follows one rule — an empty
// string, a zero Time and a zero nullable number are null on the wire, as in
// Defender's answers. Fields never generated empty are never null.

// Time is a timestamp at 100 ns resolution (.NET ticks, as Defender writes
// seven fractional digits), stored as Unix nanoseconds to keep a million
// alerts small. The zero Time is null.
type Time int64

// TimeOf converts t, truncating to 100 ns.
func TimeOf(t time.Time) Time {
	if t.IsZero() {
		return 0
	}
	return Time(t.Truncate(100 * time.Nanosecond).UnixNano())
}

// Time is the time.Time value; the zero Time gives the zero time.Time.
func (t Time) Time() time.Time {
	if t == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(t)).UTC()
}

// IsZero reports whether t is null.
func (t Time) IsZero() bool { return t == 0 }

// MarshalJSON writes Defender's spelling, e.g. "2025-06-01T10:20:30.1234567Z".
func (t Time) MarshalJSON() ([]byte, error) { return t.appendJSON(nil), nil }

func (t Time) appendJSON(b []byte) []byte {
	if t == 0 {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = t.Time().AppendFormat(b, "2006-01-02T15:04:05.0000000Z")
	return append(b, '"')
}

// IPAddress is one entry of a machine's ipAddresses.
type IPAddress struct {
	IPAddress         string `json:"ipAddress"`
	MACAddress        string `json:"macAddress"`
	Type              string `json:"type"`
	OperationalStatus string `json:"operationalStatus"`
}

// Machine is one entry of GET /api/machines.
type Machine struct {
	ID                     string      `json:"id"`
	ComputerDNSName        string      `json:"computerDnsName"`
	FirstSeen              Time        `json:"firstSeen"`
	LastSeen               Time        `json:"lastSeen"`
	OSPlatform             string      `json:"osPlatform"`
	OSVersion              string      `json:"osVersion"` // null in most real answers
	OSProcessor            string      `json:"osProcessor"`
	Version                string      `json:"version"`
	LastIPAddress          string      `json:"lastIpAddress"`
	LastExternalIPAddress  string      `json:"lastExternalIpAddress"`
	AgentVersion           string      `json:"agentVersion"`
	OSBuild                int64       `json:"osBuild"` // 0 = null
	HealthStatus           string      `json:"healthStatus"`
	DeviceValue            string      `json:"deviceValue"`
	RBACGroupID            int64       `json:"rbacGroupId"`   // 0 for ungrouped devices (never null)
	RBACGroupName          string      `json:"rbacGroupName"` // null for ungrouped devices
	RiskScore              string      `json:"riskScore"`
	ExposureLevel          string      `json:"exposureLevel"`
	IsAADJoined            bool        `json:"isAadJoined"`
	AADDeviceID            string      `json:"aadDeviceId"`
	MachineTags            []string    `json:"machineTags"`
	DefenderAVStatus       string      `json:"defenderAvStatus"`
	OnboardingStatus       string      `json:"onboardingStatus"`
	OSArchitecture         string      `json:"osArchitecture"`
	ManagedBy              string      `json:"managedBy"`
	ManagedByStatus        string      `json:"managedByStatus"`
	IPAddresses            []IPAddress `json:"ipAddresses"`
	IsPotentialDuplication bool        `json:"isPotentialDuplication"`
	IsExcluded             bool        `json:"isExcluded"`
	ExclusionReason        string      `json:"exclusionReason"`
	MergedIntoMachineID    string      `json:"mergedIntoMachineId"`
}

// MarshalJSON writes the wire form.
func (m *Machine) MarshalJSON() ([]byte, error) { return m.appendJSON(nil), nil }

func (m *Machine) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, m.ID)
	b = appendStringField(b, "computerDnsName", m.ComputerDNSName)
	b = appendTimeField(b, "firstSeen", m.FirstSeen)
	b = appendTimeField(b, "lastSeen", m.LastSeen)
	b = appendStringField(b, "osPlatform", m.OSPlatform)
	b = appendStringField(b, "osVersion", m.OSVersion)
	b = appendStringField(b, "osProcessor", m.OSProcessor)
	b = appendStringField(b, "version", m.Version)
	b = appendStringField(b, "lastIpAddress", m.LastIPAddress)
	b = appendStringField(b, "lastExternalIpAddress", m.LastExternalIPAddress)
	b = appendStringField(b, "agentVersion", m.AgentVersion)
	b = appendNullableInt(b, "osBuild", m.OSBuild)
	b = appendStringField(b, "healthStatus", m.HealthStatus)
	b = appendStringField(b, "deviceValue", m.DeviceValue)
	b = append(b, `,"rbacGroupId":`...)
	b = strconv.AppendInt(b, m.RBACGroupID, 10)
	b = appendStringField(b, "rbacGroupName", m.RBACGroupName)
	b = appendStringField(b, "riskScore", m.RiskScore)
	b = appendStringField(b, "exposureLevel", m.ExposureLevel)
	b = appendBoolField(b, "isAadJoined", m.IsAADJoined)
	b = appendStringField(b, "aadDeviceId", m.AADDeviceID)
	b = append(b, `,"machineTags":`...)
	b = appendStrings(b, m.MachineTags)
	b = appendStringField(b, "defenderAvStatus", m.DefenderAVStatus)
	b = appendStringField(b, "onboardingStatus", m.OnboardingStatus)
	b = appendStringField(b, "osArchitecture", m.OSArchitecture)
	b = appendStringField(b, "managedBy", m.ManagedBy)
	b = appendStringField(b, "managedByStatus", m.ManagedByStatus)
	b = append(b, `,"ipAddresses":[`...)
	for i, ip := range m.IPAddresses {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"ipAddress":`...)
		b = appendString(b, ip.IPAddress)
		b = appendStringField(b, "macAddress", ip.MACAddress)
		b = appendStringField(b, "type", ip.Type)
		b = appendStringField(b, "operationalStatus", ip.OperationalStatus)
		b = append(b, '}')
	}
	b = append(b, ']')
	b = appendBoolField(b, "isPotentialDuplication", m.IsPotentialDuplication)
	b = appendBoolField(b, "isExcluded", m.IsExcluded)
	b = appendStringField(b, "exclusionReason", m.ExclusionReason)
	b = appendStringField(b, "mergedIntoMachineId", m.MergedIntoMachineID)
	b = append(b, `,"vmMetadata":null}`...)
	return b
}

// RelatedUser is an alert's relatedUser object.
type RelatedUser struct {
	UserName   string `json:"userName"`
	DomainName string `json:"domainName"`
}

// Alert is one entry of GET /api/alerts. Comments, evidence and
// loggedOnUsers are always empty lists.
type Alert struct {
	ID                 string       `json:"id"`
	IncidentID         int64        `json:"incidentId"`      // 0 = null
	InvestigationID    int64        `json:"investigationId"` // 0 = null
	AssignedTo         string       `json:"assignedTo"`
	Severity           string       `json:"severity"`
	Status             string       `json:"status"`
	Classification     string       `json:"classification"` // null until classified
	Determination      string       `json:"determination"`  // null until classified
	InvestigationState string       `json:"investigationState"`
	DetectionSource    string       `json:"detectionSource"`
	DetectorID         string       `json:"detectorId"`
	Category           string       `json:"category"`
	ThreatFamilyName   string       `json:"threatFamilyName"`
	ThreatName         string       `json:"threatName"`
	Title              string       `json:"title"`
	Description        string       `json:"description"`
	AlertCreationTime  Time         `json:"alertCreationTime"`
	FirstEventTime     Time         `json:"firstEventTime"`
	LastEventTime      Time         `json:"lastEventTime"`
	LastUpdateTime     Time         `json:"lastUpdateTime"`
	ResolvedTime       Time         `json:"resolvedTime"`
	MachineID          string       `json:"machineId"`
	ComputerDNSName    string       `json:"computerDnsName"`
	RBACGroupName      string       `json:"rbacGroupName"`
	AADTenantID        string       `json:"aadTenantId"`
	MITRETechniques    []string     `json:"mitreTechniques"`
	RelatedUser        *RelatedUser `json:"relatedUser"`
}

// MarshalJSON writes the wire form.
func (a *Alert) MarshalJSON() ([]byte, error) { return a.appendJSON(nil), nil }

func (a *Alert) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, a.ID)
	b = appendNullableInt(b, "incidentId", a.IncidentID)
	b = appendNullableInt(b, "investigationId", a.InvestigationID)
	b = appendStringField(b, "assignedTo", a.AssignedTo)
	b = appendStringField(b, "severity", a.Severity)
	b = appendStringField(b, "status", a.Status)
	b = appendStringField(b, "classification", a.Classification)
	b = appendStringField(b, "determination", a.Determination)
	b = appendStringField(b, "investigationState", a.InvestigationState)
	b = appendStringField(b, "detectionSource", a.DetectionSource)
	b = appendStringField(b, "detectorId", a.DetectorID)
	b = appendStringField(b, "category", a.Category)
	b = appendStringField(b, "threatFamilyName", a.ThreatFamilyName)
	b = appendStringField(b, "title", a.Title)
	b = appendStringField(b, "description", a.Description)
	b = appendTimeField(b, "alertCreationTime", a.AlertCreationTime)
	b = appendTimeField(b, "firstEventTime", a.FirstEventTime)
	b = appendTimeField(b, "lastEventTime", a.LastEventTime)
	b = appendTimeField(b, "lastUpdateTime", a.LastUpdateTime)
	b = appendTimeField(b, "resolvedTime", a.ResolvedTime)
	b = appendStringField(b, "machineId", a.MachineID)
	b = appendStringField(b, "computerDnsName", a.ComputerDNSName)
	b = appendStringField(b, "rbacGroupName", a.RBACGroupName)
	b = appendStringField(b, "aadTenantId", a.AADTenantID)
	b = appendStringField(b, "threatName", a.ThreatName)
	b = append(b, `,"mitreTechniques":`...)
	b = appendStrings(b, a.MITRETechniques)
	b = append(b, `,"relatedUser":`...)
	if a.RelatedUser == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"userName":`...)
		b = appendString(b, a.RelatedUser.UserName)
		b = appendStringField(b, "domainName", a.RelatedUser.DomainName)
		b = append(b, '}')
	}
	b = append(b, `,"loggedOnUsers":[],"comments":[],"evidence":[]}`...)
	return b
}
