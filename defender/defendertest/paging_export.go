package defendertest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// exportPaging is how the export-style APIs page (https://learn.microsoft.com/defender-endpoint/api/device-health-export-antivirus-health-report-api):
// `pageSize` rows per answer (up to maxPageSize, default defaultPageSize)
// and an @odata.nextLink carrying an opaque $skiptoken while more remain.
// `$top` (up to apiSpec.maxPageSize) gives one page without a nextLink, as
// the docs warn; `$skip` is honoured.
type exportPaging struct {
	maxPageSize     int
	defaultPageSize int
}

// exportToken is the decoded $skiptoken, shaped like the one in the docs'
// example link (ExportDefinition, ExportFileIndex, LineStoppedAt). Filter
// ties it to the $filter it was issued for.
type exportToken struct {
	ExportDefinition struct {
		TimePath string `json:"TimePath"`
		Filter   string `json:"Filter"`
	} `json:"ExportDefinition"`
	ExportFileIndex int `json:"ExportFileIndex"`
	LineStoppedAt   int `json:"LineStoppedAt"`
}

func filterHash(filter string) string {
	return strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(filter))), 16)
}

func encodeExportToken(tok exportToken) string {
	b, _ := json.Marshal(tok) // a struct of strings and ints always marshals
	return base64.StdEncoding.EncodeToString(b)
}

func decodeExportToken(s, filter string) (exportToken, error) {
	var tok exportToken
	raw, err := base64.StdEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(raw, &tok)
	}
	if err != nil || tok.LineStoppedAt < 0 {
		return tok, filterErrorf("the $skiptoken is not valid")
	}
	if tok.ExportDefinition.Filter != filterHash(filter) {
		return tok, filterErrorf("the $skiptoken belongs to another query")
	}
	return tok, nil
}

type exportRequest struct {
	filter string
	size   int
	hasTop bool
	start  int // first matching row to serve
	token  exportToken
}

func parseExportRequest(r *http.Request, spec apiSpec, ep exportPaging, defaultSize int) (exportRequest, error) {
	pr, err := parsePageRequest(r, spec.maxPageSize)
	if err != nil {
		return exportRequest{}, err
	}
	q, _ := url.ParseQuery(r.URL.RawQuery) // parsePageRequest checked it
	er := exportRequest{filter: pr.filter, size: defaultSize, start: pr.skip}
	er.token.ExportDefinition.Filter = filterHash(pr.filter)
	if s, ok := queryParam(q, "pageSize"); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > ep.maxPageSize {
			return er, filterErrorf("pageSize must be an integer between 1 and %d, got '%s'", ep.maxPageSize, safeForMessage(s))
		}
		er.size = n
	}
	if pr.hasTop {
		er.size, er.hasTop = pr.top, true
	}
	if s, ok := queryParam(q, "$skiptoken"); ok {
		tok, err := decodeExportToken(s, pr.filter)
		if err != nil {
			return er, err
		}
		er.token, er.start = tok, tok.LineStoppedAt
	}
	return er, nil
}

// withSkipToken rewrites the raw query with a new $skiptoken, dropping $skip
// (the token's position is absolute) and keeping the rest byte for byte.
func withSkipToken(rawQuery, token string) string {
	var parts []string
	for _, part := range strings.Split(rawQuery, "&") {
		if part == "" {
			continue
		}
		k, _, _ := strings.Cut(part, "=")
		if uk, err := url.QueryUnescape(k); err == nil && (strings.EqualFold(uk, "$skip") || strings.EqualFold(uk, "$skiptoken")) {
			continue
		}
		parts = append(parts, part)
	}
	parts = append(parts, "$skiptoken="+url.QueryEscape(token))
	return strings.Join(parts, "&")
}

// exportListAPI builds an entry serving rows of T with export paging.
func exportListAPI[T any](spec apiSpec, ep exportPaging, fields filterFields[T], rows func(*Dataset) []T, enc func(*T, []byte) []byte) *apiEntry {
	serve := func(t *Tenant, w http.ResponseWriter, r *http.Request, f Fault) {
		def := ep.defaultPageSize
		if d := t.opts.DefaultPageSize; d > 0 && d < def {
			def = d
		}
		er, err := parseExportRequest(r, spec, ep, def)
		if err != nil {
			writeAPIError(w, http.StatusBadRequest, "ODataError", "Invalid OData query: "+err.Error())
			return
		}
		pred, err := compileFilter(er.filter, fields)
		if err != nil {
			writeAPIError(w, http.StatusBadRequest, "ODataError", "Invalid filter clause: "+err.Error())
			return
		}

		buf := openCollection(r, spec.contextName)
		matched, emitted, more := 0, 0, false
		t.data.mu.RLock()
		list := rows(t.data)
		for i := range list {
			e := &list[i]
			if !pred(e) {
				continue
			}
			matched++
			if matched <= er.start {
				continue
			}
			if emitted == er.size {
				more = true
				break
			}
			buf = appendPageItem(buf, emitted, f, e, enc)
			emitted++
		}
		t.data.mu.RUnlock()

		tok := er.token
		tok.ExportDefinition.TimePath = fmt.Sprintf("%s/%s/", t.data.Now.Format("2006-01-02"), t.data.Now.Format("1504"))
		tok.LineStoppedAt = er.start + emitted
		if f.EmptyPageWithNextLink {
			// Nothing was served: the next link starts at the same row, in
			// the "next export file".
			tok.LineStoppedAt = er.start
			tok.ExportFileIndex++
		}
		next := t.nextLink(r, f, more && !er.hasTop, r.URL.Path+"?"+withSkipToken(r.URL.RawQuery, encodeExportToken(tok)))
		closeCollection(w, buf, next, f)
	}
	return &apiEntry{spec: spec, serve: serve}
}
