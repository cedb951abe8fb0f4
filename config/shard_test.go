package config

import (
	"fmt"
	"strings"
	"testing"
)

func tenantNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("tenant-%03d", i)
	}
	return names
}

// TestShardEveryTenantOwnedOnce: for 1 to 8 replicas, each tenant is owned
// by exactly one shard, and the shards get a fair share.
func TestShardEveryTenantOwnedOnce(t *testing.T) {
	names := tenantNames(400)
	for count := 1; count <= 8; count++ {
		perShard := make([]int, count)
		for _, name := range names {
			owners := 0
			for i := range count {
				if (Shard{Index: i, Count: count}).Owns(name) {
					owners++
					perShard[i]++
				}
			}
			if owners != 1 {
				t.Fatalf("%d shards: %s is owned by %d shards", count, name, owners)
			}
		}
		for i, n := range perShard {
			// 400/count on average; rendezvous hashing is close to it.
			if want := len(names) / count; n < want/2 || n > want*3/2 {
				t.Errorf("%d shards: shard %d owns %d tenants, far from %d: %v", count, i, n, want, perShard)
			}
		}
	}
}

// TestShardStable pins a few assignments: they must never change between
// runs or versions, or a rolling upgrade would move tenants around.
func TestShardStable(t *testing.T) {
	got := ""
	for _, name := range []string{"contoso", "fabrikam", "northwind", "adventure-works", "tailspin", "wingtip"} {
		got += fmt.Sprintf("%s:%d,%d,%d ", name, ShardOf(name, 2), ShardOf(name, 3), ShardOf(name, 8))
	}
	const want = "contoso:0,0,0 fabrikam:0,0,0 northwind:1,1,1 adventure-works:0,0,5 tailspin:0,0,5 wingtip:1,1,5 "
	if got != want {
		t.Errorf("assignments changed:\n got %s\nwant %s", got, want)
	}
}

// TestShardGrowthMovesFew: going from n to n+1 replicas moves only the
// tenants the new shard takes, about 1 in n+1, and never between old ones.
func TestShardGrowthMovesFew(t *testing.T) {
	names := tenantNames(1000)
	for n := 1; n < 8; n++ {
		moved := 0
		for _, name := range names {
			before, after := ShardOf(name, n), ShardOf(name, n+1)
			if before != after {
				moved++
				if after != n {
					t.Fatalf("%s moved from shard %d to old shard %d when going to %d shards", name, before, after, n+1)
				}
			}
		}
		if want := len(names) / (n + 1); moved > want*3/2 {
			t.Errorf("%d -> %d shards moved %d of %d tenants, want about %d", n, n+1, moved, len(names), want)
		}
	}
}

// TestForShardKeepsOwnershipAcrossReload: a reload that adds and drops
// tenants leaves every remaining tenant where it was.
func TestForShardKeepsOwnershipAcrossReload(t *testing.T) {
	cfgFor := func(names []string) *Config {
		c := &Config{Source: "test"}
		for _, n := range names {
			c.Tenants = append(c.Tenants, Tenant{Name: n})
		}
		return c
	}
	owned := func(c *Config) map[string]bool {
		m := map[string]bool{}
		for _, t := range c.Tenants {
			m[t.Name] = true
		}
		return m
	}
	all := tenantNames(60)
	before := map[int]map[string]bool{}
	for i := range 4 {
		before[i] = owned(cfgFor(all[:40]).ForShard(Shard{Index: i, Count: 4}))
	}
	reloaded := append(append([]string{}, all[10:40]...), all[40:]...) // 10 dropped, 20 added
	for i := range 4 {
		after := owned(cfgFor(reloaded).ForShard(Shard{Index: i, Count: 4}))
		for name := range before[i] {
			if strings.Compare(name, all[10]) >= 0 && !after[name] {
				t.Errorf("shard %d lost %s on reload", i, name)
			}
		}
		for name := range after {
			for j := range 4 {
				if j != i && before[j][name] {
					t.Errorf("%s moved from shard %d to %d on reload", name, j, i)
				}
			}
		}
	}
	c := cfgFor(all)
	if c.ForShard(Shard{}) != c || c.ForShard(Shard{Count: 1}) != c {
		t.Error("an unsharded ForShard must return the configuration as is")
	}
}

func TestShardIndexFromHostname(t *testing.T) {
	for host, want := range map[string]int{
		"defender-exporter-0": 0, "defender-exporter-12": 12, "x-3.defender-exporter.monitoring.svc.cluster.local": 3,
	} {
		if got, err := ShardIndexFromHostname(host); err != nil || got != want {
			t.Errorf("%q: %d, %v; want %d", host, got, err, want)
		}
	}
	for _, host := range []string{"", "laptop", "defender-exporter-", "defender-exporter-abc", "a-+1", "defender-exporter-7f9c8d-x2lq"} {
		if n, err := ShardIndexFromHostname(host); err == nil {
			t.Errorf("%q: accepted as shard %d", host, n)
		}
	}
}

func TestShardValidate(t *testing.T) {
	for _, s := range []Shard{{}, {Count: 1}, {Index: 2, Count: 3}} {
		if err := s.Validate(); err != nil {
			t.Errorf("%+v: %v", s, err)
		}
	}
	for _, s := range []Shard{{Count: -1}, {Index: 1}, {Index: 1, Count: 1}, {Index: 3, Count: 3}, {Index: -1, Count: 3}} {
		if err := s.Validate(); err == nil {
			t.Errorf("%+v: accepted", s)
		}
	}
}
