package main

import (
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/defender-exporter/defender_exporter/config"
)

// shard is this replica's shard from --shard.count, --shard.index (or the
// SHARD_COUNT and SHARD_INDEX variables) and --shard.index-from-hostname.
func (f *flags) shard() (config.Shard, error) {
	s := config.Shard{Index: f.shardIndex, Count: f.shardCount}
	if f.shardFromHostname {
		host, err := os.Hostname()
		if err != nil {
			return s, fmt.Errorf("--shard.index-from-hostname: %w", err)
		}
		if s.Index, err = config.ShardIndexFromHostname(host); err != nil {
			return s, fmt.Errorf("--shard.index-from-hostname: %w", err)
		}
	}
	if err := s.Validate(); err != nil {
		return s, fmt.Errorf("--shard.count/--shard.index: %w", err)
	}
	return s, nil
}

// printShards shows, for --config.check with --shard.count above 1, which
// shard exports which tenant, and marks this replica's when it is known.
func printShards(f *flags, cfg *config.Config, w io.Writer) error {
	if f.shardCount <= 1 {
		return nil
	}
	this, err := f.shard()
	mine := -1
	switch {
	case err == nil:
		mine = this.Index
	case f.shardFromHostname:
		// Checked away from the cluster: the host name is no pod's.
	default:
		return err
	}
	fmt.Fprintf(w, "---\nshards: %d (rendezvous hash of the tenant name)\n", f.shardCount)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, t := range cfg.Tenants {
		n := config.ShardOf(t.Name, f.shardCount)
		note := ""
		if n == mine {
			note = "  (this replica)"
		}
		fmt.Fprintf(tw, "  %s\tshard %d%s\n", t.Name, n, note)
	}
	return tw.Flush()
}
