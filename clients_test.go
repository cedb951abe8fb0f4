package main

import (
	"fmt"
	"testing"

	"github.com/defender-exporter/defender_exporter/config"
	"github.com/defender-exporter/defender_exporter/defender"
)

// The config package validates cloud and region names without importing
// defender, so the two lists are kept by hand: every name the client
// knows must load, and every name that loads must resolve to endpoints.
func TestConfigAcceptsExactlyTheClientsCloudsAndRegions(t *testing.T) {
	load := func(cloud, region string) error {
		yml := fmt.Sprintf(`tenants:
  - {name: t, tenant_id: 00000000-0000-0000-0000-0000000000aa, client_id: 00000000-0000-0000-0000-000000000001, client_secret: x, cloud: %q, region: %q}
`, cloud, region)
		_, err := config.Parse([]byte(yml), "test.yml", config.Options{})
		return err
	}
	for _, c := range defender.Clouds {
		if err := load(c, ""); err != nil {
			t.Errorf("cloud %q: the client knows it, the config rejects it: %v", c, err)
		}
		if _, _, err := defender.ResolveEndpoints(c, "", defender.Endpoints{}); err != nil {
			t.Errorf("cloud %q: %v", c, err)
		}
	}
	for _, r := range defender.Regions {
		if err := load("global", r); err != nil {
			t.Errorf("region %q: the client knows it, the config rejects it: %v", r, err)
		}
		ep, _, err := defender.ResolveEndpoints("global", r, defender.Endpoints{})
		if want := "https://" + r + ".api.security.microsoft.com"; err != nil || ep.MDE != want {
			t.Errorf("region %q: MDE %q, %v; want %s", r, ep.MDE, err, want)
		}
	}
	for _, bad := range []string{"fr", "US", "ind"} {
		if load("global", bad) == nil {
			t.Errorf("region %q: the config accepts a region the client does not know", bad)
		}
	}
}
