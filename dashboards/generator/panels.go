package main

// One constructor per kind of panel, with the house defaults: the values
// reduced to the last non-null one, legends at the bottom, series colours
// from the palette unless the panel colours by threshold. Call sites chain
// the SDK's own builder methods for what differs (Unit, Thresholds, Max...).

import (
	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/gauge"
	"github.com/grafana/grafana-foundation-sdk/go/piechart"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/statetimeline"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

func targets(qs []*prometheus.DataqueryBuilder) []cog.Builder[variants.Dataquery] {
	out := make([]cog.Builder[variants.Dataquery], len(qs))
	for i, q := range qs {
		out[i] = q
	}
	return out
}

func lastNotNull() *common.ReduceDataOptionsBuilder {
	return common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Fields("").Values(false)
}

func colorMode(mode dashboard.FieldColorModeId) *dashboard.FieldColorBuilder {
	return dashboard.NewFieldColorBuilder().Mode(mode)
}

// singleStat is one big number on a coloured background with its sparkline,
// green unless the call site sets thresholds. "No data" stays "No data".
func singleStat(title, description string, qs ...*prometheus.DataqueryBuilder) *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(datasource()).
		Targets(targets(qs)).
		Unit("short").
		Thresholds(steps("green")).
		ColorScheme(colorMode(dashboard.FieldColorModeIdThresholds)).
		ReduceOptions(lastNotNull()).
		ColorMode(common.BigValueColorModeBackground).
		GraphMode(common.BigValueGraphModeArea).
		JustifyMode(common.BigValueJustifyModeAuto).
		Orientation(common.VizOrientationAuto).
		TextMode(common.BigValueTextModeAuto).
		WideLayout(true).
		ShowPercentChange(false)
}

// countStat is a singleStat of a count: no series means none, shown as 0.
func countStat(title, description string, qs ...*prometheus.DataqueryBuilder) *stat.PanelBuilder {
	return singleStat(title, description, qs...).NoValue("0")
}

// unboundedTimeSeries is a line chart whose y axis fits the data.
func unboundedTimeSeries(title, description string, qs ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(datasource()).
		Targets(targets(qs)).
		Unit("short").
		Thresholds(steps("green")).
		ColorScheme(colorMode(dashboard.FieldColorModeIdPaletteClassic)).
		DrawStyle(common.GraphDrawStyleLine).
		LineWidth(1).
		FillOpacity(10).
		GradientMode(common.GraphGradientModeNone).
		ShowPoints(common.VisibilityModeNever).
		SpanNulls(common.BoolOrFloat64{Bool: ptr(false)}).
		AxisPlacement(common.AxisPlacementAuto).
		Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNone).Group("A")).
		ThresholdsStyle(thresholdsStyle(common.GraphThresholdsStyleModeOff)).
		LineInterpolation(common.LineInterpolationLinear).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeList).
			Placement(common.LegendPlacementBottom).
			ShowLegend(true).
			Calcs([]string{})).
		Tooltip(common.NewVizTooltipOptionsBuilder().
			Mode(common.TooltipDisplayModeMulti).
			Sort(common.SortOrderDescending))
}

// timeSeries is a line chart from 0: every series drawn here is a count, a
// ratio or a duration.
func timeSeries(title, description string, qs ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	return unboundedTimeSeries(title, description, qs...).Min(0)
}

// stackedTimeSeries stacks the series (parts of one whole, e.g. by severity).
func stackedTimeSeries(title, description string, fill float64, qs ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	return timeSeries(title, description, qs...).
		Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal).Group("A")).
		FillOpacity(fill)
}

// barTimeSeries draws bars: counts of events per interval.
func barTimeSeries(title, description string, qs ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	return timeSeries(title, description, qs...).DrawStyle(common.GraphDrawStyleBars).FillOpacity(80)
}

func thresholdsStyle(mode common.GraphThresholdsStyleMode) *common.GraphThresholdsStyleConfigBuilder {
	return common.NewGraphThresholdsStyleConfigBuilder().Mode(mode)
}

// barGauge is horizontal bars, one per series, coloured by threshold.
func barGauge(title, description string, qs ...*prometheus.DataqueryBuilder) *bargauge.PanelBuilder {
	return bargauge.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(datasource()).
		Targets(targets(qs)).
		Unit("short").
		Thresholds(steps("green")).
		Min(0).
		ColorScheme(colorMode(dashboard.FieldColorModeIdThresholds)).
		ReduceOptions(lastNotNull()).
		DisplayMode(common.BarGaugeDisplayModeGradient).
		Orientation(common.VizOrientationHorizontal).
		ShowUnfilled(true).
		ValueMode(common.BarGaugeValueModeColor).
		NamePlacement(common.BarGaugeNamePlacementAuto).
		Sizing(common.BarGaugeSizingAuto).
		MinVizHeight(16).
		MinVizWidth(8).
		MaxVizHeight(300)
}

// breakdown is a barGauge whose bars are a breakdown of one count by a
// label: palette colours, or the fixed colours of the label's values.
func breakdown(title, description string, c colors, qs ...*prometheus.DataqueryBuilder) *bargauge.PanelBuilder {
	p := barGauge(title, description, qs...).ColorScheme(colorMode(dashboard.FieldColorModeIdPaletteClassic))
	if len(c) > 0 {
		p.Overrides(c.overrides())
	}
	return p
}

// ratioGauge is a dial of a ratio between 0 and 1.
func ratioGauge(title, description string, qs ...*prometheus.DataqueryBuilder) *gauge.PanelBuilder {
	return gauge.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(datasource()).
		Targets(targets(qs)).
		Unit("percentunit").
		Thresholds(steps("green")).
		Min(0).
		Max(1).
		ColorScheme(colorMode(dashboard.FieldColorModeIdThresholds)).
		ReduceOptions(lastNotNull()).
		ShowThresholdLabels(false).
		ShowThresholdMarkers(true).
		Orientation(common.VizOrientationAuto).
		MinVizHeight(75).
		MinVizWidth(75).
		Sizing(common.BarGaugeSizingAuto)
}

// donut is a pie chart with a table legend of values and percentages.
func donut(title, description string, c colors, qs ...*prometheus.DataqueryBuilder) *piechart.PanelBuilder {
	p := piechart.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(datasource()).
		Targets(targets(qs)).
		Unit("short").
		Thresholds(steps("green")).
		ColorScheme(colorMode(dashboard.FieldColorModeIdPaletteClassic)).
		ReduceOptions(lastNotNull()).
		Orientation(common.VizOrientationAuto).
		PieType(piechart.PieChartTypeDonut).
		DisplayLabels([]piechart.PieChartLabels{}).
		Legend(piechart.NewPieChartLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeTable).
			Placement(common.LegendPlacementRight).
			ShowLegend(true).
			Values([]piechart.PieChartLegendValues{piechart.PieChartLegendValuesValue, piechart.PieChartLegendValuesPercent})).
		Tooltip(common.NewVizTooltipOptionsBuilder().
			Mode(common.TooltipDisplayModeSingle).
			Sort(common.SortOrderNone))
	if len(c) > 0 {
		p.Overrides(c.overrides())
	}
	return p
}

// columns says which fields of a table's frames are shown and under which
// names: rename is pairs of (field, column title).
type columns struct {
	rename  [][2]string
	exclude []string // default: Time
}

// tableOf is a table of instant queries: several queries are merged into one
// row per label set (their values become "Value #<refId>"), then organized.
func tableOf(title, description string, cols columns, qs ...*prometheus.DataqueryBuilder) *table.PanelBuilder {
	exclude := cols.exclude
	if exclude == nil {
		exclude = []string{"Time"}
	}
	excludeByName := map[string]bool{}
	for _, f := range exclude {
		excludeByName[f] = true
	}
	renameByName := map[string]string{}
	for _, r := range cols.rename {
		renameByName[r[0]] = r[1]
	}
	var transformations []dashboard.DataTransformerConfig
	if len(qs) > 1 {
		transformations = append(transformations, dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}})
	}
	transformations = append(transformations, dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{
		"excludeByName": excludeByName, "renameByName": renameByName, "indexByName": map[string]int{},
	}})
	return table.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(datasource()).
		Targets(targets(qs)).
		Unit("short").
		Thresholds(steps("green")).
		ColorScheme(colorMode(dashboard.FieldColorModeIdThresholds)).
		Align(common.FieldTextAlignmentAuto).
		CellOptions(common.TableCellOptions{TableAutoCellOptions: &common.TableAutoCellOptions{Type: common.TableCellDisplayModeAuto}}).
		Inspect(false).
		Filterable(false).
		ShowHeader(true).
		CellHeight(common.TableCellHeightSm).
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{"sum"}).CountRows(false)).
		SortBy([]cog.Builder[common.TableSortByFieldState]{}).
		Transformations(transformations)
}

// sortBy sorts a table by one column.
func sortBy(column string, desc bool) []cog.Builder[common.TableSortByFieldState] {
	return []cog.Builder[common.TableSortByFieldState]{common.NewTableSortByFieldStateBuilder().DisplayName(column).Desc(desc)}
}

// stateTimeline shows a 0/1 health series per entity over time, red below 1.
func stateTimeline(title, description string, mappings []dashboard.ValueMapping, qs ...*prometheus.DataqueryBuilder) *statetimeline.PanelBuilder {
	return statetimeline.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(datasource()).
		Targets(targets(qs)).
		Unit("short").
		Thresholds(steps("red", step{"green", 1})).
		Mappings(mappings).
		ColorScheme(colorMode(dashboard.FieldColorModeIdThresholds)).
		FillOpacity(80).
		LineWidth(0).
		HideFrom(common.NewHideSeriesConfigBuilder().Legend(false).Tooltip(false).Viz(false)).
		MergeValues(true).
		ShowValue(common.VisibilityModeNever).
		AlignValue(common.TimelineValueAlignmentLeft).
		RowHeight(0.85).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeList).
			Placement(common.LegendPlacementBottom).
			ShowLegend(false)).
		Tooltip(common.NewVizTooltipOptionsBuilder().
			Mode(common.TooltipDisplayModeSingle).
			Sort(common.SortOrderNone))
}
