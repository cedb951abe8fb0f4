package defendertest

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
)

func decodeSecureScores(t testing.TB, p page) []SecureScore {
	t.Helper()
	out := make([]SecureScore, len(p.Value))
	for i, raw := range p.Value {
		var w struct {
			ID              string
			CreatedDateTime time.Time
			CurrentScore    float64
			MaxScore        float64
			ControlScores   []struct {
				ControlCategory, ControlName string
				Score                        float64
			}
			AverageComparativeScores []AverageComparativeScore
		}
		if err := json.Unmarshal(raw, &w); err != nil {
			t.Fatalf("snapshot %d: %v: %s", i, err, raw)
		}
		s := SecureScore{ID: w.ID, CreatedDateTime: TimeOf(w.CreatedDateTime), CurrentScore: w.CurrentScore, MaxScore: w.MaxScore,
			AverageComparativeScores: w.AverageComparativeScores}
		for _, c := range w.ControlScores {
			s.ControlScores = append(s.ControlScores, ControlScore{ControlCategory: c.ControlCategory, ControlName: c.ControlName, Score: c.Score})
		}
		out[i] = s
	}
	return out
}

func TestSecureScoresAPI(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 4, Size: Size{Machines: 400}})
	tok := secretToken(t, tn, tn.NewApp(), graphScope)

	status, _, raw := get(t, tn, tok, SecureScoresPath)
	p := decodePage(t, raw)
	all := decodeSecureScores(t, p)
	if status != 200 || len(all) != 90 || p.NextLink != "" || !strings.HasSuffix(p.Context, "/v1.0/$metadata#security/secureScores") {
		t.Fatalf("all snapshots: %d, %d snapshots, nextLink %q, context %q", status, len(all), p.NextLink, p.Context)
	}
	categories := map[string]bool{}
	for i, s := range all {
		if i > 0 && s.CreatedDateTime.Time().Add(24*time.Hour) != all[i-1].CreatedDateTime.Time() {
			t.Fatalf("snapshot %d (%v) is not the day before %v", i, s.CreatedDateTime.Time(), all[i-1].CreatedDateTime.Time())
		}
		sum := 0.0
		for _, c := range s.ControlScores {
			sum += c.Score
			categories[c.ControlCategory] = true
		}
		if d := sum - s.CurrentScore; d > 1e-6 || d < -1e-6 || s.CurrentScore > s.MaxScore || !strings.HasSuffix(s.ID, s.CreatedDateTime.Time().Format("_2006-01-02")) {
			t.Fatalf("snapshot %s: current %v, controls sum to %v, max %v", s.ID, s.CurrentScore, sum, s.MaxScore)
		}
		var bases []string
		for _, a := range s.AverageComparativeScores {
			bases = append(bases, a.Basis)
		}
		if strings.Join(bases, ",") != "AllTenants,TotalSeats,IndustryTypes" {
			t.Fatalf("snapshot %s: bases %v", s.ID, bases)
		}
	}
	if newest := all[0].CreatedDateTime.Time(); newest.After(testNow) || testNow.Sub(newest) >= 24*time.Hour {
		t.Errorf("newest snapshot %v is not the latest before %v", newest, testNow)
	}
	if all[0].CurrentScore <= all[89].CurrentScore || len(categories) < 5 {
		t.Errorf("the score should improve over 90 days (%v -> %v) across 5 categories (%v)", all[89].CurrentScore, all[0].CurrentScore, categories)
	}

	// $top=1 is today's, with a nextLink to the rest; $skip moves back.
	_, _, raw = get(t, tn, tok, SecureScoresPath+"?$top=1")
	p = decodePage(t, raw)
	if one := decodeSecureScores(t, p); len(one) != 1 || one[0].ID != all[0].ID || !strings.Contains(p.NextLink, "$skip=1") {
		t.Fatalf("$top=1: %d snapshots, nextLink %q", len(one), p.NextLink)
	}
	_, _, raw = get(t, tn, tok, SecureScoresPath+"?$top=1&$skip=7")
	if one := decodeSecureScores(t, decodePage(t, raw)); len(one) != 1 || one[0].ID != all[7].ID {
		t.Fatalf("$top=1&$skip=7: %v", one)
	}
	_, _, raw = get(t, tn, tok, SecureScoresPath+"?$filter="+url.QueryEscape("id eq '"+all[3].ID+"'"))
	if one := decodeSecureScores(t, decodePage(t, raw)); len(one) != 1 || one[0].ID != all[3].ID {
		t.Fatalf("$filter on id: %v", one)
	}
	if status, _, _ := get(t, tn, tok, SecureScoresPath+"?$top=101"); status != 400 {
		t.Fatalf("$top=101: %d", status)
	}
	if n := tn.Calls(SecureScoresPath); n != 5 {
		t.Errorf("%d calls counted, want 5", n)
	}

	// The permission, and the Graph audience.
	app := tn.NewApp()
	tn.SetAppRoles(app.ClientID, "ThreatHunting.Read.All")
	if status, _, raw := get(t, tn, secretToken(t, tn, app, graphScope), SecureScoresPath); status != 403 || !strings.Contains(decodeAPIError(t, raw).Error.Message, "SecurityEvents.Read.All") {
		t.Fatalf("without SecurityEvents.Read.All: %d %s", status, raw)
	}
	if status, _, _ := get(t, tn, secretToken(t, tn, tn.NewApp(), mdeScope), SecureScoresPath); status != 401 {
		t.Fatalf("an MDE token: %d", status)
	}

	// A tenant without machines has no snapshot yet.
	empty := newTestTenant(t, Options{Seed: 4})
	_, _, raw = get(t, empty, secretToken(t, empty, empty.NewApp(), graphScope), SecureScoresPath+"?$top=1")
	if p := decodePage(t, raw); len(p.Value) != 0 || p.Value == nil {
		t.Fatalf("empty tenant: %s", raw)
	}
}

func TestIdentityAPIs(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 5, Size: Size{Machines: 3000}, DefaultPageSize: 10})
	tok := secretToken(t, tn, tn.NewApp(), graphScope)
	d := tn.Data()

	// Without $top: pages of the default size, linked by nextLinks.
	read := func(path string) []map[string]any {
		var out []map[string]any
		next := path
		for pages := 0; next != ""; pages++ {
			if pages > 50 {
				t.Fatalf("%s: more than 50 pages", path)
			}
			status, _, raw := get(t, tn, tok, next)
			p := decodePage(t, raw)
			if status != 200 || len(p.Value) > 10 || !strings.Contains(p.Context, "/v1.0/$metadata#security/identities/") {
				t.Fatalf("%s: %d, %d entities, context %q", next, status, len(p.Value), p.Context)
			}
			for _, v := range p.Value {
				var m map[string]any
				if err := json.Unmarshal(v, &m); err != nil {
					t.Fatal(err)
				}
				out = append(out, m)
			}
			next = p.NextLink
		}
		return out
	}
	issues := read(IdentityHealthIssuesPath)
	sensors := read(IdentitySensorsPath)
	if len(issues) != len(d.IdentityHealthIssues) || len(sensors) != len(d.IdentitySensors) || len(sensors) != 20 || len(issues) < 20 {
		t.Fatalf("%d issues and %d sensors read, the fake has %d and %d", len(issues), len(sensors), len(d.IdentityHealthIssues), len(d.IdentitySensors))
	}
	seen := map[string]bool{}
	for _, h := range issues {
		for _, k := range []string{"healthIssueType", "severity", "status"} {
			seen[k+"="+h[k].(string)] = true
		}
		if h["@odata.type"] != "#microsoft.graph.security.healthIssue" || len(h["sensorDNSNames"].([]any)) == 0 {
			t.Fatalf("health issue shape: %v", h)
		}
	}
	for _, s := range sensors {
		for _, k := range []string{"healthStatus", "deploymentStatus", "sensorType"} {
			seen[k+"="+s[k].(string)] = true
		}
		if _, ok := s["settings"].(map[string]any); !ok || s["@odata.type"] != "#microsoft.graph.security.sensor" {
			t.Fatalf("sensor shape: %v", s)
		}
	}
	for _, want := range []string{"healthIssueType=sensor", "healthIssueType=global", "status=open", "status=closed",
		"severity=high", "severity=low", "healthStatus=healthy", "deploymentStatus=upToDate", "sensorType=domainControllerIntegrated"} {
		if !seen[want] {
			t.Errorf("no entity with %s (saw %v)", want, seen)
		}
	}

	// A sensor's health is its most severe open sensor issue.
	for _, s := range d.IdentitySensors {
		worst, n := "", int64(0)
		for _, h := range d.IdentityHealthIssues {
			if h.Status == "open" && h.HealthIssueType == "sensor" && h.SensorDNSNames[0] == s.DNSName {
				n++
				if worst == "" || h.Severity == "high" || (h.Severity == "medium" && worst == "low") {
					worst = h.Severity
				}
			}
		}
		want := map[string]string{"": "healthy", "low": "notHealthyLow", "medium": "notHealthyMedium", "high": "notHealthyHigh"}[worst]
		if s.HealthStatus != want || s.OpenHealthIssuesCount != n {
			t.Errorf("sensor %s: %s with %d open issues, want %s with %d", s.DisplayName, s.HealthStatus, s.OpenHealthIssuesCount, want, n)
		}
	}

	// $top gives a page of that size and, as on Graph, a nextLink; $filter
	// as in Microsoft's examples.
	_, _, raw := get(t, tn, tok, IdentityHealthIssuesPath+"?$top=5&$filter="+url.QueryEscape("Status eq 'open' and severity eq 'medium'"))
	p := decodePage(t, raw)
	want := 0
	for _, h := range d.IdentityHealthIssues {
		if h.Status == "open" && h.Severity == "medium" {
			want++
		}
	}
	if len(p.Value) != min(5, want) || (want > 5) != (p.NextLink != "") {
		t.Fatalf("filtered: %d issues, nextLink %q; %d match", len(p.Value), p.NextLink, want)
	}

	// Each list has its own permission.
	app := tn.NewApp()
	tn.SetAppRoles(app.ClientID, "SecurityIdentitiesSensors.Read.All")
	narrow := secretToken(t, tn, app, graphScope)
	if status, _, _ := get(t, tn, narrow, IdentityHealthIssuesPath); status != 403 {
		t.Errorf("health issues without SecurityIdentitiesHealth.Read.All: %d", status)
	}
	if status, _, _ := get(t, tn, narrow, IdentitySensorsPath); status != 200 {
		t.Errorf("sensors with SecurityIdentitiesSensors.Read.All: %d", status)
	}
}

func TestGraphSecurityDeterministicAndDrift(t *testing.T) {
	a, b := Generate(42, Size{Machines: 900}, testNow), Generate(42, Size{Machines: 900}, testNow)
	ja, _ := json.Marshal([]any{a.SecureScores, a.IdentityHealthIssues, a.IdentitySensors})
	jb, _ := json.Marshal([]any{b.SecureScores, b.IdentityHealthIssues, b.IdentitySensors})
	if !bytes.Equal(ja, jb) {
		t.Fatal("same seed gave different Graph data")
	}
	if c := Generate(43, Size{Machines: 900}, testNow); c.SecureScores[0].CurrentScore == a.SecureScores[0].CurrentScore && c.IdentitySensors[0].ID == a.IdentitySensors[0].ID {
		t.Fatal("different seeds gave the same Graph data")
	}

	// A day of drift at the default period: the score moves, by a few
	// points at most, and a new daily snapshot arrives with the old ones
	// kept to 90.
	d := a
	start, newest := d.SecureScores[0].CurrentScore, d.SecureScores[0].CreatedDateTime.Time()
	openBefore := openIssues(d)
	for _, h := range d.IdentityHealthIssues {
		if h.Severity == "high" && h.Status == "open" {
			t.Fatalf("issue %q is open and High at start: the demo would fire DefenderIdentityHealthIssueHigh", h.DisplayName)
		}
	}
	moved, toggled := false, false
	high := start
	now := testNow
	for range 24 * 3600 / 5 {
		now = now.Add(5 * time.Second)
		d.driftStep(now)
		s := d.SecureScores[0]
		if s.CurrentScore != start {
			moved = true
		}
		if diff := s.CurrentScore - start; diff > 8 || diff < -8 {
			t.Fatalf("at %v the score is %v, %v from the start: drift should stay within a few points", now, s.CurrentScore, diff)
		}
		// The demo must stay quiet: DefenderSecureScoreDropped fires at 2%
		// of the maximum below the day's high.
		high = max(high, s.CurrentScore)
		if drop := high - s.CurrentScore; drop >= 0.02*s.MaxScore {
			t.Fatalf("at %v the score is %v, %v below the day's high of %v: the demo would fire DefenderSecureScoreDropped", now, s.CurrentScore, drop, high)
		}
		toggled = toggled || openIssues(d) != openBefore
	}
	if !moved || !toggled {
		t.Errorf("a day of drift moved the score: %v, opened or closed an issue: %v", moved, toggled)
	}
	if got := d.SecureScores[0].CreatedDateTime.Time(); got != newest.Add(24*time.Hour) || len(d.SecureScores) != 90 || d.SecureScores[1].CreatedDateTime.Time() != newest {
		t.Errorf("after a day: newest %v (was %v), %d snapshots", got, newest, len(d.SecureScores))
	}
	for _, s := range d.IdentitySensors {
		if s.HealthStatus == "" {
			t.Fatalf("sensor %s lost its health", s.DisplayName)
		}
	}
}

func openIssues(d *Dataset) int {
	n := 0
	for _, h := range d.IdentityHealthIssues {
		if h.Status == "open" {
			n++
		}
	}
	return n
}

// TestRetiredFault: the Retired switch answers 410 Gone with a retirement
// message in the API's error shape, for the calls it is set for.
func TestRetiredFault(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 9, Size: Size{Machines: 3, Alerts: 3}})
	tok := secretToken(t, tn, tn.NewApp(), mdeScope)
	tn.SetFault("/api/alerts", Fault{Retired: true, Times: 2})
	for range 2 {
		status, _, raw := get(t, tn, tok, "/api/alerts")
		if e := decodeAPIError(t, raw); status != 410 || e.Error.Code != "Gone" || !strings.Contains(e.Error.Message, "retired") {
			t.Fatalf("retired: %d %s", status, raw)
		}
	}
	if status, _, _ := get(t, tn, tok, "/api/alerts"); status != 200 {
		t.Fatalf("after Times: %d", status)
	}
	// A status set too wins, for a retirement worded on another status.
	tn.SetFault("/api/alerts", Fault{Retired: true, Status: 404, Times: 1})
	if status, _, _ := get(t, tn, tok, "/api/alerts"); status != 404 {
		t.Fatalf("Retired with Status 404: %d", status)
	}
}
