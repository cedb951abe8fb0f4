package defender

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// The decoders of Time, Bool and Number have fast paths for the usual
// spellings; these are the straightforward versions they replaced, kept as
// the reference the fuzz target compares against.

func refTime(b []byte) (time.Time, bool) {
	if bytes.Equal(b, []byte("null")) {
		return time.Time{}, true
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return time.Time{}, false
	}
	if s == "" {
		return time.Time{}, true
	}
	for _, layout := range timeLayouts {
		if v, err := time.Parse(layout, s); err == nil {
			return v.UTC(), true
		}
	}
	return time.Time{}, false
}

func refBool(b []byte) (Bool, bool) {
	switch s := strings.ToLower(strings.Trim(string(b), `"`)); s {
	case "true":
		return Bool{Value: true, Known: true}, true
	case "false":
		return Bool{Value: false, Known: true}, true
	case "null", "", "unknown":
		return Bool{}, true
	}
	return Bool{}, false
}

func refNumber(b []byte) (Number, bool) {
	s := strings.Trim(string(b), `"`)
	if s == "null" || s == "" {
		return Number{}, true
	}
	var f float64
	if err := json.Unmarshal([]byte(s), &f); err != nil {
		return Number{}, false
	}
	return Number{Value: f, Known: true}, true
}

// FuzzScalarDecoders: the fast paths decide as the reference decoders do.
func FuzzScalarDecoders(f *testing.F) {
	for _, s := range []string{
		`"2026-11-01T10:00:00.1234567Z"`, `"2026-11-01 10:00:00"`, `"2026-11-01"`, `null`, `""`, `"yesterday"`,
		`"2026-11-01T10:00:00\u005a"`, "\"2026-11-01\xff\"", `"True"`, `"FALSE"`, `true`, `"Unknown"`, `"unKnown"`,
		`"\u212Aey"`, `7`, `"7"`, `" 7 "`, `"-0.5e3"`, `"1e400"`, `"0x10"`, `"NaN"`, `"Inf"`, `"07"`, `"1_0"`, `""7""`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return // encoding/json hands UnmarshalJSON valid values only
		}
		b = bytes.TrimSpace(b)
		var tm Time
		wantT, okT := refTime(b)
		if err := tm.UnmarshalJSON(b); (err == nil) != okT || (okT && !tm.Equal(wantT)) {
			t.Errorf("Time %s: got %v, %v; reference %v, ok %v", b, tm, err, wantT, okT)
		}
		var bo Bool
		wantB, okB := refBool(b)
		if err := bo.UnmarshalJSON(b); (err == nil) != okB || (okB && bo != wantB) {
			t.Errorf("Bool %s: got %+v, %v; reference %+v, ok %v", b, bo, err, wantB, okB)
		}
		var n Number
		wantN, okN := refNumber(b)
		if err := n.UnmarshalJSON(b); (err == nil) != okN || (okN && n != wantN) {
			t.Errorf("Number %s: got %+v, %v; reference %+v, ok %v", b, n, err, wantN, okN)
		}
	})
}
