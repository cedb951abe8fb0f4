package config

import (
	"fmt"
	"strings"
	"testing"
)

func TestLabelName(t *testing.T) {
	for in, want := range map[string]string{
		"SensorHealthState": "sensor_health_state",
		"DeviceId":          "device_id",
		"count_":            "count_",
		"OSPlatform":        "os_platform",
		"RBACGroupId":       "rbac_group_id",
		"Timestamp":         "timestamp",
		"already_snake":     "already_snake",
		"Device_Name":       "device_name",
		"Port80Count":       "port80_count",
		"dcount_DeviceId":   "dcount_device_id",
		"IP":                "ip",
		"IPv4Address":       "ipv4_address",
		"RemoteIPv6":        "remote_ipv6",
		"TLSv1Count":        "tlsv1_count",
		"AValue":            "a_value",
		"":                  "",
	} {
		if got := LabelName(in); got != want {
			t.Errorf("LabelName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidTimespan(t *testing.T) {
	for _, ok := range []string{
		"P1D", "PT12H", "P30D", "P1Y2M3W4DT5H6M7.5S", "PT30M",
		"2024-02-01T08:00:00Z", "2024-02-01T08:00:00Z/2024-02-15T08:00:00Z",
		"P30D/2024-02-15T08:00:00Z", "2024-02-01T08:00:00Z/P30D", "2024-02-01T08:00:00+01:00/P1D",
	} {
		if !validTimespan(ok) {
			t.Errorf("validTimespan(%q) = false", ok)
		}
	}
	for _, bad := range []string{
		"", "P", "PT", "P1DT", "1d", "30d", "p1d", "P1H", "P1D/P2D",
		"2024-02-15T08:00:00Z/2024-02-01T08:00:00Z", "2024-02-01T08:00:00Z/", "a/b/c", "yesterday",
	} {
		if validTimespan(bad) {
			t.Errorf("validTimespan(%q) = true", bad)
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1620: "1,620", 1234567: "1,234,567", -1500: "-1,500"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func huntingConfig(queries ...string) []byte {
	return []byte(`defaults:
  request_timeout: 30s
tenants:
  - name: a
    tenant_id: 11111111-1111-1111-1111-111111111111
    client_id: 22222222-2222-2222-2222-222222222222
    client_secret: s
hunting:
  queries:
` + strings.Join(queries, ""))
}

func query(name, interval string) string {
	return fmt.Sprintf(`    - name: %s
      help: h
      interval: %s
      query: T | count
      labels: []
      value: Count
`, name, interval)
}

// The budget is inclusive: exactly Defender's quota is allowed.
func TestHuntingBudgetBoundaries(t *testing.T) {
	var qs []string
	for i := 0; i < 25; i++ { // 25 queries every minute: 1,500 calls an hour
		qs = append(qs, query(fmt.Sprintf("q%d", i), "1m"))
	}
	if _, err := Parse(huntingConfig(qs...), "h.yml", testEnv()); err != nil {
		t.Errorf("1,500 calls/hour rejected: %v", err)
	}
	_, err := Parse(huntingConfig(append(qs, query("extra", "7m"))...), "h.yml", testEnv())
	if err == nil || !strings.Contains(err.Error(), "queries need 1,509 calls/hour per tenant, 9 more") {
		t.Errorf("1,509 calls/hour (ceil(60/7) = 9 for the 7m query): %v", err)
	}

	qs = qs[:0]
	for i := 0; i < 45; i++ {
		qs = append(qs, query(fmt.Sprintf("q%d", i), "2h"))
	}
	if _, err := Parse(huntingConfig(qs...), "h.yml", testEnv()); err != nil {
		t.Errorf("45 queries rejected: %v", err)
	}
}

func TestHuntingDefaults(t *testing.T) {
	cfg, err := Parse(huntingConfig(query("q", "1h")), "h.yml", testEnv())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Hunting.API != "graph" || cfg.Hunting.Queries[0].Labels == nil || len(cfg.Hunting.Queries[0].Labels) != 0 {
		t.Errorf("hunting = %#v", cfg.Hunting)
	}
	// A query's interval must exceed request_timeout like every other interval.
	_, err = Parse([]byte(strings.Replace(string(huntingConfig(query("q", "1m"))), "request_timeout: 30s", "request_timeout: 1m", 1)), "h.yml", testEnv())
	if err == nil || !strings.Contains(err.Error(), "h.yml:2: defaults.request_timeout: 1m is not less than the interval of hunting query q (1m)") {
		t.Errorf("err = %v", err)
	}
}
