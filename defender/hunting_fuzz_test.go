package defender

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// FuzzDecodeHunting feeds arbitrary bytes to the advanced hunting result
// decoder: no input may panic; an accepted answer is valid JSON with a
// results member, and every row it counts reached the callback; a callback
// error comes back as is.
func FuzzDecodeHunting(f *testing.F) {
	f.Add([]byte(`{"@odata.context":"x","schema":[{"name":"n","type":"Int64"}],"results":[{"n":1},{"n":2}]}`), uint8(0))
	f.Add([]byte(`{"Stats":{"ExecutionTime":0.1},"Schema":[{"Name":"S","Type":"String"}],"Results":[{"S":"a","count_":3}]}`), uint8(1))
	f.Add([]byte(`{"Results":[{"S":{"dyn":[1,2]}},{"S":null}],"Schema":[]}`), uint8(2))
	f.Add([]byte(`{"results":null}`), uint8(0))
	f.Add([]byte(`{"schema":[{"name":"n","type":"Int64"}]}`), uint8(0))
	f.Add([]byte(`{"results":[{"a":1}`), uint8(0))
	f.Add([]byte(`{"results":[1,2]}`), uint8(0))
	f.Add([]byte(`{"results":[{"a":1}]}x`), uint8(0))
	f.Add([]byte(`{"schema":"nope","results":[]}`), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, stopAfter uint8) {
		calls := 0
		res, err := decodeHunting(bytes.NewReader(data), func(row HuntingRow) error {
			calls++
			for k, v := range row {
				if !json.Valid(v) {
					t.Fatalf("row %d column %q: invalid JSON %q", calls, k, v)
				}
			}
			if calls == int(stopAfter) {
				return errFuzzStop
			}
			return nil
		})
		if err == nil {
			switch {
			case res == nil:
				t.Fatal("no result and no error")
			case !json.Valid(data):
				t.Fatalf("accepted invalid JSON %q", data)
			case res.Rows != calls:
				t.Fatalf("%d rows counted, %d passed to the callback", res.Rows, calls)
			case stopAfter > 0 && calls >= int(stopAfter):
				t.Fatalf("the callback stopped after %d rows, the decoder went on", stopAfter)
			}
			_ = res.ColumnNames()
			return
		}
		if res != nil {
			t.Fatal("a result with an error")
		}
		// What RunHunting makes of it is one bounded log line.
		oneLogLine(t, "decode error", bounded(err).Error(), maxDecodeErrorLen+len("…"))
		var cb *callbackError
		if errors.As(err, &cb) != errors.Is(err, errFuzzStop) || (errors.Is(err, errFuzzStop) && calls != int(stopAfter)) {
			t.Fatalf("callback error mangled: %v after %d calls (stop at %d)", err, calls, stopAfter)
		}
	})
}
