package defendertest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// getGraph GETs a Graph path, with "Prefer: include-unknown-enum-members"
// when prefer is set.
func getGraph(t testing.TB, tn *Tenant, token, pathAndQuery string, prefer bool) (int, []byte) {
	t.Helper()
	target := pathAndQuery
	if !strings.HasPrefix(target, "https://") {
		target = tn.URL() + pathAndQuery
	}
	req, err := newAuthRequest(tn, token, "")
	if err != nil {
		t.Fatal(err)
	}
	if req.URL, err = url.Parse(target); err != nil {
		t.Fatal(err)
	}
	if prefer {
		req.Header.Set("Prefer", "odata.maxpagesize=10, include-unknown-enum-members")
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
	return resp.StatusCode, raw
}

type graphAlertJSON struct {
	ID                 string    `json:"id"`
	Status             string    `json:"status"`
	Severity           string    `json:"severity"`
	Classification     string    `json:"classification"`
	Determination      string    `json:"determination"`
	ServiceSource      string    `json:"serviceSource"`
	DetectionSource    *string   `json:"detectionSource"`
	Category           *string   `json:"category"`
	CreatedDateTime    time.Time `json:"createdDateTime"`
	LastUpdateDateTime time.Time `json:"lastUpdateDateTime"`
	Evidence           []struct {
		Type string `json:"@odata.type"`
	} `json:"evidence"`
}

// listGraph follows the nextLinks of a Graph listing and returns every
// page's raw entities.
func listGraph(t *testing.T, tn *Tenant, tok, first string, prefer bool) (values []json.RawMessage, pages int) {
	t.Helper()
	for next := first; next != ""; pages++ {
		status, raw := getGraph(t, tn, tok, next, prefer)
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", next, status, raw)
		}
		p := decodePage(t, raw)
		if p.NextLink != "" && (strings.Contains(p.NextLink, "$skip=") || !strings.Contains(p.NextLink, "$skiptoken=")) {
			t.Fatalf("Graph's nextLinks carry a $skiptoken, not $skip: %s", p.NextLink)
		}
		values = append(values, p.Value...)
		next = p.NextLink
		if pages > 100 {
			t.Fatal("nextLinks do not end")
		}
	}
	return values, pages
}

// TestGraphAlertsView: alerts_v2 serves the dataset's alerts newest first,
// 1,000 a page at most, with nextLinks also after a $top, in Graph's
// spellings, and each with evidence of a realistic size.
func TestGraphAlertsView(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 3, Size: Size{Machines: 30, Alerts: 2300}})
	tok := secretToken(t, tn, tn.NewApp(), graphScope)
	values, pages := listGraph(t, tn, tok, GraphAlertsPath+"?$top=1000", true)
	if pages != 3 || len(values) != 2300 || tn.Calls(GraphAlertsPath) != 3 {
		t.Fatalf("%d pages, %d alerts, %d calls; want 3, 2300, 3", pages, len(values), tn.Calls(GraphAlertsPath))
	}
	byID := map[string]*Alert{}
	for i := range tn.Data().Alerts {
		byID[tn.Data().Alerts[i].ID] = &tn.Data().Alerts[i]
	}
	var prev time.Time
	bytes, late := 0, 0
	for i, raw := range values {
		bytes += len(raw)
		var g graphAlertJSON
		if err := json.Unmarshal(raw, &g); err != nil {
			t.Fatal(err)
		}
		a := byID[g.ID]
		if a == nil {
			t.Fatalf("alert %s is not in the dataset", g.ID)
		}
		if i > 0 && g.CreatedDateTime.After(prev) {
			t.Fatalf("alert %d is newer than the one before it: not newest first", i)
		}
		prev = g.CreatedDateTime
		want := graphAlertJSON{Status: lowerFirst(a.Status), Severity: graphSeverity(a.Severity),
			Classification: graphClassification(a.Classification), Determination: graphDetermination(a.Determination),
			ServiceSource: graphServiceSource(a.DetectionSource)}
		if g.Status != want.Status || g.Severity != want.Severity || g.Classification != want.Classification ||
			g.Determination != want.Determination || g.ServiceSource != want.ServiceSource ||
			!g.CreatedDateTime.Equal(a.AlertCreationTime.Time()) || !g.LastUpdateDateTime.Equal(a.LastUpdateTime.Time()) {
			t.Fatalf("alert %s: %+v, want %+v from %+v", g.ID, g, want, *a)
		}
		if (g.DetectionSource == nil) != (a.DetectionSource == "") || (g.Category == nil) != (a.Category == "") {
			t.Fatalf("alert %s: a null detectionSource or category must stay null: %s", g.ID, raw)
		}
		if len(g.Evidence) < 2 {
			t.Fatalf("alert %s has %d evidence items", g.ID, len(g.Evidence))
		}
		if g.ServiceSource == "microsoftDefenderForCloud" {
			late++
		}
		for _, v := range []string{g.Status, g.Severity, g.Classification, g.Determination, g.ServiceSource} {
			if v == "" || v[0] < 'a' || v[0] > 'z' {
				t.Fatalf("alert %s: %q is not a camelCase enum member", g.ID, v)
			}
		}
	}
	if late == 0 {
		t.Error("no alert comes from a late serviceSource member; the Prefer behaviour goes untested")
	}
	if avg := bytes / len(values); avg < 3500 || avg > 9000 {
		t.Errorf("alerts average %d bytes; alerts_v2 carries a few kilobytes of evidence each", avg)
	}
	t.Logf("%d bytes per alert on average", bytes/len(values))

	for _, bad := range []struct{ query, msg string }{
		{"$top=1001", "The limit of '1000' for Top query has been exceeded. The value from the incoming request is '1001'."},
		{"$top=0", "a positive integer is required"},
		{"$select=id", "Query option '$select' is not allowed"},
		{"$orderby=createdDateTime", "Query option '$orderby' is not allowed"},
		{"$skiptoken=bm90LWEtdG9rZW4", "The skip token in the request is not valid."},
		{"$filter=" + url.QueryEscape("title eq 'x'"), "Invalid filter clause"},
	} {
		status, raw := getGraph(t, tn, tok, GraphAlertsPath+"?"+bad.query, true)
		var e struct {
			Error struct {
				Code, Message string
				InnerError    struct {
					RequestID string `json:"request-id"`
				}
			}
		}
		if err := json.Unmarshal(raw, &e); err != nil || status != http.StatusBadRequest ||
			!strings.Contains(e.Error.Message, bad.msg) || !isGUID(e.Error.InnerError.RequestID) {
			t.Errorf("%s: %d %s; want 400 in Graph's shape saying %q", bad.query, status, raw, bad.msg)
		}
	}
}

// TestGraphAlertsFilters: the filters the collector sends select what they
// say, on Graph's names and values.
func TestGraphAlertsFilters(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 5, Size: Size{Machines: 30, Alerts: 900}})
	tok := secretToken(t, tn, tn.NewApp(), graphScope)
	since := testNow.Add(-30 * 24 * time.Hour)
	changed := testNow.Add(-2 * 24 * time.Hour)
	var inScope, updated int
	for _, a := range tn.Data().Alerts {
		if !a.AlertCreationTime.Time().Before(since) || a.Status != "Resolved" {
			inScope++
		}
		if !a.LastUpdateTime.Time().Before(changed) {
			updated++
		}
	}
	for _, tc := range []struct {
		filter string
		want   int
	}{
		{"createdDateTime ge " + since.Format(time.RFC3339) + " or status ne 'resolved'", inScope},
		{"lastUpdateDateTime ge " + changed.Format(time.RFC3339), updated},
	} {
		values, _ := listGraph(t, tn, tok, GraphAlertsPath+"?$top=100&$filter="+url.QueryEscape(tc.filter), true)
		if len(values) != tc.want || tc.want == 0 {
			t.Errorf("%s: %d alerts, want %d", tc.filter, len(values), tc.want)
		}
	}
}

// TestGraphPreferHeader: without "Prefer: include-unknown-enum-members",
// the members added after unknownFutureValue come back as
// unknownFutureValue, and the fake counts such calls.
func TestGraphPreferHeader(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 3, Size: Size{Machines: 30, Alerts: 1500, Incidents: 200}})
	tok := secretToken(t, tn, tn.NewApp(), graphScope)
	count := func(path, field, value string, prefer bool) int {
		values, _ := listGraph(t, tn, tok, path, prefer)
		n := 0
		for _, raw := range values {
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			if m[field] == value {
				n++
			}
		}
		return n
	}
	for _, c := range []struct{ path, field, late string }{
		{GraphAlertsPath, "serviceSource", "microsoftDefenderForCloud"},
		{GraphAlertsPath, "detectionSource", "microsoftDefenderForServers"},
		{GraphIncidentsPath, "status", "awaitingAction"},
	} {
		tn.ResetCalls()
		named := count(c.path, c.field, c.late, true)
		if named == 0 || tn.CallsWithoutPrefer(c.path) != 0 {
			t.Fatalf("%s %s: %d named %s with the Prefer header (calls without it: %d)", c.path, c.field, named, c.late, tn.CallsWithoutPrefer(c.path))
		}
		if n := count(c.path, c.field, c.late, false); n != 0 {
			t.Errorf("%s: %d %s without the Prefer header", c.path, n, c.late)
		}
		if n := count(c.path, c.field, "unknownFutureValue", false); n != named {
			t.Errorf("%s: %d unknownFutureValue without the Prefer header, want %d", c.path, n, named)
		}
		if tn.CallsWithoutPrefer(c.path) == 0 || tn.CallsWithoutPrefer(c.path) >= tn.Calls(c.path) {
			t.Errorf("%s: %d calls, %d without Prefer", c.path, tn.Calls(c.path), tn.CallsWithoutPrefer(c.path))
		}
	}
}

// TestGraphIncidentsView: incidents come 50 a page at most, newest first,
// the same as XDR's apart from Graph's spellings.
func TestGraphIncidentsView(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 8, Size: Size{Machines: 30, Incidents: 120}})
	tok := secretToken(t, tn, tn.NewApp(), graphScope)
	values, pages := listGraph(t, tn, tok, GraphIncidentsPath, true)
	if pages != 3 || len(values) != 120 {
		t.Fatalf("%d pages, %d incidents; want 3 pages of at most 50", pages, len(values))
	}
	for i, raw := range values {
		x := &tn.Data().Incidents[i] // both newest first
		var g struct {
			ID, Status, Severity, Classification, Determination string
			RedirectIncidentID                                  *string
			CreatedDateTime                                     time.Time
		}
		if err := json.Unmarshal(raw, &g); err != nil {
			t.Fatal(err)
		}
		if g.ID != strings.TrimSpace(strings.Split(x.IncidentURI[len(incidentURLPrefix):], "?")[0]) ||
			g.Status != graphIncidentStatus(x) || g.Severity != graphSeverity(x.Severity) ||
			g.Classification != graphClassification(x.Classification) || g.Determination != graphDetermination(x.Determination) ||
			!g.CreatedDateTime.Equal(x.CreatedTime.Time()) || (g.RedirectIncidentID != nil) != (x.RedirectIncidentID != 0) {
			t.Fatalf("incident %d: %s, from %+v", i, raw, *x)
		}
	}
	if status, raw := getGraph(t, tn, tok, GraphIncidentsPath+"?$top=51", true); status != http.StatusBadRequest ||
		!strings.Contains(string(raw), "The limit of '50' for Top query has been exceeded") {
		t.Fatalf("$top=51: %d %s", status, raw)
	}
	// An app without SecurityIncident.Read.All is refused.
	app := tn.NewApp()
	tn.SetAppRoles(app.ClientID, "SecurityAlert.Read.All")
	if status, _ := getGraph(t, tn, secretToken(t, tn, app, graphScope), GraphIncidentsPath, true); status != http.StatusForbidden {
		t.Fatalf("without SecurityIncident.Read.All: %d", status)
	}
}

// TestGraphPagingStableUnderDrift: alerts raised while a client pages are
// newer than its first page; the skiptoken counts from the oldest alert,
// so the pages still to come neither repeat nor skip an alert.
func TestGraphPagingStableUnderDrift(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 9, Size: Size{Machines: 30, Alerts: 250}})
	tok := secretToken(t, tn, tn.NewApp(), graphScope)
	status, raw := getGraph(t, tn, tok, GraphAlertsPath+"?$top=100", true)
	if status != http.StatusOK {
		t.Fatal(status)
	}
	first := decodePage(t, raw)
	tn.InjectAlerts(7, "")
	seen := map[string]bool{}
	for _, id := range ids(t, first) {
		seen[id] = true
	}
	rest, _ := listGraph(t, tn, tok, first.NextLink, true)
	for _, id := range ids(t, page{Value: rest}) {
		if seen[id] {
			t.Fatalf("alert %s served twice", id)
		}
		seen[id] = true
	}
	if len(seen) != 250 {
		t.Fatalf("%d alerts over the listing, want the 250 there were when it started", len(seen))
	}
}
