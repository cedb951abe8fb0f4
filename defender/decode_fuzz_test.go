package defender

import (
	"bytes"
	"encoding/json"
	"errors"
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
	items, _, err := decodePage(bytes.NewReader(data), func(*T) error {
		calls++
		if calls == stopAfter {
			return errFuzzStop
		}
		return nil
	})
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
	var cb *callbackError
	if errors.As(err, &cb) != errors.Is(err, errFuzzStop) || (errors.Is(err, errFuzzStop) && calls != stopAfter) {
		t.Fatalf("callback error mangled: %v after %d calls (stop at %d)", err, calls, stopAfter)
	}
}
