package defendertest

// DeviceAVInfo is one row of GET /api/deviceavinfo (https://learn.microsoft.com/defender-endpoint/api/device-health-api-methods-properties), the
// device antivirus health export. Its quirks are kept: the up-to-date flags
// are the strings "True", "False", "Unknown" (or empty), avMode is a
// string-typed integer ("" and "3" both mean Other), and empty values are
// written as "" rather than null, as the export does.
type DeviceAVInfo struct {
	ID                     string `json:"id"`
	MachineID              string `json:"machineId"`
	ComputerDNSName        string `json:"computerDnsName"`
	OSKind                 string `json:"osKind"` // windows, mac, linux
	OSPlatform             string `json:"osPlatform"`
	OSVersion              string `json:"osVersion"`
	RBACGroupName          string `json:"rbacGroupName"` // null for ungrouped devices
	RBACGroupID            int64  `json:"rbacGroupId"`
	AVMode                 string `json:"avMode"`
	AVSignatureVersion     string `json:"avSignatureVersion"`
	AVEngineVersion        string `json:"avEngineVersion"`
	AVPlatformVersion      string `json:"avPlatformVersion"`
	AVIsSignatureUpToDate  string `json:"avIsSignatureUpToDate"`
	AVIsEngineUpToDate     string `json:"avIsEngineUpToDate"`
	AVIsPlatformUpToDate   string `json:"avIsPlatformUpToDate"`
	QuickScanResult        string `json:"quickScanResult"` // Completed, Canceled, Failed, "" when never run
	QuickScanError         string `json:"quickScanError"`
	QuickScanTime          Time   `json:"quickScanTime"`
	FullScanResult         string `json:"fullScanResult"`
	FullScanError          string `json:"fullScanError"`
	FullScanTime           Time   `json:"fullScanTime"`
	LastSeenTime           Time   `json:"lastSeenTime"`
	AVSignaturePublishTime Time   `json:"avSignaturePublishTime"`
	AVSignatureUpdateTime  Time   `json:"avSignatureUpdateTime"`
	AVEngineUpdateTime     Time   `json:"avEngineUpdateTime"`
	AVPlatformUpdateTime   Time   `json:"avPlatformUpdateTime"`
	DataRefreshTimestamp   Time   `json:"dataRefreshTimestamp"`
}

var deviceAVInfoFields = newFilterFields("DeviceAvInfo",
	strField("machineId", func(x *DeviceAVInfo) string { return x.MachineID }),
	strField("computerDnsName", func(x *DeviceAVInfo) string { return x.ComputerDNSName }),
	strField("osKind", func(x *DeviceAVInfo) string { return x.OSKind }),
	strField("osPlatform", func(x *DeviceAVInfo) string { return x.OSPlatform }),
	strField("osVersion", func(x *DeviceAVInfo) string { return x.OSVersion }),
	strField("avMode", func(x *DeviceAVInfo) string { return x.AVMode }),
	strField("avSignatureVersion", func(x *DeviceAVInfo) string { return x.AVSignatureVersion }),
	strField("avEngineVersion", func(x *DeviceAVInfo) string { return x.AVEngineVersion }),
	strField("avPlatformVersion", func(x *DeviceAVInfo) string { return x.AVPlatformVersion }),
	strField("quickScanResult", func(x *DeviceAVInfo) string { return x.QuickScanResult }),
	strField("quickScanError", func(x *DeviceAVInfo) string { return x.QuickScanError }),
	strField("fullScanResult", func(x *DeviceAVInfo) string { return x.FullScanResult }),
	strField("fullScanError", func(x *DeviceAVInfo) string { return x.FullScanError }),
	strField("avIsSignatureUpToDate", func(x *DeviceAVInfo) string { return x.AVIsSignatureUpToDate }),
	strField("avIsEngineUpToDate", func(x *DeviceAVInfo) string { return x.AVIsEngineUpToDate }),
	strField("avIsPlatformUpToDate", func(x *DeviceAVInfo) string { return x.AVIsPlatformUpToDate }),
	intField("rbacGroupId", false, func(x *DeviceAVInfo) int64 { return x.RBACGroupID }),
)

// avTimeLayout is the export's timestamp spelling: whole seconds, Z.
const avTimeLayout = "2006-01-02T15:04:05Z"

// MarshalJSON writes the wire form.
func (x *DeviceAVInfo) MarshalJSON() ([]byte, error) { return x.appendJSON(nil), nil }

func (x *DeviceAVInfo) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, x.ID)
	b = appendEmptyStringField(b, "machineId", x.MachineID)
	b = appendEmptyStringField(b, "computerDnsName", x.ComputerDNSName)
	b = appendEmptyStringField(b, "osKind", x.OSKind)
	b = appendEmptyStringField(b, "osPlatform", x.OSPlatform)
	b = appendEmptyStringField(b, "osVersion", x.OSVersion)
	b = appendStringField(b, "rbacGroupName", x.RBACGroupName)
	b = appendIntField(b, "rbacGroupId", x.RBACGroupID)
	b = appendEmptyStringField(b, "avMode", x.AVMode)
	b = appendEmptyStringField(b, "avSignatureVersion", x.AVSignatureVersion)
	b = appendEmptyStringField(b, "avEngineVersion", x.AVEngineVersion)
	b = appendEmptyStringField(b, "avPlatformVersion", x.AVPlatformVersion)
	b = appendEmptyStringField(b, "avIsSignatureUpToDate", x.AVIsSignatureUpToDate)
	b = appendEmptyStringField(b, "avIsEngineUpToDate", x.AVIsEngineUpToDate)
	b = appendEmptyStringField(b, "avIsPlatformUpToDate", x.AVIsPlatformUpToDate)
	b = appendEmptyStringField(b, "quickScanResult", x.QuickScanResult)
	b = appendEmptyStringField(b, "quickScanError", x.QuickScanError)
	b = appendTimeLayoutField(b, "quickScanTime", x.QuickScanTime, avTimeLayout)
	b = appendEmptyStringField(b, "fullScanResult", x.FullScanResult)
	b = appendEmptyStringField(b, "fullScanError", x.FullScanError)
	b = appendTimeLayoutField(b, "fullScanTime", x.FullScanTime, avTimeLayout)
	b = appendTimeLayoutField(b, "lastSeenTime", x.LastSeenTime, avTimeLayout)
	b = appendTimeLayoutField(b, "avSignaturePublishTime", x.AVSignaturePublishTime, avTimeLayout)
	b = appendTimeLayoutField(b, "avSignatureUpdateTime", x.AVSignatureUpdateTime, avTimeLayout)
	b = appendTimeLayoutField(b, "avEngineUpdateTime", x.AVEngineUpdateTime, avTimeLayout)
	b = appendTimeLayoutField(b, "avPlatformUpdateTime", x.AVPlatformUpdateTime, avTimeLayout)
	b = appendTimeLayoutField(b, "dataRefreshTimestamp", x.DataRefreshTimestamp, avTimeLayout)
	// "Some more columns might be returned": one undocumented column, so a
	// client that rejects unknown fields is caught.
	b = appendTimeLayoutField(b, "avSignatureDataRefreshTime", x.DataRefreshTimestamp, avTimeLayout)
	return append(b, '}')
}
