package defendertest

import "strconv"

// joinOp is "join kind=inner|leftouter (right) on Col, ...". The right side
// is held and indexed by its key; the left side streams past it. Output
// columns are the left's, then the right's, a right column whose name the
// left already has taking the suffix 1 (CveId1), as Kusto names them. An
// unmatched left row of a leftouter join gets "" for the right's strings
// (Kusto strings are never null) and null for the rest.
type joinOp struct {
	at    kqlToken
	kind  string
	right *kqlQuery
	on    []kqlToken
}

func (o *joinOp) apply(env *kqlEnv, left *kTable) (*kTable, error) {
	right, err := env.run(o.right)
	if err != nil {
		return nil, err
	}
	right = right.held()
	lIdx := make([]int, len(o.on))
	rIdx := make([]int, len(o.on))
	for i, c := range o.on {
		if lIdx[i] = left.col(c.text); lIdx[i] < 0 {
			return nil, unresolved("join", c.text)
		}
		if rIdx[i] = right.col(c.text); rIdx[i] < 0 {
			return nil, unresolved("join", c.text)
		}
		if lt, rt := left.cols[lIdx[i]].typ, right.cols[rIdx[i]].typ; lt != rt {
			return nil, kqlErrorf("'join' operator: column '%s' is %s on the left and %s on the right", c.text, lt, rt)
		}
	}
	cols := append([]kColumn(nil), left.cols...)
	for _, c := range right.cols {
		name := c.name
		for n := 1; (&kTable{cols: cols}).col(name) >= 0; n++ {
			name = c.name + strconv.Itoa(n)
		}
		cols = append(cols, kColumn{name: name, typ: c.typ})
	}
	index := map[string][][]any{}
	keyVals := make([]any, len(o.on))
	for _, row := range right.rows {
		for i, j := range rIdx {
			keyVals[i] = row[j]
		}
		k := groupKey(keyVals)
		index[k] = append(index[k], row)
	}
	nulls := make([]any, len(right.cols))
	for i, c := range right.cols {
		if c.typ == kString {
			nulls[i] = ""
		}
	}
	width := len(cols)
	return streamed(cols, func(yield func([]any) bool) {
		buf := make([]any, width)
		keyVals := make([]any, len(o.on))
		var key []byte
		left.each(func(row []any) bool {
			for i, j := range lIdx {
				keyVals[i] = row[j]
			}
			key = appendGroupKey(key[:0], keyVals)
			matches := index[string(key)]
			if len(matches) == 0 && o.kind == "leftouter" {
				matches = [][]any{nulls}
			}
			copy(buf, row)
			for _, m := range matches {
				copy(buf[len(row):], m)
				if !yield(buf) {
					return false
				}
			}
			return true
		})
	}), nil
}
