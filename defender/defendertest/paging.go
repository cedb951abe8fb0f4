package defendertest

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Paging mirrors what users report of the list APIs (docs/design.md, "Paging"): $top is capped at the
// API's page size (more is a 400), a request without $top gets the default
// page and an absolute @odata.nextLink with $skip when more remain, and a
// request with $top never gets a nextLink — the client pages with $skip —
// except on XDR's incidents (apiSpec.nextLinkWithTop), which sends one.

const odataContentType = "application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8"

type pageRequest struct {
	filter string
	top    int
	hasTop bool
	skip   int
}

// queryParam finds an OData system query option regardless of case ($top,
// $Top), since Defender is lenient there.
func queryParam(q url.Values, name string) (string, bool) {
	for k, v := range q {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0], true
		}
	}
	return "", false
}

func parsePageRequest(r *http.Request, maxPage int) (pageRequest, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return pageRequest{}, filterErrorf("the query string is malformed")
	}
	var p pageRequest
	p.filter, _ = queryParam(q, "$filter")
	if s, ok := queryParam(q, "$top"); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return p, filterErrorf("invalid value '%s' for $top: a non-negative integer is required", safeForMessage(s))
		}
		if n > maxPage {
			return p, filterErrorf("the limit of '%d' for Top query has been exceeded. The value from the incoming request is '%d'", maxPage, n)
		}
		p.top, p.hasTop = n, true
	}
	if s, ok := queryParam(q, "$skip"); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return p, filterErrorf("invalid value '%s' for $skip: a non-negative integer is required", safeForMessage(s))
		}
		p.skip = n
	}
	return p, nil
}

// withSkip rewrites the raw query with $skip=n, keeping the client's other
// parameters byte for byte and the '$' unescaped, as Defender's links do.
func withSkip(rawQuery string, n int) string {
	var parts []string
	for _, part := range strings.Split(rawQuery, "&") {
		if part == "" {
			continue
		}
		k, _, _ := strings.Cut(part, "=")
		if uk, err := url.QueryUnescape(k); err == nil && strings.EqualFold(uk, "$skip") {
			continue
		}
		parts = append(parts, part)
	}
	parts = append(parts, "$skip="+strconv.Itoa(n))
	return strings.Join(parts, "&")
}

// listAPI builds an entry serving rows of T with $filter, $top and $skip.
// A page is encoded into a buffer under the dataset's read lock and written
// after it is released, so a slow client never holds up drift.
func listAPI[T any](spec apiSpec, fields filterFields[T], rows func(*Dataset) []T, enc func(*T, []byte) []byte) *apiEntry {
	serve := func(t *Tenant, w http.ResponseWriter, r *http.Request, f Fault) {
		pr, err := parsePageRequest(r, spec.maxPageSize)
		if err != nil {
			writeAPIError(w, http.StatusBadRequest, "ODataError", "Invalid OData query: "+err.Error())
			return
		}
		pred, err := compileFilter(pr.filter, fields)
		if err != nil {
			writeAPIError(w, http.StatusBadRequest, "ODataError", "Invalid filter clause: "+err.Error())
			return
		}
		size := spec.maxPageSize
		if pr.hasTop {
			size = pr.top
		} else if d := t.opts.DefaultPageSize; d > 0 && d < size {
			size = d
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
			if matched >= pr.skip {
				if emitted == size {
					more = true
					matched++
					break
				}
				buf = appendPageItem(buf, emitted, f, e, enc)
				emitted++
			}
			matched++
			if pr.hasTop && emitted == size && !spec.nextLinkWithTop {
				break // no nextLink with $top, so no need to look further
			}
		}
		t.data.mu.RUnlock()

		if spec.notFoundWhenEmpty && matched == 0 {
			writeAPIError(w, http.StatusNotFound, "NotFound", "No "+strings.ToLower(spec.contextName)+" found.")
			return
		}
		goesOn := more && (!pr.hasTop || spec.nextLinkWithTop)
		next := t.nextLink(r, f, goesOn, r.URL.Path+"?"+withSkip(r.URL.RawQuery, pr.skip+size))
		closeCollection(w, buf, next, f)
	}
	return &apiEntry{spec: spec, serve: serve}
}

// openCollection starts an OData collection answer: its context, then the
// "value" array, which the caller fills.
func openCollection(r *http.Request, contextName string) []byte {
	buf := make([]byte, 0, 64<<10)
	buf = append(buf, `{"@odata.context":`...)
	metadata := "/api/$metadata#"
	if strings.HasPrefix(strings.ToLower(r.URL.Path), "/v1.0/") {
		metadata = "/v1.0/$metadata#" // Graph's
	}
	buf = appendString(buf, base(r)+metadata+contextName)
	return append(buf, `,"value":[`...)
}

// closeCollection ends the "value" array, adds the nextLink when there is
// one, and writes the answer as the fault shapes it.
func closeCollection(w http.ResponseWriter, buf []byte, next string, f Fault) {
	buf = append(buf, ']')
	if next != "" {
		buf = append(buf, `,"@odata.nextLink":`...)
		buf = appendString(buf, next)
	}
	buf = append(buf, '}')
	w.Header().Set("OData-Version", "4.0")
	writeDistorted(w, http.StatusOK, odataContentType, buf, f)
}

// nextLink is a page's @odata.nextLink ("" for none) to rest, the path and
// query of the next page, when the listing goes on; the nextLink faults
// replace it with a loop, a link to another host, or a link after an
// empty page.
func (t *Tenant) nextLink(r *http.Request, f Fault, goesOn bool, rest string) string {
	switch {
	case f.NextLinkLoop:
		return base(r) + r.URL.RequestURI()
	case f.NextLinkOtherHost:
		return t.otherURL + rest
	case f.EmptyPageWithNextLink || goesOn:
		return base(r) + rest
	}
	return ""
}

// padFirstString inserts n bytes into the first string value of the entity
// that starts at buf[start:], making one huge field as a runaway description
// or a proxy's injected blob would.
// appendPageItem writes the page's n-th entity (0-based), shaped by the
// faults that act on page contents: none for an empty page with a
// nextLink, padding of the first entity for an enormous page.
func appendPageItem[T any](buf []byte, n int, f Fault, e *T, enc func(*T, []byte) []byte) []byte {
	if f.EmptyPageWithNextLink {
		return buf
	}
	if n > 0 {
		buf = append(buf, ',')
	}
	start := len(buf)
	buf = enc(e, buf)
	if n == 0 && f.HugePage > 0 {
		buf = padFirstString(buf, start, f.HugePage)
	}
	return buf
}

func padFirstString(buf []byte, start, n int) []byte {
	i := bytes.Index(buf[start:], []byte(`":"`))
	if i < 0 {
		return buf
	}
	at := start + i + 3
	pad := bytes.Repeat([]byte("x"), n)
	out := make([]byte, 0, len(buf)+n)
	out = append(out, buf[:at]...)
	out = append(out, pad...)
	return append(out, buf[at:]...)
}
