package collector

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"strconv"

	"github.com/defender-exporter/defender_exporter/defender"
)

// Device posture has no Microsoft Graph REST API: on the graph back end,
// machines, av_health, vulnerabilities and recommendations run built-in
// advanced hunting queries through runHuntingQuery. The queries live in
// queries/*.kql, readable and ready to paste into the Defender portal, and
// aggregate on the server: an answer has one row per label combination,
// never one per device. They go through Client.RunHunting, so they take
// slots of the tenant's hunting budget and are deferred with the user's
// queries when the hunting CPU quota is spent.

//go:embed queries/*.kql
var queryFiles embed.FS

// columnKind is what a built-in query's result column must hold.
type columnKind int

const (
	// stringColumn: a JSON string. Kusto strings are never null, so a null
	// or any other type means the table changed under the query.
	stringColumn columnKind = iota
	// boolColumn: true, false, or null (Kusto booleans can be null, e.g.
	// from an unmatched leftouter join), rendered "true", "false" and "".
	boolColumn
	// numberColumn: a JSON number (long or real), the value of a series.
	numberColumn
)

func (k columnKind) String() string {
	switch k {
	case stringColumn:
		return "a string"
	case boolColumn:
		return "true, false or null"
	}
	return "a number"
}

type resultColumn struct {
	name string
	kind columnKind
}

// builtinQuery is one built-in query: its file and the columns its answer
// must have, labels first (string and bool columns, read into row.labels in
// order) and then values (number columns, into row.values).
type builtinQuery struct {
	file    string // e.g. queries/machines.kql, named in every error
	text    string
	columns []resultColumn
	labels  int // the first labels columns are labels, the rest values
}

// builtinRow is one answer row, checked and converted.
type builtinRow struct {
	labels []string
	values []float64
}

// graphQueries lists each collector's built-in queries on the graph back
// end, in the order a refresh runs them. register counts them for
// config.BuiltinHuntingQueries; the planner's estimate must agree
// (TestBuiltinQueryCounts).
var graphQueries = map[string][]*builtinQuery{}

// mustBuiltin reads queries/<name>.kql; columns are the answer's label
// columns then its value columns, labels of them labels. A query file
// missing from the build is a programming error, found at start-up.
func mustBuiltin(collector, name string, labels int, columns ...resultColumn) *builtinQuery {
	file := path.Join("queries", name+".kql")
	text, err := queryFiles.ReadFile(file)
	if err != nil {
		panic("collector: built-in query " + file + ": " + err.Error())
	}
	q := &builtinQuery{file: file, text: string(text), columns: columns, labels: labels}
	graphQueries[collector] = append(graphQueries[collector], q)
	return q
}

func str(name string) resultColumn     { return resultColumn{name, stringColumn} }
func boolean(name string) resultColumn { return resultColumn{name, boolColumn} }
func number(name string) resultColumn  { return resultColumn{name, numberColumn} }

// run runs the query on the graph back end and passes each checked row to
// fn. A row whose columns do not fit (one missing, a type the query cannot
// produce, a null where Kusto has none) fails the refresh with the query
// file, the row and the column: the table changed upstream, and a wrong
// series would be worse than a stale one. The error is the collector's
// alone; the scheduler keeps the other collectors and tenants going.
func (q *builtinQuery) run(ctx context.Context, t *Target, fn func(builtinRow) error) error {
	row := builtinRow{labels: make([]string, q.labels), values: make([]float64, len(q.columns)-q.labels)}
	n := 0
	res, err := t.Client.RunHunting(ctx, defender.HuntingGraph, q.text, "", func(r defender.HuntingRow) error {
		n++
		for i, c := range q.columns {
			raw, ok := r[c.name]
			if !ok {
				return fmt.Errorf("row %d: column %q is missing; the answer's columns are %s", n, c.name, rowColumns(r))
			}
			if err := q.cell(&row, i, c, raw); err != nil {
				return fmt.Errorf("row %d: column %q: %w", n, c.name, err)
			}
		}
		return fn(row)
	})
	if err != nil {
		return fmt.Errorf("built-in query %s: %w", q.file, err)
	}
	if res.Rows == 0 && len(res.Columns) > 0 {
		// No row to check: the schema says whether the query still fits.
		names := res.ColumnNames()
		for _, c := range q.columns {
			if !contains(names, c.name) {
				return fmt.Errorf("built-in query %s: column %q is not in the answer's schema, whose columns are %s", q.file, c.name, shownColumns(names))
			}
		}
	}
	return nil
}

// cell converts one cell into row.
func (q *builtinQuery) cell(row *builtinRow, i int, c resultColumn, raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	bad := func() error {
		return fmt.Errorf("want %s, got %s", c.kind, shorten(string(raw)))
	}
	switch c.kind {
	case stringColumn:
		var s string
		if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
			return bad()
		}
		row.labels[i] = s
	case boolColumn:
		switch string(raw) {
		case "true", "false":
			row.labels[i] = string(raw)
		case "null":
			row.labels[i] = ""
		default:
			return bad()
		}
	case numberColumn:
		if len(raw) == 0 || !(raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') {
			return bad()
		}
		v, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return bad()
		}
		row.values[i-q.labels] = v
	}
	return nil
}
