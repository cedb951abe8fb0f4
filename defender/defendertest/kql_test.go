package defendertest

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func kqlData(t testing.TB) *Dataset {
	t.Helper()
	return Generate(3, Size{Machines: 120, Alerts: 300, Vulnerabilities: 200, Recommendations: 40}, testNow)
}

func runOn(t testing.TB, d *Dataset, q string) (*kTable, error) {
	t.Helper()
	return runKQL(q, &kqlEnv{now: testNow}, func(name string) (*kTable, bool) { return huntingTable(d, name) })
}

func mustRun(t testing.TB, d *Dataset, q string) *kTable {
	t.Helper()
	res, err := runOn(t, d, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return res
}

// counts reads a two-column (key, count) result into a map.
func counts(t testing.TB, res *kTable) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, row := range res.rows {
		k, _ := row[0].(string)
		if _, dup := out[k]; dup {
			t.Fatalf("group %q twice", k)
		}
		out[k] = row[len(row)-1].(int64)
	}
	return out
}

func colNames(res *kTable) string {
	var names []string
	for _, c := range res.cols {
		names = append(names, c.name+":"+string(c.typ))
	}
	return strings.Join(names, ",")
}

func TestKQLSensorHealthMatchesMachines(t *testing.T) {
	d := kqlData(t)
	want := map[string]int64{}
	for _, m := range d.Machines {
		want[m.HealthStatus]++
	}
	res := mustRun(t, d, `DeviceInfo
		| summarize arg_max(Timestamp, *) by DeviceId   // latest report per device
		| summarize count() by SensorHealthState`)
	if got := colNames(res); got != "SensorHealthState:string,count_:long" {
		t.Fatalf("columns %s", got)
	}
	got := counts(t, res)
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %d, want %d", k, got[k], v)
		}
	}

	// Without arg_max the earlier reports count too: the table has more
	// rows than devices, as a real one does.
	naive := counts(t, mustRun(t, d, `DeviceInfo | summarize count() by SensorHealthState`))
	if naive["Active"] <= want["Active"] {
		t.Errorf("DeviceInfo without arg_max: Active %d, want more than the %d devices", naive["Active"], want["Active"])
	}
}

func TestKQLArgMaxPassThrough(t *testing.T) {
	d := kqlData(t)
	res := mustRun(t, d, `DeviceInfo | summarize arg_max(Timestamp, *) by DeviceId`)
	if len(res.rows) != len(d.Machines) {
		t.Fatalf("%d rows, want one per machine (%d)", len(res.rows), len(d.Machines))
	}
	if res.cols[0].name != "DeviceId" || res.cols[1].name != "Timestamp" || len(res.cols) != len(deviceInfoColumns) {
		t.Fatalf("columns %s", colNames(res))
	}
	byID := map[string]*Machine{}
	for i := range d.Machines {
		byID[d.Machines[i].ID] = &d.Machines[i]
	}
	health := res.col("SensorHealthState")
	for _, row := range res.rows {
		m := byID[row[0].(string)]
		if !row[1].(time.Time).Equal(m.LastSeen.Time()) || row[health] != m.HealthStatus {
			t.Fatalf("device %s: got %v %v, want the latest report %v %v", m.ID, row[1], row[health], m.LastSeen.Time(), m.HealthStatus)
		}
	}
}

func TestKQLWhereForms(t *testing.T) {
	d := kqlData(t)
	platforms := map[string]int64{}
	for _, m := range d.Machines {
		platforms[m.OSPlatform]++
	}
	latest := `DeviceInfo | summarize arg_max(Timestamp, *) by DeviceId | `
	total := func(q string) int64 {
		var n int64
		for _, v := range counts(t, mustRun(t, d, latest+q)) {
			n += v
		}
		return n
	}
	cases := []struct {
		where string
		want  int64
	}{
		{`where OSPlatform == "Windows11"`, platforms["Windows11"]},
		{`where OSPlatform != "Windows11"`, int64(len(d.Machines)) - platforms["Windows11"]},
		{`where OSPlatform in ("Windows10", "Windows11")`, platforms["Windows10"] + platforms["Windows11"]},
		{`where OSPlatform !in ("Windows10", "Windows11")`, int64(len(d.Machines)) - platforms["Windows10"] - platforms["Windows11"]},
		{`where OSPlatform in~ ("WINDOWS10")`, platforms["Windows10"]},
		{`where OSPlatform =~ "windows11"`, platforms["Windows11"]},
		{`where OSPlatform startswith "windowsserver"`, platforms["WindowsServer2016"] + platforms["WindowsServer2019"] + platforms["WindowsServer2022"]},
		{`where OSPlatform == 'Windows11' or OSPlatform == "macOS"`, platforms["Windows11"] + platforms["macOS"]},
		{`where (OSPlatform == "Windows11" or OSPlatform == "macOS") and not(OSPlatform == "macOS")`, platforms["Windows11"]},
		{`where Timestamp > ago(36500d)`, int64(len(d.Machines))},
		{`where Timestamp > now()`, 0},
		{`where Timestamp >= datetime(2000-01-01)`, int64(len(d.Machines))},
		{`where isnotempty(OSPlatform)`, int64(len(d.Machines))},
		{`where OSPlatform has "Windows11"`, platforms["Windows11"]},
		{`where OSPlatform contains "server"`, platforms["WindowsServer2016"] + platforms["WindowsServer2019"] + platforms["WindowsServer2022"]},
	}
	for _, c := range cases {
		if got := total(c.where + ` | summarize count() by OSPlatform`); got != c.want {
			t.Errorf("%s: %d devices, want %d", c.where, got, c.want)
		}
	}
}

func TestKQLOperators(t *testing.T) {
	d := kqlData(t)
	res := mustRun(t, d, `AlertInfo | count`)
	if colNames(res) != "Count:long" || res.rows[0][0] != int64(len(d.Alerts)) {
		t.Errorf("count: %s %v", colNames(res), res.rows)
	}
	res = mustRun(t, d, `AlertInfo | summarize count()`)
	if colNames(res) != "count_:long" || res.rows[0][0] != int64(len(d.Alerts)) {
		t.Errorf("summarize count(): %s %v", colNames(res), res.rows)
	}
	res = mustRun(t, d, `AlertInfo | where Severity == "nothing" | summarize count()`)
	if len(res.rows) != 1 || res.rows[0][0] != int64(0) {
		t.Errorf("summarize count() over no rows: %v, want one row of 0", res.rows)
	}
	res = mustRun(t, d, `AlertInfo | where Severity == "nothing" | summarize count() by Category`)
	if len(res.rows) != 0 {
		t.Errorf("summarize by over no rows: %v, want none", res.rows)
	}
	res = mustRun(t, d, `AlertInfo | summarize Alerts = count(), High = countif(Severity == "High"), Sources = dcount(DetectionSource) by Category | project-rename Tactic = Category | order by Alerts desc | take 3`)
	if colNames(res) != "Tactic:string,Alerts:long,High:long,Sources:long" || len(res.rows) != 3 {
		t.Fatalf("got %s %v", colNames(res), res.rows)
	}
	if res.rows[0][1].(int64) < res.rows[1][1].(int64) {
		t.Errorf("not sorted descending: %v", res.rows)
	}
	res = mustRun(t, d, `DeviceInfo | project DeviceId, Name = DeviceName | distinct DeviceId | top 5 by DeviceId asc`)
	if colNames(res) != "DeviceId:string" || len(res.rows) != 5 || res.rows[0][0].(string) > res.rows[1][0].(string) {
		t.Errorf("project/distinct/top: %s %v", colNames(res), res.rows)
	}
	res = mustRun(t, d, `DeviceTvmSecureConfigurationAssessment | summarize sum_impact = sum(ConfigurationImpact), m = max(Timestamp), a = avg(ConfigurationImpact) by IsCompliant | project-away m`)
	if colNames(res) != "IsCompliant:bool,sum_impact:real,a:real" {
		t.Errorf("sum/avg/project-away: %s", colNames(res))
	}
	res = mustRun(t, d, `DeviceTvmSoftwareVulnerabilities | where VulnerabilitySeverityLevel in ("Critical", "High") | summarize dcount(DeviceId) by SoftwareName`)
	if colNames(res) != "SoftwareName:string,dcount_DeviceId:long" || len(res.rows) == 0 {
		t.Errorf("dcount: %s %v", colNames(res), res.rows)
	}
	res = mustRun(t, d, `DeviceEvents | where ActionType startswith "Asr" and Timestamp > ago(7d) | summarize count() by ActionType`)
	for _, row := range res.rows {
		if !strings.HasPrefix(row[0].(string), "Asr") {
			t.Errorf("ASR filter let %v through", row)
		}
	}
	if len(res.rows) == 0 {
		t.Error("no ASR events")
	}
}

func TestKQLErrors(t *testing.T) {
	d := kqlData(t)
	for q, want := range map[string]string{
		``:                                     "the query is empty",
		`DeviceInfos | count`:                  "Failed to resolve table or column expression named 'DeviceInfos'",
		`DeviceInfo | where Foo == "x"`:        "'where' operator: Failed to resolve scalar expression named 'Foo'",
		`DeviceInfo | summarize count() by X`:  "'summarize' operator: Failed to resolve scalar expression named 'X'",
		`DeviceInfo | project Nope`:            "'project' operator: Failed to resolve scalar expression named 'Nope'",
		`DeviceInfo | mv-expand X`:             "Query could not be parsed at 'mv-expand' on line [1,14]",
		`DeviceInfo | where OSBuild == "x"`:    "Cannot compare values of types long and string",
		`DeviceInfo | where OSPlatform`:        "the predicate must be of type bool",
		`DeviceInfo | summarize foo() by X`:    "Failed to resolve scalar expression named 'X'",
		`DeviceInfo | summarize foo()`:         "Unknown aggregation function: 'foo'",
		`DeviceInfo | where OSPlatform == "x`:  "unterminated string literal",
		`DeviceInfo | take -1`:                 "Query could not be parsed",
		`DeviceInfo | where`:                   "the query is incomplete",
		"DeviceInfo\n| where OSPlatform == 1x": "Query could not be parsed at '1x' on line [2,23]",
		`let x = 1; DeviceInfo`:                "let statements are not supported",
		`DeviceInfo | summarize arg_max(Timestamp, *), count() by DeviceId`:              "must be the only aggregate",
		`DeviceInfo | where ago(1d) > 3`:                                                 "Cannot compare values of types datetime and long",
		`DeviceInfo | where OSPlatform == "a" | summarize count() by OSPlatform | extra`: "no 'extra' operator",
	} {
		_, err := runOn(t, d, q)
		var ke *kqlError
		if !errors.As(err, &ke) {
			t.Errorf("%q: got %v, want a KQL error", q, err)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %q, want it to contain %q", q, err, want)
		}
	}
}

func TestKQLLiterals(t *testing.T) {
	toks, err := lexKQL(`@"C:\x" 'it\'s' 7d 12h 30m 10s 100ms 1.5 42 datetime(2025-06-01T10:00:00Z) a-b !contains in~ =~ !~ <= >=`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tk := range toks {
		switch tk.kind {
		case kqlString:
			got = append(got, "s:"+tk.str)
		case kqlTimespan:
			got = append(got, "ts:"+tk.dur.String())
		case kqlNumber:
			got = append(got, "n:"+tk.text)
		case kqlDatetime:
			got = append(got, "dt:"+tk.t.Format(time.RFC3339))
		case kqlEOF:
		default:
			got = append(got, tk.text)
		}
	}
	want := `s:C:\x|s:it's|ts:168h0m0s|ts:12h0m0s|ts:30m0s|ts:10s|ts:100ms|n:1.5|n:42|dt:2025-06-01T10:00:00Z|a-b|!contains|in~|=~|!~|<=|>=`
	if g := strings.Join(got, "|"); g != want {
		t.Errorf("tokens\n got %s\nwant %s", g, want)
	}
}

func TestFormatTimespan(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                                    "00:00:00",
		90 * time.Minute:                     "01:30:00",
		26*time.Hour + 1500*time.Millisecond: "1.02:00:01.5000000",
		-time.Hour:                           "-01:00:00",
	} {
		if got := formatTimespan(d); got != want {
			t.Errorf("formatTimespan(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestHasTerm(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"cmd.exe /c whoami", "whoami", true},
		{"cmd.exe /c whoami", "who", false},
		{"Windows11", "windows11", true},
		{"Windows11", "windows", false},
		{"x", "", true},
	} {
		if got := hasTerm(c.a, c.b); got != c.want {
			t.Errorf("hasTerm(%q, %q) = %v", c.a, c.b, got)
		}
	}
}

func TestHuntingTablesDeterministic(t *testing.T) {
	a := Generate(5, Size{Machines: 40, Alerts: 10}, testNow)
	b := Generate(5, Size{Machines: 40, Alerts: 10}, testNow)
	for _, name := range huntingTableNames {
		ta, _ := huntingTable(a, name)
		tb, _ := huntingTable(b, name)
		if groupKeyTable(ta) != groupKeyTable(tb) {
			t.Errorf("%s differs between two generations of the same seed", name)
		}
	}
}

func groupKeyTable(t *kTable) string {
	var b strings.Builder
	t.each(func(row []any) bool {
		b.WriteString(groupKey(row))
		b.WriteByte('\n')
		return true
	})
	return b.String()
}
