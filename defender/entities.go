package defender

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The entity types below hold only the fields the collectors use. Unknown
// fields are ignored by the decoder, so a new field in Defender's answer never
// breaks a refresh; a field of the wrong type does, and names itself.

// Alert is one entry of GET /api/alerts.
type Alert struct {
	ID                string `json:"id"`
	Severity          string `json:"severity"`
	Status            string `json:"status"`
	Category          string `json:"category"`
	DetectionSource   string `json:"detectionSource"`
	Classification    string `json:"classification"`
	Determination     string `json:"determination"`
	AlertCreationTime Time   `json:"alertCreationTime"`
	LastUpdateTime    Time   `json:"lastUpdateTime"`
	ResolvedTime      Time   `json:"resolvedTime"`
	MachineID         string `json:"machineId"`
}

// Machine is one entry of GET /api/machines.
type Machine struct {
	ID               string   `json:"id"`
	ComputerDNSName  string   `json:"computerDnsName"`
	FirstSeen        Time     `json:"firstSeen"`
	LastSeen         Time     `json:"lastSeen"`
	OSPlatform       string   `json:"osPlatform"`
	OSVersion        string   `json:"osVersion"`
	Version          string   `json:"version"`
	OnboardingStatus string   `json:"onboardingStatus"`
	HealthStatus     string   `json:"healthStatus"`
	RiskScore        string   `json:"riskScore"`
	ExposureLevel    string   `json:"exposureLevel"`
	DeviceValue      string   `json:"deviceValue"`
	DefenderAVStatus string   `json:"defenderAvStatus"`
	RBACGroupName    string   `json:"rbacGroupName"`
	RBACGroupID      Number   `json:"rbacGroupId"`
	AgentVersion     string   `json:"agentVersion"`
	MachineTags      []string `json:"machineTags"`
	IsExcluded       Bool     `json:"isExcluded"`
}

// Time is a timestamp as Defender writes it: RFC 3339 with or without
// fractional seconds or zone, the export APIs' "2006-01-02 15:04:05", or null.
// The zero Time means absent.
type Time struct{ time.Time }

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999", // no zone: Defender means UTC
	"2006-01-02 15:04:05.999999999",
	"2006-01-02Z",
	"2006-01-02",
}

// UnmarshalJSON accepts every spelling listed in timeLayouts.
func (t *Time) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		t.Time = time.Time{}
		return nil
	}
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' && bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b) {
		// Nothing to unescape: the bytes are the string. Every alert has
		// three timestamps, nearly always strict RFC 3339, which
		// time.Time parses from bytes without a copy; whatever it
		// refuses goes the long way.
		raw := b[1 : len(b)-1]
		var strict time.Time
		if len(raw) > 0 && strict.UnmarshalText(raw) == nil {
			t.Time = strict.UTC()
			return nil
		}
		return t.parse(string(raw))
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("timestamp: want a string, got %.40s", b)
	}
	return t.parse(s)
}

// parse reads a timestamp in any of timeLayouts; "" is the zero Time.
func (t *Time) parse(s string) error {
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	for _, layout := range timeLayouts {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v.UTC()
			return nil
		}
	}
	return fmt.Errorf("timestamp %q: not RFC 3339 nor \"2006-01-02 15:04:05\"", s)
}

// Bool is a boolean that Defender sometimes writes as a JSON boolean and
// sometimes as the strings "True", "False" or "Unknown". Known is false for
// null, absent and "Unknown".
type Bool struct {
	Value bool
	Known bool
}

// UnmarshalJSON accepts true/false, "true"/"false" in any case, "Unknown", "" and null.
func (v *Bool) UnmarshalJSON(b []byte) error {
	*v = Bool{}
	if ascii := bytes.Trim(b, `"`); utf8.RuneCount(ascii) == len(ascii) {
		// The usual spellings, compared without the two copies below.
		switch {
		case asciiEqualFold(ascii, "true"):
			*v = Bool{Value: true, Known: true}
			return nil
		case asciiEqualFold(ascii, "false"):
			*v = Bool{Value: false, Known: true}
			return nil
		case asciiEqualFold(ascii, "null"), len(ascii) == 0, asciiEqualFold(ascii, "unknown"):
			return nil
		}
	}
	switch s := strings.ToLower(strings.Trim(string(b), `"`)); s {
	case "true":
		*v = Bool{Value: true, Known: true}
	case "false":
		*v = Bool{Value: false, Known: true}
	case "null", "", "unknown":
	default:
		return fmt.Errorf("boolean: want true, false or \"Unknown\", got %.40s", b)
	}
	return nil
}

// Label renders the value the way Defender's AV report spells it.
func (v Bool) Label() string {
	switch {
	case !v.Known:
		return "Unknown"
	case v.Value:
		return "True"
	default:
		return "False"
	}
}

// Number is a number that may arrive as a JSON number, a numeric string, or
// null (Defender's string-typed integers such as avMode and rbacGroupId).
type Number struct {
	Value float64
	Known bool
}

// UnmarshalJSON accepts 3, 3.5, "3", "", and null.
func (n *Number) UnmarshalJSON(b []byte) error {
	*n = Number{}
	s := bytes.Trim(b, `"`)
	if string(s) == "null" || len(s) == 0 {
		return nil
	}
	// A JSON number, spaces around it allowed, as json.Unmarshal into a
	// float64 would take it; checked here and parsed by strconv, which
	// saves a decoder per number.
	num := bytes.TrimFunc(s, func(r rune) bool { return r < 0x80 && isSpace(byte(r)) })
	if len(num) == 0 {
		return fmt.Errorf("number: got %.40s", b)
	}
	if !isJSONNumber(num) {
		return fmt.Errorf("number: got %.40s", b)
	}
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil {
		return fmt.Errorf("number: got %.40s", b)
	}
	*n = Number{Value: f, Known: true}
	return nil
}

// asciiEqualFold compares an ASCII byte string with a lower-case ASCII word,
// ignoring case.
func asciiEqualFold(b []byte, word string) bool {
	if len(b) != len(word) {
		return false
	}
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != word[i] {
			return false
		}
	}
	return true
}
