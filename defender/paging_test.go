package defender

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// pager serves n items named "i0".."i{n-1}" the way the field reports say
// Defender does: with $top, pages of $top and no nextLink (the client uses
// $skip); without $top, pages of defaultPage with an absolute nextLink.
func pager(t *testing.T, n, defaultPage int, baseURL func() string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		top, _ := strconv.Atoi(q.Get("$top"))
		skip, _ := strconv.Atoi(q.Get("$skip"))
		size := top
		if size == 0 {
			size = defaultPage
		}
		var b bytes.Buffer
		b.WriteString(`{"@odata.context":"https://x/api/$metadata#Alerts","value":[`)
		end := min(skip+size, n)
		for i := skip; i < end; i++ {
			if i > skip {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"id":"i%d","name":null}`, i)
		}
		b.WriteString("]")
		if top == 0 && end < n {
			fmt.Fprintf(&b, `,"@odata.nextLink":"%s%s?$skip=%d"`, baseURL(), r.URL.Path, end)
		}
		b.WriteString("}")
		writeJSON(w, http.StatusOK, b.String())
	}
}

func TestListSkipFallbackCallCounts(t *testing.T) {
	for _, tc := range []struct {
		items, pageSize, wantCalls int
	}{
		{25001, 10000, 3},
		{20000, 10000, 3}, // the last full page needs one more (empty) call to be sure
		{9999, 10000, 1},
		{0, 10000, 1},
		{7, 3, 3},
	} {
		t.Run(fmt.Sprintf("%d_by_%d", tc.items, tc.pageSize), func(t *testing.T) {
			ts := newTestServer(t, nil)
			ts.setAPI(pager(t, tc.items, 50, func() string { return ts.URL }))
			c, _, _ := testClient(t, ts, nil)
			req := alertsReq
			req.PageSize = tc.pageSize
			seen := map[string]bool{}
			stats, err := List(context.Background(), c, req, func(it *item) error {
				if seen[it.ID] {
					t.Fatalf("item %s twice", it.ID)
				}
				seen[it.ID] = true
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if stats.Items != tc.items || len(seen) != tc.items {
				t.Errorf("items = %d (%d distinct), want %d", stats.Items, len(seen), tc.items)
			}
			if got := ts.calls("/api/alerts"); got != tc.wantCalls || stats.Pages != tc.wantCalls {
				t.Errorf("calls = %d, pages = %d, want %d", got, stats.Pages, tc.wantCalls)
			}
		})
	}
}

func TestListFollowsNextLink(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.setAPI(pager(t, 1234, 10, func() string { return ts.URL }))
	c, _, _ := testClient(t, ts, nil)
	var n int
	stats, err := List(context.Background(), c, alertsReq, func(*item) error { n++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if n != 1234 || stats.Items != 1234 || stats.Pages != 124 || ts.calls("/api/alerts") != 124 {
		t.Errorf("n %d, stats %+v, calls %d; want 1234 items over 124 pages", n, stats, ts.calls("/api/alerts"))
	}
}

// Once a listing pages by nextLink, a full last page without one ends it:
// the $skip fallback would fetch data twice.
func TestListNextLinkThenNoSkip(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.setAPI(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page") == "" {
			writeJSON(w, 200, `{"value":[{"id":"a"},{"id":"b"}],"@odata.nextLink":"`+ts.URL+`/api/alerts?page=2"}`)
			return
		}
		writeJSON(w, 200, `{"@odata.nextLink":null,"value":[{"id":"c"},{"id":"d"}]}`)
	})
	c, _, _ := testClient(t, ts, nil)
	req := alertsReq
	req.PageSize = 2
	stats, err := List(context.Background(), c, req, func(*item) error { return nil })
	if err != nil || stats.Items != 4 || stats.Pages != 2 {
		t.Errorf("stats %+v, err %v; want 4 items, 2 pages", stats, err)
	}
}

// TestListNextLinkOnly: an API that pages only by nextLink (Graph) ends
// at a full first page without one; the $skip fallback would cost a call,
// and Graph's security API refuses a large $skip.
func TestListNextLinkOnly(t *testing.T) {
	for _, nextLinkOnly := range []bool{false, true} {
		ts := newTestServer(t, nil)
		ts.setAPI(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("$skip") != "" {
				writeJSON(w, http.StatusBadRequest, `{"error":{"code":"BadRequest","message":"$skip is not supported"}}`)
				return
			}
			writeJSON(w, 200, `{"value":[{"id":"a"},{"id":"b"}]}`)
		})
		c, _, _ := testClient(t, ts, nil)
		req := alertsReq
		req.PageSize = 2
		req.NextLinkOnly = nextLinkOnly
		stats, err := List(context.Background(), c, req, func(*item) error { return nil })
		switch {
		case nextLinkOnly && (err != nil || stats.Pages != 1 || ts.calls("/api/alerts") != 1):
			t.Errorf("NextLinkOnly: stats %+v, %d calls, err %v; want 1 page, 1 call", stats, ts.calls("/api/alerts"), err)
		case !nextLinkOnly && (err == nil || ts.calls("/api/alerts") != 2):
			t.Errorf("without NextLinkOnly: %d calls, err %v; want the $skip call that this server refuses", ts.calls("/api/alerts"), err)
		}
	}
}

func TestListPageSizeParam(t *testing.T) {
	var got string
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.RawQuery
		writeJSON(w, 200, `{"value":[]}`)
	})
	c, _, _ := testClient(t, ts, nil)
	req := Request{
		API: APIMDE, Family: FamilyAVInfo, Endpoint: "/api/deviceavinfo", Path: "/api/deviceavinfo",
		PageSize: 200000, PageSizeParam: "pageSize",
		Query: map[string][]string{"$filter": {"avMode eq '0' and x gt 2026-01-01T00:00:00Z"}},
	}
	if _, err := List(context.Background(), c, req, func(*item) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if want := "$filter=avMode%20eq%20%270%27%20and%20x%20gt%202026-01-01T00%3A00%3A00Z&pageSize=200000"; got != want {
		t.Errorf("query = %s\nwant    %s", got, want)
	}
	if req.Query.Get("pageSize") != "" {
		t.Error("List changed the caller's Query")
	}
}

func TestListForeignNextLinkRefused(t *testing.T) {
	var otherSawToken atomic.Bool
	other := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			otherSawToken.Store(true)
		}
		writeJSON(w, 200, `{"value":[]}`)
	})
	for _, link := range []string{
		other.URL + "/api/alerts?$skip=1",                       // other port
		strings.Replace(other.URL, "127.0.0.1", "localhost", 1), // other host name
		"http://" + strings.TrimPrefix(other.URL, "https://"),   // other scheme
		"https://evil.example/api/alerts",
	} {
		ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, `{"value":[{"id":"a"}],"@odata.nextLink":"`+link+`"}`)
		})
		c, _, _ := testClient(t, ts, nil)
		stats, err := List(context.Background(), c, alertsReq, func(*item) error { return nil })
		if !errors.Is(err, ErrForeignNextLink) {
			t.Errorf("%s: err = %v, want ErrForeignNextLink", link, err)
			continue
		}
		if !strings.Contains(err.Error(), "/api/alerts page 1 points to") || stats.Items != 1 {
			t.Errorf("%s: err = %q, stats %+v", link, err, stats)
		}
	}
	if otherSawToken.Load() || other.calls("/api/alerts") != 0 {
		t.Error("the foreign host was called")
	}
}

func TestListRelativeNextLink(t *testing.T) {
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("p") == "" {
			writeJSON(w, 200, `{"value":[{"id":"a"}],"@odata.nextLink":"/api/alerts?p=2"}`)
			return
		}
		writeJSON(w, 200, `{"value":[{"id":"b"}]}`)
	})
	c, _, _ := testClient(t, ts, nil)
	stats, err := List(context.Background(), c, alertsReq, func(*item) error { return nil })
	if err != nil || stats.Items != 2 {
		t.Errorf("stats %+v, err %v", stats, err)
	}
}

func TestListNextLinkLoop(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.setAPI(func(w http.ResponseWriter, r *http.Request) {
		// page 1 -> 2 -> 3 -> 2
		next := map[string]string{"": "2", "2": "3", "3": "2"}[r.URL.Query().Get("p")]
		writeJSON(w, 200, `{"value":[{"id":"x"}],"@odata.nextLink":"`+ts.URL+`/api/alerts?p=`+next+`"}`)
	})
	c, _, _ := testClient(t, ts, nil)
	stats, err := List(context.Background(), c, alertsReq, func(*item) error { return nil })
	if !errors.Is(err, ErrNextLinkLoop) || !strings.Contains(err.Error(), "/api/alerts page 3 repeats") {
		t.Fatalf("err = %v, want a loop at page 3", err)
	}
	if stats.Pages != 3 || ts.calls("/api/alerts") != 3 {
		t.Errorf("pages %d, calls %d; want 3, 3", stats.Pages, ts.calls("/api/alerts"))
	}
}

func TestListEmptyPagesWithNextLink(t *testing.T) {
	for _, tc := range []struct {
		empties int
		wantErr bool
	}{{3, false}, {4, true}} {
		ts := newTestServer(t, nil)
		ts.setAPI(func(w http.ResponseWriter, r *http.Request) {
			p, _ := strconv.Atoi(r.URL.Query().Get("p"))
			switch {
			case p < tc.empties:
				writeJSON(w, 200, fmt.Sprintf(`{"value":[],"@odata.nextLink":"%s/api/alerts?p=%d"}`, ts.URL, p+1))
			default:
				writeJSON(w, 200, `{"value":[{"id":"last"}]}`)
			}
		})
		c, _, _ := testClient(t, ts, nil)
		stats, err := List(context.Background(), c, alertsReq, func(*item) error { return nil })
		if tc.wantErr {
			if err == nil || !strings.Contains(err.Error(), "4 empty pages in a row") {
				t.Errorf("%d empties: err = %v", tc.empties, err)
			}
		} else if err != nil || stats.Items != 1 {
			t.Errorf("%d empties: stats %+v, err %v", tc.empties, stats, err)
		}
	}
}

func TestListNotFoundIsEmpty(t *testing.T) {
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, `{"error":{"code":"NotFound","message":"No machines found"}}`)
	})
	c, _, _ := testClient(t, ts, nil)
	req := Request{API: APIMDE, Family: FamilyMDE, Path: "/api/machines", PageSize: 10000, NotFoundIsEmpty: true}
	stats, err := List(context.Background(), c, req, func(*item) error { t.Error("fn called"); return nil })
	if err != nil || stats.Items != 0 {
		t.Errorf("stats %+v, err %v", stats, err)
	}
	req.NotFoundIsEmpty = false
	if _, err := List(context.Background(), c, req, func(*item) error { return nil }); !IsStatus(err, 404) {
		t.Errorf("without NotFoundIsEmpty: err = %v, want 404", err)
	}
}

func TestListBodyCap(t *testing.T) {
	big := `{"value":[{"id":"` + strings.Repeat("x", 5000) + `"}]}`
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, big) })
	c, _, _ := testClient(t, ts, func(o *Options) { o.MaxResponseBytes = 1024 })
	_, err := List(context.Background(), c, alertsReq, func(*item) error { return nil })
	if !errors.Is(err, ErrResponseTooLarge) || !strings.Contains(err.Error(), "/api/alerts answered more than 1024 bytes") {
		t.Errorf("err = %v, want ErrResponseTooLarge naming the cap", err)
	}
	// Exactly at the cap is fine.
	c2, _, _ := testClient(t, ts, func(o *Options) { o.MaxResponseBytes = int64(len(big)) })
	if _, err := List(context.Background(), c2, alertsReq, func(*item) error { return nil }); err != nil {
		t.Errorf("at the cap: %v", err)
	}
}

func TestListContentType(t *testing.T) {
	for ct, ok := range map[string]bool{
		"application/json": true,
		"application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8": true,
		"application/problem+json": true,
		"text/html; charset=utf-8": false,
		"":                         false,
	} {
		ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Content-Type"] = []string{ct}
			_, _ = io.WriteString(w, `{"value":[]}`)
		})
		c, _, _ := testClient(t, ts, nil)
		_, err := List(context.Background(), c, alertsReq, func(*item) error { return nil })
		if ok && err != nil {
			t.Errorf("%q: %v", ct, err)
		}
		if !ok && (!errors.Is(err, ErrUnexpectedContentType) || !strings.Contains(err.Error(), fmt.Sprintf("got %q", ct))) {
			t.Errorf("%q: err = %v, want ErrUnexpectedContentType naming it", ct, err)
		}
		if !ok && ts.calls("/api/alerts") != 1 {
			t.Errorf("%q: retried", ct)
		}
	}
}

func TestListTruncatedAndMalformed(t *testing.T) {
	for name, tc := range map[string]struct {
		body string
		want string
	}{
		"truncated in entity":   {`{"value":[{"id":"a"},{"id":"b`, "/api/alerts page 1: value[1]: unexpected EOF"},
		"truncated after value": {`{"value":[{"id":"a"}]`, "/api/alerts page 1: unexpected EOF"},
		"truncated in array":    {`{"value":[{"id":"a"},`, "/api/alerts page 1: value[1]: unexpected EOF"},
		"not an object":         {`[1,2]`, `/api/alerts page 1: want "{", got [`},
		"value not array":       {`{"value":{"id":"a"}}`, `"value": want an array`},
		"no value":              {`{"@odata.context":"x"}`, `no "value" array`},
		"trailing garbage":      {`{"value":[]} {}`, "data after the JSON object"},
		"wrong field type":      {`{"value":[{"id":"a"},{"id":"b"},{"id":17}]}`, "/api/alerts page 1: value[2]: json: cannot unmarshal number into Go struct field item.id of type string"},
	} {
		ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, tc.body) })
		c, _, _ := testClient(t, ts, nil)
		_, err := List(context.Background(), c, alertsReq, func(*item) error { return nil })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v\nwant it to contain %q", name, err, tc.want)
		}
	}
}

func TestListCallbackError(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.setAPI(pager(t, 100, 10, func() string { return ts.URL }))
	c, _, _ := testClient(t, ts, nil)
	stop := errors.New("enough")
	stats, err := List(context.Background(), c, alertsReq, func(it *item) error {
		if it.ID == "i15" {
			return stop
		}
		return nil
	})
	if err != stop || stats.Items != 16 || ts.calls("/api/alerts") != 2 {
		t.Errorf("err %v, stats %+v, calls %d", err, stats, ts.calls("/api/alerts"))
	}
}

// A reused entity must not keep a field from the previous one when the
// next has it null or absent.
func TestListZeroesReusedEntity(t *testing.T) {
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"value":[
			{"id":"a","severity":"High","status":"New","resolvedTime":"2026-11-01T10:00:00Z","machineId":"m1"},
			{"id":"b","severity":null},
			{"id":"c","resolvedTime":null}]}`)
	})
	c, _, _ := testClient(t, ts, nil)
	var got []Alert
	var ptrs []*Alert
	_, err := List(context.Background(), c, alertsReq, func(a *Alert) error {
		got = append(got, *a)
		ptrs = append(ptrs, a)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got[1].Severity != "" || got[1].Status != "" || got[1].MachineID != "" || !got[1].ResolvedTime.IsZero() {
		t.Errorf("second alert kept old values: %+v", got[1])
	}
	if !got[2].ResolvedTime.IsZero() || got[2].ID != "c" {
		t.Errorf("third alert: %+v", got[2])
	}
	if ptrs[0] != ptrs[2] {
		t.Log("the pointer is not reused (allowed, but the zeroing test then proves less)")
	}
}

func TestGetAndPostJSON(t *testing.T) {
	var body string
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/exposureScore":
			writeJSON(w, 200, `{"time":"2026-11-26T00:00:00Z","score":42.5}`)
		case "/api/none":
			writeJSON(w, 404, `{"error":{"code":"NotFound","message":"none"}}`)
		case "/api/advancedqueries/run":
			b, _ := io.ReadAll(r.Body)
			body = r.Method + " " + r.Header.Get("Content-Type") + " " + string(b)
			writeJSON(w, 200, `{"Schema":[],"Results":[{"n":3}]}`)
		}
	})
	c, _, _ := testClient(t, ts, nil)
	var score struct {
		Score float64 `json:"score"`
	}
	score.Score = 99
	if err := Get(context.Background(), c, Request{API: APIMDE, Family: FamilyMDE, Path: "/api/exposureScore"}, &score); err != nil || score.Score != 42.5 {
		t.Errorf("score %v, err %v", score, err)
	}
	score.Score = 7
	notFound := Request{API: APIMDE, Family: FamilyMDE, Path: "/api/none", NotFoundIsEmpty: true}
	if err := Get(context.Background(), c, notFound, &score); err != nil || score.Score != 0 {
		t.Errorf("404 with NotFoundIsEmpty: score %v, err %v", score, err)
	}
	var out struct{ Results []map[string]int }
	in := map[string]string{"Query": "DeviceInfo | count"}
	if err := c.PostJSON(context.Background(), Request{API: APIMDE, Family: FamilyHunting, Path: "/api/advancedqueries/run"}, in, &out); err != nil {
		t.Fatal(err)
	}
	if body != `POST application/json {"Query":"DeviceInfo | count"}` || len(out.Results) != 1 || out.Results[0]["n"] != 3 {
		t.Errorf("body %q, out %+v", body, out)
	}
	if m, _ := c.BudgetUsage(FamilyHunting); m != 1 {
		t.Errorf("hunting usage = %d, want 1", m)
	}
}

func TestRequestValidation(t *testing.T) {
	ts := newTestServer(t, nil)
	c, _, _ := testClient(t, ts, nil)
	for _, req := range []Request{
		{API: "nope", Family: FamilyMDE, Path: "/api/alerts"},
		{API: APIMDE, Path: "/api/alerts"},
		{API: APIMDE, Family: FamilyMDE, Path: "api/alerts"},
		{API: APIMDE, Family: FamilyMDE, Path: "/api/alerts?$top=1"},
		{API: APIMDE, Family: FamilyMDE, Path: "/api/alerts", Method: "POST"},
	} {
		if _, err := List(context.Background(), c, req, func(*item) error { return nil }); err == nil {
			t.Errorf("%+v: no error", req)
		}
	}
	if ts.calls("/api/alerts") != 0 {
		t.Error("an invalid request was sent")
	}
}
