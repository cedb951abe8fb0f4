package defendertest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
)

const postureXDRScope = "https://api.security.microsoft.com/.default"

var postureSize = Size{Machines: 300, Alerts: 10, Vulnerabilities: 2000, Recommendations: 150,
	MachineActions: 600, Incidents: 250, Indicators: 200, Investigations: 300}

func postureJSON(t testing.TB, d *Dataset) []byte {
	t.Helper()
	b, err := json.Marshal(struct {
		S, C *Score
		G    []GroupScore
		V    []Vulnerability
		R    []Recommendation
		AV   []DeviceAVInfo
		MA   []MachineAction
		I    []Incident
		Ind  []Indicator
		Inv  []Investigation
	}{&d.ExposureScore, &d.ConfigurationScore, d.GroupExposureScores, d.Vulnerabilities, d.Recommendations,
		d.AVInfo, d.MachineActions, d.Incidents, d.Indicators, d.Investigations})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPostureDeterministic(t *testing.T) {
	a := postureJSON(t, Generate(42, postureSize, testNow))
	if !bytes.Equal(a, postureJSON(t, Generate(42, postureSize, testNow))) {
		t.Fatal("same seed gave different posture data")
	}
	if bytes.Equal(a, postureJSON(t, Generate(43, postureSize, testNow))) {
		t.Fatal("different seeds gave the same posture data")
	}
	// Each entity type has its own stream: more CVEs leave incidents alone.
	more := postureSize
	more.Vulnerabilities *= 2
	d1, d2 := Generate(42, postureSize, testNow), Generate(42, more, testNow)
	i1, _ := json.Marshal(d1.Incidents)
	i2, _ := json.Marshal(d2.Incidents)
	if !bytes.Equal(i1, i2) || d1.Machines[0].ID != d2.Machines[0].ID || d1.Alerts[0].ID != d2.Alerts[0].ID {
		t.Fatal("the CVE count changed other entity types")
	}
}

func TestPostureDistributions(t *testing.T) {
	d := Generate(3, Size{Machines: 2000, Vulnerabilities: 5000, Recommendations: 400, MachineActions: 3000,
		Incidents: 2000, Indicators: 1000, Investigations: 1000}, testNow)
	count := map[string]int{}
	for _, v := range d.Vulnerabilities {
		if v.ExposedMachines == 0 {
			count["cve:unexposed"]++
		} else {
			count["cve:exposed"]++
		}
		count["cve:"+v.CVESupportability]++
	}
	onboarded := 0
	for _, m := range d.Machines {
		if strings.EqualFold(m.OnboardingStatus, "Onboarded") {
			onboarded++
		}
	}
	if len(d.AVInfo) != onboarded {
		t.Errorf("%d AV rows for %d onboarded machines", len(d.AVInfo), onboarded)
	}
	for _, x := range d.AVInfo {
		count["avMode:"+x.AVMode]++
		count["sig:"+x.AVIsSignatureUpToDate]++
		count["quick:"+x.QuickScanResult]++
	}
	for _, a := range d.MachineActions {
		if a.LegacyUpdateKey {
			count["action:legacyKey"]++
		} else {
			count["action:newKey"]++
		}
		count["action:"+a.Type+"/"+a.Status]++
		if a.LastUpdateDateTimeUTC == 0 {
			count["action:noUpdate"]++
		}
	}
	for i, x := range d.Incidents {
		if i > 0 && x.CreatedTime > d.Incidents[i-1].CreatedTime {
			t.Fatal("incidents are not newest first")
		}
		count["incident:"+x.Status]++
		count["class:"+x.Classification]++
		count["det:"+x.Determination]++
	}
	for _, x := range d.Indicators {
		count["ind:"+x.Action]++
	}
	for _, x := range d.Investigations {
		count["inv:"+x.State]++
	}
	for _, k := range []string{"cve:unexposed", "cve:exposed", "cve:supported", "cve:Supported",
		"avMode:0", "avMode:1", "avMode:2", "avMode:", "avMode:4", "avMode:5", "sig:True", "sig:False", "sig:Unknown", "sig:",
		"quick:Completed", "quick:", "quick:Failed", "quick:Canceled",
		"action:legacyKey", "action:newKey", "action:Isolate/Succeeded", "action:Unisolate/Succeeded", "action:noUpdate",
		"incident:Active", "incident:InProgress", "incident:Resolved", "incident:Redirected",
		"class:Unknown", "class:InformationalExpectedActivity", "det:NotAvailable", "det:Apt", "det:Clean", "class:",
		"ind:AlertAndBlock", "ind:Block", "ind:Allowed", "inv:Running", "inv:Benign"} {
		if count[k] == 0 {
			t.Errorf("no %s in a large dataset", k)
		}
	}
	if count["cve:unexposed"] < count["cve:exposed"] {
		t.Errorf("most CVEs should expose no machine: %d unexposed, %d exposed", count["cve:unexposed"], count["cve:exposed"])
	}
	if len(d.GroupExposureScores) == 0 || d.ExposureScore.Score <= 0 || d.ConfigurationScore.Score != float64(int(d.ConfigurationScore.Score)) {
		t.Errorf("scores: %+v %+v %+v", d.ExposureScore, d.GroupExposureScores, d.ConfigurationScore)
	}
}

func TestScoreAPIs(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 4, Size: Size{Machines: 60}})
	tok := secretToken(t, tn, tn.NewApp(), mdeScope)
	status, _, raw := get(t, tn, tok, "/api/exposureScore")
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); status != 200 || err != nil {
		t.Fatalf("exposureScore: %d %s", status, raw)
	}
	if !strings.HasSuffix(obj["@odata.context"].(string), "#ExposureScore/$entity") || obj["score"] != tn.Data().ExposureScore.Score || obj["value"] != nil {
		t.Fatalf("exposureScore: %s", raw)
	}
	// The path matches case-insensitively and counts under its template.
	status, _, raw = get(t, tn, tok, "/api/exposurescore/bymachinegroups")
	if p := decodePage(t, raw); status != 200 || len(p.Value) != len(tn.Data().GroupExposureScores) || p.NextLink != "" {
		t.Fatalf("ByMachineGroups: %d %s", status, raw)
	}
	if tn.Calls("/api/exposureScore/ByMachineGroups") != 1 {
		t.Fatal("ByMachineGroups not counted under its template")
	}
	for _, q := range []string{"$top=10", "$skip=1", "$filter=" + url.QueryEscape("score gt 1")} {
		if status, _, raw := get(t, tn, tok, "/api/exposureScore/ByMachineGroups?"+q); status != 400 || decodeAPIError(t, raw).Error.Code != "ODataError" {
			t.Fatalf("ByMachineGroups?%s: %d %s", q, status, raw)
		}
	}
	status, _, raw = get(t, tn, tok, "/api/configurationScore")
	if status != 200 || !bytes.Contains(raw, []byte(`"score":`)) || bytes.Contains(raw, []byte(`"score":"`)) {
		t.Fatalf("configurationScore: %d %s", status, raw)
	}

	app := tn.NewApp()
	tn.SetAppRoles(app.ClientID, "Machine.Read.All")
	narrow := secretToken(t, tn, app, mdeScope)
	for _, p := range []string{"/api/exposureScore", "/api/exposureScore/ByMachineGroups", "/api/configurationScore", "/api/vulnerabilities", "/api/recommendations", "/api/indicators", "/api/investigations"} {
		if status, _, _ := get(t, tn, narrow, p); status != 403 {
			t.Errorf("%s without its role: %d", p, status)
		}
	}
	for _, p := range []string{"/api/deviceavinfo", "/api/machineactions"} {
		if status, _, _ := get(t, tn, narrow, p); status != 200 {
			t.Errorf("%s with Machine.Read.All: %d", p, status)
		}
	}
}

func TestVulnerabilitiesAPI(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 5, Size: Size{Machines: 50, Vulnerabilities: 900}})
	tok := secretToken(t, tn, tn.NewApp(), mdeScope)
	if status, _, _ := get(t, tn, tok, "/api/vulnerabilities?$top=8001"); status != 400 {
		t.Fatalf("$top=8001: %d", status)
	}
	want := 0
	for _, v := range tn.Data().Vulnerabilities {
		if v.HasCVSS && v.CVSSV3 >= 9 && v.Severity == "Critical" {
			want++
		}
	}
	_, _, raw := get(t, tn, tok, "/api/vulnerabilities?$top=8000&$filter="+url.QueryEscape("cvssV3 ge 9.0 and severity eq 'critical'"))
	if got := len(decodePage(t, raw).Value); got != want || want == 0 {
		t.Fatalf("cvssV3 filter: %d, want %d", got, want)
	}
	if status, _, _ := get(t, tn, tok, "/api/vulnerabilities?$filter="+url.QueryEscape("cvssV3 ge '9'")); status != 400 {
		t.Fatalf("a string compared with a Double: %d", status)
	}
	if status, _, _ := get(t, tn, tok, "/api/vulnerabilities?$filter="+url.QueryEscape("exposedMachines gt 0")); status != 400 {
		t.Fatalf("exposedMachines is not filterable: %d", status)
	}
}

func TestDeviceAVInfoPaging(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 6, Size: Size{Machines: 130}})
	tok := secretToken(t, tn, tn.NewApp(), mdeScope)
	rows := tn.Data().AVInfo

	// Without pageSize: the documented default of 20, with $skiptoken links.
	var got []string
	next, pages := "/api/deviceavinfo", 0
	for next != "" {
		status, _, raw := get(t, tn, tok, next)
		if status != 200 {
			t.Fatalf("status %d: %s", status, raw)
		}
		p := decodePage(t, raw)
		for _, v := range p.Value {
			var r struct{ MachineID string }
			_ = json.Unmarshal(v, &r)
			got = append(got, r.MachineID)
		}
		if p.NextLink != "" && (!strings.HasPrefix(p.NextLink, tn.URL()+"/api/deviceavinfo?") ||
			!strings.Contains(p.NextLink, "$skiptoken=") || strings.Contains(p.NextLink, "$skip=")) {
			t.Fatalf("nextLink %q", p.NextLink)
		}
		if pages++; pages > 20 {
			t.Fatal("nextLink does not end")
		}
		next = p.NextLink
	}
	if len(got) != len(rows) || got[0] != rows[0].MachineID || got[len(got)-1] != rows[len(rows)-1].MachineID {
		t.Fatalf("paged %d rows, want %d", len(got), len(rows))
	}
	if pages != (len(rows)+19)/20 {
		t.Fatalf("%d pages of 20 for %d rows", pages, len(rows))
	}

	// pageSize with a filter: the token keeps the filter and the page size.
	filter := url.QueryEscape("osKind eq 'windows'")
	_, _, raw := get(t, tn, tok, "/api/deviceavinfo?pageSize=7&$filter="+filter)
	p := decodePage(t, raw)
	if len(p.Value) != 7 || !strings.Contains(p.NextLink, "pageSize=7") || !strings.Contains(p.NextLink, "$filter="+filter) {
		t.Fatalf("pageSize=7: %d rows, nextLink %q", len(p.Value), p.NextLink)
	}
	u, _ := url.Parse(p.NextLink)
	token := u.Query().Get("$skiptoken")
	rawTok, err := base64.StdEncoding.DecodeString(token)
	if err != nil || !bytes.Contains(rawTok, []byte(`"LineStoppedAt":7`)) {
		t.Fatalf("$skiptoken %q is not the documented shape: %s", token, rawTok)
	}
	for _, q := range []string{
		"pageSize=200001", "pageSize=0", "pageSize=x", "$top=10001",
		"$skiptoken=garbage", "$skiptoken=" + url.QueryEscape(token), // the token belongs to the filtered query
	} {
		if status, _, raw := get(t, tn, tok, "/api/deviceavinfo?"+q); status != 400 || decodeAPIError(t, raw).Error.Code != "ODataError" {
			t.Errorf("%s: %d %s", q, status, raw)
		}
	}
	// $top: one page and no nextLink, as the docs warn.
	_, _, raw = get(t, tn, tok, "/api/deviceavinfo?$top=10")
	if p := decodePage(t, raw); len(p.Value) != 10 || p.NextLink != "" {
		t.Fatalf("$top=10: %d rows, nextLink %q", len(p.Value), p.NextLink)
	}
	_, _, raw = get(t, tn, tok, "/api/deviceavinfo?pageSize=200000")
	if p := decodePage(t, raw); len(p.Value) != len(rows) || p.NextLink != "" {
		t.Fatalf("pageSize=200000: %d rows, nextLink %q", len(p.Value), p.NextLink)
	}
	// The wire quirks: string-typed avMode and flags, "" rather than null.
	if !bytes.Contains(raw, []byte(`"avMode":"0"`)) || !bytes.Contains(raw, []byte(`"avIsSignatureUpToDate":"True"`)) ||
		!bytes.Contains(raw, []byte(`"quickScanResult":""`)) {
		t.Fatalf("AV quirks missing from %.400s", raw)
	}
}

func TestMachineActionsAPI(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 7, Size: Size{Machines: 40, MachineActions: 300}})
	tok := secretToken(t, tn, tn.NewApp(), mdeScope)
	since := testNow.Add(-7 * 24 * time.Hour)
	want := 0
	for _, a := range tn.Data().MachineActions {
		if !a.CreationDateTimeUTC.Time().Before(since) {
			want++
		}
	}
	_, _, raw := get(t, tn, tok, "/api/machineactions?$filter="+url.QueryEscape("creationDateTimeUtc ge "+since.Format(time.RFC3339)))
	if got := len(decodePage(t, raw).Value); got != want || want == 0 || want == 300 {
		t.Fatalf("lookback filter: %d, want %d of 300", got, want)
	}
	_, _, raw = get(t, tn, tok, "/api/machineactions")
	if !bytes.Contains(raw, []byte(`"lastUpdateTimeUtc":`)) || !bytes.Contains(raw, []byte(`"lastUpdateDateTimeUtc":`)) {
		t.Fatal("the two spellings of the update time are not both served")
	}
	_, _, raw = get(t, tn, tok, "/api/machineactions?$filter="+url.QueryEscape("type eq 'Isolate' and status eq 'Succeeded'"))
	if len(decodePage(t, raw).Value) == 0 {
		t.Fatal("no succeeded isolation")
	}
}

func TestIncidentsAPI(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 8, Size: Size{Machines: 30, Incidents: 250}})
	app := tn.NewApp()
	if status, _, _ := get(t, tn, secretToken(t, tn, app, mdeScope), "/api/incidents"); status != 401 {
		t.Fatalf("MDE token on XDR incidents: %d", status)
	}
	tok := secretToken(t, tn, app, postureXDRScope)
	if status, _, _ := get(t, tn, tok, "/api/incidents?$top=101"); status != 400 {
		t.Fatalf("$top=101: %d", status)
	}
	// With $top, XDR still links to the next page while more remain.
	var ids []float64
	next, pages := "/api/incidents?$top=100", 0
	for next != "" {
		status, _, raw := get(t, tn, tok, next)
		if status != 200 {
			t.Fatalf("%d %s", status, raw)
		}
		p := decodePage(t, raw)
		for _, v := range p.Value {
			var x struct {
				IncidentID float64 `json:"incidentId"`
				Alerts     []json.RawMessage
			}
			_ = json.Unmarshal(v, &x)
			if len(x.Alerts) == 0 {
				t.Fatalf("incident without embedded alerts: %s", v)
			}
			ids = append(ids, x.IncidentID)
		}
		if p.NextLink != "" && !strings.HasPrefix(p.NextLink, tn.URL()+"/api/incidents?") {
			t.Fatalf("nextLink %q", p.NextLink)
		}
		pages++
		next = p.NextLink
	}
	if pages != 3 || len(ids) != 250 || ids[0] < ids[249] {
		t.Fatalf("%d pages, %d incidents, first %v last %v (want newest first)", pages, len(ids), ids[0], ids[len(ids)-1])
	}
	want := 0
	for _, x := range tn.Data().Incidents {
		if x.Status != "Resolved" && x.Status != "Redirected" {
			want++
		}
	}
	_, _, raw := get(t, tn, tok, "/api/incidents?$filter="+url.QueryEscape("status ne 'Resolved' and status ne 'Redirected'"))
	if got := len(decodePage(t, raw).Value); got != min(want, 100) {
		t.Fatalf("unresolved: %d, want %d", got, want)
	}
	if status, _, _ := get(t, tn, tok, "/api/incidents?$filter="+url.QueryEscape("severity eq 'High'")); status != 400 {
		t.Fatalf("severity is not filterable on incidents: %d", status)
	}
}

func TestIndicatorsAndInvestigationsAPI(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 9, Size: Size{Machines: 30, Indicators: 200, Investigations: 200}})
	app := tn.NewApp()
	tok := secretToken(t, tn, app, mdeScope)
	want := 0
	for _, x := range tn.Data().Indicators {
		if x.GenerateAlert && x.IndicatorType == "Url" {
			want++
		}
	}
	_, _, raw := get(t, tn, tok, "/api/indicators?$filter="+url.QueryEscape("generateAlert eq true and indicatorType eq 'Url'"))
	if got := len(decodePage(t, raw).Value); got != want || want == 0 {
		t.Fatalf("generateAlert filter: %d, want %d", got, want)
	}
	for _, bad := range []string{"generateAlert gt true", "generateAlert eq 'true'"} {
		if status, _, _ := get(t, tn, tok, "/api/indicators?$filter="+url.QueryEscape(bad)); status != 400 {
			t.Fatalf("%s: %d", bad, status)
		}
	}
	tn.SetAppRoles(app.ClientID, "Ti.ReadWrite.All")
	if status, _, _ := get(t, tn, secretToken(t, tn, app, mdeScope), "/api/indicators"); status != 200 {
		t.Fatalf("indicators with Ti.ReadWrite.All: %d", status)
	}

	since := testNow.Add(-10 * 24 * time.Hour)
	want = 0
	for _, x := range tn.Data().Investigations {
		if !x.StartTime.Time().Before(since) {
			want++
		}
	}
	_, _, raw = get(t, tn, tok, "/api/investigations?$filter="+url.QueryEscape("startTime ge "+since.Format(time.RFC3339)))
	if got := len(decodePage(t, raw).Value); got != want || want == 0 {
		t.Fatalf("startTime filter: %d, want %d", got, want)
	}
}

func TestPostureDrift(t *testing.T) {
	d := Generate(10, Size{Machines: 50, MachineActions: 200, Incidents: 50}, testNow)
	d.MachineActions[0].Status, d.MachineActions[0].LastUpdateDateTimeUTC = "Pending", 0
	before := postureJSON(t, d)
	score := d.ExposureScore
	d.driftStep(testNow.Add(time.Minute))
	if bytes.Equal(before, postureJSON(t, d)) || d.ExposureScore == score || d.ExposureScore.Time != TimeOf(testNow.Add(time.Minute)) {
		t.Fatal("drift left the posture data alone")
	}
	if a := d.MachineActions[0]; a.Status != "Succeeded" || a.LastUpdateDateTimeUTC != TimeOf(testNow.Add(time.Minute)) {
		t.Fatalf("drift did not complete the pending action: %+v", a)
	}
}
