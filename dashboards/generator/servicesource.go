package main

import "fmt"

// Alerts by service source: the Defender product that raised an alert
// (Graph's serviceSource: MicrosoftDefenderForEndpoint, ...ForIdentity,
// ...ForOffice365, ...ForCloudApps, Microsoft365Defender...). The MDE API
// does not say, so on that back end every alert has service_source="",
// which Prometheus stores as no label at all: label_replace names it.

// unresolvedBySource is the number of unresolved alerts per service source
// of the tenants matcher selects.
func unresolvedBySource(matcher string) string {
	return fmt.Sprintf(`label_replace(sum by (service_source) (defender_alerts{%s,status!="Resolved"}), "service_source", "Not reported (MDE API)", "service_source", "")`, matcher)
}

// insertServiceSource adds the service-source line of an alerts row: a bar
// per source now, and the same stacked over time. They are inserted among
// older panels, so they take the ids firstID and firstID+1.
func insertServiceSource(b *board, firstID uint32, matcher string) {
	insert(b, firstID, 8, 8, breakdown("Unresolved alerts by service source",
		"Unresolved alerts by the Microsoft Defender product that raised them (Microsoft Graph's serviceSource). The MDE API back end does not report it.",
		nil,
		query(unresolvedBySource(matcher)).LegendFormat("{{service_source}}").Instant()))
	insert(b, firstID+1, 16, 8, stackedTimeSeries("Unresolved alerts by service source over time",
		"Unresolved alerts over time, stacked by the Defender product that raised them.", 40,
		query(unresolvedBySource(matcher)).LegendFormat("{{service_source}}")))
}
