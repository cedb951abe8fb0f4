package defendertest

// Score is the answer of GET /api/exposureScore and /api/configurationScore
// (https://learn.microsoft.com/defender-endpoint/api/get-exposure-score, get-device-secure-score): when it was computed and the score, a double (the
// configuration score's examples are integer-valued).
type Score struct {
	Time  Time    `json:"time"`
	Score float64 `json:"score"`
}

// GroupScore is one entry of GET /api/exposureScore/ByMachineGroups.
type GroupScore struct {
	Time          Time    `json:"time"`
	Score         float64 `json:"score"`
	RBACGroupName string  `json:"rbacGroupName"`
}

func (s *Score) appendJSON(b []byte) []byte {
	b = append(b, `{"time":`...)
	b = s.Time.appendJSON(b)
	b = appendFloatField(b, "score", s.Score)
	return append(b, '}')
}

// MarshalJSON writes the wire form.
func (s *Score) MarshalJSON() ([]byte, error) { return s.appendJSON(nil), nil }

func (g *GroupScore) appendJSON(b []byte) []byte {
	b = append(b, `{"time":`...)
	b = g.Time.appendJSON(b)
	b = appendFloatField(b, "score", g.Score)
	b = appendStringField(b, "rbacGroupName", g.RBACGroupName)
	return append(b, '}')
}

// MarshalJSON writes the wire form.
func (g *GroupScore) MarshalJSON() ([]byte, error) { return g.appendJSON(nil), nil }
