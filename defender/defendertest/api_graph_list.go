package defendertest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Microsoft Graph's security collections (alerts_v2, incidents) differ from
// the Defender APIs of paging.go in the ways a client notices:
//
//   - @odata.nextLink comes whenever more remain, $top or not, and carries
//     an opaque $skiptoken; a client never needs $skip.
//   - Entities are listed newest first. The skiptoken holds a position
//     counted from the oldest entity, so entities added while a client
//     pages (drift) neither shift nor repeat the pages still to come.
//   - $top has a maximum per collection; more is a 400 in Graph's words,
//     as users quote it ("The limit of '50' for Top query has been
//     exceeded", wazuh/wazuh#28070).
//   - Enums are camelCase and evolvable: without the request header
//     "Prefer: include-unknown-enum-members", members added after the
//     unknownFutureValue sentinel come back as "unknownFutureValue"
//     (https://learn.microsoft.com/graph/best-practices-concept#handling-future-members-in-evolvable-enumerations).
//     The fake counts the calls that came without it (CallsWithoutPrefer).
//   - Errors have Graph's shape: {"error":{"code","message","innerError"}}.

// graphView is what an encoder needs to know of the request.
type graphView struct {
	// includeUnknown: the request asked for the evolvable enums' late
	// members by name.
	includeUnknown bool
}

// late renders an evolvable enum member as Graph does: a member listed in
// lateMembers (added after unknownFutureValue) comes back as
// unknownFutureValue unless the client said it can take it.
func (v *graphView) late(member string, lateMembers map[string]bool) string {
	if !v.includeUnknown && lateMembers[member] {
		return "unknownFutureValue"
	}
	return member
}

// graphList serves one Graph collection over rows of T.
type graphList[T any] struct {
	spec   apiSpec
	fields filterFields[T]
	// count and oldest give the rows, the oldest at j = 0; they are
	// called with the dataset read-locked.
	count  func(d *Dataset) int
	oldest func(d *Dataset, j int) *T
	enc    func(e *T, b []byte, v *graphView) []byte
}

// graphOptions are the OData query options both collections document
// (security-list-alerts_v2 and security-list-incidents); $skiptoken is the
// one their nextLinks carry. Anything else starting with $ is refused, so
// that a client relying on an undocumented option ($select, $orderby on
// alerts_v2) is noticed; so is incidents' $expand=alerts, which the fake
// does not serve.
var graphOptions = []string{"$filter", "$top", "$skip", "$skiptoken", "$count"}

const graphContentType = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

func (g graphList[T]) entry() *apiEntry {
	return &apiEntry{spec: g.spec, serve: g.serve}
}

func (g graphList[T]) serve(t *Tenant, w http.ResponseWriter, r *http.Request, f Fault) {
	view := graphView{includeUnknown: prefersUnknownEnums(r.Header)}
	if !view.includeUnknown {
		t.calls.add(noPreferKey(g.spec.path))
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeGraphError(w, http.StatusBadRequest, "BadRequest", "The query specified in the URI is not valid.")
		return
	}
	for k := range q {
		if strings.HasPrefix(k, "$") && !containsFold(graphOptions, k) {
			writeGraphError(w, http.StatusBadRequest, "BadRequest", "Query option '"+safeForMessage(k)+"' is not allowed. To allow it, set the 'AllowedQueryOptions' property on EnableQueryAttribute or QueryValidationSettings.")
			return
		}
	}
	size := g.spec.maxPageSize
	if d := t.opts.DefaultPageSize; d > 0 && d < size {
		size = d
	}
	if s, ok := queryParam(q, "$top"); ok {
		n, err := strconv.Atoi(s)
		switch {
		case err != nil || n <= 0:
			writeGraphError(w, http.StatusBadRequest, "BadRequest", "Invalid value '"+safeForMessage(s)+"' for $top query option: a positive integer is required.")
			return
		case n > g.spec.maxPageSize:
			writeGraphError(w, http.StatusBadRequest, "BadRequest", "The query specified in the URI is not valid. The limit of '"+strconv.Itoa(g.spec.maxPageSize)+"' for Top query has been exceeded. The value from the incoming request is '"+strconv.Itoa(n)+"'.")
			return
		}
		size = n
	}
	skip := 0
	if s, ok := queryParam(q, "$skip"); ok {
		if skip, err = strconv.Atoi(s); err != nil || skip < 0 {
			writeGraphError(w, http.StatusBadRequest, "BadRequest", "Invalid value '"+safeForMessage(s)+"' for $skip query option.")
			return
		}
	}
	from, fromToken := 0, false // the position to continue from
	if s, ok := queryParam(q, "$skiptoken"); ok {
		fromToken = true
		if from, ok = decodeSkipToken(s); !ok {
			writeGraphError(w, http.StatusBadRequest, "BadRequest", "The skip token in the request is not valid.")
			return
		}
		skip = 0 // the token already counts what was skipped
	}
	filter, _ := queryParam(q, "$filter")
	pred, err := compileFilter(filter, g.fields)
	if err != nil {
		writeGraphError(w, http.StatusBadRequest, "BadRequest", "Invalid filter clause: "+err.Error())
		return
	}
	countWanted := false
	if s, ok := queryParam(q, "$count"); ok {
		countWanted = strings.EqualFold(s, "true")
	}

	buf := make([]byte, 0, 64<<10)
	buf = append(buf, `{"@odata.context":`...)
	buf = appendString(buf, base(r)+"/v1.0/$metadata#"+g.spec.contextName)
	enc := func(e *T, b []byte) []byte { return g.enc(e, b, &view) }
	next := -1
	t.data.mu.RLock()
	n := g.count(t.data)
	if countWanted {
		total := 0
		for j := range n {
			if pred(g.oldest(t.data, j)) {
				total++
			}
		}
		buf = append(buf, `,"@odata.count":`...)
		buf = strconv.AppendInt(buf, int64(total), 10)
	}
	buf = append(buf, `,"value":[`...)
	start := n - 1
	if fromToken {
		start = min(from, n-1)
	}
	emitted := 0
	for j := start; j >= 0; j-- {
		e := g.oldest(t.data, j)
		if !pred(e) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		if emitted == size {
			next = j
			break
		}
		buf = appendPageItem(buf, emitted, f, e, enc)
		emitted++
	}
	t.data.mu.RUnlock()

	// After the last page, the link a fault may add continues from
	// position -1: nothing.
	rest := r.URL.Path + "?" + withSkipToken(r.URL.RawQuery, encodeSkipToken(next))
	link := t.nextLink(r, f, next >= 0, rest)
	buf = append(buf, ']')
	if link != "" {
		buf = append(buf, `,"@odata.nextLink":`...)
		buf = appendString(buf, link)
	}
	buf = append(buf, '}')
	w.Header().Set("OData-Version", "4.0")
	writeDistorted(w, http.StatusOK, graphContentType, buf, f)
}

// prefersUnknownEnums reports whether the Prefer header(s) ask for
// include-unknown-enum-members; several preferences may share a header,
// separated by commas.
func prefersUnknownEnums(h http.Header) bool {
	for _, v := range h.Values("Prefer") {
		for _, p := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(p), "include-unknown-enum-members") {
				return true
			}
		}
	}
	return false
}

func noPreferKey(endpoint string) string { return "noprefer " + endpoint }

// CallsWithoutPrefer reports how many requests reached the Graph collection
// endpoint ("/v1.0/security/alerts_v2", "/v1.0/security/incidents") without
// "Prefer: include-unknown-enum-members" since New or ResetCalls. Requests
// answered by a fault are not looked at.
func (t *Tenant) CallsWithoutPrefer(endpoint string) int { return t.calls.get(noPreferKey(endpoint)) }

// The skiptoken is opaque to clients, as Graph's are; inside it is the
// position to continue from, -1 when nothing is left.
func encodeSkipToken(pos int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("pos=" + strconv.Itoa(pos)))
}

func decodeSkipToken(s string) (int, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(string(raw), "pos=")
	if !ok {
		return 0, false
	}
	pos, err := strconv.Atoi(rest)
	return pos, err == nil && pos >= -1
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// writeGraphError writes Graph's error shape, with the request ids of its
// innerError.
func writeGraphError(w http.ResponseWriter, status int, code, message string) {
	type inner struct {
		Date            string `json:"date"`
		RequestID       string `json:"request-id"`
		ClientRequestID string `json:"client-request-id"`
	}
	var body struct {
		Error struct {
			Code       string `json:"code"`
			Message    string `json:"message"`
			InnerError inner  `json:"innerError"`
		} `json:"error"`
	}
	body.Error.Code = code
	body.Error.Message = message
	body.Error.InnerError = inner{Date: time.Now().UTC().Format("2006-01-02T15:04:05"), RequestID: newRandomGUID(), ClientRequestID: newRandomGUID()}
	setDefaultContentType(w)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
