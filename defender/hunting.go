package defender

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/go-kit/log/level"
)

// The advanced-hunting back ends (Microsoft Learn: run-advanced-query-api,
// api-advanced-hunting and Graph's security-security-runhuntingquery). They share one quota per
// tenant, the hunting family, and differ in path, token audience, body and
// the casing of the answer's keys.
const (
	HuntingGraph = "graph" // Graph POST /v1.0/security/runHuntingQuery, ThreatHunting.Read.All
	HuntingMDE   = "mde"   // MDE POST /api/advancedqueries/run, AdvancedQuery.Read.All
	HuntingXDR   = "xdr"   // Defender XDR POST /api/advancedhunting/run, AdvancedHunting.Read.All
)

type huntingBackend struct {
	api  API
	path string
}

var huntingBackends = map[string]huntingBackend{
	HuntingGraph: {APIGraph, "/v1.0/security/runHuntingQuery"},
	HuntingMDE:   {APIMDE, "/api/advancedqueries/run"},
	HuntingXDR:   {APIXDR, "/api/advancedhunting/run"},
}

// HuntingColumn is one entry of the answer's schema. Graph writes
// name/type, MDE and XDR Name/Type; encoding/json matches either.
type HuntingColumn struct {
	Name string `json:"name"`
	Type string `json:"type"` // e.g. String, Int64, DateTime, Boolean, Double
}

// HuntingRow is one result row: column name to its raw JSON value (a string,
// a number, true/false, null, or an object for dynamic columns).
type HuntingRow map[string]json.RawMessage

// HuntingResult describes an answer whose rows went to the callback.
type HuntingResult struct {
	// Columns is the schema in column order; nil if the answer had none.
	Columns []HuntingColumn
	// Rows is how many rows were passed to the callback.
	Rows int
}

// ColumnNames lists the schema's column names, for error messages.
func (r *HuntingResult) ColumnNames() []string {
	names := make([]string, len(r.Columns))
	for i, c := range r.Columns {
		names[i] = c.Name
	}
	return names
}

// huntingBody is the request. The parameter names are case-sensitive on
// the MDE and XDR APIs; Timespan exists on Graph only.
type huntingBody struct {
	Query    string `json:"Query"`
	Timespan string `json:"Timespan,omitempty"`
}

// RunHunting runs a KQL query on the given back end (HuntingGraph,
// HuntingMDE or HuntingXDR) and passes each result row to fn as it is
// decoded, so a 100,000-row answer is never held in memory whole. The row
// map is reused between calls: fn must copy what it keeps. An error from fn
// ends the run and is returned as is. timespan (ISO 8601, Graph only) may
// be empty for Defender's default of 30 days.
//
// The call takes a slot of the tenant's hunting budget. Errors beyond the
// client's usual ones:
//   - *HuntingDeferredError (errors.Is ErrHuntingDeferred): the tenant's
//     hunting CPU quota is spent. The answer that said so defers every
//     hunting call of this client until the quota window has passed; until
//     then RunHunting fails at once, without a request.
//   - *HuntingQueryError (errors.Is ErrHuntingQuery, and ErrHuntingTooLarge
//     for an oversized result): Defender rejected the query with a 400; the
//     error carries Defender's message.
func (c *Client) RunHunting(ctx context.Context, api, query, timespan string, fn func(row HuntingRow) error) (*HuntingResult, error) {
	b, ok := huntingBackends[api]
	switch {
	case !ok:
		return nil, fmt.Errorf("advanced hunting: unknown API %q (want %s, %s or %s)", api, HuntingGraph, HuntingMDE, HuntingXDR)
	case strings.TrimSpace(query) == "":
		return nil, errors.New("advanced hunting: empty query")
	case timespan != "" && api != HuntingGraph:
		return nil, fmt.Errorf("advanced hunting: timespan is supported by the %s API only, not %s", HuntingGraph, api)
	}
	body, err := json.Marshal(huntingBody{Query: query, Timespan: timespan})
	if err != nil {
		return nil, fmt.Errorf("advanced hunting: encode request: %w", err)
	}
	req := Request{
		API: b.api, Family: FamilyHunting, Endpoint: b.path, Path: b.path,
		Method: http.MethodPost, Body: body,
	}
	if err := req.validate(); err != nil {
		return nil, err
	}
	if fn == nil {
		fn = func(HuntingRow) error { return nil }
	}
	resp, err := c.send(ctx, &req, c.url(&req, nil))
	if err != nil {
		return nil, c.huntingError(api, err)
	}
	defer resp.Body.Close()
	res, err := decodeHunting(resp.Body, fn)
	var cbErr *callbackError
	switch {
	case errors.As(err, &cbErr):
		return nil, cbErr.err
	case err != nil:
		return nil, bounded(fmt.Errorf("%s %s: %w", req.method(), req.endpoint(), err))
	}
	return res, nil
}

// huntingError turns the answers that mean something for hunting into
// typed errors; anything else is returned unchanged.
func (c *Client) huntingError(api string, err error) error {
	var deferred *HuntingDeferredError
	if errors.As(err, &deferred) {
		// The fast-fail path: the same error every hunting call of the
		// tenant returns until the quota window ends.
		return deferred
	}
	var ae *APIError
	if !errors.As(err, &ae) {
		return err
	}
	switch {
	case ae.Status == http.StatusTooManyRequests && huntingQuotaSpent(ae):
		d := &HuntingDeferredError{
			Tenant: c.tenant, API: api, Until: huntingQuotaResumes(api, ae.RetryAfter, c.now()),
			Message: ae.Message, Err: ae,
		}
		if c.budgets.deferFamily(FamilyHunting, d.Until, d) {
			level.Warn(c.logger).Log("msg", "advanced hunting CPU quota spent; every hunting query of the tenant is deferred, other collectors are not affected",
				"tenant", c.tenant, "api", api, "until", d.Until.UTC().Format("15:04:05 UTC"), "defender_message", ae.Message)
		}
		return d
	case ae.Status == http.StatusBadRequest:
		return &HuntingQueryError{API: api, Message: ae.Message, TooLarge: isResultTooLarge(ae.Message), Err: ae}
	}
	return err
}

// decodeHunting walks the answer object key by key and streams the rows.
// Keys are matched case-insensitively (schema/Schema, results/Results);
// others (@odata.context, XDR's Stats) are skipped. The schema may come
// before or after the results.
func decodeHunting(r io.Reader, fn func(HuntingRow) error) (*HuntingResult, error) {
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	res := &HuntingResult{}
	sawResults := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("decode: %w", err)
		}
		key, _ := tok.(string)
		switch {
		case strings.EqualFold(key, "schema"):
			if err := dec.Decode(&res.Columns); err != nil {
				return nil, fmt.Errorf("decode schema: %w", err)
			}
		case strings.EqualFold(key, "results"):
			sawResults = true
			if err := decodeRows(dec, res, fn); err != nil {
				return nil, err
			}
		default:
			if err := skipValue(dec); err != nil {
				return nil, fmt.Errorf("decode %q: %w", key, err)
			}
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if !sawResults {
		return nil, errors.New("decode: the answer has no results (nor Results) member")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("decode: data after the JSON object")
	}
	return res, nil
}

func decodeRows(dec *json.Decoder, res *HuntingResult, fn func(HuntingRow) error) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("decode results: %w", err)
	}
	if tok == nil {
		return nil // "results": null
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("decode results: want an array, got %v", tok)
	}
	row := HuntingRow{}
	for dec.More() {
		clear(row)
		if err := dec.Decode(&row); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF // the array was open
			}
			return fmt.Errorf("decode results row %d: %w", res.Rows+1, err)
		}
		res.Rows++
		if err := fn(row); err != nil {
			return &callbackError{err}
		}
	}
	if err := expectDelim(dec, ']'); err != nil {
		return fmt.Errorf("decode results: %w", err)
	}
	return nil
}
