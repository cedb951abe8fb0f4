package main

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/defender-exporter/defender_exporter/config"
)

func TestShardFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want config.Shard
		bad  bool
	}{
		{args: nil, want: config.Shard{Count: 1}},
		{args: []string{"--shard.count=3", "--shard.index=2"}, want: config.Shard{Index: 2, Count: 3}},
		{env: map[string]string{"SHARD_COUNT": "4", "SHARD_INDEX": "1"}, want: config.Shard{Index: 1, Count: 4}},
		{args: []string{"--shard.index=5"}, env: map[string]string{"SHARD_COUNT": "6"}, want: config.Shard{Index: 5, Count: 6}},
		{args: []string{"--shard.count=3", "--shard.index=3"}, bad: true},
		{args: []string{"--shard.index=1"}, bad: true},
	} {
		for k, v := range tc.env {
			t.Setenv(k, v)
		}
		f, err := parseFlags(tc.args, io.Discard, io.Discard)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		got, err := f.shard()
		if tc.bad != (err != nil) || (!tc.bad && got != tc.want) {
			t.Errorf("%v %v: %+v, %v; want %+v (error: %v)", tc.args, tc.env, got, err, tc.want, tc.bad)
		}
		for k := range tc.env {
			t.Setenv(k, "")
		}
	}
}

func TestConfigCheckShowsShards(t *testing.T) {
	cfg := &config.Config{}
	for _, n := range []string{"contoso", "fabrikam", "northwind", "tailspin", "wingtip"} {
		cfg.Tenants = append(cfg.Tenants, config.Tenant{Name: n})
	}
	f, err := parseFlags([]string{"--shard.count=3", "--shard.index=1"}, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := printShards(f, cfg, &out); err != nil {
		t.Fatal(err)
	}
	for _, tn := range cfg.Tenants {
		n := config.ShardOf(tn.Name, 3)
		line := ""
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), tn.Name+" ") {
				line = l
			}
		}
		if !strings.Contains(line, "shard "+string(rune('0'+n))) || strings.Contains(line, "this replica") != (n == 1) {
			t.Errorf("%s (shard %d): line %q in\n%s", tn.Name, n, line, out.String())
		}
	}
	// Unsharded: nothing to show.
	f, _ = parseFlags(nil, io.Discard, io.Discard)
	out.Reset()
	if err := printShards(f, cfg, &out); err != nil || out.Len() != 0 {
		t.Errorf("unsharded: %q, %v", out.String(), err)
	}
}
