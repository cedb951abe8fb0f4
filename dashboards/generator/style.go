package main

// The vocabulary the three dashboards share: the data source every query
// goes through, threshold steps, value mappings, and the colours of the
// label values Defender sends, so that "High" is the same red everywhere.

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
)

// datasource is the dashboards' ${datasource} variable: no panel names a
// fixed data source, so the JSON imports into any Grafana as it is.
func datasource() common.DataSourceRef {
	return common.DataSourceRef{Type: ptr("prometheus"), Uid: ptr("${datasource}")}
}

func ptr[T any](v T) *T { return &v }

// query is a range query of expr in code mode, legend left to Grafana; the
// call site chains what differs (LegendFormat, Instant, Format, RefId).
func query(expr string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().
		Datasource(datasource()).
		Expr(expr).
		LegendFormat("__auto").
		RefId("A").
		Range().
		EditorMode(prometheus.QueryEditorModeCode)
}

// tableQuery is an instant query in table format, one column per label.
func tableQuery(ref, expr string) *prometheus.DataqueryBuilder {
	return query(expr).RefId(ref).Instant().Format(prometheus.PromQueryFormatTable)
}

// step is one threshold step: the colour from value on. The first step of
// a list has no value (it starts at -Inf).
type step struct {
	color string
	value float64
}

// steps builds absolute thresholds: steps("green", step{"red", 1}) is green
// below 1 and red from 1.
func steps(base string, above ...step) *dashboard.ThresholdsConfigBuilder {
	return dashboard.NewThresholdsConfigBuilder().
		Mode(dashboard.ThresholdsModeAbsolute).
		Steps(thresholdSteps(base, above...))
}

func thresholdSteps(base string, above ...step) []dashboard.Threshold {
	out := []dashboard.Threshold{{Color: base}}
	for _, s := range above {
		out = append(out, dashboard.Threshold{Color: s.color, Value: ptr(s.value)})
	}
	return out
}

// thresholdsValue is steps() as the value of a field override.
func thresholdsValue(base string, above ...step) dashboard.ThresholdsConfig {
	return dashboard.ThresholdsConfig{Mode: dashboard.ThresholdsModeAbsolute, Steps: thresholdSteps(base, above...)}
}

// Threshold sets used on more than one panel.
var (
	// exposureSteps are Microsoft's bands of the exposure score: low 0-29,
	// medium 30-69, high 70-100.
	exposureSteps = []step{{"orange", 30}, {"red", 70}}
	// upToDateSteps: under 90% up to date is red, 95% and more green.
	upToDateSteps = []step{{"orange", 0.9}, {"green", 0.95}}
)

// valueText maps values to a text and a colour, in the order given.
func valueText(pairs ...[3]string) []dashboard.ValueMapping {
	options := map[string]dashboard.ValueMappingResult{}
	for i, p := range pairs {
		options[p[0]] = dashboard.ValueMappingResult{Text: ptr(p[1]), Color: ptr(p[2]), Index: ptr(int32(i))}
	}
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: options}}}
}

var (
	upMappings = valueText([3]string{"0", "Down", "red"}, [3]string{"1", "Up", "green"})
	okMappings = valueText([3]string{"0", "Failed", "red"}, [3]string{"1", "OK", "green"})
)

// colors is a fixed colour per series name (a label value as legend).
type colors [][2]string

var (
	severityColors = colors{{"Critical", "dark-red"}, {"High", "red"}, {"Medium", "orange"}, {"Low", "yellow"},
		{"Informational", "blue"}, {"UnSpecified", "text"}}
	healthColors = colors{{"Active", "green"}, {"Inactive", "text"}, {"ImpairedCommunication", "orange"},
		{"NoSensorData", "red"}, {"NoSensorDataImpairedCommunication", "dark-red"}, {"Unknown", "blue"}}
	exposureColors = colors{{"None", "text"}, {"Low", "green"}, {"Medium", "orange"}, {"High", "red"}}
	riskColors     = colors{{"None", "text"}, {"Informational", "blue"}, {"Low", "green"}, {"Medium", "orange"},
		{"High", "red"}}
	avStatusColors = colors{{"Updated", "green"}, {"NotUpdated", "orange"}, {"Disabled", "red"},
		{"NotReporting", "purple"}, {"Unknown", "text"}, {"NotSupported", "blue"}}
	statusColors = colors{{"New", "red"}, {"InProgress", "orange"}, {"Resolved", "green"}, {"Unknown", "text"},
		{"Active", "red"}, {"Redirected", "blue"}}
	avModeColors = colors{{"Active", "green"}, {"Passive", "blue"}, {"Disabled", "red"}, {"EDRBlocked", "purple"},
		{"PassiveAudit", "yellow"}, {"Other", "text"}}
	onboardingColors = colors{{"Onboarded", "green"}, {"CanBeOnboarded", "orange"}, {"Unsupported", "text"},
		{"InsufficientInfo", "blue"}}
)

// overrides gives each named series its fixed colour.
func (c colors) overrides() []cog.Builder[dashboard.DashboardFieldConfigSourceOverrides] {
	var out []cog.Builder[dashboard.DashboardFieldConfigSourceOverrides]
	for _, nc := range c {
		out = append(out, byName(nc[0], property("color", map[string]any{"mode": "fixed", "fixedColor": nc[1]})))
	}
	return out
}

// byName is a field override: the properties apply to the field so named.
func byName(field string, props ...dashboard.DynamicConfigValue) cog.Builder[dashboard.DashboardFieldConfigSourceOverrides] {
	return dashboard.NewDashboardFieldConfigSourceOverridesBuilder().
		Matcher(dashboard.MatcherConfig{Id: "byName", Options: field}).
		Properties(props)
}

func property(id string, value any) dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: id, Value: value}
}

// cellType is the custom.cellOptions property of a table column.
func cellType(mode common.TableCellDisplayMode) dashboard.DynamicConfigValue {
	return property("custom.cellOptions", map[string]any{"type": string(mode)})
}

// optional marks a panel that may legitimately be empty (a feature not in
// use); scripts/e2e_queries.py lets such panels return no data.
func optional(description string) string {
	return "Optional — " + description
}
