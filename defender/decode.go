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
// the page. The page is read through streamScanner (scan.go): each element
// is found and validated by the scanner, and only its members that T has a
// field for are decoded, by encoding/json (see entityFields). Each element is
// decoded into a zeroed T: a field whose key is absent or null is left alone
// by encoding/json, so a reused value would carry the previous entity's data.
// Other keys of the page are skipped.
func decodePage[T any](r io.Reader, fn func(*T) error) (items int, nextLink string, err error) {
	s := newStreamScanner(r)
	if err := s.expect('{', "looking for beginning of value"); err != nil {
		return 0, "", wantDelim(err, '{', s)
	}
	var v T
	d := &pageDecoder{fields: entityFieldsOf[T]()}
	sawValue := false
	for first := true; ; first = false {
		c, err := s.peek()
		if err != nil {
			return items, nextLink, err
		}
		if c == '}' {
			s.pos++
			break
		}
		if !first {
			if err := s.expect(',', "after object key:value pair"); err != nil {
				return items, nextLink, err
			}
		}
		key, err := s.key()
		if err != nil {
			return items, nextLink, err
		}
		switch key {
		case "value":
			sawValue = true
			n, err := decodeArray(s, &v, d, fn)
			items += n
			if err != nil {
				return items, nextLink, err
			}
		case "@odata.nextLink":
			start, end, err := s.value(1)
			if err != nil {
				return items, nextLink, err
			}
			var link *string
			if err := json.Unmarshal(s.buf[start:end], &link); err != nil {
				return items, nextLink, fmt.Errorf("@odata.nextLink: %w", err)
			}
			s.pos = end
			if link != nil {
				nextLink = *link
			}
		default:
			_, end, err := s.value(1)
			if err != nil {
				return items, nextLink, err
			}
			s.pos = end
		}
	}
	if !sawValue {
		return items, nextLink, errors.New(`no "value" array in the answer`)
	}
	if eof, err := s.atEOF(); err != nil || !eof {
		if err == nil {
			err = errors.New("data after the JSON object")
		}
		return items, nextLink, err
	}
	return items, nextLink, nil
}

// wantDelim words a missing opening delimiter as the Token-based decoder
// did ("want "{", got ["), which callers and tests rely on.
func wantDelim(err error, want byte, s *streamScanner) error {
	if s.pos < len(s.buf) && s.buf[s.pos] != want {
		return fmt.Errorf("want %q, got %s", string(want), string(s.buf[s.pos]))
	}
	return err
}

// decodeArray decodes the "value" array (or null) element by element.
func decodeArray[T any](s *streamScanner, v *T, d *pageDecoder, fn func(*T) error) (int, error) {
	c, err := s.peek()
	if err != nil {
		return 0, err
	}
	if c != '[' {
		start, end, err := s.value(1)
		if err != nil {
			return 0, err
		}
		if string(s.buf[start:end]) == "null" {
			s.pos = end
			return 0, nil // "value": null
		}
		got := s.buf[start:min(end, start+40)]
		if c == '{' {
			got = got[:1]
		}
		return 0, fmt.Errorf(`"value": want an array, got %s`, got)
	}
	s.pos++
	for n := 0; ; n++ {
		c, err := s.peek()
		if err != nil {
			return n, fmt.Errorf("value[%d]: %w", n, err)
		}
		if c == ']' && n == 0 {
			s.pos++
			return 0, nil
		}
		*v = *new(T)
		var end int
		if c == '{' && !d.fields.all {
			// The members' offsets are into s.buf.
			if _, end, d.members, err = s.members(2, d.members); err == nil {
				err = d.decodeObject(s.buf, v)
			}
		} else {
			var start int
			if start, end, err = s.value(2); err == nil {
				err = json.Unmarshal(s.buf[start:end], v)
			}
		}
		if err != nil {
			return n, fmt.Errorf("value[%d]: %w", n, err)
		}
		s.pos = end
		if err := fn(v); err != nil {
			return n + 1, &callbackError{err}
		}
		c, err = s.peek()
		if err != nil {
			return n + 1, err
		}
		switch c {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return n + 1, nil
		default:
			return n + 1, s.syntax(invalidChar(s.buf, s.pos, "after array element"))
		}
	}
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
