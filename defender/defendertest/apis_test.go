package defendertest

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

type page struct {
	Context  string            `json:"@odata.context"`
	Value    []json.RawMessage `json:"value"`
	NextLink string            `json:"@odata.nextLink"`
}

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Target  string `json:"target"`
	} `json:"error"`
}

func decodePage(t testing.TB, raw []byte) page {
	t.Helper()
	var p page
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatalf("page is not JSON: %v: %.300s", err, raw)
	}
	return p
}

func decodeAPIError(t testing.TB, raw []byte) apiError {
	t.Helper()
	var e apiError
	if err := json.Unmarshal(raw, &e); err != nil || e.Error.Code == "" || !isGUID(e.Error.Target) {
		t.Fatalf("not a Defender error body: %s", raw)
	}
	return e
}

func ids(t testing.TB, p page) []string {
	t.Helper()
	out := make([]string, len(p.Value))
	for i, v := range p.Value {
		var e struct{ ID string }
		if err := json.Unmarshal(v, &e); err != nil {
			t.Fatal(err)
		}
		out[i] = e.ID
	}
	return out
}

func TestAPITokens(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 4, Size: Size{Machines: 5, Alerts: 5}})
	app := tn.NewApp()
	mde := secretToken(t, tn, app, mdeScope)
	atp := secretToken(t, tn, app, "https://securitycenter.onmicrosoft.com/windowsatpservice/.default")
	xdr := secretToken(t, tn, app, "https://api.security.microsoft.com/.default")
	graph := secretToken(t, tn, app, "https://graph.microsoft.com/.default")

	for _, c := range []struct {
		name, token string
		status      int
	}{
		{"MDE audience", mde, 200},
		{"windowsatpservice audience", atp, 200},
		{"XDR audience", xdr, 401},
		{"Graph audience", graph, 401},
		{"no token", "", 401},
		{"garbage", "abc.def.ghi", 401},
		{"tampered", mde[:len(mde)-4] + "AAAA", 401},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, h, raw := get(t, tn, c.token, "/api/alerts")
			if status != c.status {
				t.Fatalf("status %d, want %d: %s", status, c.status, raw)
			}
			if status == 401 {
				if e := decodeAPIError(t, raw); e.Error.Code != "Unauthorized" {
					t.Fatalf("code %q", e.Error.Code)
				}
				if h.Get("WWW-Authenticate") == "" {
					t.Fatal("401 without WWW-Authenticate")
				}
			}
		})
	}

	t.Run("ExpireTokens", func(t *testing.T) {
		tn.ExpireTokens()
		if status, _, _ := get(t, tn, mde, "/api/alerts"); status != 401 {
			t.Fatalf("expired token: status %d", status)
		}
		fresh := secretToken(t, tn, app, mdeScope)
		if status, _, _ := get(t, tn, fresh, "/api/alerts"); status != 200 {
			t.Fatalf("fresh token: status %d", status)
		}
	})

	t.Run("roles", func(t *testing.T) {
		tn.SetAppRoles(app.ClientID, "Machine.Read.All")
		tok := secretToken(t, tn, app, mdeScope)
		status, _, raw := get(t, tn, tok, "/api/alerts")
		if status != 403 || decodeAPIError(t, raw).Error.Code != "Forbidden" {
			t.Fatalf("alerts without Alert.Read.All: %d %s", status, raw)
		}
		if status, _, _ := get(t, tn, tok, "/api/machines"); status != 200 {
			t.Fatalf("machines with Machine.Read.All: %d", status)
		}
	})

	t.Run("token lifetime", func(t *testing.T) {
		short := newTestTenant(t, Options{TokenLifetime: time.Second})
		a := short.NewApp()
		_, body, _ := postToken(t, short, url.Values{"grant_type": {"client_credentials"}, "client_id": {a.ClientID},
			"client_secret": {a.Secret}, "scope": {mdeScope}}, "", "")
		if body["expires_in"] != float64(0) {
			t.Fatalf("expires_in %v with a 1 s lifetime", body["expires_in"])
		}
	})
}

func TestCloudAudiences(t *testing.T) {
	tn := newTestTenant(t, Options{Cloud: "gcc-high", Size: Size{Machines: 2, Alerts: 2}})
	app := tn.NewApp()
	status, body, _ := postToken(t, tn, url.Values{"grant_type": {"client_credentials"}, "client_id": {app.ClientID},
		"client_secret": {app.Secret}, "scope": {mdeScope}}, "", "")
	if status != 400 || body["error"] != "invalid_resource" {
		t.Fatalf("commercial scope in gcc-high: %d %v", status, body["error"])
	}
	tok := secretToken(t, tn, app, "https://api-gov.securitycenter.microsoft.us/.default")
	if status, _, raw := get(t, tn, tok, "/api/machines"); status != 200 {
		t.Fatalf("gcc-high token: %d %s", status, raw)
	}
	if _, err := New(Options{Cloud: "mars"}); err == nil {
		t.Fatal("unknown cloud accepted")
	}
}

func TestAlertsFilter(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 5, Size: Size{Machines: 40, Alerts: 400}})
	tok := secretToken(t, tn, tn.NewApp(), mdeScope)
	d := tn.Data()
	since := testNow.Add(-7 * 24 * time.Hour)

	count := func(pred func(a *Alert) bool) int {
		n := 0
		for i := range d.Alerts {
			if pred(&d.Alerts[i]) {
				n++
			}
		}
		return n
	}
	cases := []struct {
		filter string
		want   int
	}{
		{"alertCreationTime ge " + since.Format(time.RFC3339), count(func(a *Alert) bool { return !a.AlertCreationTime.Time().Before(since) })},
		{"lastUpdateTime gt 2025-06-08Z", count(func(a *Alert) bool { return a.LastUpdateTime.Time().After(time.Date(2025, 6, 8, 0, 0, 0, 0, time.UTC)) })},
		{"status eq 'resolved'", count(func(a *Alert) bool { return a.Status == "Resolved" })},
		{"(severity eq 'High' or severity eq 'Medium') and status ne 'Resolved'", count(func(a *Alert) bool {
			return (a.Severity == "High" || a.Severity == "Medium") && a.Status != "Resolved"
		})},
		{"category eq null", count(func(a *Alert) bool { return a.Category == "" })},
		{"not (detectionSource eq 'WindowsDefenderAv')", count(func(a *Alert) bool { return a.DetectionSource != "WindowsDefenderAv" })},
		{"incidentId eq null", count(func(a *Alert) bool { return a.IncidentID == 0 })},
	}
	for _, c := range cases {
		t.Run(c.filter, func(t *testing.T) {
			status, h, raw := get(t, tn, tok, "/api/alerts?$filter="+url.QueryEscape(c.filter))
			if status != 200 {
				t.Fatalf("status %d: %s", status, raw)
			}
			if ct := h.Get("Content-Type"); ct != odataContentType {
				t.Fatalf("Content-Type %q", ct)
			}
			if got := len(decodePage(t, raw).Value); got != c.want {
				t.Fatalf("%d alerts, want %d", got, c.want)
			}
		})
	}
	if cases[0].want == 0 || cases[0].want == len(d.Alerts) {
		t.Fatalf("a 7-day lookback selects %d of %d alerts; the generator should spread them", cases[0].want, len(d.Alerts))
	}

	for _, bad := range []string{"nosuchfield eq 1", "status eq", "alertCreationTime ge '2024-01-01'", "severity eq 'High' and"} {
		status, _, raw := get(t, tn, tok, "/api/alerts?$filter="+url.QueryEscape(bad))
		e := decodeAPIError(t, raw)
		if status != 400 || e.Error.Code != "ODataError" {
			t.Fatalf("%q: %d %s", bad, status, raw)
		}
		if strings.HasPrefix(bad, "nosuchfield") && !strings.Contains(e.Error.Message, "nosuchfield") {
			t.Fatalf("error does not name the field: %s", e.Error.Message)
		}
	}
}

func TestPagingWithNextLink(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 6, Size: Size{Machines: 10, Alerts: 35}, DefaultPageSize: 10})
	tok := secretToken(t, tn, tn.NewApp(), mdeScope)
	filter := url.QueryEscape("severity ne 'UnSpecified'")
	var want []string
	for _, a := range tn.Data().Alerts {
		if a.Severity != "UnSpecified" {
			want = append(want, a.ID)
		}
	}

	var got []string
	next := "/api/alerts?$filter=" + filter
	pages := 0
	for next != "" {
		status, _, raw := get(t, tn, tok, next)
		if status != 200 {
			t.Fatalf("status %d: %s", status, raw)
		}
		p := decodePage(t, raw)
		got = append(got, ids(t, p)...)
		pages++
		if p.NextLink != "" {
			if !strings.HasPrefix(p.NextLink, tn.URL()+"/api/alerts?") || !strings.Contains(p.NextLink, "$skip=") ||
				!strings.Contains(p.NextLink, "$filter="+filter) {
				t.Fatalf("nextLink %q", p.NextLink)
			}
		}
		next = p.NextLink
		if pages > 10 {
			t.Fatal("nextLink does not end")
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("paged %d ids, want %d in order", len(got), len(want))
	}
	if pages != (len(want)+9)/10 {
		t.Fatalf("%d pages for %d alerts", pages, len(want))
	}
	if tn.Calls("/api/alerts") != pages {
		t.Fatalf("Calls = %d, want %d", tn.Calls("/api/alerts"), pages)
	}
}

func TestPagingWithTop(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 7, Size: Size{Machines: 25, Alerts: 5}})
	tok := secretToken(t, tn, tn.NewApp(), mdeScope)
	var got []string
	for skip := 0; ; skip += 10 {
		status, _, raw := get(t, tn, tok, "/api/v1.0/machines?$top=10&$skip="+strconv.Itoa(skip))
		if status != 200 {
			t.Fatalf("status %d: %s", status, raw)
		}
		p := decodePage(t, raw)
		if p.NextLink != "" {
			t.Fatalf("nextLink with $top: %s", p.NextLink)
		}
		got = append(got, ids(t, p)...)
		if len(p.Value) < 10 {
			break
		}
	}
	if len(got) != 25 || got[0] != tn.Data().Machines[0].ID || got[24] != tn.Data().Machines[24].ID {
		t.Fatalf("paged %d machines", len(got))
	}
	if tn.Calls("/api/machines") != 3 {
		t.Fatalf("v1.0 calls counted as %d under /api/machines", tn.Calls("/api/machines"))
	}

	for _, q := range []string{"$top=10001", "$top=-1", "$top=ten", "$skip=-5"} {
		status, _, raw := get(t, tn, tok, "/api/machines?"+q)
		if status != 400 || decodeAPIError(t, raw).Error.Code != "ODataError" {
			t.Fatalf("%s: %d %s", q, status, raw)
		}
	}
	if status, _, raw := get(t, tn, tok, "/api/machines?$top=0"); status != 200 || len(decodePage(t, raw).Value) != 0 {
		t.Fatalf("$top=0: %d %s", status, raw)
	}
	if status, _, _ := get(t, tn, tok, "/api/machines?$top=10000"); status != 200 {
		t.Fatalf("$top=10000: %d", status)
	}
}

func TestMachinesNotFoundWhenEmpty(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 8, Size: Size{Machines: 5}})
	tok := secretToken(t, tn, tn.NewApp(), mdeScope)
	status, _, raw := get(t, tn, tok, "/api/machines?$filter="+url.QueryEscape("computerDnsName eq 'nope'"))
	if status != 404 || decodeAPIError(t, raw).Error.Code != "NotFound" {
		t.Fatalf("no match: %d %s", status, raw)
	}
	// Skipping past the end of a non-empty listing is an empty page.
	if status, _, _ := get(t, tn, tok, "/api/machines?$skip=100"); status != 200 {
		t.Fatalf("skip past the end: %d", status)
	}
	// Alerts have no such quirk.
	if status, _, _ := get(t, tn, tok, "/api/alerts"); status != 200 {
		t.Fatalf("empty alerts: %d", status)
	}
	empty := newTestTenant(t, Options{})
	tok = secretToken(t, empty, empty.NewApp(), mdeScope)
	if status, _, _ := get(t, empty, tok, "/api/machines"); status != 404 {
		t.Fatalf("no machines: %d", status)
	}
	if status, _, _ := get(t, empty, tok, "/api/nosuchapi"); status != 404 || empty.Calls("unknown") != 1 {
		t.Fatalf("unknown API: %d", status)
	}
}
