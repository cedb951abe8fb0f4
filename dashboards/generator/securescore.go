package main

// Microsoft Secure Score, read from Microsoft Graph (the secure_score
// collector, on by default with the Graph back end): the newest daily
// snapshot of the tenant's points, the points achievable, the points per
// control category and the averages of comparable organisations.

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/common"
)

// secureScoreRatio is currentScore / maxScore per tenant.
func secureScoreRatio(matcher string) string {
	return fmt.Sprintf(`max by (tenant) (defender_secure_score{%[1]s}) / max by (tenant) (defender_secure_score_max{%[1]s})`, matcher)
}

const secureScoreAbout = "Microsoft Secure Score: the points of the newest daily snapshot as a share of the points achievable (currentScore / maxScore). Higher is better."

// overviewSecureScore is the Secure Score row of the overview: every tenant.
func overviewSecureScore(b *board, matcher string) {
	b.row("Secure Score")
	add(b, 8, 8, barGauge("Secure Score by tenant", secureScoreAbout,
		query(secureScoreRatio(matcher)).LegendFormat("{{tenant}}").Instant()).
		Unit("percentunit").Max(1).Thresholds(steps("blue")))
	add(b, 16, 8, timeSeries("Secure Score over time", secureScoreAbout,
		query(secureScoreRatio(matcher)).LegendFormat("{{tenant}}")).
		Unit("percentunit").Max(1))
}

// tenantSecureScore is the Secure Score row of the tenant dashboard.
func tenantSecureScore(b *board, matcher string) {
	f := func(format string) string { return fmt.Sprintf(format, matcher) }
	b.row("Secure Score")
	add(b, 6, 8, ratioGauge("Secure Score", secureScoreAbout,
		query(secureScoreRatio(matcher)).LegendFormat("{{tenant}}")).
		Thresholds(steps("blue")))
	add(b, 12, 8, timeSeries("Secure Score over time", secureScoreAbout,
		query(secureScoreRatio(matcher)).LegendFormat("{{tenant}}")).
		Unit("percentunit").Max(1))
	add(b, 6, 8, breakdown("Points by category",
		"Secure Score points per control category (Identity, Data, Device, Apps...): the sum of the scores of the category's controls.",
		nil,
		query(f(`sum by (category) (defender_secure_score_category{%s})`)).LegendFormat("{{category}}").Instant()))
	add(b, 8, 8, breakdown("Compared with other organisations",
		"This tenant's points next to Microsoft's average for each basis of comparison (all tenants, organisations of a similar size or industry), as Microsoft Graph reports them.",
		nil,
		query(f(`max(defender_secure_score{%s})`)).LegendFormat("This tenant").Instant(),
		query(f(`max by (basis) (defender_secure_score_comparative{%s})`)).LegendFormat("{{basis}} average").Instant().RefId("B")))
	add(b, 4, 8, singleStat("Snapshot age",
		"Age of the newest Secure Score snapshot. Microsoft computes one a day and the collector reads the newest every hour: older than a day and a half, a snapshot is late.",
		query(f(`time() - max(defender_secure_score_timestamp_seconds{%s})`))).
		Unit("s").Thresholds(steps("green", step{"orange", 36 * 3600}, step{"red", 72 * 3600})).
		GraphMode(common.BigValueGraphModeNone))
	add(b, 12, 8, tableOf("Secure Score controls",
		optional("Points of each Secure Score control. Only with per_control: true on the secure_score collector."),
		columns{rename: [][2]string{{"category", "Category"}, {"control", "Control"}, {"Value", "Points"}}},
		tableQuery("A", f(`sum by (category, control) (defender_secure_score_control{%s})`))).
		SortBy(sortBy("Points", true)))
}
