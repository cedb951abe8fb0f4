package main

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// overview is defender-overview.json: the posture of every selected tenant.
func overview() *board {
	const t = `tenant=~"$tenant"`
	f := func(format string) string { return fmt.Sprintf(format, t) }
	b := newBoard(spec{
		uid:         "defender-overview",
		title:       "Defender / Overview",
		description: "Security posture of Microsoft Defender for Endpoint / XDR tenants (defender_exporter).",
		timeFrom:    "now-24h",
		variables: []cog.Builder[dashboard.VariableModel]{
			datasourceVariable(),
			multiVariable("tenant", "Tenant", "label_values(defender_up, tenant)"),
		},
	})

	b.row("Summary")
	add(b, 3, 4, countStat("Tenants down",
		"Tenants whose exporter health (defender_up) is 0: no token, or a collector failing. See the Defender exporter dashboard.",
		query(f(`sum(1 - defender_up{%s})`))).
		Thresholds(steps("green", step{"red", 1})).GraphMode(common.BigValueGraphModeNone))
	add(b, 3, 4, countStat("Unresolved High alerts", "High-severity alerts whose status is not Resolved.",
		query(f(`sum(tenant_severity:defender_alerts_unresolved:sum{%s,severity="High"})`))).
		Thresholds(steps("green", step{"red", 1})))
	add(b, 3, 4, countStat("New High alerts (15m)",
		"Net increase of High-severity alerts in status New over the last 15 minutes (what DefenderHighSeverityAlertsNew pages on).",
		query(f(`sum(tenant:defender_alerts_high_new:sum{%[1]s} - min_over_time(tenant:defender_alerts_high_new:sum{%[1]s}[15m]))`))).
		Thresholds(steps("green", step{"red", 1})))
	add(b, 3, 4, countStat("Unresolved High incidents", "High-severity incidents that are neither Resolved nor Redirected.",
		query(f(`sum(tenant_severity:defender_incidents_unresolved:sum{%s,severity="High"})`))).
		Thresholds(steps("green", step{"red", 1})))
	add(b, 3, 4, countStat("Machines", "Machines known to Defender for Endpoint (every onboarding status).",
		query(f(`sum(tenant:defender_machines:sum{%s})`))).
		Thresholds(steps("blue")).ColorMode(common.BigValueColorModeValue))
	add(b, 3, 4, countStat("Isolated machines", "Machines whose latest isolation action is a successful Isolate.",
		query(f(`sum(defender_machines_isolated{%s})`))).
		Thresholds(steps("green", step{"orange", 1})))
	add(b, 3, 4, singleStat("Exposure score",
		"Organisation exposure score (0-100, lower is better). Microsoft's bands: low 0-29, medium 30-69, high 70-100.",
		query(f(`max by (tenant) (defender_exposure_score{%s})`)).LegendFormat("{{tenant}}")).
		NoValue("0").Thresholds(steps("green", exposureSteps...)).Min(0).Max(100).Decimals(1))
	add(b, 3, 4, singleStat("Secure score for devices",
		"Microsoft Secure Score for Devices (configuration score): higher is better.",
		query(f(`max by (tenant) (defender_configuration_score{%s})`)).LegendFormat("{{tenant}}")).
		NoValue("0").Thresholds(steps("blue")).ColorMode(common.BigValueColorModeValue).Decimals(0))
	add(b, 24, 6, tableOf("Tenants", "One row per tenant. Click a tenant for its detail dashboard.",
		columns{rename: [][2]string{{"tenant", "Tenant"}, {"Value #A", "Exporter up"}, {"Value #B", "Machines"},
			{"Value #C", "Unresolved High alerts"}, {"Value #D", "Unresolved High incidents"},
			{"Value #E", "Exposure score"}, {"Value #F", "AV signatures up to date"}}},
		tableQuery("A", f(`max by (tenant) (defender_up{%s})`)),
		tableQuery("B", f(`sum by (tenant) (tenant:defender_machines:sum{%s})`)),
		tableQuery("C", f(`sum by (tenant) (tenant_severity:defender_alerts_unresolved:sum{%s,severity="High"})`)),
		tableQuery("D", f(`sum by (tenant) (tenant_severity:defender_incidents_unresolved:sum{%s,severity="High"})`)),
		tableQuery("E", f(`max by (tenant) (defender_exposure_score{%s})`)),
		tableQuery("F", f(`max by (tenant) (tenant:defender_av_signature_up_to_date:ratio{%s})`))).
		Overrides([]cog.Builder[dashboard.DashboardFieldConfigSourceOverrides]{
			byName("Exporter up", property("mappings", upMappings), cellType(common.TableCellDisplayModeColorBackground)),
			byName("Exposure score", property("decimals", 1), property("thresholds", thresholdsValue("green", exposureSteps...)),
				cellType(common.TableCellDisplayModeColorText)),
			byName("AV signatures up to date", property("unit", "percentunit"),
				property("thresholds", thresholdsValue("red", upToDateSteps...)), cellType(common.TableCellDisplayModeColorText)),
			byName("Unresolved High alerts", property("thresholds", thresholdsValue("green", step{"red", 1})),
				cellType(common.TableCellDisplayModeColorText)),
			byName("Tenant", property("links", []map[string]any{{
				"title": "Tenant details", "targetBlank": false,
				"url": "/d/defender-tenant/defender-tenant?var-tenant=${__value.raw}&${datasource:queryparam}&${__url_time_range}",
			}})),
		}))

	b.row("Alerts and incidents")
	add(b, 12, 8, stackedTimeSeries("Unresolved alerts by severity",
		"Alerts whose status is not Resolved, stacked by severity.", 40,
		query(f(`sum by (severity) (tenant_severity:defender_alerts_unresolved:sum{%s})`)).LegendFormat("{{severity}}")).
		Overrides(severityColors.overrides()))
	add(b, 12, 8, stackedTimeSeries("Unresolved incidents by severity",
		"Incidents neither Resolved nor Redirected, stacked by severity.", 40,
		query(f(`sum by (severity) (tenant_severity:defender_incidents_unresolved:sum{%s})`)).LegendFormat("{{severity}}")).
		Overrides(severityColors.overrides()))
	add(b, 8, 8, barTimeSeries("New High alerts (net increase over 15m)",
		"By how much the number of High-severity alerts in status New rose over the last 15 minutes; above 0 is what DefenderHighSeverityAlertsNew pages on.",
		query(f(`tenant:defender_alerts_high_new:sum{%[1]s} - min_over_time(tenant:defender_alerts_high_new:sum{%[1]s}[15m])`)).
			LegendFormat("{{tenant}}")).
		Thresholds(steps("green", step{"red", 1})))
	add(b, 8, 8, breakdown("Alerts by status",
		"Alerts created within the lookback window plus every unresolved alert, by status.", statusColors,
		query(f(`sum by (status) (tenant_severity_status:defender_alerts:sum{%s})`)).LegendFormat("{{status}}").Instant()))
	add(b, 8, 8, tableOf("Oldest unresolved alert",
		"Creation time of the oldest alert that is not Resolved, per tenant and severity.",
		columns{rename: [][2]string{{"tenant", "Tenant"}, {"severity", "Severity"}, {"Value", "Oldest unresolved"}}},
		tableQuery("A", f(`min by (tenant, severity) (defender_alerts_oldest_unresolved_timestamp_seconds{%s}) * 1000`))).
		Overrides([]cog.Builder[dashboard.DashboardFieldConfigSourceOverrides]{
			byName("Oldest unresolved", property("unit", "dateTimeFromNow")),
		}).
		SortBy(sortBy("Oldest unresolved", false)))
	insertServiceSource(b, 35, t)

	b.row("Machines")
	add(b, 8, 8, donut("Machines by health status", "Sensor health of the machines as Defender reports it.", healthColors,
		query(f(`sum by (health_status) (tenant_health_status:defender_machines:sum{%s})`)).LegendFormat("{{health_status}}").Instant()))
	add(b, 8, 8, breakdown("Machines by exposure level",
		"Machines per exposure level (Defender Vulnerability Management).", exposureColors,
		query(f(`sum by (exposure_level) (tenant_exposure_level:defender_machines:sum{%s})`)).LegendFormat("{{exposure_level}}").Instant()))
	add(b, 8, 8, breakdown("Machines by risk score", "Machines per risk score (from the alerts on each machine).", riskColors,
		query(f(`sum by (risk_score) (tenant_risk_score:defender_machines:sum{%s})`)).LegendFormat("{{risk_score}}").Instant()))
	add(b, 8, 8, stackedTimeSeries("Machines by health status", "Machines per sensor health status over time.", 40,
		query(f(`sum by (health_status) (tenant_health_status:defender_machines:sum{%s})`)).LegendFormat("{{health_status}}")).
		Overrides(healthColors.overrides()))
	add(b, 8, 8, timeSeries("Stale machines (share)",
		"Share of machines whose lastSeen is older than each configured stale_after threshold. DefenderMachinesStale fires above 30% for 1d.",
		query(f(`tenant_threshold:defender_machines_stale:ratio{%s}`)).LegendFormat("{{tenant}} not seen for {{threshold}}")).
		Unit("percentunit").Max(1).
		Thresholds(steps("green", step{"red", 0.3})).ThresholdsStyle(thresholdsStyle(common.GraphThresholdsStyleModeDashed)))
	add(b, 8, 8, timeSeries("Onboarded machines with an unhealthy sensor (share)",
		"Share of onboarded machines in ImpairedCommunication or NoSensorData: EDR blind spots. DefenderMachinesSensorUnhealthy fires above 10%.",
		query(f(`tenant:defender_machines_sensor_unhealthy:ratio{%s}`)).LegendFormat("{{tenant}}")).
		Unit("percentunit").
		Thresholds(steps("green", step{"red", 0.1})).ThresholdsStyle(thresholdsStyle(common.GraphThresholdsStyleModeDashed)))

	b.row("Exposure and vulnerabilities")
	add(b, 8, 8, timeSeries("Exposure score", "Exposure score over time (0-100, lower is better).",
		query(f(`max by (tenant) (defender_exposure_score{%s})`)).LegendFormat("{{tenant}}")).
		Max(100).FillOpacity(0).
		Thresholds(steps("green", exposureSteps...)).ThresholdsStyle(thresholdsStyle(common.GraphThresholdsStyleModeLineAndArea)))
	add(b, 8, 8, unboundedTimeSeries("Secure score for devices",
		"Microsoft Secure Score for Devices over time (higher is better).",
		query(f(`max by (tenant) (defender_configuration_score{%s})`)).LegendFormat("{{tenant}}")))
	add(b, 8, 8, breakdown("Vulnerabilities by severity", "CVEs that affect at least one machine, by severity.", severityColors,
		query(f(`sum by (severity) (defender_vulnerabilities{%s})`)).LegendFormat("{{severity}}").Instant()))
	add(b, 6, 4, countStat("Vulnerabilities with a public exploit",
		"CVEs affecting at least one machine for which a public exploit is known.",
		query(f(`sum(defender_vulnerabilities{%s,public_exploit="true"})`))).
		Thresholds(steps("green", step{"orange", 1})))
	add(b, 6, 4, countStat("Critical: exposed machines",
		"Sum over Critical CVEs of the machines exposed to each (a machine counts once per CVE).",
		query(f(`sum(defender_vulnerability_exposed_machines{%s,severity="Critical"})`))).
		Thresholds(steps("green", step{"red", 1})))
	add(b, 12, 4, breakdown("Exposed machines by CVE severity",
		"Sum over CVEs of each severity of the machines exposed to them.", severityColors,
		query(f(`sum by (severity) (defender_vulnerability_exposed_machines{%s})`)).LegendFormat("{{severity}}").Instant()))

	b.row("Antivirus and response")
	add(b, 8, 8, ratioGauge("AV signatures up to date",
		"Share of machines whose Defender Antivirus security intelligence is up to date.",
		query(f(`max by (tenant) (tenant:defender_av_signature_up_to_date:ratio{%s})`)).LegendFormat("{{tenant}}")).
		Thresholds(steps("red", upToDateSteps...)))
	add(b, 8, 8, donut("Antivirus mode", "Microsoft Defender Antivirus mode of the machines (device AV info).", avModeColors,
		query(f(`sum by (av_mode) (tenant_av_mode:defender_av_machines:sum{%s})`)).LegendFormat("{{av_mode}}").Instant()))
	add(b, 8, 8, timeSeries("Isolated machines", "Machines whose latest isolation action is a successful Isolate.",
		query(f(`max by (tenant) (defender_machines_isolated{%s})`)).LegendFormat("{{tenant}}")).
		Thresholds(steps("green", step{"orange", 1})))

	overviewSecureScore(b, t)
	return b
}
