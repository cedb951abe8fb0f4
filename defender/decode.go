package defender

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// callbackError carries the caller's own error out of decodePage
// unchanged, apart from decode errors that get a position.
type callbackError struct{ err error }

func (e *callbackError) Error() string { return e.err.Error() }
func (e *callbackError) Unwrap() error { return e.err }

// decodePage streams an OData page, {"value":[...], "@odata.nextLink":"..."}
// in any key order, calling fn for each element of "value" without holding
// the page. Each element is decoded into a zeroed T: Decode leaves a field
// alone when its key is absent or null, so a reused value would carry the
// previous entity's data. Other keys are skipped token by token.
func decodePage[T any](r io.Reader, fn func(*T) error) (items int, nextLink string, err error) {
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return 0, "", err
	}
	var v T
	sawValue := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return items, nextLink, err
		}
		key, _ := tok.(string)
		switch key {
		case "value":
			sawValue = true
			n, err := decodeArray(dec, &v, fn)
			items += n
			if err != nil {
				return items, nextLink, err
			}
		case "@odata.nextLink":
			var s *string
			if err := dec.Decode(&s); err != nil {
				return items, nextLink, fmt.Errorf("@odata.nextLink: %w", err)
			}
			if s != nil {
				nextLink = *s
			}
		default:
			if err := skipValue(dec); err != nil {
				return items, nextLink, err
			}
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return items, nextLink, err
	}
	if !sawValue {
		return items, nextLink, errors.New(`no "value" array in the answer`)
	}
	if _, err := dec.Token(); err != io.EOF {
		return items, nextLink, errors.New("data after the JSON object")
	}
	return items, nextLink, nil
}

// decodeArray decodes the "value" array (or null) element by element.
func decodeArray[T any](dec *json.Decoder, v *T, fn func(*T) error) (int, error) {
	tok, err := dec.Token()
	if err != nil {
		return 0, err
	}
	if tok == nil {
		return 0, nil // "value": null
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return 0, fmt.Errorf(`"value": want an array, got %v`, tok)
	}
	n := 0
	for dec.More() {
		*v = *new(T)
		if err := dec.Decode(v); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF // the array was open
			}
			return n, fmt.Errorf("value[%d]: %w", n, err)
		}
		n++
		if err := fn(v); err != nil {
			return n, &callbackError{err}
		}
	}
	return n, expectDelim(dec, ']')
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("want %q, got %v", want, tok)
	}
	return nil
}

// skipValue consumes one JSON value of any shape.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}
