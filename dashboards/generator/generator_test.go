package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// committedDir is where the JSON the repository ships lives.
const committedDir = ".."

// TestCommittedDashboardsAreGenerated fails when dashboards/*.json were
// edited by hand or the generator changed without `make dashboards`.
func TestCommittedDashboardsAreGenerated(t *testing.T) {
	files := mustRender(t)
	stale, err := compare(committedDir, files)
	if err != nil {
		t.Fatal(err)
	}
	if len(stale) > 0 {
		t.Errorf("dashboards/%s differ from the generator's output: run make dashboards", strings.Join(stale, ", dashboards/"))
	}
	committed, err := filepath.Glob(filepath.Join(committedDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range committed {
		if _, ok := files[filepath.Base(path)]; !ok {
			t.Errorf("%s is not written by the generator: add it to dashboards in main.go or delete it", path)
		}
	}
}

// TestCompareFindsChangedAndMissingFiles proves the drift check fails on
// what it is meant to catch.
func TestCompareFindsChangedAndMissingFiles(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{"a.json": []byte("{}\n"), "b.json": []byte("[]\n"), "c.json": []byte("1\n")}
	if err := write(dir, files); err != nil {
		t.Fatal(err)
	}
	if stale, err := compare(dir, files); err != nil || len(stale) != 0 {
		t.Fatalf("freshly written files: stale %v, error %v", stale, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.json"), []byte("{ }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "c.json")); err != nil {
		t.Fatal(err)
	}
	stale, err := compare(dir, files)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a.json", "c.json"}; !reflect.DeepEqual(stale, want) {
		t.Errorf("stale = %v, want %v", stale, want)
	}
}

// TestSDKReadsTheDashboards parses every dashboard back with the SDK's
// strict decoder, which rejects unknown fields, wrong types and missing
// required fields of Grafana's schema.
func TestSDKReadsTheDashboards(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	for name, data := range mustRender(t) {
		if err := strictDecode(data); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// The same decoder on a panel option Grafana does not know: it must fail,
	// or the loop above proves nothing.
	bad := strings.Replace(string(mustRender(t)["defender-overview.json"]), `"wideLayout": true`, `"wideLayuot": true`, 1)
	if err := strictDecode([]byte(bad)); err == nil {
		t.Error("the strict decoder accepted a misspelt panel option")
	}
}

// strictDecode decodes a dashboards/ file with the SDK's strict decoder;
// __requires is ours, not part of the SDK's model.
func strictDecode(data []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return err
	}
	if _, ok := fields["__requires"]; !ok {
		return errors.New("no __requires")
	}
	delete(fields, "__requires")
	raw, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	//lint:ignore SA1019 the files are v1 dashboards (see newBoard)
	var d dashboard.Dashboard
	// The SDK returns its error list as an error even when it is empty.
	if err := d.UnmarshalJSONStrict(raw); err != nil && !isEmpty(err) {
		return err
	}
	if err := d.Validate(); err != nil && !isEmpty(err) {
		return err
	}
	return nil
}

func isEmpty(err error) bool {
	var be cog.BuildErrors
	return errors.As(err, &be) && len(be) == 0
}

// gridPanel is what the layout tests read of a panel.
type gridPanel struct {
	ID          int    `json:"id"`
	Type        string `json:"type"`
	Title       string `json:"title"`
	Description string `json:"description"`
	GridPos     struct {
		X, Y, W, H int
	} `json:"gridPos"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		Expr       string `json:"expr"`
		RefID      string `json:"refId"`
		Datasource *struct {
			Type string `json:"type"`
			UID  string `json:"uid"`
		} `json:"datasource"`
	} `json:"targets"`
}

type gridDashboard struct {
	UID           string      `json:"uid"`
	SchemaVersion int         `json:"schemaVersion"`
	Panels        []gridPanel `json:"panels"`
	Links         []struct {
		Placement *string `json:"placement"`
	} `json:"links"`
	Templating struct {
		List []struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"list"`
	} `json:"templating"`
}

func decode(t *testing.T, data []byte) gridDashboard {
	t.Helper()
	var d gridDashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestLayout: every panel lies inside the 24-column grid, no two panels
// overlap, ids are unique, and every panel is under a row.
func TestLayout(t *testing.T) {
	for name, data := range mustRender(t) {
		for _, p := range layoutProblems(decode(t, data)) {
			t.Errorf("%s: %s", name, p)
		}
	}
}

func layoutProblems(d gridDashboard) []string {
	var out []string
	if len(d.Panels) == 0 || d.Panels[0].Type != "row" {
		out = append(out, "the first panel is not a row")
	}
	ids := map[int]string{}
	taken := map[[2]int]string{}
	for _, p := range d.Panels {
		g := p.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
			out = append(out, fmt.Sprintf("panel %q at %+v is outside the grid", p.Title, g))
		}
		if p.Type == "row" && (g.W != 24 || g.X != 0 || g.H != 1) {
			out = append(out, fmt.Sprintf("row %q is not a full-width header: %+v", p.Title, g))
		}
		if other, ok := ids[p.ID]; ok || p.ID == 0 {
			out = append(out, fmt.Sprintf("panel %q has id %d, as %q has", p.Title, p.ID, other))
		}
		ids[p.ID] = p.Title
		for x := g.X; x < g.X+g.W; x++ {
			for y := g.Y; y < g.Y+g.H; y++ {
				if other, ok := taken[[2]int{x, y}]; ok {
					out = append(out, fmt.Sprintf("panel %q overlaps %q at x=%d y=%d", p.Title, other, x, y))
					return out
				}
				taken[[2]int{x, y}] = p.Title
			}
		}
	}
	return out
}

// TestLayoutCatchesMistakes proves layoutProblems on what it is meant to
// catch. The SDK places panels left to right but does not wrap one that
// would overflow its line: 8+8+12 columns puts the third at x=16.
func TestLayoutCatchesMistakes(t *testing.T) {
	b := newBoard(spec{uid: "u", title: "t", timeFrom: "now-1h"})
	b.row("r")
	add(b, 8, 4, timeSeries("a", "a", query("up")))
	add(b, 8, 4, timeSeries("b", "b", query("up")))
	add(b, 12, 4, timeSeries("c", "c", query("up")))
	data, err := b.render()
	if err != nil {
		t.Fatal(err)
	}
	if ps := layoutProblems(decode(t, data)); len(ps) != 1 || !strings.Contains(ps[0], `"c"`) || !strings.Contains(ps[0], "outside the grid") {
		t.Errorf("overflowing line: got %q", ps)
	}

	var d gridDashboard
	d.Panels = make([]gridPanel, 3)
	for i, p := range []struct {
		typ         string
		id, x, y, w int
	}{{"row", 1, 0, 0, 24}, {"stat", 2, 0, 1, 12}, {"stat", 2, 6, 1, 12}} {
		d.Panels[i].Type, d.Panels[i].Title, d.Panels[i].ID = p.typ, fmt.Sprint(i), p.id
		d.Panels[i].GridPos.X, d.Panels[i].GridPos.Y, d.Panels[i].GridPos.W, d.Panels[i].GridPos.H = p.x, p.y, p.w, 1
	}
	ps := strings.Join(layoutProblems(d), "\n")
	for _, want := range []string{`panel "2" has id 2`, `panel "2" overlaps "1"`} {
		if !strings.Contains(ps, want) {
			t.Errorf("got %q, want a problem containing %q", ps, want)
		}
	}
}

// TestDataSourceIsTheVariable: every panel and query reads the
// ${datasource} variable, so the JSON imports into any Grafana without
// __inputs; every dashboard has that variable.
func TestDataSourceIsTheVariable(t *testing.T) {
	for name, data := range mustRender(t) {
		d := decode(t, data)
		if d.SchemaVersion != schemaVersion {
			t.Errorf("%s: schemaVersion %d, want %d", name, d.SchemaVersion, schemaVersion)
		}
		for _, l := range d.Links {
			if l.Placement != nil {
				t.Errorf("%s: link placed in %q", name, *l.Placement)
			}
		}
		hasVar := false
		for _, v := range d.Templating.List {
			hasVar = hasVar || (v.Name == "datasource" && v.Type == "datasource")
		}
		if !hasVar {
			t.Errorf("%s: no datasource variable", name)
		}
		for _, p := range d.Panels {
			if p.Type == "row" {
				continue
			}
			if err := isVariable(p.Datasource); err != nil {
				t.Errorf("%s: panel %q: %v", name, p.Title, err)
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s: panel %q has no query", name, p.Title)
			}
			refs := map[string]bool{}
			for _, q := range p.Targets {
				if err := isVariable(q.Datasource); err != nil {
					t.Errorf("%s: panel %q target %s: %v", name, p.Title, q.RefID, err)
				}
				if q.Expr == "" || refs[q.RefID] {
					t.Errorf("%s: panel %q: target %q empty or its refId repeated", name, p.Title, q.RefID)
				}
				refs[q.RefID] = true
			}
		}
	}
}

func isVariable(ds *struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}) error {
	if ds == nil || ds.Type != "prometheus" || ds.UID != "${datasource}" {
		return fmt.Errorf("data source %+v, want the prometheus ${datasource} variable", ds)
	}
	return nil
}

func mustRender(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := renderAll()
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestPanelIDsKeepTheirMeaning: every panel has the id testdata/panel-ids.tsv
// gives its title, so a panel added in the middle with add (which would
// renumber the panels after it) fails here; use insert.
func TestPanelIDsKeepTheirMeaning(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "panel-ids.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{} // "file id" -> title
	for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			t.Fatalf("testdata/panel-ids.tsv:%d: want file, id and title separated by tabs: %q", i+1, line)
		}
		want[f[0]+" "+f[1]] = f[2]
	}
	have := map[string]string{}
	for name, data := range mustRender(t) {
		for _, p := range decode(t, data).Panels {
			have[fmt.Sprintf("%s %d", name, p.ID)] = p.Title
		}
	}
	for _, key := range sortedKeys(have) {
		title := have[key]
		if w, ok := want[key]; !ok {
			t.Errorf("%s %q: not in testdata/panel-ids.tsv (a new panel: add its line)", key, title)
		} else if w != title {
			t.Errorf("%s is %q, was %q: ids never change meaning (a renamed panel: change its line)", key, title, w)
		}
	}
	for _, key := range sortedKeys(want) {
		title := want[key]
		if _, ok := have[key]; !ok {
			t.Errorf("%s %q is gone (a removed panel: delete its line, and give its id to no other)", key, title)
		}
	}
}

// TestInsertRefusesATakenID: two panels with one id fail the build.
func TestInsertRefusesATakenID(t *testing.T) {
	b := newBoard(spec{uid: "u", title: "t", timeFrom: "now-1h"})
	b.row("r")
	add(b, 12, 4, timeSeries("a", "a", query("up")))
	insert(b, 2, 12, 4, timeSeries("b", "b", query("up")))
	if _, err := b.render(); err == nil || !strings.Contains(err.Error(), "panel id 2 is taken") {
		t.Errorf("render: %v, want an error on id 2", err)
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
