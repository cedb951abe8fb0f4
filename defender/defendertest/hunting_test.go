package defendertest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

const (
	graphScope = "https://graph.microsoft.com/.default"
	xdrScope   = "https://api.security.microsoft.com/.default"
)

func post(t testing.TB, tn *Tenant, token, path, contentType, body string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, tn.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := tn.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, raw
}

func decodeObject(t testing.TB, raw []byte) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("not a JSON object: %v: %s", err, raw)
	}
	return m
}

const sensorHealthQuery = `DeviceInfo | summarize arg_max(Timestamp, *) by DeviceId | summarize count() by SensorHealthState`

func TestHuntingAnswerShapes(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 4, Size: Size{Machines: 60}})
	app := tn.NewApp()
	body := `{"Query":` + jsonString(sensorHealthQuery) + `}`

	// Graph: @odata.context, lower-case schema (name/type) and results.
	status, hdr, raw := post(t, tn, secretToken(t, tn, app, graphScope), HuntingGraphPath, "application/json", body)
	if status != http.StatusOK {
		t.Fatalf("graph: %d %s", status, raw)
	}
	if !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
		t.Errorf("graph content type %q", hdr.Get("Content-Type"))
	}
	g := decodeObject(t, raw)
	if _, ok := g["@odata.context"]; !ok {
		t.Error("graph: no @odata.context")
	}
	var gSchema []map[string]string
	if err := json.Unmarshal(g["schema"], &gSchema); err != nil || len(gSchema) != 2 ||
		gSchema[0]["name"] != "SensorHealthState" || gSchema[0]["type"] != "String" ||
		gSchema[1]["name"] != "count_" || gSchema[1]["type"] != "Int64" {
		t.Errorf("graph schema %s (%v)", g["schema"], err)
	}
	var gRows []map[string]any
	if err := json.Unmarshal(g["results"], &gRows); err != nil || len(gRows) == 0 {
		t.Fatalf("graph results %s (%v)", g["results"], err)
	}
	total := 0.0
	for _, r := range gRows {
		total += r["count_"].(float64)
	}
	recent := 0 // hunting keeps 30 days: long-inactive machines are gone
	for _, m := range tn.Data().Machines {
		if !m.LastSeen.Time().Before(testNow.Add(-huntingRetention)) {
			recent++
		}
	}
	if int(total) != recent || recent == len(tn.Data().Machines) {
		t.Errorf("graph: counts sum to %v, want %d of %d machines", total, recent, len(tn.Data().Machines))
	}

	// MDE: Schema (Name/Type) and Results, nothing else.
	status, _, raw = post(t, tn, secretToken(t, tn, app, mdeScope), HuntingMDEPath, "application/json", body)
	if status != http.StatusOK {
		t.Fatalf("mde: %d %s", status, raw)
	}
	m := decodeObject(t, raw)
	if len(m) != 2 || m["Schema"] == nil || m["Results"] == nil {
		t.Errorf("mde keys: %s", raw)
	}
	if !strings.Contains(string(m["Schema"]), `{"Name":"SensorHealthState","Type":"String"}`) {
		t.Errorf("mde schema %s", m["Schema"])
	}
	if string(m["Results"]) != string(g["results"]) {
		t.Errorf("mde and graph results differ:\n%s\n%s", m["Results"], g["results"])
	}

	// XDR: Stats, Schema, Results.
	status, _, raw = post(t, tn, secretToken(t, tn, app, xdrScope), HuntingXDRPath, "application/json", body)
	if status != http.StatusOK {
		t.Fatalf("xdr: %d %s", status, raw)
	}
	x := decodeObject(t, raw)
	if x["Stats"] == nil || x["Schema"] == nil || x["Results"] == nil {
		t.Errorf("xdr keys: %s", raw)
	}
	if tn.Calls(HuntingGraphPath) != 1 || tn.Calls(HuntingMDEPath) != 1 || tn.Calls(HuntingXDRPath) != 1 {
		t.Errorf("calls %d %d %d", tn.Calls(HuntingGraphPath), tn.Calls(HuntingMDEPath), tn.Calls(HuntingXDRPath))
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestHuntingAudiencesAndPermissions(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 4, Size: Size{Machines: 5}})
	app := tn.NewApp()
	body := `{"Query":"DeviceInfo | count"}`
	mdeTok := secretToken(t, tn, app, mdeScope)
	if status, _, raw := post(t, tn, mdeTok, HuntingGraphPath, "application/json", body); status != http.StatusUnauthorized {
		t.Errorf("graph with an MDE token: %d %s", status, raw)
	}
	if status, _, raw := post(t, tn, secretToken(t, tn, app, graphScope), HuntingMDEPath, "application/json", body); status != http.StatusUnauthorized {
		t.Errorf("mde with a Graph token: %d %s", status, raw)
	}
	if status, _, raw := post(t, tn, "", HuntingMDEPath, "application/json", body); status != http.StatusUnauthorized {
		t.Errorf("no token: %d %s", status, raw)
	}
	tn.SetAppRoles(app.ClientID, "Machine.Read.All")
	status, _, raw := post(t, tn, secretToken(t, tn, app, mdeScope), HuntingMDEPath, "application/json", body)
	if status != http.StatusForbidden || !strings.Contains(string(raw), "AdvancedQuery.Read.All") {
		t.Errorf("without AdvancedQuery.Read.All: %d %s", status, raw)
	}
	req, _ := http.NewRequest(http.MethodGet, tn.URL()+HuntingMDEPath, nil)
	req.Header.Set("Authorization", "Bearer "+mdeTok)
	resp, err := tn.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = drain(resp)
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", resp.StatusCode)
	}
}

func TestHuntingRequestValidation(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 4, Size: Size{Machines: 5}})
	app := tn.NewApp()
	mde := secretToken(t, tn, app, mdeScope)
	graph := secretToken(t, tn, app, graphScope)
	for _, c := range []struct {
		name, token, path, ctype, body string
		status                         int
		want                           string
	}{
		{"mde lower-case query", mde, HuntingMDEPath, "application/json", `{"query":"DeviceInfo | count"}`, 400, "Parameter Query is missing"},
		{"graph lower-case query", graph, HuntingGraphPath, "application/json", `{"query":"DeviceInfo | count"}`, 200, `"Count":`},
		{"empty query", mde, HuntingMDEPath, "application/json", `{"Query":"  "}`, 400, "Parameter Query is missing"},
		{"not JSON", mde, HuntingMDEPath, "application/json", `Query=x`, 400, "InvalidRequestBody"},
		{"query not a string", graph, HuntingGraphPath, "application/json", `{"Query":5}`, 400, "Query must be a string"},
		{"form body", mde, HuntingMDEPath, "application/x-www-form-urlencoded", `Query=x`, 415, "UnsupportedMediaType"},
		{"KQL error, mde shape", mde, HuntingMDEPath, "application/json", `{"Query":"Nope | count"}`, 400, `"target":`},
		{"KQL error, graph shape", graph, HuntingGraphPath, "application/json; charset=utf-8", `{"Query":"Nope | count"}`, 400, `"innerError":`},
		{"bad timespan", graph, HuntingGraphPath, "application/json", `{"Query":"DeviceInfo | count","Timespan":"1d"}`, 400, "not a valid ISO 8601"},
	} {
		status, _, raw := post(t, tn, c.token, c.path, c.ctype, c.body)
		if status != c.status || !strings.Contains(string(raw), c.want) {
			t.Errorf("%s: %d %s, want %d with %q", c.name, status, raw, c.status, c.want)
		}
	}
}

func TestHuntingTimespanAndRetention(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 4, Size: Size{Alerts: 400}})
	app := tn.NewApp()
	graph := secretToken(t, tn, app, graphScope)
	countAlerts := func(body string) int64 {
		t.Helper()
		status, _, raw := post(t, tn, graph, HuntingGraphPath, "application/json", body)
		if status != http.StatusOK {
			t.Fatalf("%d %s", status, raw)
		}
		var res struct {
			Results []struct{ Count int64 }
		}
		if err := json.Unmarshal(raw, &res); err != nil || len(res.Results) != 1 {
			t.Fatalf("%s (%v)", raw, err)
		}
		return res.Results[0].Count
	}
	within := func(d time.Duration) int64 {
		var n int64
		for _, a := range tn.Data().Alerts {
			if !a.AlertCreationTime.Time().Before(testNow.Add(-d)) && !a.AlertCreationTime.Time().After(testNow) {
				n++
			}
		}
		return n
	}
	month := 30 * 24 * time.Hour
	if got, want := countAlerts(`{"Query":"AlertInfo | count"}`), within(month); got != want || want == int64(len(tn.Data().Alerts)) {
		t.Errorf("default window: %d alerts, want %d of %d (only the last 30 days)", got, want, len(tn.Data().Alerts))
	}
	if got, want := countAlerts(`{"Query":"AlertInfo | count","Timespan":"P1D"}`), within(24*time.Hour); got != want {
		t.Errorf("P1D: %d, want %d", got, want)
	}
	if got, want := countAlerts(`{"Query":"AlertInfo | count","Timespan":"P90D"}`), within(month); got != want {
		t.Errorf("P90D is capped at 30 days: %d, want %d", got, want)
	}
	// Tables without Timestamp are the current state, not time-bound.
	status, _, raw := post(t, tn, graph, HuntingGraphPath, "application/json", `{"Query":"DeviceTvmSoftwareVulnerabilities | count","Timespan":"PT1M"}`)
	if status != http.StatusOK {
		t.Errorf("%d %s", status, raw)
	}
}

func TestParseTimespan(t *testing.T) {
	now := testNow
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	for _, c := range []struct {
		in       string
		from, to time.Time
	}{
		{"P30D", now.Add(-30 * 24 * time.Hour), now},
		{"PT12H", now.Add(-12 * time.Hour), now},
		{"P1W", now.Add(-7 * 24 * time.Hour), now},
		{"2025-06-01T08:00:00Z", at("2025-06-01T08:00:00Z"), now},
		{"2025-06-01T08:00:00Z/2025-06-10T08:00:00Z", at("2025-06-01T08:00:00Z"), at("2025-06-10T08:00:00Z")},
		{"P2D/2025-06-10T08:00:00Z", at("2025-06-08T08:00:00Z"), at("2025-06-10T08:00:00Z")},
		{"2025-06-01T08:00:00Z/P1D", at("2025-06-01T08:00:00Z"), at("2025-06-02T08:00:00Z")},
	} {
		from, to, ok := parseTimespan(c.in, now)
		if !ok || !from.Equal(c.from) || !to.Equal(c.to) {
			t.Errorf("%s: %v %v %v", c.in, from, to, ok)
		}
	}
	for _, bad := range []string{"", "P", "PT", "1d", "P1D/P2D", "2025-06-10T08:00:00Z/2025-06-01T08:00:00Z", "a/b/c"} {
		if _, _, ok := parseTimespan(bad, now); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestHuntingFaultHelpers(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 4, Size: Size{Machines: 5}})
	app := tn.NewApp()
	graph := secretToken(t, tn, app, graphScope)
	body := `{"Query":"DeviceInfo | count"}`
	for _, c := range []struct {
		f      Fault
		status int
		want   string
	}{
		{HuntingCPUQuota(), 429, "CPU resources"},
		{HuntingCallQuota(), 429, "maximum allowed 45 per 00:01:00"},
		{HuntingKQLError("Failed to resolve column named 'X'"), 400, "Failed to resolve column named 'X'"},
		{HuntingTooLarge(), 400, "exceeded the allowed result size"},
	} {
		c.f.Times = 1
		tn.SetFault(HuntingGraphPath, c.f)
		status, _, raw := post(t, tn, graph, HuntingGraphPath, "application/json", body)
		var e struct {
			Error struct{ Code, Message string }
		}
		if status != c.status || json.Unmarshal(raw, &e) != nil || !strings.Contains(e.Error.Message, c.want) {
			t.Errorf("fault %q: %d %s", c.want, status, raw)
		}
		if status, _, raw := post(t, tn, graph, HuntingGraphPath, "application/json", body); status != http.StatusOK {
			t.Errorf("after a one-time fault: %d %s", status, raw)
		}
	}
	tn.SetFault(HuntingMDEPath, Fault{Malformed: true, Times: 1})
	status, _, raw := post(t, tn, secretToken(t, tn, app, mdeScope), HuntingMDEPath, "application/json", body)
	if status != http.StatusOK || json.Valid(raw) {
		t.Errorf("malformed: %d %s", status, raw)
	}
}
