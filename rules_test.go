package main

// Users' dashboards and alerts break silently when a metric or a label is
// renamed: PromQL returns nothing rather than an error. These tests parse
// every expression of alerts.rules.yml and of the Grafana dashboards with
// Prometheus's own parser and check each metric and label it names against a
// real scrape of the exporter.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

const rulesFile = "alerts.rules.yml"

func TestRulesAndDashboardsUseExposedMetrics(t *testing.T) {
	e := startExporter(t, "--demo")
	e.waitReady(t)
	code, body := e.get(t, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", code)
	}
	exp, err := parseExposition(body)
	if err != nil {
		t.Fatalf("parsing the scrape: %v", err)
	}

	var problems []problem
	rules, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	problems = append(problems, checkRules(rules, rulesFile, exp)...)

	boards, err := filepath.Glob(filepath.Join("dashboards", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(boards) == 0 {
		t.Fatal("no dashboards/*.json")
	}
	for _, path := range boards {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		problems = append(problems, checkDashboard(data, path, exp)...)
	}

	missing := map[string]bool{}
	for _, p := range problems {
		t.Error(p)
		if p.missingMetric != "" {
			missing[p.missingMetric] = true
		}
	}
	if len(missing) > 0 {
		t.Errorf("named by the rules or dashboards but not exposed by --demo: %s", strings.Join(sortedKeys(missing), " "))
	}
}

// TestCheckCatchesUnknownNames proves the checker fails on what it is meant
// to catch, without running the exporter.
func TestCheckCatchesUnknownNames(t *testing.T) {
	exp, err := parseExposition(`# TYPE defender_alerts gauge
defender_alerts{tenant="a",severity="High",status="New",category="x",detection_source="y"} 1
# TYPE defender_api_request_duration_seconds histogram
defender_api_request_duration_seconds_bucket{tenant="a",api="mde",endpoint="/api/alerts",le="+Inf"} 1
defender_api_request_duration_seconds_sum{tenant="a",api="mde",endpoint="/api/alerts"} 1
defender_api_request_duration_seconds_count{tenant="a",api="mde",endpoint="/api/alerts"} 1
`)
	if err != nil {
		t.Fatal(err)
	}
	panel := func(title, expr, legend string) map[string]any {
		return map[string]any{"type": "timeseries", "title": title,
			"targets": []any{map[string]any{"expr": expr, "legendFormat": legend, "refId": "A"}}}
	}
	board := func(panels ...map[string]any) []byte {
		b, err := json.Marshal(map[string]any{
			"panels": []any{map[string]any{"type": "row", "title": "r", "panels": panels}},
			"templating": map[string]any{"list": []any{map[string]any{
				"name": "tenant", "type": "query",
				"query": map[string]any{"query": "label_values(defender_alerts, tenant)"}}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	good := board(
		panel("ok", `sum by (severity) (defender_alerts{tenant=~"$tenant"})`, "{{severity}}"),
		panel("histogram", `histogram_quantile(0.9, sum by (le, api) (rate(defender_api_request_duration_seconds_bucket{tenant="$tenant"}[$__rate_interval])))`, "{{api}}"),
	)
	if ps := checkDashboard(good, "good.json", exp); len(ps) != 0 {
		t.Fatalf("a correct dashboard was rejected: %v", ps)
	}

	for _, tc := range []struct {
		name, expr, legend, want string
	}{
		{"unknown metric", `sum(defender_alertz{tenant=~"$tenant"})`, "", `metric "defender_alertz" is not exposed`},
		{"unknown matcher label", `defender_alerts{sevrity="High"}`, "", `has no label "sevrity"`},
		{"unknown grouping label", `sum by (colour) (defender_alerts)`, "", `by/without label "colour"`},
		{"label aggregated away", `sum by (severity) (defender_alerts)`, "{{tenant}}", `legend names label "tenant"`},
		{"syntax error", `sum(defender_alerts{tenant=~"$tenant"}`, "", "parse error"},
		{"unknown on() label", `defender_alerts / on (device) defender_alerts`, "", `on() label "device"`},
	} {
		ps := checkDashboard(board(panel(tc.name, tc.expr, tc.legend)), "bad.json", exp)
		if len(ps) == 0 || !strings.Contains(fmt.Sprint(ps), tc.want) {
			t.Errorf("%s: got %v, want a problem containing %q", tc.name, ps, tc.want)
		}
	}

	badVar, err := json.Marshal(map[string]any{"templating": map[string]any{"list": []any{map[string]any{
		"name": "tenant", "type": "query", "query": "label_values(defender_up, tenant)"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if ps := checkDashboard(badVar, "var.json", exp); len(ps) == 0 || !strings.Contains(fmt.Sprint(ps), `"defender_up" is not exposed`) {
		t.Errorf("template variable on a missing metric: got %v", ps)
	}

	rules := []byte(`groups:
  - name: g
    rules:
      - record: tenant_severity:defender_alerts:sum
        expr: sum by (tenant, severity) (defender_alerts)
      - alert: UsesRecording
        expr: tenant_severity:defender_alerts:sum{severity="High"} > 0
        annotations: {summary: "{{ $labels.tenant }}"}
      - alert: AnnotationLabelGone
        expr: sum(tenant_severity:defender_alerts:sum) > 0
        annotations: {summary: "{{ $labels.tenant }}"}
      - alert: RecordingLabelMissing
        expr: tenant_severity:defender_alerts:sum{status="New"} > 0
`)
	ps := checkRules(rules, "rules.yml", exp)
	got := fmt.Sprint(ps)
	if len(ps) != 2 || !strings.Contains(got, `AnnotationLabelGone: annotation summary names label "tenant"`) ||
		!strings.Contains(got, `RecordingLabelMissing: metric "tenant_severity:defender_alerts:sum" has no label "status"`) {
		t.Errorf("rules: got %d problems %v", len(ps), ps)
	}
}

// labelSet is the set of label names a series or an expression can carry;
// nil means unknown (the input was already reported), and checks against it
// pass so that one mistake is reported once.
type labelSet map[string]bool

// exposition maps each series name to its label names.
type exposition map[string]labelSet

// problem is one finding, with where it was found.
type problem struct {
	where, msg    string
	missingMetric string
}

func (p problem) String() string { return p.where + ": " + p.msg }

// targetLabels are attached by Prometheus to every scraped series.
var targetLabels = []string{"job", "instance"}

func parseExposition(text string) (exposition, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		return nil, err
	}
	exp := exposition{}
	add := func(name string, m *dto.Metric, extra ...string) {
		ls := exp[name]
		if ls == nil {
			ls = labelSet{}
			for _, l := range targetLabels {
				ls[l] = true
			}
			exp[name] = ls
		}
		if m != nil {
			for _, lp := range m.GetLabel() {
				ls[lp.GetName()] = true
			}
		}
		for _, l := range extra {
			ls[l] = true
		}
	}
	for name, mf := range families {
		ms := mf.GetMetric()
		if len(ms) == 0 {
			ms = []*dto.Metric{nil}
		}
		for _, m := range ms {
			switch mf.GetType() {
			case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
				add(name+"_bucket", m, "le")
				add(name+"_sum", m)
				add(name+"_count", m)
			case dto.MetricType_SUMMARY:
				add(name, m, "quantile")
				add(name+"_sum", m)
				add(name+"_count", m)
			default:
				add(name, m)
			}
		}
	}
	return exp, nil
}

// --- rules

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Record      string            `yaml:"record"`
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

var templateLabelRE = regexp.MustCompile(`\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)`)

// checkRules checks every rule in order and adds the output of each
// recording rule to exp, so that later rules and the dashboards may use it.
func checkRules(data []byte, file string, exp exposition) []problem {
	var rf ruleFile
	if err := yaml.Unmarshal(data, &rf); err != nil {
		return []problem{{where: file, msg: err.Error()}}
	}
	var out []problem
	for _, g := range rf.Groups {
		for i, r := range g.Rules {
			name := r.Record
			if name == "" {
				name = r.Alert
			}
			where := fmt.Sprintf("%s: group %s rule %d %s", file, g.Name, i+1, name)
			c := &checker{exp: exp, where: where}
			ls := c.check(r.Expr)
			out = append(out, c.problems...)
			if r.Record != "" {
				rec := labelSet{}
				for l := range ls {
					rec[l] = true
				}
				for l := range r.Labels {
					rec[l] = true
				}
				if ls == nil {
					rec = nil
				}
				exp[r.Record] = rec
				continue
			}
			if ls == nil {
				continue
			}
			for _, key := range sortedKeys(r.Annotations) {
				for _, m := range templateLabelRE.FindAllStringSubmatch(r.Annotations[key], -1) {
					if !ls[m[1]] && r.Labels[m[1]] == "" {
						out = append(out, problem{where: where, msg: fmt.Sprintf(
							"annotation %s names label %q, which the expression does not have (it has %s)",
							key, m[1], ls)})
					}
				}
			}
		}
	}
	return out
}

// --- dashboards

// grafanaBuiltins are Grafana's own variables, replaced by values of the
// right kind before parsing.
var grafanaBuiltins = strings.NewReplacer(
	"${__rate_interval}", "1m", "$__rate_interval", "1m",
	"${__interval_ms}", "60000", "$__interval_ms", "60000",
	"${__interval}", "1m", "$__interval", "1m",
	"${__range_s}", "3600", "$__range_s", "3600",
	"${__range_ms}", "3600000", "$__range_ms", "3600000",
	"${__range}", "1h", "$__range", "1h",
)

// templateVarRE matches the dashboard's own variables: $name, ${name},
// ${name:format} and [[name]]. They only appear inside label matcher
// values, where any string parses.
var templateVarRE = regexp.MustCompile(`\$\{[a-zA-Z0-9_]+(:[a-zA-Z0-9_]+)?\}|\$[a-zA-Z_][a-zA-Z0-9_]*|\[\[[a-zA-Z0-9_]+\]\]`)

func substituteVariables(expr string) string {
	return templateVarRE.ReplaceAllString(grafanaBuiltins.Replace(expr), "x")
}

type grafanaPanel struct {
	Title      string          `json:"title"`
	Datasource json.RawMessage `json:"datasource"`
	Targets    []struct {
		Expr         string          `json:"expr"`
		LegendFormat string          `json:"legendFormat"`
		RefID        string          `json:"refId"`
		Datasource   json.RawMessage `json:"datasource"`
	} `json:"targets"`
	Panels []grafanaPanel `json:"panels"`
}

type grafanaDashboard struct {
	Panels     []grafanaPanel `json:"panels"`
	Templating struct {
		List []struct {
			Name  string          `json:"name"`
			Type  string          `json:"type"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

var (
	labelValuesRE = regexp.MustCompile(`^\s*label_values\((?:(.*),)?\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$`)
	queryResultRE = regexp.MustCompile(`^\s*query_result\((.*)\)\s*$`)
	legendLabelRE = regexp.MustCompile(`\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}`)
)

func checkDashboard(data []byte, file string, exp exposition) []problem {
	var d grafanaDashboard
	if err := json.Unmarshal(data, &d); err != nil {
		return []problem{{where: file, msg: err.Error()}}
	}
	var out []problem
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		query := variableQuery(v.Query)
		where := fmt.Sprintf("%s: variable %s", file, v.Name)
		if m := labelValuesRE.FindStringSubmatch(query); m != nil {
			if m[1] == "" {
				continue // label_values(label): any metric
			}
			c := &checker{exp: exp, where: where}
			if ls := c.check(substituteVariables(m[1])); ls != nil && !ls[m[2]] {
				c.errorf("label_values on label %q, which %s does not have", m[2], strings.TrimSpace(m[1]))
			}
			out = append(out, c.problems...)
		} else if m := queryResultRE.FindStringSubmatch(query); m != nil {
			c := &checker{exp: exp, where: where}
			c.check(substituteVariables(m[1]))
			out = append(out, c.problems...)
		} else if query != "" {
			out = append(out, problem{where: where, msg: "unsupported variable query " + query})
		}
	}
	var walk func(ps []grafanaPanel)
	walk = func(ps []grafanaPanel) {
		for _, p := range ps {
			walk(p.Panels)
			for _, tg := range p.Targets {
				if tg.Expr == "" || !isPrometheus(tg.Datasource, p.Datasource) {
					continue
				}
				c := &checker{exp: exp, where: fmt.Sprintf("%s: panel %q target %s", file, p.Title, tg.RefID)}
				ls := c.check(substituteVariables(tg.Expr))
				if ls != nil {
					for _, m := range legendLabelRE.FindAllStringSubmatch(tg.LegendFormat, -1) {
						if !ls[m[1]] {
							c.errorf("legend names label %q, which the expression does not have (it has %s)", m[1], ls)
						}
					}
				}
				out = append(out, c.problems...)
			}
		}
	}
	walk(d.Panels)
	return out
}

// variableQuery returns a query variable's query, stored either as a string
// or as {"query": "..."}.
func variableQuery(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		Query string `json:"query"`
	}
	if json.Unmarshal(raw, &o) == nil {
		return o.Query
	}
	return ""
}

// isPrometheus reports whether a target queries Prometheus: its own data
// source, else the panel's, else the dashboard default (Prometheus here).
func isPrometheus(target, panel json.RawMessage) bool {
	for _, raw := range []json.RawMessage{target, panel} {
		var ds struct {
			Type string `json:"type"`
		}
		if len(raw) > 0 && json.Unmarshal(raw, &ds) == nil && ds.Type != "" {
			return ds.Type == "prometheus"
		}
	}
	return true
}

// --- the checker proper

type checker struct {
	exp      exposition
	where    string
	problems []problem
}

func (c *checker) errorf(format string, args ...any) {
	c.problems = append(c.problems, problem{where: c.where, msg: fmt.Sprintf(format, args...)})
}

// check parses expr and returns the label names of its result (nil if
// unknown).
func (c *checker) check(expr string) labelSet {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		c.errorf("parse error: %v in %s", err, expr)
		return nil
	}
	return c.labels(e)
}

func (c *checker) labels(e parser.Expr) labelSet {
	switch n := e.(type) {
	case *parser.VectorSelector:
		return c.selector(n)
	case *parser.MatrixSelector:
		return c.labels(n.VectorSelector)
	case *parser.SubqueryExpr:
		return c.labels(n.Expr)
	case *parser.ParenExpr:
		return c.labels(n.Expr)
	case *parser.UnaryExpr:
		return c.labels(n.Expr)
	case *parser.StepInvariantExpr:
		return c.labels(n.Expr)
	case *parser.NumberLiteral, *parser.StringLiteral:
		return labelSet{}
	case *parser.AggregateExpr:
		return c.aggregate(n)
	case *parser.BinaryExpr:
		return c.binary(n)
	case *parser.Call:
		return c.call(n)
	}
	c.errorf("unhandled expression %T: %s", e, e)
	return nil
}

func (c *checker) selector(n *parser.VectorSelector) labelSet {
	name := n.Name
	if name == "" {
		for _, m := range n.LabelMatchers {
			if m.Name == model.MetricNameLabel && m.Type.String() == "=" {
				name = m.Value
			}
		}
	}
	if name == "" {
		c.errorf("selector %s does not name a metric", n)
		return nil
	}
	ls, ok := c.exp[name]
	if !ok {
		c.problems = append(c.problems, problem{where: c.where, missingMetric: name,
			msg: fmt.Sprintf("metric %q is not exposed by the exporter nor recorded by %s", name, rulesFile)})
		return nil
	}
	if ls == nil {
		return nil
	}
	for _, m := range n.LabelMatchers {
		if m.Name != model.MetricNameLabel && !ls[m.Name] {
			c.errorf("metric %q has no label %q (it has %s)", name, m.Name, ls)
		}
	}
	return ls
}

func (c *checker) aggregate(n *parser.AggregateExpr) labelSet {
	in := c.labels(n.Expr)
	if n.Param != nil {
		c.labels(n.Param)
	}
	if in != nil {
		for _, g := range n.Grouping {
			if !in[g] {
				c.errorf("%s by/without label %q is not a label of its input (it has %s)", n.Op, g, in)
			}
		}
	}
	switch n.Op {
	case parser.TOPK, parser.BOTTOMK, parser.LIMITK, parser.LIMIT_RATIO:
		return in
	}
	out := labelSet{}
	if n.Without {
		if in == nil {
			return nil
		}
		for l := range in {
			out[l] = true
		}
		for _, g := range n.Grouping {
			delete(out, g)
		}
	} else {
		for _, g := range n.Grouping {
			out[g] = true
		}
	}
	if n.Op == parser.COUNT_VALUES {
		if s, ok := n.Param.(*parser.StringLiteral); ok {
			out[s.Val] = true
		}
	}
	return out
}

func (c *checker) binary(n *parser.BinaryExpr) labelSet {
	l, r := c.labels(n.LHS), c.labels(n.RHS)
	lv, rv := n.LHS.Type() == parser.ValueTypeVector, n.RHS.Type() == parser.ValueTypeVector
	switch {
	case lv && !rv:
		return l
	case rv && !lv:
		return r
	case !lv && !rv:
		return labelSet{}
	}
	vm := n.VectorMatching
	if vm != nil {
		for _, lbl := range vm.MatchingLabels {
			if vm.On {
				for side, ls := range map[string]labelSet{"left": l, "right": r} {
					if ls != nil && !ls[lbl] {
						c.errorf("on() label %q is not a label of the %s side (it has %s)", lbl, side, ls)
					}
				}
			} else if l != nil && r != nil && !l[lbl] && !r[lbl] {
				c.errorf("ignoring() label %q is on neither side", lbl)
			}
		}
		one := r
		if vm.Card == parser.CardOneToMany {
			one = l
		}
		for _, lbl := range vm.Include {
			if one != nil && !one[lbl] {
				c.errorf("group_left/group_right label %q is not a label of the \"one\" side (it has %s)", lbl, one)
			}
		}
	}
	if l == nil || r == nil {
		return nil
	}
	switch {
	case n.Op == parser.LOR:
		return union(l, r)
	case vm != nil && vm.Card == parser.CardManyToOne:
		return union(l, setOf(vm.Include...))
	case vm != nil && vm.Card == parser.CardOneToMany:
		return union(r, setOf(vm.Include...))
	}
	return l
}

func (c *checker) call(n *parser.Call) labelSet {
	var args []labelSet
	for _, a := range n.Args {
		args = append(args, c.labels(a))
	}
	switch n.Func.Name {
	case "label_replace", "label_join":
		dst, ok := n.Args[1].(*parser.StringLiteral)
		if args[0] == nil || !ok {
			return nil
		}
		return union(args[0], setOf(dst.Val))
	case "absent", "absent_over_time":
		out := labelSet{}
		parser.Inspect(n.Args[0], func(node parser.Node, _ []parser.Node) error {
			if vs, ok := node.(*parser.VectorSelector); ok {
				for _, m := range vs.LabelMatchers {
					if m.Name != model.MetricNameLabel && m.Type.String() == "=" {
						out[m.Name] = true
					}
				}
			}
			return nil
		})
		return out
	case "histogram_quantile", "histogram_fraction":
		in := args[len(args)-1]
		if in == nil {
			return nil
		}
		if !in["le"] {
			c.errorf("%s over a series without an le label", n.Func.Name)
		}
		out := union(in, nil)
		delete(out, "le")
		return out
	}
	for i, a := range n.Args {
		if t := a.Type(); t == parser.ValueTypeVector || t == parser.ValueTypeMatrix {
			return args[i]
		}
	}
	return labelSet{}
}

func union(a, b labelSet) labelSet {
	out := labelSet{}
	for l := range a {
		out[l] = true
	}
	for l := range b {
		out[l] = true
	}
	return out
}

func setOf(names ...string) labelSet {
	out := labelSet{}
	for _, n := range names {
		out[n] = true
	}
	return out
}

func (s labelSet) String() string {
	return "{" + strings.Join(sortedKeys(s), ", ") + "}"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
