package defender

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

var scanSeeds = []string{
	`{}`, `[]`, `""`, `"a\"b\\c\u00e9\ud83d\ude00"`, `0`, `-0.5e+10`, `123`, `1.`, `01`, `-`, `1e`, `true`, `fals`, `null`,
	`{"a":[1,{"b":null}],"c":"d"}`, `{"a" 1}`, `{"a":1,}`, `[1,]`, `[1 2]`, "\"\x01\"", `"\x"`, `"\u12g4"`,
	` {"a":1} `, `{"a":1} x`, `[[[[[[]]]]]]`, `{"":""}`, `{"value":[{"id":"a"}]}`,
}

// FuzzScanValue: the scanner accepts exactly what encoding/json accepts as
// one JSON value.
func FuzzScanValue(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// A number ends at the end of its input; a space makes it whole
		// for the scanner, which otherwise waits for more.
		padded := append(append([]byte(nil), data...), ' ')
		i := skipSpace(padded, 0)
		end, err := scanValue(padded, i)
		ok := err == nil && skipSpace(padded, end) == len(padded)
		if err == errIncomplete && i < len(data) {
			ok = false
		}
		if ok != json.Valid(data) {
			t.Fatalf("scanner says valid=%v (end %d, err %v), encoding/json %v, for %q", ok, end, err, json.Valid(data), data)
		}
		if err == nil && end > len(data) {
			t.Fatalf("value ends at %d, past the input of %d bytes", end, len(data))
		}
	})
}

// fieldsProbe exercises what entityFields must model as encoding/json does:
// tags, a "-" tag, unexported fields, embedding, case-insensitive keys.
type fieldsProbe struct {
	ID      string `json:"id"`
	Skipped string `json:"-"`
	//lint:ignore SA5008 "-," names a field "-", encoding/json's own escape; tested on purpose
	Dash string `json:"-,"`
	//lint:ignore U1000 an unexported field is never decoded; its key must not reach it
	hidden string
	NoTag  int
	Time   Time              `json:"when"`
	Flag   Bool              `json:"flag,omitempty"`
	Num    Number            `json:"num"`
	Nested struct{ X []int } `json:"nested"`
	Any    any               `json:"any"`
	Embedded
}

// ptrProbe embeds a pointer, which encoding/json allocates on demand: left
// to encoding/json whole.
type ptrProbe struct {
	ID string `json:"id"`
	*PtrEmbedded
}

type Embedded struct {
	Inner string `json:"inner"`
}

type PtrEmbedded struct {
	Deep string `json:"deep"`
}

func TestEntityFieldsOf(t *testing.T) {
	f := entityFieldsOf[fieldsProbe]()
	var names []string
	for n := range f.byName {
		names = append(names, n)
	}
	want := []string{"-", "any", "flag", "id", "inner", "nested", "notag", "num", "when"}
	if fmt.Sprint(sortedStrings(names)) != fmt.Sprint(want) || f.all {
		t.Errorf("names %v (all %v), want %v", sortedStrings(names), f.all, want)
	}
	if f := entityFieldsOf[Machine](); f.all || f.byName["machinetags"].kind != kindStrings || f.byName["lastseen"].kind != kindUnmarshaler || f.byName["id"].kind != kindString {
		t.Errorf("Machine fields: %+v", f)
	}
	for _, all := range []*entityFields{entityFieldsOf[map[string]any](), entityFieldsOf[Time](), entityFieldsOf[[]int](), entityFieldsOf[ptrProbe](), entityFieldsOf[struct {
		A string `json:"a"`
		B string `json:"A"`
	}]()} {
		if !all.all {
			t.Error("a type that is not a plain struct, or whose names fold together, must be decoded whole")
		}
	}
	for key, want := range map[string]string{"id": "found", "ID": "found", "Id": "found", "title": "absent", `i\u0064`: "unsure", "\xe2\x84\xaad": "unsure", strings.Repeat("x", 100): "unsure"} {
		fd, unsure := f.lookup([]byte(key))
		got := "absent"
		switch {
		case unsure:
			got = "unsure"
		case fd != nil:
			got = "found"
		}
		if got != want {
			t.Errorf("lookup(%q) = %s, want %s", key, got, want)
		}
	}
}

func sortedStrings(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// FuzzEntityFieldsDecode: decoding an element through entityFields gives
// what encoding/json gives from the whole element, value and error alike.
func FuzzEntityFieldsDecode(f *testing.F) {
	for _, s := range []string{
		`{"id":"a","title":"x","severity":"High","alertCreationTime":"2026-11-01T10:00:00Z","evidence":[{"a":1}]}`,
		`{"ID":"a","Id":"b","id":"c"}`, `{"id":1}`, `{"id":"a","id":null}`, `{"i\u0064":"esc"}`, `{"\u212Aey":"kelvin"}`,
		`{"when":"2026-11-01 10:00:00","flag":"Unknown","num":"7","nested":{"X":[1,2]},"any":{"z":[true]},"inner":"i","deep":"d","NoTag":3,"-":"dash","Skipped":"s","hidden":"h"}`,
		`{"id":"a","inner":"b","when":null,"flag":true,"num":7}`, `{"machineTags":[],"id":"\u00e9"}`, `{"machineTags":["a\"b"]}`, `{"machineTags":[1]}`, "{\"id\":\"\xff\"}",
		`{"rbacGroupId":"x"}`, `{"lastSeen":"yesterday"}`, `null`, `[]`, `{}`, `{"machineTags":["a","b"],"isExcluded":true}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return
		}
		data = bytes.TrimSpace(data)
		checkFieldsDecode[Alert](t, data)
		checkFieldsDecode[Machine](t, data)
		checkFieldsDecode[fieldsProbe](t, data)
		checkFieldsDecode[ptrProbe](t, data)
	})
}

// decodeElement decodes one entity as the page decoder does.
func decodeElement[T any](data []byte, v *T) error {
	d := &pageDecoder{fields: entityFieldsOf[T]()}
	if d.fields.all || data[0] != '{' {
		return json.Unmarshal(data, v)
	}
	var err error
	if _, d.members, err = scanMembers(data, 0, nil, 1); err != nil {
		return err
	}
	return d.decodeObject(data, v)
}

func checkFieldsDecode[T any](t *testing.T, data []byte) {
	var want, got T
	werr := json.Unmarshal(data, &want)
	gerr := decodeElement(data, &got)
	if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
		t.Fatalf("%T from %s: encoding/json error %v, ours %v", want, data, werr, gerr)
	}
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("%T from %s:\nencoding/json %+v\nours          %+v", want, data, want, got)
	}
}

// TestDecodePageByteByByte: a body that arrives one byte per read decodes
// as one that arrives whole, so the scanner's refills lose nothing.
func TestDecodePageByteByByte(t *testing.T) {
	for _, body := range [][]byte{
		alertsPage(50),
		[]byte(` { "x" : [ 1.5e3 , -2 , "s" ] , "value" : [ { "id" : "a" } , null , { "id" : "b" } ] , "@odata.count" : 10 , "@odata.nextLink" : "https://h/n" } `),
	} {
		var whole, bytewise []Alert
		n1, next1, err1 := decodePage(bytes.NewReader(body), func(a *Alert) error { whole = append(whole, *a); return nil })
		n2, next2, err2 := decodePage(iotest.OneByteReader(bytes.NewReader(body)), func(a *Alert) error { bytewise = append(bytewise, *a); return nil })
		if err1 != nil || err2 != nil || n1 != n2 || next1 != next2 || !reflect.DeepEqual(whole, bytewise) {
			t.Errorf("whole: %d %q %v; byte by byte: %d %q %v", n1, next1, err1, n2, next2, err2)
		}
	}
	// A value larger than the first buffer grows it.
	big := `{"value":[{"id":"` + strings.Repeat("x", 3*scanChunk) + `"}]}`
	var id string
	if _, _, err := decodePage(strings.NewReader(big), func(a *Alert) error { id = a.ID; return nil }); err != nil || len(id) != 3*scanChunk {
		t.Errorf("large entity: %v, id of %d bytes", err, len(id))
	}
}

// TestDecodePageErrorsNamePosition: a syntax error says where it is.
func TestDecodePageErrorsNamePosition(t *testing.T) {
	_, _, err := decodePage(strings.NewReader(`{"value":[{"id":"a"},{"id" "b"}]}`), func(*Alert) error { return nil })
	if err == nil || !strings.Contains(err.Error(), `value[1]: invalid character '"' after object key (at byte 27)`) {
		t.Errorf("err = %v", err)
	}
}
