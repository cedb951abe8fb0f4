package defendertest

import (
	"net/http"
	"strings"
)

// apiSpec is one row of the API table: everything the fake enforces for an
// API, from Microsoft Learn's API pages (each named where its row is) and
// docs/design.md ("Paging").
//
// The posture APIs (scores, TVM, AV health, machine actions, incidents,
// indicators, investigations) are in postureAPIs (apis_posture.go).
//
// Rows still to come (path — audience, max page size, family):
//
//	/api/advancedqueries/run (mde), /api/advancedhunting/run (xdr),
//	/v1.0/security/runHuntingQuery (graph) — POST, hunting
type apiSpec struct {
	path        string // template: call counter, fault key and metric label
	method      string
	audience    apiAudience
	family      string   // budget family: mde, avinfo, incidents, hunting
	roles       []string // the token needs one of these application permissions
	maxPageSize int      // largest $top accepted; also the default page size
	// notFoundWhenEmpty answers 404 when nothing matches (/api/machines).
	notFoundWhenEmpty bool
	contextName       string // @odata.context fragment, e.g. "Alerts"
	// nextLinkWithTop sends @odata.nextLink also when the request had $top
	// and more remain (XDR incidents); MDE leaves it out then.
	nextLinkWithTop bool
}

// apiEntry pairs a spec with the code that answers an authorised request.
type apiEntry struct {
	spec  apiSpec
	serve func(t *Tenant, w http.ResponseWriter, r *http.Request, f Fault)
}

var alertFields = newFilterFields("Alert",
	timeField("alertCreationTime", func(a *Alert) Time { return a.AlertCreationTime }),
	timeField("lastUpdateTime", func(a *Alert) Time { return a.LastUpdateTime }),
	timeField("lastEventTime", func(a *Alert) Time { return a.LastEventTime }),
	intField("incidentId", true, func(a *Alert) int64 { return a.IncidentID }),
	intField("investigationId", true, func(a *Alert) int64 { return a.InvestigationID }),
	strField("id", func(a *Alert) string { return a.ID }),
	strField("assignedTo", func(a *Alert) string { return a.AssignedTo }),
	strField("detectionSource", func(a *Alert) string { return a.DetectionSource }),
	strField("status", func(a *Alert) string { return a.Status }),
	strField("severity", func(a *Alert) string { return a.Severity }),
	strField("category", func(a *Alert) string { return a.Category }),
)

var machineFields = newFilterFields("Machine",
	strField("computerDnsName", func(m *Machine) string { return m.ComputerDNSName }),
	strField("id", func(m *Machine) string { return m.ID }),
	strField("version", func(m *Machine) string { return m.Version }),
	strField("deviceValue", func(m *Machine) string { return m.DeviceValue }),
	strField("aadDeviceId", func(m *Machine) string { return m.AADDeviceID }),
	stringsField("machineTags", func(m *Machine) []string { return m.MachineTags }),
	timeField("lastSeen", func(m *Machine) Time { return m.LastSeen }),
	strField("exposureLevel", func(m *Machine) string { return m.ExposureLevel }),
	strField("onboardingStatus", func(m *Machine) string { return m.OnboardingStatus }),
	strField("lastIpAddress", func(m *Machine) string { return m.LastIPAddress }),
	strField("healthStatus", func(m *Machine) string { return m.HealthStatus }),
	strField("osPlatform", func(m *Machine) string { return m.OSPlatform }),
	strField("riskScore", func(m *Machine) string { return m.RiskScore }),
	intField("rbacGroupId", false, func(m *Machine) int64 { return m.RBACGroupID }),
)

// buildAPIs is the API table, keyed by lower-cased path.
func buildAPIs() map[string]*apiEntry {
	entries := []*apiEntry{
		listAPI(apiSpec{
			path: "/api/alerts", method: http.MethodGet, audience: audMDE, family: "mde",
			roles: []string{"Alert.Read.All", "Alert.ReadWrite.All"}, maxPageSize: 10000, contextName: "Alerts",
		}, alertFields, func(d *Dataset) []Alert { return d.Alerts }, (*Alert).appendJSON),
		listAPI(apiSpec{
			path: "/api/machines", method: http.MethodGet, audience: audMDE, family: "mde",
			roles: []string{"Machine.Read.All", "Machine.ReadWrite.All"}, maxPageSize: 10000, contextName: "Machines",
			notFoundWhenEmpty: true,
		}, machineFields, func(d *Dataset) []Machine { return d.Machines }, (*Machine).appendJSON),
	}
	entries = append(entries, postureAPIs()...)
	entries = append(entries, huntingAPIs()...) // hunting.go
	// The Graph-only APIs: api_secure_score.go, api_identity.go.
	entries = append(entries, secureScoreAPI())
	entries = append(entries, identityAPIs()...)
	// Graph's alerts_v2 and incidents (api_graph_*.go).
	entries = append(entries, graphAlertsAPI(), graphIncidentsAPI())
	m := make(map[string]*apiEntry, len(entries))
	for _, e := range entries {
		m[strings.ToLower(e.spec.path)] = e // lookupAPI lower-cases the request path
	}
	return m
}

// handleAPI is the common front of every API: count, fault, method, token,
// then the API's own answer.
func (t *Tenant) handleAPI(w http.ResponseWriter, r *http.Request) {
	e := t.lookupAPI(r.URL.Path)
	if e == nil {
		t.calls.add("unknown")
		writeAPIError(w, http.StatusNotFound, "NotFound", "No API is served at this path.")
		return
	}
	t.calls.add(e.spec.path)
	f, _ := t.faults.take(e.spec.path)
	if replaceAnswer(w, r, f, func(s int) { writeAPIError(w, s, apiErrorCode(s), apiErrorMessage(s)) }) {
		return
	}
	if r.Method != e.spec.method {
		w.Header().Set("Allow", e.spec.method)
		writeAPIError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "The requested resource does not support http method '"+r.Method+"'.")
		return
	}
	if status, msg := t.checkBearer(r, e.spec.audience, e.spec.roles); status != 0 {
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		}
		writeAPIError(w, status, apiErrorCode(status), msg)
		return
	}
	e.serve(t, w, r, f)
}
