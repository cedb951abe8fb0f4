package defendertest

import (
	"cmp"
	"strings"
)

// Compiling a parsed $filter against an entity's filterable properties gives
// a predicate; type errors (a quoted string for a datetime property, an
// ordering operator on a collection) are caught here, once per request.

type fieldKind int

const (
	kindString  fieldKind = iota
	kindTime              // DateTimeOffset: compared with unquoted datetime literals
	kindNumber            // integers such as incidentId and rbacGroupId
	kindStrings           // a string collection (machineTags): eq/ne test membership
	kindFloat             // Edm.Double (cvssV3, severityScore)
	kindBool              // Edm.Boolean (generateAlert): eq/ne with true or false
)

func (k fieldKind) String() string {
	return [...]string{"Edm.String", "Edm.DateTimeOffset", "Edm.Int64", "Collection(Edm.String)", "Edm.Double", "Edm.Boolean"}[k]
}

// fieldValue is one property of one entity; null marks a JSON null.
type fieldValue struct {
	null bool
	s    string
	i    int64 // Time, integer, or a Boolean as 0/1
	f    float64
	list []string
}

// filterField is a filterable property of T.
type filterField[T any] struct {
	name string // wire spelling
	kind fieldKind
	get  func(*T) fieldValue
}

func strField[T any](name string, get func(*T) string) filterField[T] {
	return filterField[T]{name, kindString, func(e *T) fieldValue {
		s := get(e)
		return fieldValue{null: s == "", s: s}
	}}
}

func timeField[T any](name string, get func(*T) Time) filterField[T] {
	return filterField[T]{name, kindTime, func(e *T) fieldValue {
		t := get(e)
		return fieldValue{null: t == 0, i: int64(t)}
	}}
}

// intField is a number property; nullZero says whether 0 means null
// (incidentId) or is a real value (rbacGroupId 0 = ungrouped).
func intField[T any](name string, nullZero bool, get func(*T) int64) filterField[T] {
	return filterField[T]{name, kindNumber, func(e *T) fieldValue {
		n := get(e)
		return fieldValue{null: nullZero && n == 0, i: n}
	}}
}

func stringsField[T any](name string, get func(*T) []string) filterField[T] {
	return filterField[T]{name, kindStrings, func(e *T) fieldValue { return fieldValue{list: get(e)} }}
}

// floatField is a Double property; ok false means null.
func floatField[T any](name string, get func(*T) (float64, bool)) filterField[T] {
	return filterField[T]{name, kindFloat, func(e *T) fieldValue {
		v, ok := get(e)
		return fieldValue{null: !ok, f: v}
	}}
}

func boolField[T any](name string, get func(*T) bool) filterField[T] {
	return filterField[T]{name, kindBool, func(e *T) fieldValue { return fieldValue{i: boolToInt(get(e))} }}
}

// filterFields indexes the filterable properties by lower-cased name.
type filterFields[T any] struct {
	entity string // type name for error messages
	byName map[string]filterField[T]
}

func newFilterFields[T any](entity string, fields ...filterField[T]) filterFields[T] {
	m := make(map[string]filterField[T], len(fields))
	for _, f := range fields {
		m[strings.ToLower(f.name)] = f
	}
	return filterFields[T]{entity: entity, byName: m}
}

// compileFilter parses and type-checks src. An empty filter selects all.
func compileFilter[T any](src string, ff filterFields[T]) (func(*T) bool, error) {
	if strings.TrimSpace(src) == "" {
		return func(*T) bool { return true }, nil
	}
	n, err := parseFilter(src)
	if err != nil {
		return nil, err
	}
	return compileNode(n, ff)
}

func compileNode[T any](n filterNode, ff filterFields[T]) (func(*T) bool, error) {
	switch n := n.(type) {
	case boolNode:
		l, err := compileNode(n.left, ff)
		if err != nil {
			return nil, err
		}
		r, err := compileNode(n.right, ff)
		if err != nil {
			return nil, err
		}
		if n.and {
			return func(e *T) bool { return l(e) && r(e) }, nil
		}
		return func(e *T) bool { return l(e) || r(e) }, nil
	case notNode:
		x, err := compileNode(n.x, ff)
		if err != nil {
			return nil, err
		}
		return func(e *T) bool { return !x(e) }, nil
	case funcNode:
		f, err := ff.lookup(n.field)
		if err != nil {
			return nil, err
		}
		if f.kind != kindString {
			return nil, filterErrorf("%s() needs a string property; '%s' is %s", n.fn, f.name, f.kind)
		}
		arg := strings.ToLower(n.arg)
		var match func(s string) bool
		switch n.fn {
		case "startswith":
			match = func(s string) bool { return strings.HasPrefix(strings.ToLower(s), arg) }
		case "endswith":
			match = func(s string) bool { return strings.HasSuffix(strings.ToLower(s), arg) }
		default:
			match = func(s string) bool { return strings.Contains(strings.ToLower(s), arg) }
		}
		return func(e *T) bool {
			v := f.get(e)
			return !v.null && match(v.s)
		}, nil
	case compareNode:
		return compileCompare(n, ff)
	}
	return nil, filterErrorf("unsupported expression")
}

func (ff filterFields[T]) lookup(name string) (filterField[T], error) {
	f, ok := ff.byName[strings.ToLower(name)]
	if !ok {
		return f, filterErrorf("the property '%s' cannot be used in the $filter query option: it is not a filterable property of %s", name, ff.entity)
	}
	return f, nil
}

func compileCompare[T any](n compareNode, ff filterFields[T]) (func(*T) bool, error) {
	f, err := ff.lookup(n.field)
	if err != nil {
		return nil, err
	}
	op, lit := n.op, n.lit
	isNull := lit.kind == tokIdent && strings.EqualFold(lit.text, "null")
	if isNull {
		if op != "eq" && op != "ne" {
			return func(*T) bool { return false }, nil // ordering against null is never true
		}
		want := op == "eq"
		if f.kind == kindStrings {
			return func(e *T) bool { return (len(f.get(e).list) == 0) == want }, nil
		}
		return func(e *T) bool { return f.get(e).null == want }, nil
	}
	if lit.kind == tokIdent && isProperty(lit) {
		if _, known := ff.byName[strings.ToLower(lit.text)]; known {
			return nil, filterErrorf("comparing two properties ('%s' %s '%s') is not supported", n.field, op, lit.text)
		}
		return nil, filterErrorf("could not find a property named '%s' on %s (string values need single quotes)", lit.text, ff.entity)
	}
	mismatch := func() error {
		return filterErrorf("a binary operator with incompatible types was detected: '%s' (%s) %s %s", f.name, f.kind, op, lit.text)
	}
	switch f.kind {
	case kindString:
		if lit.kind != tokString {
			return nil, mismatch()
		}
		want := lit.str
		lower := strings.ToLower(want)
		return func(e *T) bool {
			v := f.get(e)
			if v.null {
				return op == "ne"
			}
			if op == "eq" || op == "ne" {
				return strings.EqualFold(v.s, want) == (op == "eq")
			}
			return ordered(strings.Compare(strings.ToLower(v.s), lower), op)
		}, nil
	case kindStrings:
		if lit.kind != tokString {
			return nil, mismatch()
		}
		if op != "eq" && op != "ne" {
			return nil, filterErrorf("the operator '%s' cannot be applied to the collection property '%s'", op, f.name)
		}
		want := lit.str
		return func(e *T) bool {
			found := false
			for _, s := range f.get(e).list {
				if strings.EqualFold(s, want) {
					found = true
					break
				}
			}
			return found == (op == "eq")
		}, nil
	case kindTime:
		if lit.kind != tokDateTime {
			return nil, mismatch()
		}
		want := lit.tm.UnixNano()
		return compareInts(f, op, want), nil
	case kindNumber:
		if lit.kind != tokNumber {
			return nil, mismatch()
		}
		if lit.num != float64(int64(lit.num)) {
			// An integer property never equals a fraction; ordering still works
			// by rounding the bound the right way.
			switch op {
			case "eq":
				return func(*T) bool { return false }, nil
			case "ne":
				return func(e *T) bool { return !f.get(e).null }, nil
			case "gt", "ge":
				return compareInts(f, "gt", int64(lit.num)-boolToInt(lit.num < 0)), nil
			default:
				return compareInts(f, "le", int64(lit.num)-boolToInt(lit.num < 0)), nil
			}
		}
		return compareInts(f, op, int64(lit.num)), nil
	case kindFloat:
		if lit.kind != tokNumber {
			return nil, mismatch()
		}
		want := lit.num
		return func(e *T) bool {
			v := f.get(e)
			if v.null {
				return op == "ne"
			}
			return ordered(cmp.Compare(v.f, want), op)
		}, nil
	case kindBool:
		if lit.kind != tokIdent || !(strings.EqualFold(lit.text, "true") || strings.EqualFold(lit.text, "false")) {
			return nil, mismatch()
		}
		if op != "eq" && op != "ne" {
			return nil, filterErrorf("the operator '%s' cannot be applied to the Boolean property '%s'", op, f.name)
		}
		want := boolToInt(strings.EqualFold(lit.text, "true"))
		return func(e *T) bool { return (f.get(e).i == want) == (op == "eq") }, nil
	}
	return nil, mismatch()
}

func boolToInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func compareInts[T any](f filterField[T], op string, want int64) func(*T) bool {
	return func(e *T) bool {
		v := f.get(e)
		if v.null {
			return op == "ne"
		}
		c := 0
		if v.i < want {
			c = -1
		} else if v.i > want {
			c = 1
		}
		return ordered(c, op)
	}
}

func ordered(c int, op string) bool {
	switch op {
	case "eq":
		return c == 0
	case "ne":
		return c != 0
	case "gt":
		return c > 0
	case "ge":
		return c >= 0
	case "lt":
		return c < 0
	case "le":
		return c <= 0
	}
	return false
}
