package defendertest

import (
	"encoding/binary"
	"hash/maphash"
	"math"
	"sort"
	"strconv"
	"time"
)

// The pipeline operators. Row-by-row ones stream (where, project, extend,
// distinct, take, join's left side); the others hold what they must: a
// summarize its groups, a sort its rows.

type whereOp struct{ pred kqlNode }

func (o *whereOp) apply(env *kqlEnv, in *kTable) (*kTable, error) {
	f, typ, err := compileExpr(o.pred, in, env, "where")
	if err != nil {
		return nil, err
	}
	if typ != kBool {
		return nil, kqlErrorf("'where' operator: the predicate must be of type bool, got %s", typ)
	}
	return streamed(in.cols, func(yield func([]any) bool) {
		in.each(func(row []any) bool {
			if f(row) == true {
				return yield(row)
			}
			return true
		})
	}), nil
}

type projectOp struct{ items []namedItem }

func (o *projectOp) apply(_ *kqlEnv, in *kTable) (*kTable, error) {
	idx := make([]int, len(o.items))
	var cols []kColumn
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
		cols = append(cols, kColumn{name: it.name.text, typ: in.cols[idx[i]].typ})
	}
	return streamed(cols, func(yield func([]any) bool) {
		buf := make([]any, len(idx))
		in.each(func(row []any) bool {
			for i, j := range idx {
				buf[i] = row[j]
			}
			return yield(buf)
		})
	}), nil
}

type renameOp struct{ items []namedItem }

func (o *renameOp) apply(_ *kqlEnv, in *kTable) (*kTable, error) {
	out := &kTable{cols: append([]kColumn(nil), in.cols...), rows: in.rows, gen: in.gen}
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

// extendOp adds computed columns; a name that exists is replaced in place,
// and each expression sees the columns extended before it.
type extendOp struct{ items []assignment }

func (o *extendOp) apply(env *kqlEnv, in *kTable) (*kTable, error) {
	cur := &kTable{cols: append([]kColumn(nil), in.cols...)}
	fns := make([]evalFn, len(o.items))
	at := make([]int, len(o.items))
	for i, it := range o.items {
		f, typ, err := compileExpr(it.expr, cur, env, "extend")
		if err != nil {
			return nil, err
		}
		fns[i] = f
		if at[i] = cur.col(it.name.text); at[i] >= 0 {
			cur.cols[at[i]].typ = typ
		} else {
			at[i] = len(cur.cols)
			cur.cols = append(cur.cols, kColumn{name: it.name.text, typ: typ})
		}
	}
	width := len(cur.cols)
	return streamed(cur.cols, func(yield func([]any) bool) {
		buf := make([]any, width)
		in.each(func(row []any) bool {
			copy(buf, row)
			for i := len(row); i < width; i++ {
				buf[i] = nil
			}
			for i, f := range fns {
				buf[at[i]] = f(buf)
			}
			return yield(buf)
		})
	}), nil
}

type distinctOp struct{ cols []kqlToken }

// distinctSeed hashes distinct's row keys: a set of 128-bit hashes holds
// millions of (CveId, DeviceId) pairs in a fraction of the memory their
// strings would take, and two seeds make a collision as good as impossible.
var distinctSeed = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

func (o *distinctOp) apply(_ *kqlEnv, in *kTable) (*kTable, error) {
	items := make([]namedItem, len(o.cols))
	for i, c := range o.cols {
		items[i] = namedItem{name: c, col: c}
	}
	proj, err := (&projectOp{items: items}).apply(nil, in)
	if err != nil {
		return nil, err
	}
	return streamed(proj.cols, func(yield func([]any) bool) {
		seen := map[[2]uint64]struct{}{}
		var key []byte
		proj.each(func(row []any) bool {
			key = appendGroupKey(key[:0], row)
			h := [2]uint64{maphash.Bytes(distinctSeed[0], key), maphash.Bytes(distinctSeed[1], key)}
			if _, dup := seen[h]; dup {
				return true
			}
			seen[h] = struct{}{}
			return yield(row)
		})
	}), nil
}

type countOp struct{}

func (countOp) apply(_ *kqlEnv, in *kTable) (*kTable, error) {
	var n int64
	in.each(func([]any) bool { n++; return true })
	return &kTable{cols: []kColumn{{"Count", kLong}}, rows: [][]any{{n}}}, nil
}

type takeOp struct{ n int }

func (o *takeOp) apply(_ *kqlEnv, in *kTable) (*kTable, error) {
	return streamed(in.cols, func(yield func([]any) bool) {
		if o.n == 0 {
			return
		}
		n := 0
		in.each(func(row []any) bool {
			n++
			return yield(row) && n < o.n
		})
	}), nil
}

type sortOp struct{ keys []sortKey }

func (o *sortOp) apply(_ *kqlEnv, in *kTable) (*kTable, error) {
	idx := make([]int, len(o.keys))
	for i, k := range o.keys {
		if idx[i] = in.col(k.col.text); idx[i] < 0 {
			return nil, unresolved("sort", k.col.text)
		}
	}
	rows := append([][]any(nil), in.held().rows...)
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
func groupKey(vals []any) string { return string(appendGroupKey(nil, vals)) }

func appendGroupKey(b []byte, vals []any) []byte {
	for _, v := range vals {
		switch x := v.(type) {
		case nil:
			b = append(b, 'n')
		case string:
			b = append(b, 's')
			b = binary.AppendUvarint(b, uint64(len(x)))
			b = append(b, x...)
		case int64:
			b = append(b, 'l')
			b = strconv.AppendInt(b, x, 10)
		case float64:
			b = append(b, 'r')
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
		case bool:
			b = append(b, 'b')
			b = strconv.AppendBool(b, x)
		case time.Time:
			b = append(b, 't')
			b = strconv.AppendInt(b, x.UnixNano(), 10)
		case time.Duration:
			b = append(b, 'd')
			b = strconv.AppendInt(b, int64(x), 10)
		default:
			b = append(b, 'j')
			s := toKString(x)
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
		b = append(b, 0xff)
	}
	return b
}
