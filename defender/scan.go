package defender

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// A validating JSON scanner that finds where values end without decoding
// them. encoding/json scans every byte of a value twice (once to find its
// end, once to decode it) through a byte-at-a-time state machine; most of
// an alert (title, description, evidence, comments) is never used. The
// page decoder scans each entity once with this, hands encoding/json only
// the members the entity type has a field for, and so decodes a page about
// three times as fast, with the same results: the scanner accepts exactly
// the JSON grammar (FuzzScanMatchesEncodingJSON), and every value that
// reaches a field is decoded by encoding/json as before.

// errIncomplete means the buffer ended inside a value: read more and scan
// the value again from its start.
var errIncomplete = errors.New("incomplete JSON value")

// maxScanDepth bounds nesting, as encoding/json does (10,000).
const maxScanDepth = 10000

// syntaxError describes a grammar violation at an offset of the buffer
// scanned; the page decoder adds the stream position.
type syntaxError struct {
	msg string
	off int
}

func (e *syntaxError) Error() string { return e.msg }

func invalidChar(b []byte, i int, context string) error {
	return &syntaxError{msg: fmt.Sprintf("invalid character %s %s", quoteChar(b[i]), context), off: i}
}

func quoteChar(c byte) string {
	switch {
	case c == '\'':
		return `'\''`
	case c == '"':
		return `'"'`
	case c < 0x20 || c >= 0x7f:
		return fmt.Sprintf("%q", rune(c))
	}
	return "'" + string(c) + "'"
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipSpace returns the index of the first non-space byte at or after i.
func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// scanValue returns the end of the JSON value starting at b[i] (no leading
// space), errIncomplete if b ends first, or a syntax error.
func scanValue(b []byte, i int) (int, error) { return scanValueDepth(b, i, 0) }

// scanValueDepth is scanValue for a value nested in depth objects and
// arrays: the nesting limit counts from the top of the document.

func scanValueDepth(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return i, errIncomplete
	}
	switch c := b[i]; {
	case c == '"':
		return scanString(b, i)
	case c == '{':
		return scanObject(b, i, depth+1)
	case c == '[':
		return scanArray(b, i, depth+1)
	case c == '-' || (c >= '0' && c <= '9'):
		return scanNumber(b, i)
	case c == 't':
		return scanLiteral(b, i, "true")
	case c == 'f':
		return scanLiteral(b, i, "false")
	case c == 'n':
		return scanLiteral(b, i, "null")
	}
	return i, invalidChar(b, i, "looking for beginning of value")
}

func scanLiteral(b []byte, i int, lit string) (int, error) {
	for k := 1; k < len(lit); k++ {
		if i+k >= len(b) {
			return i, errIncomplete
		}
		if b[i+k] != lit[k] {
			return i, invalidChar(b, i+k, "in literal "+lit+" (expecting "+quoteChar(lit[k])+")")
		}
	}
	return i + len(lit), nil
}

// scanString returns the end of the string starting at b[i] == '"'.
func scanString(b []byte, i int) (int, error) {
	j := i + 1
	for j < len(b) {
		c := b[j]
		switch {
		case c == '"':
			return j + 1, nil
		case c == '\\':
			if j+1 >= len(b) {
				return i, errIncomplete
			}
			switch b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				for k := 2; k < 6; k++ {
					if j+k >= len(b) {
						return i, errIncomplete
					}
					if !isHex(b[j+k]) {
						return i, invalidChar(b, j+k, "in \\u hexadecimal character escape")
					}
				}
				j += 6
			default:
				return i, invalidChar(b, j+1, "in string escape code")
			}
		case c < 0x20:
			return i, invalidChar(b, j, "in string literal")
		default:
			j++
		}
	}
	return i, errIncomplete
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// scanNumber returns the end of the number starting at b[i]. A number that
// reaches the end of b is incomplete: more digits may follow.
func scanNumber(b []byte, i int) (int, error) {
	j := i
	if b[j] == '-' {
		j++
	}
	if j >= len(b) {
		return i, errIncomplete
	}
	switch {
	case b[j] == '0':
		j++
	case isDigit(b[j]):
		for j < len(b) && isDigit(b[j]) {
			j++
		}
	default:
		return i, invalidChar(b, j, "in numeric literal")
	}
	if j < len(b) && b[j] == '.' {
		j++
		if j >= len(b) {
			return i, errIncomplete
		}
		if !isDigit(b[j]) {
			return i, invalidChar(b, j, "after decimal point in numeric literal")
		}
		for j < len(b) && isDigit(b[j]) {
			j++
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if j >= len(b) {
			return i, errIncomplete
		}
		if !isDigit(b[j]) {
			return i, invalidChar(b, j, "in exponent of numeric literal")
		}
		for j < len(b) && isDigit(b[j]) {
			j++
		}
	}
	if j >= len(b) {
		return i, errIncomplete
	}
	return j, nil
}

// isJSONNumber reports whether b is exactly one JSON number.
func isJSONNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && isDigit(b[i]):
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	return i == len(b)
}

func scanObject(b []byte, i, depth int) (int, error) {
	if depth > maxScanDepth {
		return i, &syntaxError{msg: "exceeded max depth", off: i}
	}
	j := skipSpace(b, i+1)
	if j >= len(b) {
		return i, errIncomplete
	}
	if b[j] == '}' {
		return j + 1, nil
	}
	for {
		if j >= len(b) {
			return i, errIncomplete
		}
		if b[j] != '"' {
			return i, invalidChar(b, j, "looking for beginning of object key string")
		}
		var err error
		if j, err = scanString(b, j); err != nil {
			return i, err
		}
		j = skipSpace(b, j)
		if j >= len(b) {
			return i, errIncomplete
		}
		if b[j] != ':' {
			return i, invalidChar(b, j, "after object key")
		}
		j = skipSpace(b, j+1)
		if j, err = scanValueDepth(b, j, depth); err != nil {
			return i, err
		}
		j = skipSpace(b, j)
		if j >= len(b) {
			return i, errIncomplete
		}
		switch b[j] {
		case ',':
			j = skipSpace(b, j+1)
		case '}':
			return j + 1, nil
		default:
			return i, invalidChar(b, j, "after object key:value pair")
		}
	}
}

func scanArray(b []byte, i, depth int) (int, error) {
	if depth > maxScanDepth {
		return i, &syntaxError{msg: "exceeded max depth", off: i}
	}
	j := skipSpace(b, i+1)
	if j >= len(b) {
		return i, errIncomplete
	}
	if b[j] == ']' {
		return j + 1, nil
	}
	for {
		var err error
		if j, err = scanValueDepth(b, j, depth); err != nil {
			return i, err
		}
		j = skipSpace(b, j)
		if j >= len(b) {
			return i, errIncomplete
		}
		switch b[j] {
		case ',':
			j = skipSpace(b, j+1)
		case ']':
			return j + 1, nil
		default:
			return i, invalidChar(b, j, "after array element")
		}
	}
}

// streamScanner is a sliding window over a stream, for scanning one value
// at a time: values are found in buf and used before the next refill.
type streamScanner struct {
	r    io.Reader
	buf  []byte
	pos  int   // next unread byte of buf
	base int64 // stream offset of buf[0], for error positions
	eof  bool
	err  error // a read error other than EOF
}

// scanChunk is the size of one read.
const scanChunk = 64 << 10

func newStreamScanner(r io.Reader) *streamScanner {
	return &streamScanner{r: r, buf: make([]byte, 0, scanChunk)}
}

// fill reads more, keeping the unread bytes (moved to the front of buf;
// offsets into buf taken before fill are void). It grows buf when one
// value fills it. It reports whether anything was read.
func (s *streamScanner) fill() bool {
	if s.eof || s.err != nil {
		return false
	}
	if s.pos > 0 {
		n := copy(s.buf, s.buf[s.pos:])
		s.base += int64(s.pos)
		s.buf, s.pos = s.buf[:n], 0
	}
	if cap(s.buf)-len(s.buf) < scanChunk/2 {
		grown := make([]byte, len(s.buf), 2*cap(s.buf)+scanChunk)
		copy(grown, s.buf)
		s.buf = grown
	}
	for {
		n, err := s.r.Read(s.buf[len(s.buf):cap(s.buf)])
		s.buf = s.buf[:len(s.buf)+n]
		switch {
		case err == io.EOF:
			s.eof = true
		case err != nil:
			s.err = err
		}
		if n > 0 || s.eof || s.err != nil {
			return n > 0
		}
	}
}

// endErr is the error for a stream that ended where more was expected.
func (s *streamScanner) endErr() error {
	if s.err != nil {
		return s.err
	}
	return io.ErrUnexpectedEOF
}

// peek skips space and returns the next byte without consuming it.
func (s *streamScanner) peek() (byte, error) {
	for {
		s.pos = skipSpace(s.buf, s.pos)
		if s.pos < len(s.buf) {
			return s.buf[s.pos], nil
		}
		if !s.fill() {
			return 0, s.endErr()
		}
	}
}

// expect consumes the next byte, which must be c.
func (s *streamScanner) expect(c byte, context string) error {
	got, err := s.peek()
	if err != nil {
		return err
	}
	if got != c {
		return s.syntax(invalidChar(s.buf, s.pos, context))
	}
	s.pos++
	return nil
}

// value finds the next value, nested in depth objects and arrays;
// buf[start:end] is valid until the next call. It does not consume the
// value: the caller sets pos = end when done.
func (s *streamScanner) value(depth int) (start, end int, err error) {
	for {
		if _, err := s.peek(); err != nil {
			return 0, 0, err
		}
		end, err := scanValueDepth(s.buf, s.pos, depth)
		if err == nil {
			return s.pos, end, nil
		}
		if err != errIncomplete {
			return 0, 0, s.syntax(err)
		}
		if !s.fill() {
			// A number ends at the end of the stream; anything else
			// left open is truncated.
			if s.eof && s.err == nil {
				if e, err := scanValueDepth(append(s.buf[:len(s.buf):len(s.buf)], ' '), s.pos, depth); err == nil && e == len(s.buf) {
					return s.pos, e, nil
				}
			}
			return 0, 0, s.endErr()
		}
	}
}

// atEOF reports whether only space remains.
func (s *streamScanner) atEOF() (bool, error) {
	_, err := s.peek()
	switch {
	case err == io.ErrUnexpectedEOF:
		return true, nil
	case err != nil:
		return false, err
	}
	return false, nil
}

// syntax adds the stream offset to a syntax error.
func (s *streamScanner) syntax(err error) error {
	var se *syntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("%s (at byte %d)", se.msg, s.base+int64(se.off))
	}
	return err
}

// members scans the object at the next position, nested in depth objects
// and arrays, recording its members in ms; the offsets are valid until the
// next call. It does not consume the object: the caller sets pos = end.
func (s *streamScanner) members(depth int, ms []member) (start, end int, _ []member, err error) {
	for {
		if _, err := s.peek(); err != nil {
			return 0, 0, ms, err
		}
		if depth+1 > maxScanDepth {
			return 0, 0, ms, s.syntax(&syntaxError{msg: "exceeded max depth", off: s.pos})
		}
		end, ms, err := scanMembers(s.buf, s.pos, ms[:0], depth+1)
		if err == nil {
			return s.pos, end, ms, nil
		}
		if err != errIncomplete {
			return 0, 0, ms, s.syntax(err)
		}
		if !s.fill() {
			return 0, 0, ms, s.endErr()
		}
	}
}

// key reads an object key and the colon after it.
func (s *streamScanner) key() (string, error) {
	c, err := s.peek()
	if err != nil {
		return "", err
	}
	if c != '"' {
		return "", s.syntax(invalidChar(s.buf, s.pos, "looking for beginning of object key string"))
	}
	start, end, err := s.value(1)
	if err != nil {
		return "", err
	}
	raw := s.buf[start+1 : end-1]
	var k string
	if bytes.IndexByte(raw, '\\') < 0 {
		k = string(raw)
	} else if err := json.Unmarshal(s.buf[start:end], &k); err != nil {
		return "", err
	}
	s.pos = end
	return k, s.expect(':', "after object key")
}
