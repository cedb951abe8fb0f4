package main

import (
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// tenant is defender-tenant.json: one tenant in detail; the machine panels
// are filtered by device group.
func tenant() *board {
	const t = `tenant="$tenant"`
	const mg = `tenant="$tenant",device_group=~"$device_group"`
	f := func(format string) string { return fmt.Sprintf(format, t) }
	g := func(format string) string { return fmt.Sprintf(format, mg) }
	b := newBoard(spec{
		uid:         "defender-tenant",
		title:       "Defender / Tenant",
		description: "One Microsoft Defender tenant in detail (defender_exporter).",
		timeFrom:    "now-24h",
		variables: []cog.Builder[dashboard.VariableModel]{
			datasourceVariable(),
			singleVariable("tenant", "Tenant", "label_values(defender_up, tenant)"),
			multiVariable("device_group", "Device group", `label_values(defender_machines{tenant="$tenant"}, device_group)`),
		},
	})

	b.row("Summary")
	add(b, 3, 4, singleStat("Exporter",
		"defender_up: 1 when a token could be had and every collector's latest refresh succeeded.",
		query(f(`max(defender_up{%s})`))).
		Thresholds(steps("red", step{"green", 1})).Mappings(upMappings).GraphMode(common.BigValueGraphModeNone))
	add(b, 3, 4, singleStat("Data age", "Age of the oldest collector snapshot of this tenant.",
		query(f(`max(time() - defender_collector_last_success_timestamp_seconds{%s})`))).
		Unit("s").Thresholds(steps("green", step{"orange", 3600}, step{"red", 10800})).GraphMode(common.BigValueGraphModeNone))
	add(b, 3, 4, countStat("Machines", "Machines known to Defender for Endpoint.",
		query(f(`sum(tenant:defender_machines:sum{%s})`))).
		Thresholds(steps("blue")).ColorMode(common.BigValueColorModeValue))
	add(b, 3, 4, countStat("Unresolved alerts", "Alerts whose status is not Resolved.",
		query(f(`sum(tenant_severity:defender_alerts_unresolved:sum{%s})`))).
		Thresholds(steps("green", step{"orange", 1})))
	add(b, 3, 4, countStat("Unresolved incidents", "Incidents neither Resolved nor Redirected.",
		query(f(`sum(tenant_severity:defender_incidents_unresolved:sum{%s})`))).
		Thresholds(steps("green", step{"orange", 1})))
	add(b, 3, 4, singleStat("Exposure score", "Exposure score (0-100, lower is better).",
		query(f(`max(defender_exposure_score{%s})`))).
		Thresholds(steps("green", exposureSteps...)).Decimals(1))
	add(b, 3, 4, singleStat("Secure score for devices", "Microsoft Secure Score for Devices.",
		query(f(`max(defender_configuration_score{%s})`))).
		Thresholds(steps("blue")).ColorMode(common.BigValueColorModeValue))
	add(b, 3, 4, countStat("Isolated machines", "Machines whose latest isolation action is a successful Isolate.",
		query(f(`max(defender_machines_isolated{%s})`))).
		Thresholds(steps("green", step{"orange", 1})))

	b.row("Alerts")
	add(b, 12, 8, stackedTimeSeries("Alerts by status",
		"Alerts created within the lookback window plus every unresolved alert, by status.", 40,
		query(f(`sum by (status) (tenant_severity_status:defender_alerts:sum{%s})`)).LegendFormat("{{status}}")).
		Overrides(statusColors.overrides()))
	add(b, 12, 8, stackedTimeSeries("Unresolved alerts by severity", "Alerts whose status is not Resolved.", 40,
		query(f(`sum by (severity) (tenant_severity:defender_alerts_unresolved:sum{%s})`)).LegendFormat("{{severity}}")).
		Overrides(severityColors.overrides()))
	add(b, 8, 9, tableOf("Unresolved alerts by category", "Unresolved alerts per category and severity.",
		columns{rename: [][2]string{{"category", "Category"}, {"severity", "Severity"}, {"Value", "Alerts"}}},
		tableQuery("A", f(`sum by (category, severity) (defender_alerts{%s,status!="Resolved"})`))).
		SortBy(sortBy("Alerts", true)))
	add(b, 8, 9, breakdown("Unresolved alerts by detection source",
		"Which detection technology raised the unresolved alerts.", nil,
		query(f(`sum by (detection_source) (defender_alerts{%s,status!="Resolved"})`)).LegendFormat("{{detection_source}}").Instant()))
	add(b, 8, 9, tableOf("Resolved alerts by classification",
		"How resolved alerts were classified: a high share of FalsePositive points at detections to tune.",
		columns{rename: [][2]string{{"classification", "Classification"}, {"determination", "Determination"}, {"Value", "Alerts"}}},
		tableQuery("A", f(`sum by (classification, determination) (defender_alerts_classified{%s})`))).
		SortBy(sortBy("Alerts", true)))
	insertServiceSource(b, 48, t)
	add(b, 12, 6, tableOf("Oldest unresolved alert by severity", "Creation time of the oldest alert that is not Resolved.",
		columns{rename: [][2]string{{"severity", "Severity"}, {"Value", "Oldest unresolved"}}},
		tableQuery("A", f(`min by (severity) (defender_alerts_oldest_unresolved_timestamp_seconds{%s}) * 1000`))).
		Overrides([]cog.Builder[dashboard.DashboardFieldConfigSourceOverrides]{
			byName("Oldest unresolved", property("unit", "dateTimeFromNow")),
		}))
	add(b, 12, 6, tableOf("Oldest unresolved incident by severity",
		"Creation time of the oldest incident neither Resolved nor Redirected.",
		columns{rename: [][2]string{{"severity", "Severity"}, {"Value", "Oldest unresolved"}}},
		tableQuery("A", f(`min by (severity) (defender_incidents_oldest_unresolved_timestamp_seconds{%s}) * 1000`))).
		Overrides([]cog.Builder[dashboard.DashboardFieldConfigSourceOverrides]{
			byName("Oldest unresolved", property("unit", "dateTimeFromNow")),
		}))

	b.row("Incidents")
	add(b, 8, 8, stackedTimeSeries("Incidents by status",
		"Incidents created within the lookback window plus every unresolved incident.", 40,
		query(f(`sum by (status) (tenant_severity_status:defender_incidents:sum{%s})`)).LegendFormat("{{status}}")).
		Overrides(statusColors.overrides()))
	add(b, 8, 8, stackedTimeSeries("Unresolved incidents by severity", "Incidents neither Resolved nor Redirected.", 40,
		query(f(`sum by (severity) (tenant_severity:defender_incidents_unresolved:sum{%s})`)).LegendFormat("{{severity}}")).
		Overrides(severityColors.overrides()))
	add(b, 8, 8, tableOf("Resolved incidents by classification", "How resolved incidents were classified.",
		columns{rename: [][2]string{{"classification", "Classification"}, {"determination", "Determination"}, {"Value", "Incidents"}}},
		tableQuery("A", f(`sum by (classification, determination) (defender_incidents{%s,status="Resolved"})`))).
		SortBy(sortBy("Incidents", true)))

	b.row("Machines (filtered by device group)")
	add(b, 8, 8, donut("Health status", "Sensor health of the machines in the selected device groups.", healthColors,
		query(g(`sum by (health_status) (defender_machines{%s})`)).LegendFormat("{{health_status}}").Instant()))
	add(b, 8, 8, donut("OS platform", "Operating system platform of the machines in the selected device groups.", nil,
		query(g(`sum by (os_platform) (defender_machines{%s})`)).LegendFormat("{{os_platform}}").Instant()))
	add(b, 8, 8, breakdown("Onboarding status", "CanBeOnboarded machines were discovered on the network but run no sensor.",
		onboardingColors,
		query(g(`sum by (onboarding_status) (defender_machines{%s})`)).LegendFormat("{{onboarding_status}}").Instant()))
	add(b, 8, 7, breakdown("Exposure level", "Machines per exposure level.", exposureColors,
		query(g(`sum by (exposure_level) (defender_machines{%s})`)).LegendFormat("{{exposure_level}}").Instant()))
	add(b, 8, 7, breakdown("Risk score", "Machines per risk score.", riskColors,
		query(g(`sum by (risk_score) (defender_machines{%s})`)).LegendFormat("{{risk_score}}").Instant()))
	add(b, 8, 7, breakdown("Defender AV status", "Antivirus status as the machine listing reports it.", avStatusColors,
		query(g(`sum by (av_status) (defender_machines{%s})`)).LegendFormat("{{av_status}}").Instant()))
	add(b, 12, 8, tableOf("Device groups",
		"Per device group: machines, active machines, highly exposed machines and the group's exposure score.",
		columns{rename: [][2]string{{"device_group", "Device group"}, {"Value #A", "Machines"}, {"Value #B", "Active"},
			{"Value #C", "High exposure"}, {"Value #D", "Exposure score"}}},
		tableQuery("A", g(`sum by (device_group) (defender_machines{%s})`)),
		tableQuery("B", g(`sum by (device_group) (defender_machines{%s,health_status="Active"})`)),
		tableQuery("C", g(`sum by (device_group) (defender_machines{%s,exposure_level="High"})`)),
		tableQuery("D", g(`max by (device_group) (defender_exposure_score_by_device_group{%s})`))).
		Overrides([]cog.Builder[dashboard.DashboardFieldConfigSourceOverrides]{
			byName("Exposure score", property("decimals", 1), property("thresholds", thresholdsValue("green", exposureSteps...)),
				cellType(common.TableCellDisplayModeColorText)),
		}).
		SortBy(sortBy("Machines", true)))
	add(b, 12, 8, barGauge("Stale machines",
		"Machines whose lastSeen is older than each stale_after threshold (whole tenant, not filtered by device group).",
		query(f(`max by (threshold) (defender_machines_stale{%s})`)).LegendFormat("not seen for {{threshold}}").Instant()).
		Thresholds(steps("orange")))
	add(b, 24, 8, stackedTimeSeries("Machines by health status", "Sensor health over time, selected device groups.", 40,
		query(g(`sum by (health_status) (defender_machines{%s})`)).LegendFormat("{{health_status}}")).
		Overrides(healthColors.overrides()))

	b.row("Vulnerabilities and recommendations")
	add(b, 8, 8, barGauge("Exposure score by device group", "Exposure score of each device group (0-100, lower is better).",
		query(g(`max by (device_group) (defender_exposure_score_by_device_group{%s})`)).LegendFormat("{{device_group}}").Instant()).
		Max(100).Thresholds(steps("green", exposureSteps...)))
	add(b, 8, 8, tableOf("Vulnerabilities",
		"CVEs that affect at least one machine, by severity and whether a public exploit exists.",
		columns{rename: [][2]string{{"severity", "Severity"}, {"public_exploit", "Public exploit"}, {"Value", "CVEs"}}},
		tableQuery("A", f(`sum by (severity, public_exploit) (defender_vulnerabilities{%s})`))).
		SortBy(sortBy("CVEs", true)))
	add(b, 8, 8, breakdown("Exposed machines by CVE severity",
		"Sum over the CVEs of each severity of the machines exposed to them.", severityColors,
		query(f(`sum by (severity) (defender_vulnerability_exposed_machines{%s})`)).LegendFormat("{{severity}}").Instant()))
	add(b, 12, 8, tableOf("Security recommendations", "Security recommendations by category, remediation type and status.",
		columns{rename: [][2]string{{"category", "Category"}, {"remediation_type", "Remediation"}, {"status", "Status"},
			{"Value", "Recommendations"}}},
		tableQuery("A", f(`sum by (category, remediation_type, status) (defender_recommendations{%s})`))).
		SortBy(sortBy("Recommendations", true)))
	add(b, 12, 8, breakdown("Exposed machines by recommendation category",
		"Sum over the recommendations of each category of the machines they apply to.", nil,
		query(f(`sum by (category) (defender_recommendation_exposed_machines{%s})`)).LegendFormat("{{category}}").Instant()))

	b.row("Antivirus")
	for _, c := range []struct{ label, title string }{
		{"signature_up_to_date", "Signatures up to date"},
		{"engine_up_to_date", "Engine up to date"},
		{"platform_up_to_date", "Platform up to date"},
	} {
		// A tenant where no machine is up to date has no series with
		// label="True": "or ... * 0" makes that 0%, not "No data".
		add(b, 4, 8, singleStat(c.title,
			fmt.Sprintf("Share of machines whose Defender Antivirus %s is up to date.", strings.SplitN(c.label, "_", 2)[0]),
			query(fmt.Sprintf(`(sum(defender_av_machines{%[1]s,%[2]s="True"}) or sum(defender_av_machines{%[1]s}) * 0) / sum(defender_av_machines{%[1]s})`,
				t, c.label))).
			Unit("percentunit").Thresholds(steps("red", upToDateSteps...)).Decimals(1))
	}
	add(b, 6, 8, donut("Antivirus mode", "Microsoft Defender Antivirus mode.", avModeColors,
		query(f(`sum by (av_mode) (defender_av_machines{%s})`)).LegendFormat("{{av_mode}}").Instant()))
	add(b, 6, 8, tableOf("Latest scan results", "Result of each machine's latest quick and full scan (empty: no scan reported).",
		columns{rename: [][2]string{{"scan_type", "Scan"}, {"result", "Result"}, {"Value", "Machines"}}},
		tableQuery("A", f(`sum by (scan_type, result) (defender_av_scan_results{%s})`))))

	b.row("Response")
	add(b, 8, 8, tableOf("Machine actions",
		"Response actions (isolate, scan, investigation package...) created within the lookback window.",
		columns{rename: [][2]string{{"type", "Action"}, {"status", "Status"}, {"Value", "Actions"}}},
		tableQuery("A", f(`sum by (type, status) (defender_machine_actions{%s})`))).
		SortBy(sortBy("Actions", true)))
	add(b, 8, 8, tableOf("Custom indicators",
		"Custom indicators of compromise. Needs the indicators collector (off by default).",
		columns{rename: [][2]string{{"indicator_type", "Type"}, {"action", "Action"}, {"severity", "Severity"}, {"Value", "Indicators"}}},
		tableQuery("A", f(`sum by (indicator_type, action, severity) (defender_indicators{%s})`))))
	add(b, 8, 8, breakdown("Automated investigations by state",
		"Automated investigations within the lookback window. Needs the investigations collector (off by default).", nil,
		query(f(`sum by (state) (defender_investigations{%s})`)).LegendFormat("{{state}}").Instant()))

	tenantSecureScore(b, t)
	tenantIdentity(b, t)
	return b
}
