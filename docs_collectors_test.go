package main

// The docs' tables of collectors repeat what each collector declares in
// its file (collector.register): names, default state and interval, back
// ends, the collectors each option applies to. These tests read the
// Markdown tables and compare them with the registry, so that a new
// collector or a changed default cannot leave the docs behind.

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/defender-exporter/defender_exporter/config"
)

// mdTable is one Markdown table: its file, the line of its header, and its
// body rows split into trimmed cells.
type mdTable struct {
	file string
	line int
	rows [][]string
}

// findTable returns the one table, in README.md and docs/*.md, whose
// header row starts with header (a page may move between them).
func findTable(t *testing.T, header string) mdTable {
	t.Helper()
	var found []mdTable
	for _, f := range docsMarkdown(t, ".") {
		data, err := os.ReadFile(filepath.FromSlash(f))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(data), "\n")
		for i, l := range lines {
			if !strings.HasPrefix(l, header) {
				continue
			}
			tb := mdTable{file: f, line: i + 1}
			for _, r := range lines[i+2:] { // past the |---| row
				if !strings.HasPrefix(r, "|") {
					break
				}
				tb.rows = append(tb.rows, cells(r))
			}
			found = append(found, tb)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one table with the header %q in README.md and docs/*.md, found %d", header, len(found))
	}
	return found[0]
}

func cells(row string) []string {
	parts := strings.Split(strings.Trim(strings.TrimSpace(row), "|"), "|")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
	}
	return parts
}

// codeList reads "`a`, `b`" (or "`a`") as [a b].
func codeList(cell string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(cell, ",") {
		p = strings.TrimSpace(p)
		if len(p) < 3 || p[0] != '`' || p[len(p)-1] != '`' {
			return nil, fmt.Errorf("%q is not a list of `names`", cell)
		}
		out = append(out, p[1:len(p)-1])
	}
	return out, nil
}

// TestDocsCollectorTable: the "What it exports" table lists every
// collector, in --config.check's order, with its default state and interval
// ("on, 5m"), then hunting.
func TestDocsCollectorTable(t *testing.T) {
	tb := findTable(t, "| collector | default | metric families")
	var names []string
	for _, r := range tb.rows {
		name := strings.Trim(r[0], "`")
		if name == "hunting" {
			continue
		}
		names = append(names, name)
		def := config.DefaultCollector(name)
		state := "off"
		if def.Enabled {
			state = "on"
		}
		if want := fmt.Sprintf("%s, %s", state, model.Duration(def.Interval)); r[1] != want {
			t.Errorf("%s:%d: %s's default is %q, the collector declares %q", tb.file, tb.line, name, r[1], want)
		}
	}
	if !slices.Equal(names, config.CollectorNames) {
		t.Errorf("%s:%d: the table lists %v, the collectors are %v", tb.file, tb.line, names, config.CollectorNames)
	}
}

// TestDocsCollectorAPITable: the table of back ends lists every collector
// that takes api once, with its choices in order, default first.
func TestDocsCollectorAPITable(t *testing.T) {
	tb := findTable(t, "| collector | choices (default first) |")
	seen := map[string]bool{}
	for _, r := range tb.rows {
		names, err := codeList(r[0])
		if err != nil {
			t.Fatalf("%s:%d: %v", tb.file, tb.line, err)
		}
		choices, err := codeList(r[1])
		if err != nil {
			t.Fatalf("%s:%d: %v", tb.file, tb.line, err)
		}
		for _, n := range names {
			if seen[n] {
				t.Errorf("%s:%d: %s is listed twice", tb.file, tb.line, n)
			}
			seen[n] = true
			if want := config.CollectorAPIs(n); !slices.Equal(choices, want) {
				t.Errorf("%s:%d: %s's choices are %v, the collector declares %v", tb.file, tb.line, n, choices, want)
			}
		}
	}
	for _, n := range config.CollectorNames {
		if len(config.CollectorAPIs(n)) > 0 && !seen[n] {
			t.Errorf("%s:%d: %s takes api but is not in the table", tb.file, tb.line, n)
		}
	}
}

// TestDocsCollectorOptions: a row of the options table for a collector
// option begins its description with the collectors that take it
// ("alerts, incidents: ..."), in any order.
func TestDocsCollectorOptions(t *testing.T) {
	tb := findTable(t, "| key | default |")
	options := map[string][]string{} // option key -> the collectors that take it
	for _, n := range config.CollectorNames {
		for _, k := range config.CollectorKeys(n)[2:] { // past enabled and interval
			options[k] = append(options[k], n)
		}
	}
	documented := 0
	for _, r := range tb.rows {
		key := strings.Trim(r[0], "`")
		owners, ok := options[key]
		if !ok {
			continue
		}
		documented++
		list, _, found := strings.Cut(r[2], ":")
		got := strings.Split(list, ", ")
		slices.Sort(got)
		want := slices.Sorted(slices.Values(owners))
		if !found || !slices.Equal(got, want) {
			t.Errorf("%s:%d: the row of %s begins %q, but the collectors that take it are %s", tb.file, tb.line, key, list, strings.Join(owners, ", "))
		}
	}
	if documented == 0 {
		t.Errorf("%s:%d: no row for a collector option (%d options)", tb.file, tb.line, len(options))
	}
}

// TestDocsCollectorDefaultsExample: the example file in configuration.md
// lists every collector with its defaults; each value shown is the default.
func TestDocsCollectorDefaultsExample(t *testing.T) {
	const file = "docs/configuration.md"
	data, err := os.ReadFile(filepath.FromSlash(file))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "```yaml\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatalf("%s: no yaml example", file)
	}
	var example struct {
		Collectors map[string]map[string]any `yaml:"collectors"`
	}
	if err := yaml.Unmarshal([]byte(block), &example); err != nil {
		t.Fatalf("%s: the example: %v", file, err)
	}
	for _, name := range config.CollectorNames {
		shown, ok := example.Collectors[name]
		if !ok {
			t.Errorf("%s: the example lacks collectors.%s", file, name)
			continue
		}
		for _, k := range []string{"enabled", "interval"} {
			if _, ok := shown[k]; !ok {
				t.Errorf("%s: the example's collectors.%s lacks %s", file, name, k)
			}
		}
		def := config.DefaultCollector(name)
		for k, v := range shown {
			if !slices.Contains(config.CollectorKeys(name), k) {
				t.Errorf("%s: the example's collectors.%s has %s, which it does not take", file, name, k)
				continue
			}
			if ok, want := isDefault(def, k, v); !ok {
				t.Errorf("%s: the example's collectors.%s.%s is %v, the default is %s", file, name, k, v, want)
			}
		}
	}
	for name := range example.Collectors {
		if !slices.Contains(config.CollectorNames, name) {
			t.Errorf("%s: the example has collectors.%s, which is not a collector", file, name)
		}
	}
}

// isDefault says whether a value of the example (as YAML decodes it) is the
// default of key, and what the default is.
func isDefault(c config.Collector, key string, v any) (bool, string) {
	durations := func(want ...time.Duration) (bool, string) {
		var shown []any
		if l, ok := v.([]any); ok {
			shown = l
		} else {
			shown = []any{v}
		}
		ok := len(shown) == len(want)
		var ws []string
		for i, w := range want {
			ws = append(ws, model.Duration(w).String())
			if ok {
				d, err := model.ParseDuration(fmt.Sprint(shown[i]))
				ok = err == nil && time.Duration(d) == w
			}
		}
		return ok, strings.Join(ws, ", ")
	}
	scalar := func(want any) (bool, string) { return v == want, fmt.Sprint(want) }
	switch key {
	case "enabled":
		return scalar(c.Enabled)
	case "interval":
		return durations(c.Interval)
	case "lookback":
		return durations(c.Lookback)
	case "full_load_interval":
		return durations(c.FullLoadInterval)
	case "stale_after":
		return durations(c.StaleAfter...)
	case "per_machine":
		return scalar(c.PerMachine)
	case "per_control":
		return scalar(c.PerControl)
	case "api":
		return scalar(c.API)
	}
	return false, "(an option this test does not know: add it to isDefault)"
}

// TestDocsGraphOnlyCollectorTable: the table of the collectors that only
// Graph has gives each one's default state and interval as it declares them.
func TestDocsGraphOnlyCollectorTable(t *testing.T) {
	tb := findTable(t, "| collector | default | interval |")
	if len(tb.rows) == 0 {
		t.Fatalf("%s:%d: the table has no rows", tb.file, tb.line)
	}
	for _, r := range tb.rows {
		name := strings.Trim(r[0], "`")
		if !slices.Contains(config.CollectorNames, name) {
			t.Errorf("%s:%d: %q is not a collector (%v)", tb.file, tb.line, name, config.CollectorNames)
			continue
		}
		def := config.DefaultCollector(name)
		state := "off"
		if def.Enabled {
			state = "on"
		}
		if r[1] != state || r[2] != model.Duration(def.Interval).String() {
			t.Errorf("%s:%d: %s's default is %q, %q; the collector declares %q, %q", tb.file, tb.line, name, r[1], r[2], state, model.Duration(def.Interval))
		}
	}
}
