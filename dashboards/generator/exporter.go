package main

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// exporter is defender-exporter.json: the health of defender_exporter
// itself.
func exporter() *board {
	const t = `tenant=~"$tenant"`
	const c = `tenant=~"$tenant",collector=~"$collector"`
	f := func(format string) string { return fmt.Sprintf(format, t) }
	fc := func(format string) string { return fmt.Sprintf(format, c) }
	b := newBoard(spec{
		uid:         "defender-exporter",
		title:       "Defender / Exporter",
		description: "Health of defender_exporter itself: refreshes, Defender API calls, throttling, credentials.",
		timeFrom:    "now-6h",
		variables: []cog.Builder[dashboard.VariableModel]{
			datasourceVariable(),
			multiVariable("tenant", "Tenant", "label_values(defender_up, tenant)"),
			multiVariable("collector", "Collector", `label_values(defender_collector_success{tenant=~"$tenant"}, collector)`),
		},
	})

	b.row("Health")
	add(b, 4, 4, countStat("Tenants down", "Tenants with defender_up = 0 (no token, or a collector failing).",
		query(f(`sum(1 - defender_up{%s})`))).
		Thresholds(steps("green", step{"red", 1})).GraphMode(common.BigValueGraphModeNone))
	add(b, 4, 4, countStat("Failing collectors", "(tenant, collector) pairs whose latest refresh failed.",
		query(fc(`sum(1 - defender_collector_success{%s})`))).
		Thresholds(steps("green", step{"orange", 1})).GraphMode(common.BigValueGraphModeNone))
	add(b, 4, 4, singleStat("Oldest data",
		"Age of the oldest collector snapshot. DefenderDataStale fires when a collector has missed three refreshes of its own interval (and at least an hour); see Refresh age below.",
		query(fc(`max(time() - defender_collector_last_success_timestamp_seconds{%s})`))).
		Unit("s").Thresholds(steps("green", step{"orange", 3600}, step{"red", 10800})).GraphMode(common.BigValueGraphModeNone))
	add(b, 4, 4, singleStat("Configuration reload", "Whether the latest configuration reload succeeded.",
		query(`min(defender_exporter_config_last_reload_successful)`)).
		Mappings(okMappings).Thresholds(steps("red", step{"green", 1})).GraphMode(common.BigValueGraphModeNone))
	add(b, 4, 4, singleStat("Last successful reload", "When the configuration was last loaded successfully.",
		query(`max(defender_exporter_config_last_reload_success_timestamp_seconds) * 1000`)).
		Unit("dateTimeFromNow").Thresholds(steps("blue")).GraphMode(common.BigValueGraphModeNone).
		ColorMode(common.BigValueColorModeValue))
	add(b, 4, 4, singleStat("API requests", "Requests per second to Defender, Graph and Entra (5m rate).",
		query(f(`sum(tenant_api_code:defender_api_requests:rate5m{%s})`))).
		Unit("reqps").Thresholds(steps("blue")).ColorMode(common.BigValueColorModeValue).Decimals(2))
	add(b, 12, 6, stateTimeline("Tenant up", "defender_up per tenant over time.", upMappings,
		query(f(`max by (tenant) (defender_up{%s})`)).LegendFormat("{{tenant}}")))
	add(b, 12, 6, tableOf("Exporter build", "Version of each exporter instance.",
		columns{exclude: []string{"Time", "__name__", "Value", "tags", "goos", "goarch"}},
		tableQuery("A", `defender_exporter_build_info`)))

	b.row("Collectors")
	add(b, 24, 8, stateTimeline("Collector success", "1 (OK) when the latest background refresh of the collector succeeded.",
		okMappings,
		query(fc(`max by (tenant, collector) (defender_collector_success{%s})`)).LegendFormat("{{tenant}} / {{collector}}")))
	add(b, 12, 8, timeSeries("Refresh age, in intervals",
		"Time since the latest successful refresh, counted in the collector's own interval (defender_collector_interval_seconds). It saws between 0 and about 1 while refreshes succeed; a line that keeps climbing is a collector that stopped succeeding. DefenderDataStale fires above 3 (and an hour).",
		query(fc(`(time() - max by (tenant, collector) (defender_collector_last_success_timestamp_seconds{%[1]s})) / max by (tenant, collector) (defender_collector_interval_seconds{%[1]s})`)).
			LegendFormat("{{tenant}} / {{collector}}")).
		Unit("none").Thresholds(steps("green", step{"red", 3})).ThresholdsStyle(thresholdsStyle(common.GraphThresholdsStyleModeDashed)))
	add(b, 12, 8, timeSeries("Refresh duration", "Duration of the latest background refresh.",
		query(fc(`max by (tenant, collector) (defender_collector_duration_seconds{%s})`)).LegendFormat("{{tenant}} / {{collector}}")).
		Unit("s"))

	b.row("Defender API")
	add(b, 12, 8, stackedTimeSeries("API requests by code",
		`Requests per second by API audience (mde, xdr, graph, entra = token endpoint) and HTTP status ("error": no answer).`, 30,
		query(f(`sum by (api, code) (tenant_api_code:defender_api_requests:rate5m{%s})`)).LegendFormat("{{api}} {{code}}")).
		Unit("reqps"))
	add(b, 12, 8, timeSeries("API error ratio", "Share of requests that did not get a 2xx answer.",
		query(f(`(sum by (tenant, api) (tenant_api_code:defender_api_requests:rate5m{%[1]s,code!~"2.."}) or sum by (tenant, api) (tenant_api_code:defender_api_requests:rate5m{%[1]s}) * 0) / sum by (tenant, api) (tenant_api_code:defender_api_requests:rate5m{%[1]s})`)).
			LegendFormat("{{tenant}} {{api}}")).
		Unit("percentunit").Thresholds(steps("green", step{"red", 0.05})).ThresholdsStyle(thresholdsStyle(common.GraphThresholdsStyleModeDashed)))
	add(b, 12, 8, barGauge("Requests in the last hour",
		"Calls per endpoint over the last hour. Defender allows 1,500 calls per hour per tenant and API family (mde, device AV info, incidents, hunting).",
		query(f(`sum by (tenant, endpoint) (increase(defender_api_requests_total{%s,api!="entra"}[1h]))`)).
			LegendFormat("{{tenant}} {{endpoint}}").Instant()).
		Thresholds(steps("green", step{"orange", 1000}, step{"red", 1500})).Max(1500))
	add(b, 12, 8, timeSeries("Request latency (p95)", "Request duration by API, including reading the answer.",
		query(f(`histogram_quantile(0.95, sum by (le, api) (rate(defender_api_request_duration_seconds_bucket{%s}[$__rate_interval])))`)).
			LegendFormat("{{api}} p95"),
		query(f(`histogram_quantile(0.5, sum by (le, api) (rate(defender_api_request_duration_seconds_bucket{%s}[$__rate_interval])))`)).
			LegendFormat("{{api}} p50").RefId("B")).
		Unit("s"))
	// "or ... * 0": a tenant that made requests but got no 429 (no retry,
	// no token failure) shows 0 rather than no line at all.
	add(b, 8, 8, barTimeSeries("Throttled answers (429)",
		"HTTP 429 answers. The exporter honours Retry-After; sustained throttling fires DefenderAPIThrottled.",
		query(f(`sum by (tenant, api) (increase(defender_api_throttled_total{%[1]s}[$__rate_interval])) or sum by (tenant, api) (increase(defender_api_requests_total{%[1]s,api!="entra"}[$__rate_interval])) * 0`)).
			LegendFormat("{{tenant}} {{api}}")).
		Thresholds(steps("green", step{"red", 1})))
	add(b, 8, 8, barTimeSeries("Retries", "Requests sent again after a 5xx, a 429, a 401 or a network error.",
		query(f(`sum by (tenant, api) (increase(defender_api_retries_total{%[1]s}[$__rate_interval])) or sum by (tenant, api) (increase(defender_api_requests_total{%[1]s,api!="entra"}[$__rate_interval])) * 0`)).
			LegendFormat("{{tenant}} {{api}}")))
	add(b, 8, 8, barTimeSeries("Token request failures",
		"Calls to Entra ID (token endpoint, OpenID discovery) without a 2xx answer: a revoked secret, an expired certificate or missing consent. See API requests by code for the status.",
		query(f(`sum by (tenant) (increase(defender_api_requests_total{%[1]s,api="entra",code!~"2.."}[$__rate_interval])) or sum by (tenant) (increase(defender_api_requests_total{%[1]s,api="entra"}[$__rate_interval])) * 0`)).
			LegendFormat("{{tenant}}")).
		Thresholds(steps("green", step{"red", 1})))

	b.row("Credentials")
	add(b, 24, 5, tableOf("Client certificate expiry",
		optional("Expiry of the client certificate of tenants that authenticate with one. DefenderCertificateExpiringSoon warns at 14 days and pages at 3."),
		columns{rename: [][2]string{{"tenant", "Tenant"}, {"Value #A", "Expires"}, {"Value #B", "Time left"}}},
		tableQuery("A", f(`max by (tenant) (defender_credential_certificate_expiry_timestamp_seconds{%s}) * 1000`)),
		tableQuery("B", f(`max by (tenant) (defender_credential_certificate_expiry_timestamp_seconds{%s}) - time()`))).
		Overrides([]cog.Builder[dashboard.DashboardFieldConfigSourceOverrides]{
			byName("Expires", property("unit", "dateTimeFromNow")),
			byName("Time left", property("unit", "s"), cellType(common.TableCellDisplayModeColorBackground),
				property("thresholds", thresholdsValue("red", step{"orange", 3 * 86400}, step{"green", 14 * 86400}))),
		}))

	b.row("Hunting queries")
	add(b, 24, 6, stateTimeline("Hunting query success",
		optional("1 (OK) when the latest run of the advanced hunting query succeeded. Only when hunting queries are configured."),
		okMappings,
		query(f(`max by (tenant, query) (defender_hunting_query_success{%s})`)).LegendFormat("{{tenant}} / {{query}}")))
	add(b, 12, 8, timeSeries("Hunting query duration",
		optional("Duration of the latest run of each hunting query. Only when hunting queries are configured."),
		query(f(`max by (tenant, query) (defender_hunting_query_duration_seconds{%s})`)).LegendFormat("{{tenant}} / {{query}}")).
		Unit("s"))
	add(b, 12, 8, timeSeries("Hunting query rows",
		optional("Rows returned by the latest run of each hunting query. Only when hunting queries are configured."),
		query(f(`max by (tenant, query) (defender_hunting_query_rows{%s})`)).LegendFormat("{{tenant}} / {{query}}")))

	// "and on (instance, job) defender_exporter_build_info": the process
	// series of the exporter's own targets, not of every Go program scraped.
	b.row("Process")
	add(b, 8, 7, timeSeries("Resident memory",
		"Resident memory of each exporter process (absent with --web.disable-exporter-metrics).",
		query(`process_resident_memory_bytes and on (instance, job) defender_exporter_build_info`).LegendFormat("{{instance}}")).
		Unit("bytes"))
	add(b, 8, 7, timeSeries("CPU", "CPU used by each exporter process, in cores.",
		query(`rate(process_cpu_seconds_total[$__rate_interval]) and on (instance, job) defender_exporter_build_info`).
			LegendFormat("{{instance}}")))
	add(b, 8, 7, timeSeries("Goroutines", "Goroutines of each exporter process.",
		query(`go_goroutines and on (instance, job) defender_exporter_build_info`).LegendFormat("{{instance}}")))
	return b
}
