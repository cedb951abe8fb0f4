package defender

import (
	"bytes"
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"
)

// entityFields is how the page decoder decodes one entity type without
// handing whole entities to encoding/json, which scans every byte of an
// entity twice through a byte-at-a-time state machine and costs most of a
// refresh. The scanner (scan.go) finds an entity's members once; members
// whose key names no field (an alert's title, description, evidence...)
// are skipped unread; the rest are set directly when that is plainly what
// encoding/json would do (a string without escapes into a string field, a
// field with its own UnmarshalJSON, a list of such strings), and otherwise
// the entity goes to encoding/json, reduced to the members that matter.
// Keys match fields as encoding/json matches them: case-insensitively.
// FuzzEntityFieldsDecode checks that the result, and the error, are
// encoding/json's.
type entityFields struct {
	all    bool              // decode whole elements with encoding/json
	byName map[string]*field // lower-cased JSON name -> field
}

type fieldKind int

const (
	kindOther       fieldKind = iota // encoding/json decides
	kindString                       // a plain string
	kindStrings                      // a []string
	kindUnmarshaler                  // the field's own UnmarshalJSON
)

type field struct {
	index []int
	kind  fieldKind
	// intern is this field's slot in a page's intern tables (kindString).
	intern int
}

var entityFieldsCache sync.Map // reflect.Type -> *entityFields

func entityFieldsOf[T any]() *entityFields {
	t := reflect.TypeFor[T]()
	if f, ok := entityFieldsCache.Load(t); ok {
		return f.(*entityFields)
	}
	f := &entityFields{byName: map[string]*field{}}
	f.all = t.Kind() != reflect.Struct || implementsUnmarshaler(t) || !f.collect(t, nil, 0)
	entityFieldsCache.Store(t, f)
	return f
}

var (
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	stringType          = reflect.TypeFor[string]()
	stringsType         = reflect.TypeFor[[]string]()
)

func implementsUnmarshaler(t reflect.Type) bool {
	return t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType)
}

// collect adds t's fields, following structs embedded by value as
// encoding/json does. It reports false for what it does not model (an
// embedded pointer, two fields whose names fold together, a non-ASCII
// name): the type is then decoded whole.
func (f *entityFields) collect(t reflect.Type, index []int, depth int) bool {
	if depth > 8 {
		return false
	}
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		idx := append(append([]int(nil), index...), i)
		if sf.Anonymous && name == "" {
			switch {
			case sf.Type.Kind() == reflect.Struct:
				if implementsUnmarshaler(sf.Type) || !f.collect(sf.Type, idx, depth+1) {
					return false
				}
				continue
			case sf.Type.Kind() == reflect.Pointer && sf.Type.Elem().Kind() == reflect.Struct:
				return false
			}
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		lower, ok := asciiLower(name)
		if !ok {
			return false
		}
		if _, dup := f.byName[lower]; dup {
			return false // encoding/json's precedence rules decide; leave it to them
		}
		fd := &field{index: idx}
		switch {
		case implementsUnmarshaler(sf.Type):
			fd.kind = kindUnmarshaler
		case sf.Type == stringType:
			fd.kind, fd.intern = kindString, len(f.byName)
		case sf.Type == stringsType:
			fd.kind = kindStrings
		case reflect.PointerTo(sf.Type).Implements(textUnmarshalerType):
			fd.kind = kindOther
		}
		f.byName[lower] = fd
	}
	return true
}

// asciiLower lower-cases an ASCII name; false for anything else.
func asciiLower(s string) (string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return "", false
		}
	}
	return strings.ToLower(s), true
}

// maxKeyLen is the longest key looked up; a longer one is left to
// encoding/json, since no entity field has a name that long.
const maxKeyLen = 64

// lookup finds the field a raw key (between its quotes) names. unsure is
// true when only encoding/json can tell (an escape, a non-ASCII byte).
func (f *entityFields) lookup(raw []byte) (fd *field, unsure bool) {
	if len(raw) > maxKeyLen {
		return nil, true
	}
	var buf [maxKeyLen]byte
	for i, c := range raw {
		switch {
		case c == '\\' || c >= 0x80:
			return nil, true
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return f.byName[string(buf[:len(raw)])], false
}

// member is where one member of an object is, as offsets into the buffer:
// the key with its quotes, and the value.
type member struct {
	keyStart, keyEnd, valStart, valEnd int
}

// scanMembers scans the object at b[i], itself at nesting depth, like
// scanObject, and records where its members are.
func scanMembers(b []byte, i int, ms []member, depth int) (int, []member, error) {
	j := skipSpace(b, i+1)
	if j >= len(b) {
		return i, ms, errIncomplete
	}
	if b[j] == '}' {
		return j + 1, ms, nil
	}
	for {
		if j >= len(b) {
			return i, ms, errIncomplete
		}
		if b[j] != '"' {
			return i, ms, invalidChar(b, j, "looking for beginning of object key string")
		}
		var m member
		m.keyStart = j
		var err error
		if j, err = scanString(b, j); err != nil {
			return i, ms, err
		}
		m.keyEnd = j
		j = skipSpace(b, j)
		if j >= len(b) {
			return i, ms, errIncomplete
		}
		if b[j] != ':' {
			return i, ms, invalidChar(b, j, "after object key")
		}
		j = skipSpace(b, j+1)
		m.valStart = j
		if j, err = scanValueDepth(b, j, depth); err != nil {
			return i, ms, err
		}
		m.valEnd = j
		ms = append(ms, m)
		j = skipSpace(b, j)
		if j >= len(b) {
			return i, ms, errIncomplete
		}
		switch b[j] {
		case ',':
			j = skipSpace(b, j+1)
		case '}':
			return j + 1, ms, nil
		default:
			return i, ms, invalidChar(b, j, "after object key:value pair")
		}
	}
}

// pageDecoder holds what decoding one page reuses between entities.
type pageDecoder struct {
	fields  *entityFields
	members []member
	compact []byte
	// interned holds, per string field, the values seen on this page, so
	// that the few distinct values of an enum-like field (severity,
	// status...) are allocated once per page instead of once per entity.
	// A field with many distinct values (ids) stops being interned at
	// maxInterned.
	interned []map[string]string
}

const maxInterned = 256

func (d *pageDecoder) intern(slot int, raw []byte) string {
	for len(d.interned) <= slot {
		d.interned = append(d.interned, nil)
	}
	m := d.interned[slot]
	if m == nil {
		m = map[string]string{}
		d.interned[slot] = m
	}
	if s, ok := m[string(raw)]; ok {
		return s
	}
	s := string(raw)
	if len(m) < maxInterned {
		m[s] = s
	}
	return s
}

// decodeObject decodes an object, whose members were scanned from b, into
// v (a pointer to a zeroed struct of the fields' type).
func (d *pageDecoder) decodeObject(b []byte, v any) error {
	rv := reflect.ValueOf(v).Elem()
	if d.setDirect(b, rv) {
		return nil
	}
	// Something only encoding/json can decide: start again from zero
	// with encoding/json, on the members that may reach a field.
	rv.SetZero()
	out := append(d.compact[:0], '{')
	for _, m := range d.members {
		if fd, unsure := d.fields.lookup(b[m.keyStart+1 : m.keyEnd-1]); fd != nil || unsure {
			out = append(out, b[m.keyStart:m.keyEnd]...)
			out = append(out, ':')
			out = append(out, b[m.valStart:m.valEnd]...)
			out = append(out, ',')
		}
	}
	if out[len(out)-1] == ',' {
		out[len(out)-1] = '}'
	} else {
		out = append(out, '}')
	}
	d.compact = out
	return json.Unmarshal(out, v)
}

// setDirect sets every field the members name when each is a case
// encoding/json would settle the same way; false leaves the rest to it.
func (d *pageDecoder) setDirect(b []byte, rv reflect.Value) bool {
	for _, m := range d.members {
		fd, unsure := d.fields.lookup(b[m.keyStart+1 : m.keyEnd-1])
		if unsure {
			return false
		}
		if fd == nil {
			continue
		}
		val := b[m.valStart:m.valEnd]
		switch fd.kind {
		case kindString:
			if string(val) == "null" {
				continue // encoding/json leaves the field alone
			}
			s, ok := plainString(val)
			if !ok {
				return false
			}
			rv.FieldByIndex(fd.index).SetString(d.intern(fd.intern, s))
		case kindStrings:
			if string(val) == "null" {
				continue
			}
			list, ok := plainStrings(val)
			if !ok {
				return false
			}
			rv.FieldByIndex(fd.index).Set(reflect.ValueOf(list))
		case kindUnmarshaler:
			u := rv.FieldByIndex(fd.index).Addr().Interface().(json.Unmarshaler)
			if err := u.UnmarshalJSON(val); err != nil {
				return false // encoding/json reports it, as it does
			}
		default:
			return false
		}
	}
	return true
}

// plainString returns the contents of a JSON string that needs no
// unescaping and is valid UTF-8 (encoding/json would replace bad bytes).
func plainString(val []byte) ([]byte, bool) {
	if len(val) < 2 || val[0] != '"' {
		return nil, false
	}
	s := val[1 : len(val)-1]
	if bytes.IndexByte(s, '\\') >= 0 || !utf8.Valid(s) {
		return nil, false
	}
	return s, true
}

// plainStrings decodes a JSON array of plain strings.
func plainStrings(val []byte) ([]string, bool) {
	if val[0] != '[' {
		return nil, false
	}
	list := []string{}
	i := skipSpace(val, 1)
	for i < len(val) && val[i] != ']' {
		end, err := scanValue(val, i)
		if err != nil {
			return nil, false
		}
		s, ok := plainString(val[i:end])
		if !ok {
			return nil, false
		}
		list = append(list, string(s))
		i = skipSpace(val, end)
		if i < len(val) && val[i] == ',' {
			i = skipSpace(val, i+1)
		}
	}
	return list, true
}
