package defender

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"testing"
)

var errFuzzStop = errors.New("fuzz: callback stops here")

// FuzzDecodePage feeds arbitrary bytes to the streaming page decoder, for
// the entity types with hand-written decoders (Time, Bool, Number): no
// input may panic; what is accepted is valid JSON whose entities all
// reached the callback; a callback error comes back as is, after exactly
// the entities it saw.
func FuzzDecodePage(f *testing.F) {
	f.Add([]byte(`{"value":[{"id":"a","severity":"High","alertCreationTime":"2026-11-01T10:00:00.1234567Z"}],"@odata.nextLink":"https://h/api/alerts?$skip=1"}`), uint8(0))
	f.Add([]byte(`{"@odata.context":"x","value":[{"id":"m","lastSeen":"2026-11-01 10:00:00","isExcluded":"Unknown","rbacGroupId":"7"}]}`), uint8(1))
	f.Add([]byte(`{"value":null,"@odata.nextLink":null}`), uint8(0))
	f.Add([]byte(`{"value":[{},{},{}]}`), uint8(2))
	f.Add([]byte(`{"value":[{"id":1}]}`), uint8(0))
	f.Add([]byte(`{"value":[{"lastSeen":"yesterday"}]}`), uint8(0))
	f.Add([]byte(`{"value":[{"id":"a"}`), uint8(0))
	f.Add([]byte(`{"value":[{"id":"a"}]} {}`), uint8(0))
	f.Add([]byte(`{"x":{"y":[[[[{}]]]]},"value":[]}`), uint8(0))
	f.Add(alertsPage(3), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, stopAfter uint8) {
		checkDecodePage[Alert](t, data, int(stopAfter))
		checkDecodePage[Machine](t, data, int(stopAfter))
	})
}

func checkDecodePage[T any](t *testing.T, data []byte, stopAfter int) {
	calls := 0
	var got []T
	items, next, err := decodePage(bytes.NewReader(data), func(v *T) error {
		calls++
		got = append(got, *v)
		if calls == stopAfter {
			return errFuzzStop
		}
		return nil
	})
	if stopAfter == 0 {
		// Differential: the page decoder must agree with encoding/json
		// applied element by element, both on what it accepts and on
		// every field it decodes.
		want, wantNext, refErr := referencePage[T](data)
		switch {
		case (err == nil) != (refErr == nil):
			t.Fatalf("decodePage error %v, encoding/json error %v, on %q", err, refErr, data)
		case err == nil && (!reflect.DeepEqual(got, want) || next != wantNext):
			t.Fatalf("decodePage gave %+v next %q, encoding/json %+v next %q, on %q", got, next, want, wantNext, data)
		}
	}
	if items != calls {
		t.Fatalf("decodePage counted %d items, the callback saw %d", items, calls)
	}
	if err == nil {
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		if stopAfter > 0 && calls >= stopAfter {
			t.Fatalf("the callback stopped after %d items, the decoder went on", stopAfter)
		}
		return
	}
	if err.Error() == "" {
		t.Fatal("an error without a message")
	}
	// What List makes of it is one bounded log line.
	oneLogLine(t, "decode error", bounded(err).Error(), maxDecodeErrorLen+len("…"))
	var cb *callbackError
	if errors.As(err, &cb) != errors.Is(err, errFuzzStop) || (errors.Is(err, errFuzzStop) && calls != stopAfter) {
		t.Fatalf("callback error mangled: %v after %d calls (stop at %d)", err, calls, stopAfter)
	}
}

// referencePage decodes a page the plain way: encoding/json for the page
// and for each element of every "value" member, in order.
func referencePage[T any](data []byte) ([]T, string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, "", errors.New("not an object")
	}
	var (
		out  []T
		next string
		saw  bool
	)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, "", err
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, "", err
		}
		switch key {
		case "value":
			saw = true
			var elems []json.RawMessage
			if err := json.Unmarshal(raw, &elems); err != nil {
				return nil, "", err
			}
			for _, e := range elems {
				var v T
				if err := json.Unmarshal(e, &v); err != nil {
					return nil, "", err
				}
				out = append(out, v)
			}
		case "@odata.nextLink":
			var s *string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, "", err
			}
			if s != nil {
				next = *s
			}
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, "", errors.New("unterminated object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, "", errors.New("data after the object")
	}
	if !saw {
		return nil, "", errors.New("no value")
	}
	return out, next, nil
}
