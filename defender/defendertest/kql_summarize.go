package defendertest

import "math"

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
		if a.fn.text == "arg_max" || a.fn.text == "arg_min" {
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
	newGroup := func(keys []any) *group {
		g := &group{keys: keys}
		for _, s := range specs {
			g.states = append(g.states, s.newState())
		}
		return g
	}
	order := groupRows(in, byIdx, newGroup, func(g *group, row []any, _ bool) {
		for _, st := range g.states {
			st.add(row)
		}
	})
	if len(byIdx) == 0 && len(order) == 0 {
		// Without "by", Kusto answers one row even over no rows.
		order = append(order, newGroup(nil))
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

// groupRows sorts the rows of in into groups by the columns byIdx: the
// first row of a group makes it with newGroup (given a copy of the row's
// values of those columns), and every row, the first included, is passed to
// add with its group. It returns the groups in the order of their first
// rows, which is the order the fake answers in.
func groupRows[G any](in *kTable, byIdx []int, newGroup func(keys []any) G, add func(g G, row []any, first bool)) []G {
	var order []G
	groups := map[string]G{}
	keyVals := make([]any, len(byIdx))
	var key []byte
	in.each(func(row []any) bool {
		for i, j := range byIdx {
			keyVals[i] = row[j]
		}
		key = appendGroupKey(key[:0], keyVals)
		g, seen := groups[string(key)]
		if !seen {
			g = newGroup(append([]any(nil), keyVals...))
			groups[string(key)] = g
			order = append(order, g)
		}
		add(g, row, !seen)
		return true
	})
	return order
}

// argExtreme is summarize arg_max(Col, *) / arg_min(Col, *) by ...: per
// group, the row with the largest (smallest) Col. Columns: the by columns,
// then Col, then the other input columns in order, or, for
// arg_max(Col, A, B), A and B only.
func (o *summarizeOp) argExtreme(env *kqlEnv, in *kTable, byIdx []int) (*kTable, error) {
	if len(o.aggs) != 1 {
		return nil, kqlErrorf("'summarize' operator: arg_max(...) must be the only aggregate in the fake tenant's KQL")
	}
	a := o.aggs[0]
	if len(a.args) == 0 || (a.star && len(a.args) != 1) || (!a.star && len(a.args) < 2) {
		return nil, kqlErrorf("'summarize' operator: the fake tenant supports %s(Col, *) and %s(Col, Col, ...)", a.fn.text, a.fn.text)
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

	colIdx := append([]int(nil), byIdx...)
	used := map[int]bool{}
	for _, j := range byIdx {
		used[j] = true
	}
	if !used[argIdx] {
		colIdx = append(colIdx, argIdx)
		used[argIdx] = true
	}
	if a.star {
		for j := range in.cols {
			if !used[j] {
				colIdx = append(colIdx, j)
			}
		}
	} else {
		for _, e := range a.args[1:] {
			c, ok := e.(*colNode)
			if !ok {
				return nil, kqlErrorf("'summarize' operator: the fake tenant's %s returns columns, not expressions", a.fn.text)
			}
			j := in.col(c.t.text)
			switch {
			case j < 0:
				return nil, unresolved("summarize", c.t.text)
			case used[j]:
				return nil, kqlErrorf("'summarize' operator: A column named '%s' already exists", c.t.text)
			}
			used[j] = true
			colIdx = append(colIdx, j)
		}
	}

	// Each group keeps the projection of its best row so far and the
	// value it was chosen by.
	type best struct {
		by  any
		row []any
	}
	newBest := func([]any) *best { return &best{row: make([]any, len(colIdx))} }
	order := groupRows(in, byIdx, newBest, func(g *best, row []any, first bool) {
		v := f(row)
		if !first {
			if c, ok := compare(v, g.by); !ok || (wantMax && c <= 0) || (!wantMax && c >= 0) {
				return
			}
		}
		g.by = v
		for i, j := range colIdx {
			g.row[i] = row[j]
		}
	})
	out := &kTable{}
	for i, j := range colIdx {
		c := in.cols[j]
		if i < len(o.by) {
			c.name = o.by[i].name.text
		}
		out.cols = append(out.cols, c)
	}
	for _, g := range order {
		out.rows = append(out.rows, g.row)
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
		return aggSpec{kColumn{name("dcount_" + argName), kLong}, func() aggState { return &dcountState{f: f, seen: map[string]struct{}{}} }}, nil
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
	seen map[string]struct{}
	key  []byte
}

func (s *dcountState) add(row []any) {
	if v := s.f(row); v != nil {
		s.key = appendGroupKey(s.key[:0], []any{v})
		s.seen[string(s.key)] = struct{}{}
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
