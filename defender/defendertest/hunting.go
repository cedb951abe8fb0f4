package defendertest

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The advanced-hunting APIs (see defender/hunting.go for their Microsoft Learn pages). All three run the same small
// KQL (kql.go) over the same tables (hunting_tables.go) and differ where the
// real ones do: path, token audience and permission, body parameter
// casing, Timespan (Graph only), and the casing and extras of the answer.
const (
	HuntingGraphPath = "/v1.0/security/runHuntingQuery" // audience graph, ThreatHunting.Read.All
	HuntingMDEPath   = "/api/advancedqueries/run"       // audience mde, AdvancedQuery.Read.All
	HuntingXDRPath   = "/api/advancedhunting/run"       // audience xdr, AdvancedHunting.Read.All
)

// huntingRetention is how far back hunting data goes: 30 days, on every
// back end; Graph's Timespan narrows it, never widens it.
const huntingRetention = 30 * 24 * time.Hour

type huntingDialect int

var huntingPaths = map[huntingDialect]string{dialectGraph: HuntingGraphPath, dialectMDE: HuntingMDEPath, dialectXDR: HuntingXDRPath}

const (
	dialectGraph huntingDialect = iota
	dialectMDE
	dialectXDR
)

func huntingAPIs() []*apiEntry {
	entry := func(path string, aud apiAudience, role string, d huntingDialect) *apiEntry {
		return &apiEntry{
			spec: apiSpec{path: path, method: http.MethodPost, audience: aud, family: "hunting", roles: []string{role}},
			serve: func(t *Tenant, w http.ResponseWriter, r *http.Request, f Fault) {
				t.serveHunting(w, r, f, d)
			},
		}
	}
	return []*apiEntry{
		entry(HuntingGraphPath, audGraph, "ThreatHunting.Read.All", dialectGraph),
		entry(HuntingMDEPath, audMDE, "AdvancedQuery.Read.All", dialectMDE),
		entry(HuntingXDRPath, audXDR, "AdvancedHunting.Read.All", dialectXDR),
	}
}

func (t *Tenant) serveHunting(w http.ResponseWriter, r *http.Request, f Fault, d huntingDialect) {
	fail := func(status int, code, msg string) { writeHuntingError(w, d, status, code, msg) }
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		fail(http.StatusUnsupportedMediaType, "UnsupportedMediaType", "The request body must be application/json.")
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		fail(http.StatusBadRequest, "InvalidRequestBody", "Invalid request body.")
		return
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(raw, &body); err != nil {
		fail(http.StatusBadRequest, "InvalidRequestBody", "Invalid request body.")
		return
	}
	query, ok, err := bodyString(body, "Query", d == dialectGraph)
	switch {
	case err != nil:
		fail(http.StatusBadRequest, "InvalidRequestBody", "Invalid request body: Query must be a string.")
		return
	case !ok || strings.TrimSpace(query) == "":
		// MDE and XDR match parameter names case-sensitively: "query" is
		// as good as nothing there.
		fail(http.StatusBadRequest, "MissingRequiredParameter", "Parameter Query is missing.")
		return
	}
	now := t.now().UTC()
	from, to := now.Add(-huntingRetention), now
	if d == dialectGraph {
		ts, ok, err := bodyString(body, "Timespan", true)
		if err == nil && ok && ts != "" {
			var valid bool
			from, to, valid = parseTimespan(ts, now)
			if !valid {
				fail(http.StatusBadRequest, "BadRequest", "Timespan '"+ts+"' is not a valid ISO 8601 duration or interval.")
				return
			}
			if limit := now.Add(-huntingRetention); from.Before(limit) {
				from = limit
			}
		}
	}

	t.data.mu.RLock()
	result, err := runKQL(query, &kqlEnv{now: now}, func(name string) (*kTable, bool) {
		tab, ok := huntingTable(t.data, name)
		if ok {
			tab = withinWindow(tab, from, to)
		}
		return tab, ok
	})
	t.data.mu.RUnlock()
	var kerr *kqlError
	switch {
	case errors.As(err, &kerr):
		fail(http.StatusBadRequest, "BadRequest", kerr.msg)
		return
	case err != nil:
		fail(http.StatusInternalServerError, "InternalServerError", "An error occurred while running the query.")
		return
	}
	buf := appendHuntingAnswer(make([]byte, 0, 4096), r, d, result)
	if f.HugePage > 0 {
		buf = padFirstString(buf, 0, f.HugePage)
	}
	contentType := "application/json; charset=utf-8"
	if d == dialectGraph {
		contentType = odataContentType
	}
	t.calls.addBytes(huntingPaths[d], len(buf))
	writeDistorted(w, http.StatusOK, contentType, buf, f)
}

// bodyString reads a string parameter; fold matches the name
// case-insensitively, as Graph does.
func bodyString(body map[string]json.RawMessage, name string, fold bool) (string, bool, error) {
	raw, ok := body[name]
	if !ok && fold {
		for k, v := range body {
			if strings.EqualFold(k, name) {
				raw, ok = v, true
				break
			}
		}
	}
	if !ok || string(raw) == "null" {
		return "", false, nil
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err == nil, err
}

// withinWindow drops rows whose Timestamp lies outside [from, to]; tables
// without a Timestamp (TVM state) are not time-bound.
func withinWindow(t *kTable, from, to time.Time) *kTable {
	i := t.col("Timestamp")
	if i < 0 {
		return t
	}
	return streamed(t.cols, func(yield func([]any) bool) {
		t.each(func(row []any) bool {
			ts, _ := row[i].(time.Time)
			if ts.Before(from) || ts.After(to) {
				return true
			}
			return yield(row)
		})
	})
}

func appendHuntingAnswer(b []byte, r *http.Request, d huntingDialect, t *kTable) []byte {
	nameKey, typeKey, schemaKey, resultsKey := `"Name":`, `"Type":`, `"Schema":[`, `"Results":[`
	b = append(b, '{')
	switch d {
	case dialectGraph:
		nameKey, typeKey, schemaKey, resultsKey = `"name":`, `"type":`, `"schema":[`, `"results":[`
		b = append(b, `"@odata.context":`...)
		b = appendString(b, base(r)+"/v1.0/$metadata#microsoft.graph.security.huntingQueryResults")
		b = append(b, ',')
	case dialectXDR:
		b = append(b, `"Stats":{"ExecutionTime":0.0123,"resource_usage":{"cache":{"memory":{"hits":1,"misses":0,"total":1}}},"dataset_statistics":[{"table_row_count":`...)
		b = strconv.AppendInt(b, int64(len(t.rows)), 10)
		b = append(b, `}]},`...)
	}
	b = append(b, schemaKey...)
	for i, c := range t.cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		b = append(b, nameKey...)
		b = appendString(b, c.name)
		b = append(b, ',')
		b = append(b, typeKey...)
		b = appendString(b, c.typ.wire())
		b = append(b, '}')
	}
	b = append(b, "],"...)
	b = append(b, resultsKey...)
	for i, row := range t.rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		for j, c := range t.cols {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendString(b, c.name)
			b = append(b, ':')
			b = appendKValue(b, row[j])
		}
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// writeHuntingError answers in the back end's error shape: Graph's carries
// innerError with a request id and date; MDE's and XDR's a target GUID.
func writeHuntingError(w http.ResponseWriter, d huntingDialect, status int, code, msg string) {
	if d != dialectGraph {
		writeAPIError(w, status, code, msg)
		return
	}
	id := newRandomGUID()
	body := map[string]any{"error": map[string]any{
		"code": code, "message": msg,
		"innerError": map[string]string{
			"date": time.Now().UTC().Format("2006-01-02T15:04:05"), "request-id": id, "client-request-id": id,
		},
	}}
	setDefaultContentType(w)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

var isoDurationRE = regexp.MustCompile(`^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

// parseISODuration reads the ISO 8601 durations Graph's Timespan takes;
// a year is 365 days and a month 30.
func parseISODuration(s string) (time.Duration, bool) {
	m := isoDurationRE.FindStringSubmatch(s)
	if m == nil || s == "P" || strings.HasSuffix(s, "T") {
		return 0, false
	}
	day := 24 * time.Hour
	units := []time.Duration{365 * day, 30 * day, 7 * day, day, time.Hour, time.Minute, time.Second}
	var d time.Duration
	for i, u := range units {
		if m[i+1] == "" {
			continue
		}
		f, err := strconv.ParseFloat(m[i+1], 64)
		if err != nil {
			return 0, false
		}
		d += time.Duration(f * float64(u))
	}
	return d, true
}

// parseTimespan reads the forms runHuntingQuery documents: a duration
// ending now, a start time (until now), start/end, duration/end and
// start/duration.
func parseTimespan(s string, now time.Time) (from, to time.Time, ok bool) {
	parts := strings.Split(s, "/")
	at := func(p string) (time.Time, bool) {
		v, err := time.Parse(time.RFC3339Nano, p)
		return v, err == nil
	}
	switch len(parts) {
	case 1:
		if d, ok := parseISODuration(parts[0]); ok {
			return now.Add(-d), now, true
		}
		if t, ok := at(parts[0]); ok {
			return t, now, true
		}
	case 2:
		a, aTime := at(parts[0])
		b, bTime := at(parts[1])
		da, aDur := parseISODuration(parts[0])
		db, bDur := parseISODuration(parts[1])
		switch {
		case aTime && bTime && a.Before(b):
			return a, b, true
		case aDur && bTime:
			return b.Add(-da), b, true
		case aTime && bDur:
			return a, a.Add(db), true
		}
	}
	return time.Time{}, time.Time{}, false
}

// Hunting faults, for SetFault on HuntingGraphPath, HuntingMDEPath or
// HuntingXDRPath. Each answers every call until ClearFaults; set Times on
// the returned Fault to limit it.

// HuntingCPUQuota is the 429 of a tenant whose hunting CPU allocation is
// spent. Live tenants' exact wording was not captured; the documentation
// says the body names the CPU or resource limit, as this one does.
func HuntingCPUQuota() Fault {
	return Fault{Status: http.StatusTooManyRequests, Body: errorBody("TooManyRequests",
		"Tenant has exceeded the allocated CPU resources for advanced hunting. Queries are blocked until after the next 15-minute cycle.")}
}

// HuntingCallQuota is the call-count 429 observed in the wild (code "429",
// "API calls quota exceeded! maximum allowed 45 per 00:01:00"), with a
// Retry-After of one second.
func HuntingCallQuota() Fault {
	return Fault{Status: http.StatusTooManyRequests, RetryAfter: "1", Body: errorBody("429",
		"API calls quota exceeded! maximum allowed 45 per 00:01:00")}
}

// HuntingKQLError is a 400 BadRequest carrying msg, as Defender answers a
// query that does not parse or resolve.
func HuntingKQLError(msg string) Fault {
	return Fault{Status: http.StatusBadRequest, Body: errorBody("BadRequest", msg)}
}

// HuntingTooLarge is the 400 of a result above the size limit.
func HuntingTooLarge() Fault {
	return Fault{Status: http.StatusBadRequest, Body: errorBody("BadRequest",
		"Query execution has exceeded the allowed result size. Optimize your query by limiting the number of results and try again.")}
}

func errorBody(code, msg string) string {
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": msg, "target": newRandomGUID()}})
	return string(b)
}
