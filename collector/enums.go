package collector

import "strings"

// Defender spells some enum values with varying case on the wire (the docs
// say "onboarded", real answers "Onboarded"). Two spellings of one value
// would split a series in two, so known values are mapped to one canonical
// spelling; unknown values pass through unchanged so nothing is lost when
// Microsoft adds one.
type enum map[string]string

func newEnum(values ...string) enum {
	e := enum{}
	for _, v := range values {
		e[strings.ToLower(v)] = v
		// The canonical spelling as is too: it is what the API sends
		// nearly always, and finding it needs no lower-cased copy, which
		// would cost an allocation per entity.
		e[v] = v
	}
	return e
}

func (e enum) canon(v string) string {
	if c, ok := e[v]; ok {
		return c
	}
	if c, ok := e[strings.ToLower(v)]; ok {
		return c
	}
	return v
}

var (
	alertSeverity       = newEnum("UnSpecified", "Informational", "Low", "Medium", "High")
	alertStatus         = newEnum("Unknown", "New", "InProgress", "Resolved")
	machineHealth       = newEnum("Active", "Inactive", "ImpairedCommunication", "NoSensorData", "NoSensorDataImpairedCommunication", "Unknown")
	machineOnboarding   = newEnum("Onboarded", "CanBeOnboarded", "Unsupported", "InsufficientInfo")
	machineRisk         = newEnum("None", "Informational", "Low", "Medium", "High")
	machineExposure     = newEnum("None", "Low", "Medium", "High")
	machineAVStatus     = newEnum("Updated", "NotUpdated", "Disabled", "NotReporting", "Unknown", "NotSupported")
	alertClassification = newEnum("TruePositive", "InformationalExpectedActivity", "FalsePositive", "Unknown")
)
