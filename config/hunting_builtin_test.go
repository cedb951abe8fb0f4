package config

import (
	"fmt"
	"strings"
	"testing"
)

// graphCollectors sets the four posture collectors with built-in queries
// to api: graph at interval.
func graphCollectors(interval string) string {
	var b strings.Builder
	b.WriteString("collectors:\n")
	for _, name := range []string{"machines", "av_health", "vulnerabilities", "recommendations"} {
		fmt.Fprintf(&b, "  %s: {api: graph, interval: %s}\n", name, interval)
	}
	return b.String()
}

// The built-in queries of graph-back-end collectors spend the hunting quota
// with the user's: --config.check counts both.
func TestHuntingBudgetCountsBuiltinQueries(t *testing.T) {
	var qs []string
	for i := 0; i < 21; i++ { // 21 queries every minute: 1,260 calls an hour
		qs = append(qs, query(fmt.Sprintf("q%d", i), "1m"))
	}
	withBuiltins := func(qs ...string) []byte {
		return []byte(strings.Replace(string(huntingConfig(qs...)), "hunting:\n", graphCollectors("1m")+"hunting:\n", 1))
	}
	// 1,260 + 4 built-in queries every minute (240) = 1,500: allowed.
	if _, err := Parse(withBuiltins(qs...), "h.yml", testEnv()); err != nil {
		t.Errorf("1,500 calls/hour rejected: %v", err)
	}
	_, err := Parse(withBuiltins(append(qs, query("extra", "1m"))...), "h.yml", testEnv())
	want := "h.yml:13: hunting: queries need 1,560 calls/hour per tenant (240 of them the built-in queries of collectors with api: graph: " +
		"machines 60/h, vulnerabilities 60/h, recommendations 60/h, av_health 60/h), 60 more than Defender's 1,500/hour: raise some intervals"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v\nwant %s", err, want)
	}

	// Per minute: 42 queries plus 4 built-in ones every minute is 46.
	qs = qs[:0]
	for i := 0; i < 42; i++ {
		qs = append(qs, query(fmt.Sprintf("q%d", i), "2h"))
	}
	_, err = Parse(withBuiltins(qs...), "h.yml", testEnv())
	want = "46 queries may all run in the same minute (4 of them the built-in queries of collectors with api: graph: machines 60/h, vulnerabilities 60/h, recommendations 60/h, av_health 60/h), 1 more than Defender's 45 calls/minute per tenant"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v\nwant %s", err, want)
	}

	// The same collectors on the MDE back end cost no hunting call.
	mde := strings.ReplaceAll(string(withBuiltins(qs...)), "api: graph", "api: mde")
	if _, err := Parse([]byte(mde), "h.yml", testEnv()); err != nil {
		t.Errorf("mde back end counted against the hunting quota: %v", err)
	}
	// Nor do disabled ones.
	off := strings.ReplaceAll(string(withBuiltins(qs...)), "api: graph,", "api: graph, enabled: false,")
	if _, err := Parse([]byte(off), "h.yml", testEnv()); err != nil {
		t.Errorf("disabled collectors counted against the hunting quota: %v", err)
	}
}

// A tenant's refresh_interval sets the interval of collectors that have
// none, so the budget is a tenant's: the error names the tenant.
func TestHuntingBudgetBuiltinQueriesPerTenant(t *testing.T) {
	cfg := `defaults:
  request_timeout: 10s
tenants:
  - name: slow
    tenant_id: 11111111-1111-1111-1111-111111111111
    client_id: 22222222-2222-2222-2222-222222222222
    client_secret: s
  - name: busy
    tenant_id: 11111111-1111-1111-1111-111111111112
    client_id: 22222222-2222-2222-2222-222222222222
    client_secret: s
    refresh_interval: 30s
collectors:
  machines: {api: graph}
  av_health: {api: graph}
  vulnerabilities: {api: graph}
  recommendations: {api: graph}
hunting:
  queries:
`
	var qs []string
	for i := 0; i < 17; i++ { // 1,020 calls an hour
		qs = append(qs, query(fmt.Sprintf("q%d", i), "1m"))
	}
	// busy: 4 built-in queries every 30s (480/h) + 1,020 = 1,500 calls an
	// hour; slow: 4 every 15m and 3 every hour (7/h) + 1,020. One more
	// query every 6m breaks the hour for busy only.
	if _, err := Parse([]byte(cfg+strings.Join(qs, "")), "t.yml", testEnv()); err != nil {
		t.Fatalf("within the quota: %v", err)
	}
	_, err := Parse([]byte(cfg+strings.Join(append(qs, query("more", "6m")), "")), "t.yml", testEnv())
	want := "t.yml:18: hunting: queries need 1,510 calls/hour for tenant busy (480 of them the built-in queries of collectors with api: graph: machines 120/h, vulnerabilities 120/h, recommendations 120/h, av_health 120/h), 10 more"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v\nwant %s", err, want)
	}
	if strings.Contains(err.Error(), "slow") {
		t.Errorf("tenant slow fits, but: %v", err)
	}
}

// Built-in queries alone can break the quota; with no hunting: section the
// error points at collectors:.
func TestHuntingBudgetBuiltinQueriesAlone(t *testing.T) {
	cfg := `tenants:
  - name: a
    tenant_id: 11111111-1111-1111-1111-111111111111
    client_id: 22222222-2222-2222-2222-222222222222
    client_secret: s
    request_timeout: 1s
` + graphCollectors("2s")
	_, err := Parse([]byte(cfg), "c.yml", testEnv())
	want := "c.yml:7: collectors: queries need 7,200 calls/hour per tenant (7,200 of them the built-in queries of collectors with api: graph: machines 1,800/h"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

func TestBuiltinHuntingQueriesKnownCollectors(t *testing.T) {
	for _, name := range CollectorNames {
		for api, n := range registry[name].HuntingQueries {
			if n <= 0 {
				t.Errorf("%s: %d built-in queries on %q: a useless entry", name, n, api)
			}
			if !contains(CollectorAPIs(name), api) {
				t.Errorf("%s has built-in hunting queries on %q, not one of its back ends %v", name, api, CollectorAPIs(name))
			}
		}
	}
	// The four posture collectors count devices with built-in queries on
	// graph; the tests above rely on it.
	for _, name := range []string{"machines", "av_health", "vulnerabilities", "recommendations"} {
		if BuiltinHuntingQueries(name, "graph") == 0 {
			t.Errorf("%s runs no built-in query on graph", name)
		}
	}
}
