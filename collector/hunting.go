package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/defender-exporter/defender_exporter/config"
	"github.com/defender-exporter/defender_exporter/defender"
)

// Advanced hunting turns the rows of a configured KQL query into the gauge
// defender_hunting_<name>, sql_exporter style: each row is one series, the
// configured label columns become labels (snake_cased), the value column
// its value. Unlike the other collectors, one collector is one query; the
// scheduler runs one job per tenant and query.

var huntingRowsDesc = newDesc("hunting_query_rows",
	"Rows returned by the latest successful run of the advanced hunting query.", "query")

var (
	metricNameRE = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelNameRE  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

type huntingQuery struct {
	api    string
	q      config.HuntingQuery
	desc   metricDesc
	labels []string // result columns that become labels, in config order
}

// NewHuntingQuery builds the collector of one hunting query, run through
// api ("graph" or "mde"; "xdr" works too). The configuration was validated
// on load; this re-checks what would otherwise panic or emit invalid
// metrics.
func NewHuntingQuery(api string, q config.HuntingQuery) (Collector, error) {
	switch api {
	case defender.HuntingGraph, defender.HuntingMDE, defender.HuntingXDR:
	default:
		return nil, fmt.Errorf("hunting query %s: unknown API %q (want graph or mde)", q.Name, api)
	}
	name := "hunting_" + q.Name
	switch {
	case !metricNameRE.MatchString(namespace + "_" + name):
		return nil, fmt.Errorf("hunting query %q: %s_%s is not a valid metric name", q.Name, namespace, name)
	case strings.TrimSpace(q.Query) == "":
		return nil, fmt.Errorf("hunting query %s: empty query", q.Name)
	case q.Value == "":
		return nil, fmt.Errorf("hunting query %s: no value column", q.Name)
	}
	labelNames := make([]string, len(q.Labels))
	byLabel := map[string]string{}
	for i, col := range q.Labels {
		l := config.LabelName(col)
		switch {
		case !labelNameRE.MatchString(l) || strings.HasPrefix(l, "__") || l == "tenant":
			return nil, fmt.Errorf("hunting query %s: column %q gives the label name %q, which cannot be used", q.Name, col, l)
		case byLabel[l] != "":
			return nil, fmt.Errorf("hunting query %s: columns %q and %q both give the label %s", q.Name, byLabel[l], col, l)
		case col == q.Value:
			return nil, fmt.Errorf("hunting query %s: column %q is both a label and the value", q.Name, col)
		}
		byLabel[l] = col
		labelNames[i] = l
	}
	return withRetiredHuntingAdvice(&huntingQuery{ // retired.go
		api:    api,
		q:      q,
		desc:   newDesc(name, sentence(q.Help), labelNames...),
		labels: append([]string(nil), q.Labels...),
	}), nil
}

// sentence ends help with a full stop, so that the cached-metric note
// appended to it reads as a second sentence.
func sentence(help string) string {
	help = strings.TrimSpace(help)
	if help != "" && !strings.ContainsAny(help[len(help)-1:], ".!?") {
		help += "."
	}
	return help
}

// Refresh runs the query and builds one series per row. Rows are consumed
// as they are decoded; a row that cannot become a series (a missing
// column, a value that is not a number, a label set already seen) fails
// the whole refresh, so the previous snapshot stays and the error says
// which row and column to fix, instead of a metric that is silently wrong.
func (h *huntingQuery) Refresh(ctx context.Context, t *Target) ([]prometheus.Metric, error) {
	var out []prometheus.Metric
	seen := map[string]int{} // label values -> row number that had them
	n := 0
	res, err := t.Client.RunHunting(ctx, h.api, h.q.Query, h.q.Timespan, func(row defender.HuntingRow) error {
		n++
		values := make([]string, 1, 1+len(h.labels))
		values[0] = t.Tenant
		for _, col := range h.labels {
			raw, ok := row[col]
			if !ok {
				return fmt.Errorf("label column %q is not in the result, whose columns are %s", col, rowColumns(row))
			}
			values = append(values, labelValue(raw))
		}
		raw, ok := row[h.q.Value]
		if !ok {
			return fmt.Errorf("value column %q is not in the result, whose columns are %s", h.q.Value, rowColumns(row))
		}
		v, err := sampleValue(raw)
		if err != nil {
			return fmt.Errorf("row %d: value column %q: %w", n, h.q.Value, err)
		}
		key := strings.Join(values[1:], keySep)
		if first, dup := seen[key]; dup {
			return fmt.Errorf("rows %d and %d both give the series %s: each row needs its own label set; list the column that tells them apart in labels, or summarize by the label columns", first, n, h.series(values[1:]))
		}
		seen[key] = n
		m, err := prometheus.NewConstMetric(h.desc.desc, prometheus.GaugeValue, v, values...)
		if err != nil {
			return fmt.Errorf("row %d: %w", n, err)
		}
		out = append(out, m)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("hunting query %s: %w", h.q.Name, err)
	}
	if res.Rows == 0 && len(res.Columns) > 0 {
		// No row to check the columns against: the schema tells whether
		// the configuration fits the query, so a mistake surfaces now and
		// not on the first day the query finds something.
		names := res.ColumnNames()
		for _, col := range append(append([]string(nil), h.labels...), h.q.Value) {
			if !contains(names, col) {
				return nil, fmt.Errorf("hunting query %s: column %q is not in the result, whose columns are %s", h.q.Name, col, shownColumns(names))
			}
		}
	}
	out = gauge(out, huntingRowsDesc, t.Tenant, float64(res.Rows), h.q.Name)
	return out, nil
}

// series renders a label set for an error message, e.g.
// {sensor_health_state="Active"}.
func (h *huntingQuery) series(values []string) string {
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = fmt.Sprintf("%s=%q", config.LabelName(h.labels[i]), shorten(v))
	}
	return "defender_hunting_" + h.q.Name + "{" + strings.Join(parts, ",") + "}"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// rowColumns lists a row's columns, sorted, for error messages.
func rowColumns(row defender.HuntingRow) string {
	cols := make([]string, 0, len(row))
	for c := range row {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	return shownColumns(cols)
}

// shownColumns lists column names for an error message. The names come
// from the answer: a result of thousands of columns must not become a log
// line of the same size.
func shownColumns(cols []string) string {
	if len(cols) == 0 {
		return "(none)"
	}
	cols = slices.Clone(cols)
	more := ""
	if len(cols) > maxShownColumns {
		more = fmt.Sprintf(" and %d more", len(cols)-maxShownColumns)
		cols = cols[:maxShownColumns]
	}
	for i, c := range cols {
		cols[i] = shorten(c)
	}
	return strings.Join(cols, ", ") + more
}

const (
	maxShownColumns = 20
	maxShownLen     = 60 // bytes of a value quoted from an answer in an error
)

// shorten cuts a value quoted from an answer to one line of maxShownLen
// bytes.
func shorten(s string) string { return defender.ClipLine(s, maxShownLen) }

// labelValue renders a cell as a label value: strings as they are, numbers
// in plain notation, true/false, null as "" (as for the other collectors'
// absent fields), dynamic values as compact JSON.
func labelValue(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	switch raw[0] {
	case 'n':
		return ""
	case 't', 'f':
		return string(raw)
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	case '{', '[':
		var b bytes.Buffer
		if json.Compact(&b, raw) == nil {
			return b.String()
		}
	default:
		return formatNumber(string(raw))
	}
	return string(raw)
}

// formatNumber writes a JSON number without exponent where that is short:
// 42, 1.5, 1000 (for 1e3); integers keep every digit.
func formatNumber(s string) string {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return strconv.FormatInt(i, 10)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	if math.Abs(f) < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// sampleValue reads the value cell: a JSON number, or a string holding one
// (Kusto writes NaN and infinities of real columns as strings; a long may
// arrive as a string through project). Anything else is an error quoting
// the cell.
func sampleValue(raw json.RawMessage) (float64, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
				return f, nil
			}
		}
	} else if f, err := strconv.ParseFloat(string(raw), 64); err == nil {
		return f, nil
	}
	return 0, fmt.Errorf("%s is not a number", shorten(string(raw)))
}
