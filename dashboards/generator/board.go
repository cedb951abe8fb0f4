package main

// The frame of each dashboard: variables, links, annotations, rows and the
// placing of panels, and the JSON file it is written as.

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// schemaVersion is the dashboard schema of Grafana 10.4, the oldest Grafana
// the dashboards are written for (README). The SDK stamps its own, newer
// schema (42, Grafana 12); stamping 39 lets a newer Grafana run its
// migrations from 39 on, and claims nothing an older one cannot read.
const schemaVersion = 39

// board is a dashboard under construction: the SDK's builder, which places
// the panels on the grid left to right and top to bottom, plus the panel
// ids. An id is a panel's name for Grafana: viewPanel= links and alert rules
// linked to a panel refer to it, so an id never changes meaning
// (testdata/panel-ids.tsv holds them).
type board struct {
	*dashboard.DashboardBuilder
	nextID uint32
	used   map[uint32]bool
}

// id returns the next id no panel has.
func (b *board) id() uint32 {
	for {
		b.nextID++
		if !b.used[b.nextID] {
			b.used[b.nextID] = true
			return b.nextID
		}
	}
}

// row starts a row: a full-width header under the panels so far. The panels
// added next belong to it (the row is not collapsed).
func (b *board) row(title string) {
	b.WithRow(dashboard.NewRowBuilder(title).Collapsed(false).Id(b.id()))
}

// panelBuilder is what every panel builder of the SDK can do.
type panelBuilder[B any] interface {
	cog.Builder[dashboard.Panel]
	Id(uint32) B
	Span(uint32) B
	Height(uint32) B
}

// add places p, w columns (of 24) wide and h rows high, after the previous
// panel; the SDK starts a new line when the line is full. p takes the next
// id: add panels at the end of a dashboard, or use insert.
func add[B panelBuilder[B]](b *board, w, h uint32, p B) {
	place(b, b.id(), w, h, p)
}

// insert is add for a panel placed among older ones: it takes the given id,
// one above every id the dashboard had, so that the panels after it keep
// theirs.
func insert[B panelBuilder[B]](b *board, id, w, h uint32, p B) {
	if b.used[id] {
		b.RecordError("panels", fmt.Errorf("panel id %d is taken", id))
	}
	b.used[id] = true
	place(b, id, w, h, p)
}

func place[B panelBuilder[B]](b *board, id, w, h uint32, p B) {
	p.Id(id)
	p.Span(w)
	p.Height(h)
	b.WithPanel(p)
}

// spec is what differs between the three dashboards' frames.
type spec struct {
	uid, title, description string
	timeFrom                string
	variables               []cog.Builder[dashboard.VariableModel]
}

// newBoard starts a dashboard with the house frame: every dashboard tagged
// "defender" links to the others, a shared crosshair, refresh every minute.
func newBoard(s spec) *board {
	// The SDK deprecates the v1 dashboard for dashboardv2, the schema of
	// Grafana 12's new dashboard API; Grafana 10.4 and 11 import only v1.
	//lint:ignore SA1019 v1 is the schema every Grafana the dashboards support imports
	d := dashboard.NewDashboardBuilder(s.title).
		Uid(s.uid).
		Description(s.description).
		Tags([]string{"defender"}).
		Editable().
		FiscalYearStartMonth(0).
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Refresh("1m").
		Time(s.timeFrom, "now").
		Timezone("").
		WeekStart("").
		Version(1).
		Annotation(dashboard.NewAnnotationQueryBuilder().
			BuiltIn(1).
			Datasource(grafanaDatasource()).
			Enable(true).
			Hide(true).
			IconColor("rgba(0, 211, 255, 1)").
			Name("Annotations & Alerts").
			Type("dashboard")).
		Link(dashboard.NewDashboardLinkBuilder("Defender dashboards").
			Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{"defender"}).
			AsDropdown(false).
			Icon("external link").
			IncludeVars(false).
			KeepTime(true).
			TargetBlank(false).
			Tooltip("").
			Url("")).
		Variables(s.variables)
	return &board{DashboardBuilder: d, used: map[uint32]bool{}}
}

func grafanaDatasource() common.DataSourceRef {
	return common.DataSourceRef{Type: ptr("grafana"), Uid: ptr("-- Grafana --")}
}

// datasourceVariable picks any Prometheus data source.
func datasourceVariable() *dashboard.DatasourceVariableBuilder {
	return dashboard.NewDatasourceVariableBuilder("datasource").
		Label("Data source").
		Type("prometheus").
		Hide(dashboard.VariableHideDontHide).
		Multi(false).
		IncludeAll(false).
		Regex("")
}

// queryVariable lists label values, refreshed when the time range changes.
func queryVariable(name, label, labelValues string) *dashboard.QueryVariableBuilder {
	return dashboard.NewQueryVariableBuilder(name).
		Label(label).
		Datasource(datasource()).
		Definition(labelValues).
		Query(dashboard.StringOrMap{Map: map[string]any{"query": labelValues, "refId": "StandardVariableQuery"}}).
		Hide(dashboard.VariableHideDontHide).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Regex("").
		Sort(dashboard.VariableSortAlphabeticalAsc)
}

// multiVariable may take several values and defaults to All (matched by .*).
func multiVariable(name, label, labelValues string) *dashboard.QueryVariableBuilder {
	return queryVariable(name, label, labelValues).
		Multi(true).
		IncludeAll(true).
		AllValue(".*").
		Current(dashboard.VariableOption{
			Selected: ptr(true),
			Text:     dashboard.StringOrArrayOfString{ArrayOfString: []string{"All"}},
			Value:    dashboard.StringOrArrayOfString{ArrayOfString: []string{"$__all"}},
		})
}

// singleVariable takes exactly one value.
func singleVariable(name, label, labelValues string) *dashboard.QueryVariableBuilder {
	return queryVariable(name, label, labelValues).Multi(false).IncludeAll(false)
}

// requirement is an entry of __requires: what Grafana's import dialog
// checks the instance against.
type requirement struct {
	Type    string `json:"type"`
	ID      string `json:"id"`
	Name    string `json:"name"`
	Version string `json:"version"`
}

// file is the JSON written to dashboards/: the SDK's dashboard plus
// __requires, which the SDK's types do not model.
type file struct {
	Requires []requirement `json:"__requires"`
	dashboard.Dashboard
}

// render builds the dashboard and serialises it as the committed file is:
// indented by two spaces, "&" and "<" kept as they are, a final newline.
func (b *board) render() ([]byte, error) {
	d, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("building the dashboard: %w", err)
	}
	d.SchemaVersion = schemaVersion
	// The SDK places links and annotation toggles in Grafana 12's controls
	// menu ("inControlsMenu"); without a placement Grafana shows them in the
	// dashboard's bar, where every Grafana since 10.4 puts them.
	for i := range d.Links {
		d.Links[i].Placement = nil
	}
	for i := range d.Annotations.List {
		d.Annotations.List[i].Placement = nil
	}
	f := file{
		Requires: []requirement{
			{Type: "grafana", ID: "grafana", Name: "Grafana", Version: "10.4.0"},
			{Type: "datasource", ID: "prometheus", Name: "Prometheus", Version: "1.0.0"},
		},
		Dashboard: d,
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("encoding the dashboard: %w", err)
	}
	return buf.Bytes(), nil
}
