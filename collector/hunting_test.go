package collector

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/defender-exporter/defender_exporter/config"
	"github.com/defender-exporter/defender_exporter/defender"
	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

const sensorHealthKQL = `DeviceInfo
| summarize arg_max(Timestamp, *) by DeviceId
| summarize count() by SensorHealthState`

func huntingQueryConfig(name, query, value string, labels ...string) config.HuntingQuery {
	return config.HuntingQuery{
		Name: name, Help: "Test query " + name, Interval: 30 * time.Minute,
		Query: query, Labels: labels, Value: value,
	}
}

func newHunting(t testing.TB, api string, q config.HuntingQuery) Collector {
	t.Helper()
	c, err := NewHuntingQuery(api, q)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func refreshErr(t testing.TB, c Collector, target *Target) error {
	t.Helper()
	ms, err := c.Refresh(context.Background(), target)
	if err == nil {
		t.Fatalf("refresh succeeded with %d metrics, want an error", len(ms))
	}
	return err
}

var huntingSize = defendertest.Size{Machines: 50, Alerts: 120}

func TestHuntingGraphGolden(t *testing.T) {
	tenant, target := fakeTenant(t, huntingSize)
	q := huntingQueryConfig("devices_by_sensor_health", sensorHealthKQL, "count_", "SensorHealthState")
	q.Help = "Devices by sensor health state"
	ms := refresh(t, newHunting(t, "graph", q), target)
	compareGolden(t, ms, "hunting")

	// The counts are the machines' health states (those seen within the
	// 30 days advanced hunting keeps).
	want := map[string]int{}
	for _, m := range tenant.Data().Machines {
		if m.LastSeen.Time().After(testNow.Add(-30 * 24 * time.Hour)) {
			want[`sensor_health_state="`+m.HealthStatus+`"`]++
		}
	}
	lines := seriesOf(t, ms, "defender_hunting_devices_by_sensor_health")
	if len(lines) != len(want) {
		t.Fatalf("series %v, want %d states", lines, len(want))
	}
	for _, l := range lines {
		ok := false
		for k, n := range want {
			if strings.Contains(l, k) && strings.HasSuffix(l, " "+strconv.Itoa(n)) {
				ok = true
			}
		}
		if !ok {
			t.Errorf("unexpected series %s (want %v)", l, want)
		}
	}
	if n := tenant.Calls(defendertest.HuntingGraphPath); n != 1 {
		t.Errorf("%d calls, want 1", n)
	}
}

func TestHuntingMDEMatchesGraph(t *testing.T) {
	tenant, target := fakeTenant(t, huntingSize)
	q := huntingQueryConfig("devices_by_sensor_health", sensorHealthKQL, "count_", "SensorHealthState")
	q.Help = "Devices by sensor health state"
	graph := exposition(t, refresh(t, newHunting(t, "graph", q), target))
	mde := exposition(t, refresh(t, newHunting(t, "mde", q), target))
	if string(graph) != string(mde) {
		t.Errorf("graph and mde answers give different metrics:\n%s\n%s", graph, mde)
	}
	if tenant.Calls(defendertest.HuntingMDEPath) != 1 {
		t.Errorf("mde calls %d", tenant.Calls(defendertest.HuntingMDEPath))
	}
}

func TestHuntingLabelValueKinds(t *testing.T) {
	_, target := fakeTenant(t, huntingSize)
	q := huntingQueryConfig("devices_by_build", `DeviceInfo
		| summarize arg_max(Timestamp, *) by DeviceId
		| summarize count() by OSBuild, IsAzureADJoined`, "count_", "OSBuild", "IsAzureADJoined")
	ms := refresh(t, newHunting(t, "graph", q), target)
	lines := strings.Join(seriesOf(t, ms, "defender_hunting_devices_by_build"), "\n")
	for _, want := range []string{
		`is_azure_ad_joined="false",os_build=""`,     // null long: empty label
		`is_azure_ad_joined="true",os_build="19045"`, // number formatted, bool spelled
	} {
		if !strings.Contains(lines, want) {
			t.Errorf("no series with %s in\n%s", want, lines)
		}
	}
}

// answer makes the fake's hunting endpoint return body as a 200.
func answer(tenant *defendertest.Tenant, body string) {
	tenant.SetFault(defendertest.HuntingGraphPath, defendertest.Fault{Body: body})
}

func TestHuntingValueForms(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{})
	answer(tenant, `{"schema":[{"name":"Name","type":"String"},{"name":"N","type":"String"},{"name":"Ratio","type":"Double"}],
		"results":[{"Name":"a","N":"12","Ratio":0.5},{"Name":"b","N":" 3.5 ","Ratio":1e3},{"Name":null,"N":"NaN","Ratio":-2}]}`)
	ms := refresh(t, newHunting(t, "graph", huntingQueryConfig("forms", "X", "N", "Name", "Ratio")), target)
	got := strings.Join(seriesOf(t, ms, "defender_hunting_forms"), "\n")
	want := strings.Join([]string{
		`defender_hunting_forms{name="",ratio="-2",tenant="contoso"} NaN`,
		`defender_hunting_forms{name="a",ratio="0.5",tenant="contoso"} 12`,
		`defender_hunting_forms{name="b",ratio="1000",tenant="contoso"} 3.5`,
	}, "\n")
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if rows := seriesOf(t, ms, "defender_hunting_query_rows"); len(rows) != 1 || !strings.HasSuffix(rows[0], " 3") {
		t.Errorf("rows gauge %v", rows)
	}
}

func TestHuntingEmptyResult(t *testing.T) {
	_, target := fakeTenant(t, huntingSize)
	q := huntingQueryConfig("none", `DeviceInfo | where OSPlatform == "Plan9" | summarize count() by SensorHealthState`, "count_", "SensorHealthState")
	ms := refresh(t, newHunting(t, "graph", q), target)
	if s := seriesOf(t, ms, "defender_hunting_none"); len(s) != 0 {
		t.Errorf("series %v", s)
	}
	if rows := seriesOf(t, ms, "defender_hunting_query_rows"); len(rows) != 1 || !strings.HasSuffix(rows[0], " 0") {
		t.Errorf("rows gauge %v, want 0", rows)
	}
}

func TestHuntingFailures(t *testing.T) {
	for _, c := range []struct {
		name  string
		q     config.HuntingQuery
		body  string // a canned answer, or "" for the fake's own
		fault *defendertest.Fault
		is    error
		wants []string
	}{
		{
			name:  "KQL error from the service",
			q:     huntingQueryConfig("kql", `DeviceInfo | where Foo == "x" | summarize count() by SensorHealthState`, "count_", "SensorHealthState"),
			is:    defender.ErrHuntingQuery,
			wants: []string{"hunting query kql", "Defender rejected the query", "Failed to resolve scalar expression named 'Foo'"},
		},
		{
			name:  "result too large",
			q:     huntingQueryConfig("big", sensorHealthKQL, "count_", "SensorHealthState"),
			fault: ptr(defendertest.HuntingTooLarge()),
			is:    defender.ErrHuntingTooLarge,
			wants: []string{"size limit", "exceeded the allowed result size"},
		},
		{
			name:  "missing label column",
			q:     huntingQueryConfig("nolabel", sensorHealthKQL, "count_", "HealthState"),
			wants: []string{`label column "HealthState" is not in the result, whose columns are SensorHealthState, count_`},
		},
		{
			name:  "missing value column",
			q:     huntingQueryConfig("novalue", sensorHealthKQL, "Count", "SensorHealthState"),
			wants: []string{`value column "Count" is not in the result, whose columns are SensorHealthState, count_`},
		},
		{
			name:  "missing column, no rows",
			q:     huntingQueryConfig("norows", `DeviceInfo | where OSPlatform == "Plan9" | summarize count() by SensorHealthState`, "Count", "SensorHealthState"),
			wants: []string{`column "Count" is not in the result, whose columns are SensorHealthState, count_`},
		},
		{
			name:  "non-numeric value",
			q:     huntingQueryConfig("text", "X", "N", "Name"),
			body:  `{"schema":[],"results":[{"Name":"a","N":1},{"Name":"b","N":"lots"}]}`,
			wants: []string{`row 2: value column "N": "lots" is not a number`},
		},
		{
			name:  "null value",
			q:     huntingQueryConfig("null", "X", "N", "Name"),
			body:  `{"schema":[],"results":[{"Name":"a","N":null}]}`,
			wants: []string{`row 1: value column "N": null is not a number`},
		},
		{
			name:  "non-numeric value column (string column)",
			q:     huntingQueryConfig("strcol", `DeviceInfo | summarize arg_max(Timestamp, *) by DeviceId | take 3`, "DeviceName", "DeviceId"),
			wants: []string{`value column "DeviceName"`, "is not a number"},
		},
		{
			name: "duplicate label set",
			q: huntingQueryConfig("dup", `DeviceInfo | summarize arg_max(Timestamp, *) by DeviceId
				| summarize count() by SensorHealthState, OSPlatform`, "count_", "SensorHealthState"),
			wants: []string{"both give the series defender_hunting_dup{sensor_health_state=", "list the column that tells them apart in labels"},
		},
		{
			// Whatever the answer quotes back, the error stays one short
			// log line (checked for every case below).
			name:  "thousands of long column names",
			q:     huntingQueryConfig("wide", "X", "N", "Name"),
			body:  wideAnswer(3000, 200, false),
			wants: []string{`label column "Name" is not in the result, whose columns are `, "… and 2980 more"},
		},
		{
			name:  "thousands of long column names, no rows",
			q:     huntingQueryConfig("wideschema", "X", "N", "Name"),
			body:  wideAnswer(3000, 200, true),
			wants: []string{`column "Name" is not in the result, whose columns are `, "… and 2980 more"},
		},
		{
			name:  "long label values repeat",
			q:     huntingQueryConfig("longdup", "X", "N", "Name"),
			body:  `{"schema":[],"results":[{"Name":"` + strings.Repeat("é", 5000) + `","N":1},{"Name":"` + strings.Repeat("é", 5000) + `","N":2}]}`,
			wants: []string{`rows 1 and 2 both give the series defender_hunting_longdup{name="` + strings.Repeat("é", 30) + `…"}`},
		},
		{
			name:  "long non-numeric value",
			q:     huntingQueryConfig("longtext", "X", "N", "Name"),
			body:  `{"schema":[],"results":[{"Name":"a","N":"` + strings.Repeat("9x", 5000) + `"}]}`,
			wants: []string{`row 1: value column "N": "9x9x`, `… is not a number`},
		},
		{
			name:  "malformed answer",
			q:     huntingQueryConfig("broken", sensorHealthKQL, "count_", "SensorHealthState"),
			fault: &defendertest.Fault{Malformed: true},
			wants: []string{"hunting query broken", "decode"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			tenant, target := fakeTenant(t, huntingSize)
			switch {
			case c.body != "":
				answer(tenant, c.body)
			case c.fault != nil:
				tenant.SetFault(defendertest.HuntingGraphPath, *c.fault)
			}
			err := refreshErr(t, newHunting(t, "graph", c.q), target)
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %v is not %v", err, c.is)
			}
			for _, w := range c.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %.2000q lacks %q", err, w)
				}
			}
			if n := len(err.Error()); n > 2500 {
				t.Errorf("error is %d bytes long: %.200q…", n, err)
			}
			// One failing query leaves the others alone.
			tenant.ClearFaults()
			good := huntingQueryConfig("good", sensorHealthKQL, "count_", "SensorHealthState")
			refresh(t, newHunting(t, "graph", good), target)
		})
	}
}

func ptr[T any](v T) *T { return &v }

// wideAnswer is a hunting answer of n columns with names of nameLen bytes,
// in the schema only (noRows) or in one row.
func wideAnswer(n, nameLen int, noRows bool) string {
	var schema, row []string
	for i := range n {
		name := fmt.Sprintf("%0*d", nameLen, i)
		schema = append(schema, fmt.Sprintf(`{"name":%q,"type":"Int64"}`, name))
		row = append(row, fmt.Sprintf(`%q:%d`, name, i))
	}
	results := "[{" + strings.Join(row, ",") + "}]"
	if noRows {
		results = "[]"
	}
	return `{"schema":[` + strings.Join(schema, ",") + `],"results":` + results + `}`
}

func TestHuntingTimeout(t *testing.T) {
	tenant, target := fakeTenant(t, huntingSize)
	tenant.SetFault(defendertest.HuntingGraphPath, defendertest.Fault{Delay: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := newHunting(t, "graph", huntingQueryConfig("slow", sensorHealthKQL, "count_", "SensorHealthState")).Refresh(ctx, target)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "hunting query slow") {
		t.Errorf("got %v, want the deadline", err)
	}
}

func TestHuntingCPUQuotaDefersTenant(t *testing.T) {
	tenant, target := fakeTenant(t, huntingSize)
	tenant.SetFault(defendertest.HuntingGraphPath, defendertest.HuntingCPUQuota())
	first := newHunting(t, "graph", huntingQueryConfig("first", sensorHealthKQL, "count_", "SensorHealthState"))
	second := newHunting(t, "graph", huntingQueryConfig("second", `AlertInfo | summarize count() by Severity`, "count_", "Severity"))

	err := refreshErr(t, first, target)
	var d *defender.HuntingDeferredError
	if !errors.As(err, &d) || !strings.Contains(err.Error(), "hunting query first: advanced hunting deferred until ") {
		t.Fatalf("got %v, want a deferral", err)
	}
	if n := tenant.Calls(defendertest.HuntingGraphPath); n != 1 {
		t.Fatalf("%d calls, want 1 (a CPU-quota 429 is not retried)", n)
	}

	// The quota is back, but the tenant's hunting stays deferred: the next
	// query fails at once, and no request reaches Defender.
	tenant.ClearFaults()
	err = refreshErr(t, second, target)
	if !errors.Is(err, defender.ErrHuntingDeferred) || !strings.Contains(err.Error(), "hunting query second") {
		t.Errorf("second query: %v", err)
	}
	if n := tenant.Calls(defendertest.HuntingGraphPath); n != 1 {
		t.Errorf("%d calls, want still 1", n)
	}

	// Other collectors of the tenant carry on.
	alerts, err := New(collectorConfig(t, "alerts"))
	if err != nil {
		t.Fatal(err)
	}
	refresh(t, alerts, target)
}

func TestNewHuntingQueryChecks(t *testing.T) {
	good := huntingQueryConfig("ok", "T", "count_", "SensorHealthState")
	for _, c := range []struct {
		api  string
		mod  func(*config.HuntingQuery)
		want string
	}{
		{"kusto", nil, `unknown API "kusto"`},
		{"graph", func(q *config.HuntingQuery) { q.Name = "bad-name" }, "not a valid metric name"},
		{"graph", func(q *config.HuntingQuery) { q.Query = " " }, "empty query"},
		{"graph", func(q *config.HuntingQuery) { q.Value = "" }, "no value column"},
		{"graph", func(q *config.HuntingQuery) { q.Labels = []string{"Tenant"} }, `label name "tenant"`},
		{"graph", func(q *config.HuntingQuery) { q.Labels = []string{"DeviceId", "deviceId"} }, "both give the label device_id"},
		{"graph", func(q *config.HuntingQuery) { q.Labels = []string{"count_"} }, "both a label and the value"},
	} {
		q := good
		q.Labels = append([]string(nil), good.Labels...)
		if c.mod != nil {
			c.mod(&q)
		}
		if _, err := NewHuntingQuery(c.api, q); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %+v: %v, want %q", c.api, q, err, c.want)
		}
	}
	for _, api := range []string{"graph", "mde", "xdr"} {
		if _, err := NewHuntingQuery(api, good); err != nil {
			t.Errorf("%s: %v", api, err)
		}
	}
}

func TestFormatNumberAndSentence(t *testing.T) {
	for in, want := range map[string]string{"42": "42", "-7": "-7", "1.5": "1.5", "1e3": "1000", "1e300": "1e+300", "9007199254740993": "9007199254740993"} {
		if got := formatNumber(in); got != want {
			t.Errorf("formatNumber(%s) = %s, want %s", in, got, want)
		}
	}
	for in, want := range map[string]string{"Devices": "Devices.", "Devices.": "Devices.", "Why?": "Why?", " x ": "x."} {
		if got := sentence(in); got != want {
			t.Errorf("sentence(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestExampleHuntingQueries proves that every query of examples/hunting.yml
// loads with the config loader and returns rows from the fake tenant.
func TestExampleHuntingQueries(t *testing.T) {
	env := map[string]string{
		"AZURE_TENANT_ID":     "11111111-2222-3333-4444-555555555555",
		"AZURE_CLIENT_ID":     "66666666-7777-8888-9999-000000000000",
		"AZURE_CLIENT_SECRET": "example",
	}
	cfg, err := config.Load("../examples/hunting.yml", config.Options{Getenv: func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Hunting.Queries) < 4 {
		t.Fatalf("only %d queries", len(cfg.Hunting.Queries))
	}
	tenant, err := defendertest.New(defendertest.Options{Seed: 7, Size: defendertest.DefaultSize, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tenant.Close)
	target := &Target{Tenant: "contoso", Client: newClient(t, tenant, nil), Now: fixedNow}
	for _, q := range cfg.Hunting.Queries {
		for _, api := range []string{cfg.Hunting.API, "mde"} {
			if api == "mde" && q.Timespan != "" {
				q.Timespan = "" // mde takes none; the queries filter on Timestamp themselves
			}
			c, err := NewHuntingQuery(api, q)
			if err != nil {
				t.Fatalf("%s: %v", q.Name, err)
			}
			ms, err := c.Refresh(context.Background(), target)
			if err != nil {
				t.Errorf("%s via %s: %v", q.Name, api, err)
				continue
			}
			if series := seriesOf(t, metricSet(ms), "defender_hunting_"+q.Name); len(series) == 0 {
				t.Errorf("%s via %s: no rows", q.Name, api)
			}
		}
	}
}
