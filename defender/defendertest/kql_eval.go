package defendertest

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// kType is a Kusto scalar type. Values in a kTable row are Go values:
// string, int64 (long), float64 (real), bool, time.Time (datetime),
// time.Duration (timespan), or nil for null. Strings are never null in
// Kusto: an absent string is "".
type kType string

const (
	kString   kType = "string"
	kLong     kType = "long"
	kReal     kType = "real"
	kBool     kType = "bool"
	kDatetime kType = "datetime"
	kTimespan kType = "timespan"
	// kDynamic holds JSON-like values: map[string]any, []any, string,
	// float64, bool or nil (AdditionalFields).
	kDynamic kType = "dynamic"
)

// wire is the type name the hunting APIs put in the schema (the .NET name).
func (t kType) wire() string {
	switch t {
	case kString:
		return "String"
	case kLong:
		return "Int64"
	case kReal:
		return "Double"
	case kBool:
		return "Boolean"
	case kDatetime:
		return "DateTime"
	case kTimespan:
		return "TimeSpan"
	case kDynamic:
		return "Object"
	}
	return "Object"
}

func (t kType) numeric() bool { return t == kLong || t == kReal }

type kColumn struct {
	name string
	typ  kType
}

// kTable is a query's intermediate result. Its rows are either held
// (rows) or streamed (gen): tables built from the dataset and the
// row-by-row operators (where, project, extend, join, distinct, take)
// stream, so a query over millions of (device, CVE) rows holds only what
// its aggregations keep, as a real cluster would.
type kTable struct {
	cols []kColumn
	rows [][]any
	// gen, when set, calls yield with each row until yield returns false.
	// The row slice may be reused from one call to the next: a consumer
	// that keeps a row keeps a copy.
	gen func(yield func(row []any) bool)
}

func (t *kTable) col(name string) int {
	for i, c := range t.cols {
		if c.name == name {
			return i
		}
	}
	return -1
}

// each passes every row to yield, stopping when it returns false.
func (t *kTable) each(yield func(row []any) bool) {
	if t.gen != nil {
		t.gen(yield)
		return
	}
	for _, r := range t.rows {
		if !yield(r) {
			return
		}
	}
}

// held returns t with its rows held, copying streamed ones.
func (t *kTable) held() *kTable {
	if t.gen == nil {
		return t
	}
	out := &kTable{cols: t.cols}
	t.each(func(r []any) bool {
		out.rows = append(out.rows, append([]any(nil), r...))
		return true
	})
	return out
}

// streamed builds a streaming table.
func streamed(cols []kColumn, gen func(yield func(row []any) bool)) *kTable {
	return &kTable{cols: cols, gen: gen}
}

// kqlEnv is what evaluation needs besides the query.
type kqlEnv struct {
	now time.Time
	// tables resolves a table name (the query's and a join's).
	tables func(name string) (*kTable, bool)
}

// runKQL parses and evaluates src over the tables; the result holds its
// rows.
func runKQL(src string, env *kqlEnv, tables func(name string) (*kTable, bool)) (*kTable, error) {
	q, err := parseKQL(src)
	if err != nil {
		return nil, err
	}
	env.tables = tables
	t, err := env.run(q)
	if err != nil {
		return nil, err
	}
	return t.held(), nil
}

// run evaluates a parsed pipeline; its result may stream.
func (env *kqlEnv) run(q *kqlQuery) (*kTable, error) {
	t, ok := env.tables(q.table.text)
	if !ok {
		return nil, kqlErrorf("Failed to resolve table or column expression named '%s'", q.table.text)
	}
	var err error
	for _, op := range q.ops {
		if t, err = op.apply(env, t); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// --- expression compilation ---

type evalFn func(row []any) any

func unresolved(op, name string) error {
	return kqlErrorf("'%s' operator: Failed to resolve scalar expression named '%s'", op, name)
}

func compileExpr(n kqlNode, t *kTable, env *kqlEnv, op string) (evalFn, kType, error) {
	switch n := n.(type) {
	case *colNode:
		i := t.col(n.t.text)
		if i < 0 {
			return nil, "", unresolved(op, n.t.text)
		}
		return func(row []any) any { return row[i] }, t.cols[i].typ, nil
	case *litNode:
		v, typ := literal(n.t)
		return func([]any) any { return v }, typ, nil
	case *callNode:
		return compileCall(n, t, env, op)
	case *binNode:
		return compileBinary(n, t, env, op)
	case *inNode:
		return compileIn(n, t, env, op)
	case *memberNode:
		x, typ, err := compileExpr(n.x, t, env, op)
		if err != nil {
			return nil, "", err
		}
		if typ != kDynamic {
			return nil, "", kqlErrorf("'%s' operator: member access '.%s' needs a dynamic value, got %s", op, n.t.text, typ)
		}
		name := n.t.text
		return func(row []any) any {
			m, _ := x(row).(map[string]any)
			return m[name]
		}, kDynamic, nil
	}
	return nil, "", kqlErrorf("'%s' operator: unsupported expression", op)
}

func literal(t kqlToken) (any, kType) {
	switch t.kind {
	case kqlString:
		return t.str, kString
	case kqlNumber:
		if t.isInt {
			return t.i, kLong
		}
		return t.f, kReal
	case kqlTimespan:
		return t.dur, kTimespan
	case kqlDatetime:
		return t.t, kDatetime
	}
	return t.text == "true", kBool
}

func compileCall(n *callNode, t *kTable, env *kqlEnv, op string) (evalFn, kType, error) {
	name := n.t.text
	args := make([]evalFn, len(n.args))
	types := make([]kType, len(n.args))
	for i, a := range n.args {
		f, typ, err := compileExpr(a, t, env, op)
		if err != nil {
			return nil, "", err
		}
		args[i], types[i] = f, typ
	}
	arity := func(want int) error {
		if len(args) != want {
			return kqlErrorf("'%s' operator: function '%s' expects %d argument(s), got %d", op, name, want, len(args))
		}
		return nil
	}
	switch name {
	case "ago":
		if err := arity(1); err != nil {
			return nil, "", err
		}
		if types[0] != kTimespan {
			return nil, "", kqlErrorf("'%s' operator: ago(): argument must be a timespan, e.g. ago(1d)", op)
		}
		at := env.now.Add(-args[0](nil).(time.Duration))
		return func([]any) any { return at }, kDatetime, nil
	case "now":
		if err := arity(0); err != nil {
			return nil, "", err
		}
		return func([]any) any { return env.now }, kDatetime, nil
	case "isempty", "isnotempty", "isnull", "isnotnull":
		if err := arity(1); err != nil {
			return nil, "", err
		}
		f, wantEmpty, strEmpty := args[0], !strings.Contains(name, "not"), strings.HasSuffix(name, "empty")
		return func(row []any) any {
			v := f(row)
			empty := v == nil || (strEmpty && v == "")
			return empty == wantEmpty
		}, kBool, nil
	case "not":
		if err := arity(1); err != nil {
			return nil, "", err
		}
		if types[0] != kBool {
			return nil, "", kqlErrorf("'%s' operator: not(): argument must be of type bool", op)
		}
		f := args[0]
		return func(row []any) any { return f(row) != true }, kBool, nil
	case "tostring":
		if err := arity(1); err != nil {
			return nil, "", err
		}
		f := args[0]
		return func(row []any) any { return toKString(f(row)) }, kString, nil
	case "tolower", "toupper":
		if err := arity(1); err != nil {
			return nil, "", err
		}
		f, conv := args[0], strings.ToLower
		if name == "toupper" {
			conv = strings.ToUpper
		}
		return func(row []any) any {
			s, _ := f(row).(string)
			return conv(s)
		}, kString, nil
	}
	return nil, "", kqlErrorf("'%s' operator: Unknown function: '%s'.", op, name)
}

func compileBinary(n *binNode, t *kTable, env *kqlEnv, op string) (evalFn, kType, error) {
	l, lt, err := compileExpr(n.l, t, env, op)
	if err != nil {
		return nil, "", err
	}
	r, rt, err := compileExpr(n.r, t, env, op)
	if err != nil {
		return nil, "", err
	}
	o := n.t.text
	switch o {
	case "and", "or":
		if lt != kBool || rt != kBool {
			return nil, "", kqlErrorf("'%s' operator: the operands of '%s' must be of type bool", op, o)
		}
		if o == "and" {
			return func(row []any) any { return l(row) == true && r(row) == true }, kBool, nil
		}
		return func(row []any) any { return l(row) == true || r(row) == true }, kBool, nil
	}
	if stringOps[o] || o == "=~" || o == "!~" {
		if lt != kString || rt != kString {
			return nil, "", kqlErrorf("'%s' operator: '%s' needs string operands, got %s and %s", op, o, lt, rt)
		}
		match := stringMatcher(o)
		return func(row []any) any {
			a, _ := l(row).(string)
			b, _ := r(row).(string)
			return match(a, b)
		}, kBool, nil
	}
	if !comparable(lt, rt) {
		return nil, "", kqlErrorf("Cannot compare values of types %s and %s. Try adding explicit casts", lt, rt)
	}
	if lt == kBool && o != "==" && o != "!=" && o != "<>" {
		return nil, "", kqlErrorf("'%s' operator: '%s' is not defined for type bool", op, o)
	}
	return func(row []any) any {
		c, ok := compare(l(row), r(row))
		if !ok {
			return false // null compares to nothing
		}
		switch o {
		case "==":
			return c == 0
		case "!=", "<>":
			return c != 0
		case "<":
			return c < 0
		case "<=":
			return c <= 0
		case ">":
			return c > 0
		}
		return c >= 0
	}, kBool, nil
}

func stringMatcher(o string) func(a, b string) bool {
	neg := strings.HasPrefix(o, "!")
	base := strings.TrimPrefix(o, "!")
	var f func(a, b string) bool
	switch base {
	case "=~", "~":
		f = strings.EqualFold
	case "contains":
		f = func(a, b string) bool { return strings.Contains(strings.ToLower(a), strings.ToLower(b)) }
	case "contains_cs":
		f = strings.Contains
	case "has":
		f = hasTerm
	case "startswith":
		f = func(a, b string) bool { return strings.HasPrefix(strings.ToLower(a), strings.ToLower(b)) }
	case "startswith_cs":
		f = strings.HasPrefix
	case "endswith":
		f = func(a, b string) bool { return strings.HasSuffix(strings.ToLower(a), strings.ToLower(b)) }
	case "endswith_cs":
		f = strings.HasSuffix
	}
	if neg {
		return func(a, b string) bool { return !f(a, b) }
	}
	return f
}

// hasTerm is Kusto's has: b occurs in a as a whole term (bounded by
// non-alphanumerics), case-insensitively.
func hasTerm(a, b string) bool {
	a, b = strings.ToLower(a), strings.ToLower(b)
	if b == "" {
		return true
	}
	isWord := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c >= 0x80 }
	for i := 0; ; {
		j := strings.Index(a[i:], b)
		if j < 0 {
			return false
		}
		s, e := i+j, i+j+len(b)
		if (s == 0 || !isWord(a[s-1])) && (e == len(a) || !isWord(a[e])) {
			return true
		}
		i = s + 1
	}
}

func comparable(a, b kType) bool {
	return a == b || (a.numeric() && b.numeric()) || (a == kBool && b == kLong) || (a == kLong && b == kBool)
}

// compare orders two non-null values of comparable types.
func compare(a, b any) (int, bool) {
	if a == nil || b == nil {
		return 0, false
	}
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return strings.Compare(x, y), ok
	case bool:
		if y, ok := b.(int64); ok { // IsCompliant == 0, as Kusto allows
			return cmpOrdered(int64(boolToCmp(x)), y), true
		}
		y, ok := b.(bool)
		return boolToCmp(x) - boolToCmp(y), ok
	case time.Time:
		y, ok := b.(time.Time)
		return x.Compare(y), ok
	case time.Duration:
		y, ok := b.(time.Duration)
		return cmpOrdered(x, y), ok
	case int64:
		if y, ok := b.(int64); ok {
			return cmpOrdered(x, y), true
		}
		if y, ok := b.(bool); ok {
			return cmpOrdered(x, int64(boolToCmp(y))), true
		}
	}
	fa, ok1 := toFloat(a)
	fb, ok2 := toFloat(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	return cmpOrdered(fa, fb), true
}

func cmpOrdered[T int64 | float64 | time.Duration](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func boolToCmp(b bool) int {
	if b {
		return 1
	}
	return 0
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

func compileIn(n *inNode, t *kTable, env *kqlEnv, op string) (evalFn, kType, error) {
	x, xt, err := compileExpr(n.x, t, env, op)
	if err != nil {
		return nil, "", err
	}
	var list []any
	for _, e := range n.list {
		lit, ok := e.(*litNode)
		if !ok {
			return nil, "", kqlErrorf("'%s' operator: the list of '%s' must hold literals", op, n.t.text)
		}
		v, typ := literal(lit.t)
		if !comparable(xt, typ) {
			return nil, "", kqlErrorf("Cannot compare values of types %s and %s. Try adding explicit casts", xt, typ)
		}
		list = append(list, v)
	}
	fold := n.t.text == "in~"
	neg := n.t.text == "!in"
	return func(row []any) any {
		v := x(row)
		found := false
		for _, w := range list {
			if fold {
				a, _ := v.(string)
				b, _ := w.(string)
				found = strings.EqualFold(a, b)
			} else {
				c, ok := compare(v, w)
				found = ok && c == 0
			}
			if found {
				break
			}
		}
		return found != neg
	}, kBool, nil
}

// --- output ---

// appendKValue writes one cell as the hunting APIs do.
func appendKValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendString(b, x)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return appendString(b, strconv.FormatFloat(x, 'g', -1, 64))
		}
		return strconv.AppendFloat(b, x, 'g', -1, 64)
	case bool:
		return strconv.AppendBool(b, x)
	case time.Time:
		return TimeOf(x).appendJSON(b)
	case time.Duration:
		return appendString(b, formatTimespan(x))
	case map[string]any, []any:
		raw, err := json.Marshal(x)
		if err != nil {
			return append(b, "null"...)
		}
		return append(b, raw...)
	}
	return appendString(b, fmt.Sprint(v))
}

// formatTimespan is .NET's TimeSpan format, [-][d.]hh:mm:ss[.fffffff].
func formatTimespan(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	s := fmt.Sprintf("%02d:%02d:%02d", d/time.Hour, d%time.Hour/time.Minute, d%time.Minute/time.Second)
	if frac := d % time.Second; frac != 0 {
		s += fmt.Sprintf(".%07d", frac/100)
	}
	if days > 0 {
		s = fmt.Sprintf("%d.%s", days, s)
	}
	return sign + s
}

// toKString is Kusto's tostring: null is "", a string itself, numbers and
// booleans as written, and dynamic objects and arrays as JSON.
func toKString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.0000000Z")
	case time.Duration:
		return formatTimespan(x)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(raw)
}
