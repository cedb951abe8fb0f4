package main

// Microsoft Defender for Identity, read from Microsoft Graph (the identity
// collector, off by default): the health issues it raises about its sensors
// and the domain, and the state of each sensor. Every panel is optional.

import "fmt"

var sensorHealthColors = colors{{"Healthy", "green"}, {"NotHealthyLow", "yellow"}, {"NotHealthyMedium", "orange"},
	{"NotHealthyHigh", "red"}}

const identityNeeds = " Needs the identity collector (off by default) and Defender for Identity."

// tenantIdentity is the Defender for Identity row of the tenant dashboard.
func tenantIdentity(b *board, matcher string) {
	f := func(format string) string { return fmt.Sprintf(format, matcher) }
	b.row("Defender for Identity")
	add(b, 8, 8, breakdown("Open health issues by severity",
		optional("Defender for Identity health issues in status Open, by severity."+identityNeeds), severityColors,
		query(f(`sum by (severity) (defender_identity_health_issues{%s,status="Open"})`)).LegendFormat("{{severity}}").Instant()))
	add(b, 8, 8, tableOf("Health issues",
		optional("Health issues by type (Sensor: one sensor; Global: the whole deployment), severity and status."+identityNeeds),
		columns{rename: [][2]string{{"type", "Type"}, {"severity", "Severity"}, {"status", "Status"}, {"Value", "Issues"}}},
		tableQuery("A", f(`sum by (type, severity, status) (defender_identity_health_issues{%s})`))).
		SortBy(sortBy("Issues", true)))
	add(b, 8, 8, donut("Sensors by health status", optional("Defender for Identity sensors by health status."+identityNeeds),
		sensorHealthColors,
		query(f(`sum by (health_status) (defender_identity_sensors{%s})`)).LegendFormat("{{health_status}}").Instant()))
	add(b, 12, 8, stackedTimeSeries("Open health issues over time",
		optional("Open health issues over time, stacked by severity."+identityNeeds), 40,
		query(f(`sum by (severity) (defender_identity_health_issues{%s,status="Open"})`)).LegendFormat("{{severity}}")).
		Overrides(severityColors.overrides()))
	add(b, 12, 8, tableOf("Sensors",
		optional("Sensors by type, deployment status (UpToDate, Outdated, Disconnected...) and health status."+identityNeeds),
		columns{rename: [][2]string{{"sensor_type", "Sensor type"}, {"deployment_status", "Deployment"},
			{"health_status", "Health"}, {"Value", "Sensors"}}},
		tableQuery("A", f(`sum by (sensor_type, deployment_status, health_status) (defender_identity_sensors{%s})`))).
		SortBy(sortBy("Sensors", true)))
}
