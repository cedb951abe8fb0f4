package defendertest

import (
	"net/http"
	"net/url"
)

// postureAPIs are the rows of the API table beyond alerts and machines, from
// Microsoft Learn's pages of each API (linked from the entity types) and the
// limits on https://learn.microsoft.com/defender-endpoint/api/api-terms. Paging follows paging.go except
// where noted: /api/deviceavinfo pages like the export APIs
// (paging_export.go), XDR incidents send a nextLink with $top, and the score
// APIs are single objects or one unpaged collection.
func postureAPIs() []*apiEntry {
	score := []string{"Score.Read.All"}
	return []*apiEntry{
		objectAPI(apiSpec{
			path: "/api/exposureScore", method: http.MethodGet, audience: audMDE, family: "mde",
			roles: score, contextName: "ExposureScore/$entity",
		}, func(d *Dataset, b []byte) []byte { return d.ExposureScore.appendJSON(b) }),
		collectionAPI(apiSpec{
			path: "/api/exposureScore/ByMachineGroups", method: http.MethodGet, audience: audMDE, family: "mde",
			roles: score, contextName: "ExposureScore",
		}, func(d *Dataset) []GroupScore { return d.GroupExposureScores }, (*GroupScore).appendJSON),
		objectAPI(apiSpec{
			path: "/api/configurationScore", method: http.MethodGet, audience: audMDE, family: "mde",
			roles: score, contextName: "ConfigurationScore/$entity",
		}, func(d *Dataset, b []byte) []byte { return d.ConfigurationScore.appendJSON(b) }),
		listAPI(apiSpec{
			path: "/api/vulnerabilities", method: http.MethodGet, audience: audMDE, family: "mde",
			roles: []string{"Vulnerability.Read.All"}, maxPageSize: 8000, contextName: "Vulnerabilities",
		}, vulnerabilityFields, func(d *Dataset) []Vulnerability { return d.Vulnerabilities }, (*Vulnerability).appendJSON),
		listAPI(apiSpec{
			path: "/api/recommendations", method: http.MethodGet, audience: audMDE, family: "mde",
			roles: []string{"SecurityRecommendation.Read.All"}, maxPageSize: 10000, contextName: "Recommendations",
		}, recommendationFields, func(d *Dataset) []Recommendation { return d.Recommendations }, (*Recommendation).appendJSON),
		exportListAPI(apiSpec{
			path: "/api/deviceavinfo", method: http.MethodGet, audience: audMDE, family: "avinfo",
			roles: []string{"Machine.Read.All", "Machine.ReadWrite.All"}, maxPageSize: 10000, contextName: "DeviceAvInfo",
		}, exportPaging{maxPageSize: 200000, defaultPageSize: 20},
			deviceAVInfoFields, func(d *Dataset) []DeviceAVInfo { return d.AVInfo }, (*DeviceAVInfo).appendJSON),
		listAPI(apiSpec{
			path: "/api/machineactions", method: http.MethodGet, audience: audMDE, family: "mde",
			roles: []string{"Machine.Read.All", "Machine.ReadWrite.All"}, maxPageSize: 10000, contextName: "MachineActions",
		}, machineActionFields, func(d *Dataset) []MachineAction { return d.MachineActions }, (*MachineAction).appendJSON),
		listAPI(apiSpec{
			path: "/api/incidents", method: http.MethodGet, audience: audXDR, family: "incidents",
			roles: []string{"Incident.Read.All", "Incident.ReadWrite.All"}, maxPageSize: 100, contextName: "Incidents",
			nextLinkWithTop: true,
		}, incidentFields, func(d *Dataset) []Incident { return d.Incidents }, (*Incident).appendJSON),
		listAPI(apiSpec{
			path: "/api/indicators", method: http.MethodGet, audience: audMDE, family: "mde",
			// The documented permissions (no read-only one). Ti.ReadWrite
			// sees only the app's own indicators on the real service; the
			// fake does not track ownership.
			roles: []string{"Ti.ReadWrite", "Ti.ReadWrite.All"}, maxPageSize: 10000, contextName: "Indicators",
		}, indicatorFields, func(d *Dataset) []Indicator { return d.Indicators }, (*Indicator).appendJSON),
		listAPI(apiSpec{
			path: "/api/investigations", method: http.MethodGet, audience: audMDE, family: "mde",
			roles: []string{"Alert.Read.All", "Alert.ReadWrite.All"}, maxPageSize: 10000, contextName: "Investigations",
		}, investigationFields, func(d *Dataset) []Investigation { return d.Investigations }, (*Investigation).appendJSON),
	}
}

// rejectQueryOptions answers 400 when the request carries any of the OData
// options an API does not take, and reports whether it did. The real
// service's behaviour there is not documented; the fake is strict so that a
// client sending them is noticed.
func rejectQueryOptions(w http.ResponseWriter, r *http.Request, options ...string) bool {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "ODataError", "Invalid OData query: the query string is malformed")
		return true
	}
	for _, o := range options {
		if _, ok := queryParam(q, o); ok {
			writeAPIError(w, http.StatusBadRequest, "ODataError", "Invalid OData query: the query option '"+o+"' is not supported by this API")
			return true
		}
	}
	return false
}

// objectAPI serves a single object (@odata.context ...#Name/$entity) such
// as the organisation's exposure score.
func objectAPI(spec apiSpec, enc func(d *Dataset, b []byte) []byte) *apiEntry {
	serve := func(t *Tenant, w http.ResponseWriter, r *http.Request, f Fault) {
		if rejectQueryOptions(w, r, "$top", "$skip", "$filter") {
			return
		}
		buf := append([]byte(nil), `{"@odata.context":`...)
		buf = appendString(buf, base(r)+"/api/$metadata#"+spec.contextName)
		t.data.mu.RLock()
		obj := enc(t.data, nil)
		t.data.mu.RUnlock()
		// enc writes a complete object; splice its members after the context.
		buf = append(buf, ',')
		buf = append(buf, obj[1:]...)
		w.Header().Set("OData-Version", "4.0")
		writeDistorted(w, http.StatusOK, odataContentType, buf, f)
	}
	return &apiEntry{spec: spec, serve: serve}
}

// collectionAPI serves a whole collection in one answer, without paging
// options (/api/exposureScore/ByMachineGroups). The nextLink faults still
// apply, so a client's loop and host checks can be exercised here too.
func collectionAPI[T any](spec apiSpec, rows func(*Dataset) []T, enc func(*T, []byte) []byte) *apiEntry {
	serve := func(t *Tenant, w http.ResponseWriter, r *http.Request, f Fault) {
		if rejectQueryOptions(w, r, "$top", "$skip", "$filter") {
			return
		}
		buf := openCollection(r, spec.contextName)
		t.data.mu.RLock()
		for i, e := range rows(t.data) {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = enc(&e, buf)
		}
		t.data.mu.RUnlock()
		// One answer holds the whole collection: only the loop and
		// other-host faults add a nextLink (there is no empty page here).
		linkFaults := Fault{NextLinkLoop: f.NextLinkLoop, NextLinkOtherHost: f.NextLinkOtherHost}
		closeCollection(w, buf, t.nextLink(r, linkFaults, false, r.URL.RequestURI()), f)
	}
	return &apiEntry{spec: spec, serve: serve}
}
