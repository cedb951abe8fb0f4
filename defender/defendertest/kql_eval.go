package defendertest

import (
	"fmt"
	"math"
	"sort"
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
	}
	return "Object"
}

func (t kType) numeric() bool { return t == kLong || t == kReal }

type kColumn struct {
	name string
	typ  kType
}

// kTable is a query's intermediate result.
type kTable struct {
	cols []kColumn
	rows [][]any
}

func (t *kTable) col(name string) int {
	for i, c := range t.cols {
		if c.name == name {
			return i
		}
	}
	return -1
}

// kqlEnv is what evaluation needs besides the data.
type kqlEnv struct {
	now time.Time
}

// run parses and evaluates src over the tables.
func runKQL(src string, env *kqlEnv, tables func(name string) (*kTable, bool)) (*kTable, error) {
	q, err := parseKQL(src)
	if err != nil {
		return nil, err
	}
	t, ok := tables(q.table.text)
	if !ok {
		return nil, kqlErrorf("Failed to resolve table or column expression named '%s'", q.table.text)
	}
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
	return a == b || (a.numeric() && b.numeric())
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

// --- operators ---

type whereOp struct{ pred kqlNode }

func (o *whereOp) apply(env *kqlEnv, in *kTable) (*kTable, error) {
	f, typ, err := compileExpr(o.pred, in, env, "where")
	if err != nil {
		return nil, err
	}
	if typ != kBool {
		return nil, kqlErrorf("'where' operator: the predicate must be of type bool, got %s", typ)
	}
	out := &kTable{cols: in.cols}
	for _, row := range in.rows {
		if f(row) == true {
			out.rows = append(out.rows, row)
		}
	}
	return out, nil
}

type projectOp struct{ items []namedItem }

func (o *projectOp) apply(_ *kqlEnv, in *kTable) (*kTable, error) {
	idx := make([]int, len(o.items))
	out := &kTable{}
	seen := map[string]bool{}
	for i, it := range o.items {
		idx[i] = in.col(it.col.text)
		if idx[i] < 0 {
			return nil, unresolved("project", it.col.text)
		}
		if seen[it.name.text] {
			return nil, kqlErrorf("'project' operator: A column named '%s' already exists", it.name.text)
		}
		seen[it.name.text] = true
		out.cols = append(out.cols, kColumn{name: it.name.text, typ: in.cols[idx[i]].typ})
	}
	for _, row := range in.rows {
		r := make([]any, len(idx))
		for i, j := range idx {
			r[i] = row[j]
		}
		out.rows = append(out.rows, r)
	}
	return out, nil
}

type renameOp struct{ items []namedItem }

func (o *renameOp) apply(_ *kqlEnv, in *kTable) (*kTable, error) {
	out := &kTable{cols: append([]kColumn(nil), in.cols...), rows: in.rows}
	for _, it := range o.items {
		i := out.col(it.col.text)
		if i < 0 {
			return nil, unresolved("project-rename", it.col.text)
		}
		if j := out.col(it.name.text); j >= 0 && j != i {
			return nil, kqlErrorf("'project-rename' operator: A column named '%s' already exists", it.name.text)
		}
		out.cols[i].name = it.name.text
	}
	return out, nil
}

type awayOp struct{ cols []kqlToken }

func (o *awayOp) apply(_ *kqlEnv, in *kTable) (*kTable, error) {
	drop := map[int]bool{}
	for _, c := range o.cols {
		i := in.col(c.text)
		if i < 0 {
			return nil, unresolved("project-away", c.text)
		}
		drop[i] = true
	}
	var keep []namedItem
	for i, c := range in.cols {
		if !drop[i] {
			t := kqlToken{kind: kqlIdent, text: c.name}
			keep = append(keep, namedItem{name: t, col: t})
		}
	}
	return (&projectOp{items: keep}).apply(nil, in)
}

type distinctOp struct{ cols []kqlToken }

func (o *distinctOp) apply(_ *kqlEnv, in *kTable) (*kTable, error) {
	items := make([]namedItem, len(o.cols))
	for i, c := range o.cols {
		items[i] = namedItem{name: c, col: c}
	}
	proj, err := (&projectOp{items: items}).apply(nil, in)
	if err != nil {
		return nil, err
	}
	out := &kTable{cols: proj.cols}
	seen := map[string]bool{}
	for _, row := range proj.rows {
		k := groupKey(row)
		if !seen[k] {
			seen[k] = true
			out.rows = append(out.rows, row)
		}
	}
	return out, nil
}

type countOp struct{}

func (countOp) apply(_ *kqlEnv, in *kTable) (*kTable, error) {
	return &kTable{cols: []kColumn{{"Count", kLong}}, rows: [][]any{{int64(len(in.rows))}}}, nil
}

type takeOp struct{ n int }

func (o *takeOp) apply(_ *kqlEnv, in *kTable) (*kTable, error) {
	if len(in.rows) <= o.n {
		return in, nil
	}
	return &kTable{cols: in.cols, rows: in.rows[:o.n]}, nil
}

type sortOp struct{ keys []sortKey }

func (o *sortOp) apply(_ *kqlEnv, in *kTable) (*kTable, error) {
	idx := make([]int, len(o.keys))
	for i, k := range o.keys {
		if idx[i] = in.col(k.col.text); idx[i] < 0 {
			return nil, unresolved("sort", k.col.text)
		}
	}
	rows := append([][]any(nil), in.rows...)
	sort.SliceStable(rows, func(a, b int) bool {
		for i, k := range o.keys {
			va, vb := rows[a][idx[i]], rows[b][idx[i]]
			c, ok := compare(va, vb)
			if !ok {
				// Nulls last, whatever the direction.
				if (va == nil) == (vb == nil) {
					continue
				}
				return vb == nil
			}
			if c != 0 {
				return (c < 0) != k.desc
			}
		}
		return false
	})
	return &kTable{cols: in.cols, rows: rows}, nil
}

type topOp struct {
	n    int
	keys []sortKey
}

func (o *topOp) apply(env *kqlEnv, in *kTable) (*kTable, error) {
	sorted, err := (&sortOp{keys: o.keys}).apply(env, in)
	if err != nil {
		return nil, err
	}
	return (&takeOp{n: o.n}).apply(env, sorted)
}

// groupKey identifies a combination of values; the type tag keeps "1" and
// 1 apart.
func groupKey(vals []any) string {
	var b strings.Builder
	for _, v := range vals {
		fmt.Fprintf(&b, "%T:%v\xff", v, v)
	}
	return b.String()
}

// --- summarize ---

type summarizeOp struct {
	at   kqlToken
	aggs []aggItem
	by   []namedItem
}

// aggState accumulates one aggregate over one group.
type aggState interface {
	add(row []any)
	result() any
}

type aggSpec struct {
	col      kColumn
	newState func() aggState
}

func (o *summarizeOp) apply(env *kqlEnv, in *kTable) (*kTable, error) {
	byIdx := make([]int, len(o.by))
	out := &kTable{}
	names := map[string]bool{}
	addCol := func(c kColumn) error {
		if names[c.name] {
			return kqlErrorf("'summarize' operator: A column named '%s' already exists", c.name)
		}
		names[c.name] = true
		out.cols = append(out.cols, c)
		return nil
	}
	for i, b := range o.by {
		if byIdx[i] = in.col(b.col.text); byIdx[i] < 0 {
			return nil, unresolved("summarize", b.col.text)
		}
		if err := addCol(kColumn{name: b.name.text, typ: in.cols[byIdx[i]].typ}); err != nil {
			return nil, err
		}
	}
	for _, a := range o.aggs {
		if a.star {
			return o.argExtreme(env, in, byIdx)
		}
	}
	specs := make([]aggSpec, len(o.aggs))
	for i, a := range o.aggs {
		s, err := compileAgg(a, in, env)
		if err != nil {
			return nil, err
		}
		specs[i] = s
		if err := addCol(s.col); err != nil {
			return nil, err
		}
	}

	type group struct {
		keys   []any
		states []aggState
	}
	var order []*group
	groups := map[string]*group{}
	keyVals := make([]any, len(byIdx))
	for _, row := range in.rows {
		for i, j := range byIdx {
			keyVals[i] = row[j]
		}
		k := groupKey(keyVals)
		g := groups[k]
		if g == nil {
			g = &group{keys: append([]any(nil), keyVals...)}
			for _, s := range specs {
				g.states = append(g.states, s.newState())
			}
			groups[k] = g
			order = append(order, g)
		}
		for _, st := range g.states {
			st.add(row)
		}
	}
	if len(byIdx) == 0 && len(order) == 0 {
		// Without "by", Kusto answers one row even over no rows.
		g := &group{}
		for _, s := range specs {
			g.states = append(g.states, s.newState())
		}
		order = append(order, g)
	}
	for _, g := range order {
		row := append([]any(nil), g.keys...)
		for _, st := range g.states {
			row = append(row, st.result())
		}
		out.rows = append(out.rows, row)
	}
	return out, nil
}

// argExtreme is summarize arg_max(Col, *) / arg_min(Col, *) by ...: per
// group, the whole row with the largest (smallest) Col. Columns: the by
// columns, then Col, then the other input columns in order.
func (o *summarizeOp) argExtreme(env *kqlEnv, in *kTable, byIdx []int) (*kTable, error) {
	if len(o.aggs) != 1 {
		return nil, kqlErrorf("'summarize' operator: arg_max(..., *) must be the only aggregate in the fake tenant's KQL")
	}
	a := o.aggs[0]
	if (a.fn.text != "arg_max" && a.fn.text != "arg_min") || len(a.args) != 1 {
		return nil, kqlErrorf("'summarize' operator: '*' is only supported as arg_max(Col, *) or arg_min(Col, *)")
	}
	f, _, err := compileExpr(a.args[0], in, env, "summarize")
	if err != nil {
		return nil, err
	}
	argCol, ok := a.args[0].(*colNode)
	if !ok {
		return nil, kqlErrorf("'summarize' operator: the first argument of %s must be a column", a.fn.text)
	}
	argIdx := in.col(argCol.t.text)
	wantMax := a.fn.text == "arg_max"

	var order []string
	best := map[string][]any{}
	keyVals := make([]any, len(byIdx))
	for _, row := range in.rows {
		for i, j := range byIdx {
			keyVals[i] = row[j]
		}
		k := groupKey(keyVals)
		cur, seen := best[k]
		if !seen {
			order = append(order, k)
			best[k] = row
			continue
		}
		c, ok := compare(f(row), f(cur))
		if ok && ((wantMax && c > 0) || (!wantMax && c < 0)) {
			best[k] = row
		}
	}
	colIdx := append([]int(nil), byIdx...)
	used := map[int]bool{}
	for _, j := range byIdx {
		used[j] = true
	}
	if !used[argIdx] {
		colIdx = append(colIdx, argIdx)
		used[argIdx] = true
	}
	for j := range in.cols {
		if !used[j] {
			colIdx = append(colIdx, j)
		}
	}
	out := &kTable{}
	for i, j := range colIdx {
		c := in.cols[j]
		if i < len(o.by) {
			c.name = o.by[i].name.text
		}
		out.cols = append(out.cols, c)
	}
	for _, k := range order {
		src := best[k]
		row := make([]any, len(colIdx))
		for i, j := range colIdx {
			row[i] = src[j]
		}
		out.rows = append(out.rows, row)
	}
	return out, nil
}

func compileAgg(a aggItem, in *kTable, env *kqlEnv) (aggSpec, error) {
	fn := a.fn.text
	argName := ""
	if len(a.args) > 0 {
		if c, ok := a.args[0].(*colNode); ok {
			argName = c.t.text
		}
	}
	name := func(def string) string {
		if a.name.text != "" {
			return a.name.text
		}
		return def
	}
	oneArg := func() (evalFn, kType, error) {
		if len(a.args) != 1 {
			return nil, "", kqlErrorf("'summarize' operator: %s() expects 1 argument, got %d", fn, len(a.args))
		}
		return compileExpr(a.args[0], in, env, "summarize")
	}
	switch fn {
	case "count":
		if len(a.args) != 0 {
			return aggSpec{}, kqlErrorf("'summarize' operator: count() takes no arguments")
		}
		return aggSpec{kColumn{name("count_"), kLong}, func() aggState { return &countState{} }}, nil
	case "countif":
		f, typ, err := oneArg()
		if err != nil {
			return aggSpec{}, err
		}
		if typ != kBool {
			return aggSpec{}, kqlErrorf("'summarize' operator: countif() needs a bool predicate")
		}
		return aggSpec{kColumn{name("countif_"), kLong}, func() aggState { return &countState{pred: f} }}, nil
	case "dcount":
		f, _, err := oneArg()
		if err != nil {
			return aggSpec{}, err
		}
		return aggSpec{kColumn{name("dcount_" + argName), kLong}, func() aggState { return &dcountState{f: f, seen: map[string]bool{}} }}, nil
	case "sum", "avg":
		f, typ, err := oneArg()
		if err != nil {
			return aggSpec{}, err
		}
		if !typ.numeric() {
			return aggSpec{}, kqlErrorf("'summarize' operator: %s(): argument must be numeric, got %s", fn, typ)
		}
		out := kReal
		if fn == "sum" && typ == kLong {
			out = kLong
		}
		return aggSpec{kColumn{name(fn + "_" + argName), out}, func() aggState { return &sumState{f: f, avg: fn == "avg", long: out == kLong} }}, nil
	case "min", "max":
		f, typ, err := oneArg()
		if err != nil {
			return aggSpec{}, err
		}
		return aggSpec{kColumn{name(fn + "_" + argName), typ}, func() aggState { return &extremeState{f: f, max: fn == "max"} }}, nil
	case "arg_max", "arg_min":
		return aggSpec{}, kqlErrorf("'summarize' operator: the fake tenant supports %s only as %s(Col, *)", fn, fn)
	}
	return aggSpec{}, kqlErrorf("'summarize' operator: Unknown aggregation function: '%s'.", fn)
}

type countState struct {
	n    int64
	pred evalFn
}

func (s *countState) add(row []any) {
	if s.pred == nil || s.pred(row) == true {
		s.n++
	}
}
func (s *countState) result() any { return s.n }

type dcountState struct {
	f    evalFn
	seen map[string]bool
}

func (s *dcountState) add(row []any) {
	if v := s.f(row); v != nil {
		s.seen[groupKey([]any{v})] = true
	}
}
func (s *dcountState) result() any { return int64(len(s.seen)) }

type sumState struct {
	f         evalFn
	avg, long bool
	n         int64
	i         int64
	x         float64
}

func (s *sumState) add(row []any) {
	switch v := s.f(row).(type) {
	case int64:
		s.i += v
		s.x += float64(v)
		s.n++
	case float64:
		s.x += v
		s.n++
	}
}

func (s *sumState) result() any {
	switch {
	case s.avg && s.n == 0:
		return math.NaN()
	case s.avg:
		return s.x / float64(s.n)
	case s.long:
		return s.i
	}
	return s.x
}

type extremeState struct {
	f   evalFn
	max bool
	v   any
}

func (s *extremeState) add(row []any) {
	v := s.f(row)
	if v == nil {
		return
	}
	if s.v == nil {
		s.v = v
		return
	}
	if c, ok := compare(v, s.v); ok && ((s.max && c > 0) || (!s.max && c < 0)) {
		s.v = v
	}
}
func (s *extremeState) result() any { return s.v }

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
