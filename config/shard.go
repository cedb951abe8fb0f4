package config

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// Shard is one replica's part of a sharded deployment: the tenants are
// split across Count replicas and this one exports those of shard Index.
// Every tenant belongs to exactly one shard, decided by its name alone, so
// replicas agree without talking to each other, and a reload (which can add
// or drop tenants) never moves the others.
type Shard struct {
	Index int // 0 .. Count-1
	Count int // 0 or 1: not sharded
}

// Validate checks that Index is one of Count shards.
func (s Shard) Validate() error {
	switch {
	case s.Count < 0:
		return fmt.Errorf("shard count %d: must be at least 1", s.Count)
	case s.Count <= 1 && s.Index != 0:
		return fmt.Errorf("shard index %d without a shard count above 1", s.Index)
	case s.Count > 1 && (s.Index < 0 || s.Index >= s.Count):
		return fmt.Errorf("shard index %d: must be 0 to %d for %d shards", s.Index, s.Count-1, s.Count)
	}
	return nil
}

// Sharded reports whether tenants are split at all.
func (s Shard) Sharded() bool { return s.Count > 1 }

// Owns reports whether this shard exports the tenant.
func (s Shard) Owns(tenant string) bool {
	return !s.Sharded() || ShardOf(tenant, s.Count) == s.Index
}

func (s Shard) String() string {
	if !s.Sharded() {
		return "unsharded"
	}
	return fmt.Sprintf("shard %d of %d", s.Index, s.Count)
}

// ShardOf is the shard (0 .. count-1) that owns a tenant: rendezvous
// (highest random weight) hashing of the tenant name. It is the same in
// every replica, run and version; and when replicas are added, a tenant
// only ever moves to a new shard (about 1 in count+1 of them do), never
// between the old ones, so most keep their warm caches and budgets.
func ShardOf(tenant string, count int) int {
	best, bestScore := 0, uint64(0)
	for i := range max(count, 1) {
		if s := shardScore(tenant, i); i == 0 || s > bestScore {
			best, bestScore = i, s
		}
	}
	return best
}

// shardScore is the weight of a (tenant, shard) pair: FNV-1a of both, then
// a 64-bit finalizer (splitmix64's), since FNV's last bytes, the shard
// number here, barely stir its high bits.
func shardScore(tenant string, shard int) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(tenant))
	var n [9]byte // a separator, so "a"+"1.." never collides with "a1"+".."
	binary.LittleEndian.PutUint64(n[1:], uint64(shard))
	_, _ = h.Write(n[:])
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// ForShard returns the configuration with only the tenants s owns; the rest
// is shared with c. Unsharded, it returns c.
func (c *Config) ForShard(s Shard) *Config {
	if !s.Sharded() {
		return c
	}
	out := *c
	out.Tenants = nil
	for _, t := range c.Tenants {
		if s.Owns(t.Name) {
			out.Tenants = append(out.Tenants, t)
		}
	}
	return &out
}

// ShardIndexFromHostname reads the ordinal a StatefulSet puts at the end
// of its pods' names: "defender-exporter-2" (or its FQDN) is shard 2.
func ShardIndexFromHostname(host string) (int, error) {
	name, _, _ := strings.Cut(host, ".")
	i := strings.LastIndexByte(name, '-')
	if i < 0 || i == len(name)-1 {
		return 0, fmt.Errorf("host name %q does not end in -<ordinal> as a StatefulSet pod's does", host)
	}
	n, err := strconv.Atoi(name[i+1:])
	if err != nil || n < 0 || name[i+1] == '+' {
		return 0, fmt.Errorf("host name %q does not end in -<ordinal> as a StatefulSet pod's does", host)
	}
	return n, nil
}
