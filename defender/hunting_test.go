package defender

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func collectRows(t *testing.T, body string) (*HuntingResult, []HuntingRow, error) {
	t.Helper()
	var rows []HuntingRow
	res, err := decodeHunting(strings.NewReader(body), func(r HuntingRow) error {
		cp := HuntingRow{}
		for k, v := range r {
			cp[k] = v
		}
		rows = append(rows, cp)
		return nil
	})
	return res, rows, err
}

func TestDecodeHuntingShapes(t *testing.T) {
	for name, body := range map[string]string{
		"graph":           `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.security.huntingQueryResults","schema":[{"name":"State","type":"String"},{"name":"count_","type":"Int64"}],"results":[{"State":"Active","count_":3},{"State":"Inactive","count_":1}]}`,
		"graph Name":      `{"schema":[{"Name":"State","Type":"String"},{"Name":"count_","Type":"Int64"}],"results":[{"State":"Active","count_":3},{"State":"Inactive","count_":1}]}`,
		"mde":             `{"Schema":[{"Name":"State","Type":"String"},{"Name":"count_","Type":"Int64"}],"Results":[{"State":"Active","count_":3},{"State":"Inactive","count_":1}]}`,
		"xdr":             `{"Stats":{"ExecutionTime":0.1,"dataset_statistics":[{"table_row_count":2}]},"Schema":[{"Name":"State","Type":"String"},{"Name":"count_","Type":"Int64"}],"Results":[{"State":"Active","count_":3},{"State":"Inactive","count_":1}]}`,
		"results first":   `{"Results":[{"State":"Active","count_":3},{"State":"Inactive","count_":1}],"Schema":[{"Name":"State","Type":"String"},{"Name":"count_","Type":"Int64"}]}`,
		"with whitespace": "{\n \"schema\" : [ {\"name\":\"State\",\"type\":\"String\"}, {\"name\":\"count_\",\"type\":\"Int64\"} ],\n \"results\": [ {\"State\":\"Active\",\"count_\":3} ,{\"State\":\"Inactive\",\"count_\":1} ] }\n",
	} {
		res, rows, err := collectRows(t, body)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got := strings.Join(res.ColumnNames(), ","); got != "State,count_" || res.Columns[1].Type != "Int64" {
			t.Errorf("%s: columns %v", name, res.Columns)
		}
		if res.Rows != 2 || len(rows) != 2 || string(rows[0]["State"]) != `"Active"` || string(rows[1]["count_"]) != "1" {
			t.Errorf("%s: rows %d %v", name, res.Rows, rows)
		}
	}
}

func TestDecodeHuntingEdgeCases(t *testing.T) {
	res, rows, err := collectRows(t, `{"Schema":[{"Name":"x","Type":"String"}],"Results":null}`)
	if err != nil || res.Rows != 0 || len(rows) != 0 {
		t.Errorf("null results: %v %v %v", res, rows, err)
	}
	res, _, err = collectRows(t, `{"Results":[]}`)
	if err != nil || res.Columns != nil {
		t.Errorf("no schema: %v %v", res, err)
	}
	// A row without some column must not inherit it from the previous row
	// (the map is reused).
	_, rows, err = collectRows(t, `{"Results":[{"a":1,"b":2},{"a":3}]}`)
	if err != nil || len(rows) != 2 || rows[1]["b"] != nil {
		t.Errorf("reused row map leaked a column: %v %v", rows, err)
	}
	for name, body := range map[string]string{
		"no results":     `{"Schema":[]}`,
		"not an object":  `[]`,
		"row not object": `{"Results":[1]}`,
		"truncated":      `{"Results":[{"a":1},{"a"`,
		"results object": `{"Results":{}}`,
		"trailing data":  `{"Results":[]} {}`,
		"schema wrong":   `{"Schema":"x","Results":[]}`,
	} {
		if _, _, err := collectRows(t, body); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	stop := errors.New("stop here")
	_, err = decodeHunting(strings.NewReader(`{"Results":[{"a":1},{"a":2}]}`), func(HuntingRow) error { return stop })
	var cb *callbackError
	if !errors.As(err, &cb) || cb.err != stop {
		t.Errorf("callback error: %v", err)
	}
}

func TestHuntingQuotaClassification(t *testing.T) {
	for msg, cpu := range map[string]bool{
		"API calls quota exceeded! maximum allowed 45 per 00:01:00":   false,
		"API calls quota exceeded! maximum allowed 1500 per 01:00:00": false,
		"Rate limit is exceeded. Try again later.":                    false,
		"": false,
		"Tenant has exceeded the allocated CPU resources for advanced hunting.":                     true,
		"You have exceeded your allocated resources for advanced hunting. Try again in 15 minutes.": true,
		"Query execution quota exceeded: running time of 10 minutes per hour reached":               true,
		"Advanced hunting quota was reached":                                                        true,
	} {
		if got := huntingQuotaSpent(&APIError{Status: 429, Message: msg}); got != cpu {
			t.Errorf("%q: CPU quota = %v, want %v", msg, got, cpu)
		}
	}
	now := time.Date(2026, 1, 1, 12, 7, 30, 0, time.UTC)
	for _, c := range []struct {
		api        string
		retryAfter time.Duration
		want       time.Time
	}{
		{HuntingGraph, 0, now.Add(15 * time.Minute)},
		{HuntingXDR, 0, now.Add(15 * time.Minute)},
		{HuntingMDE, 0, now.Add(time.Hour)},
		{HuntingMDE, 90 * time.Second, now.Add(90 * time.Second)},
	} {
		if got := huntingQuotaResumes(c.api, c.retryAfter, now); !got.Equal(c.want) {
			t.Errorf("%s retry-after %s: %s, want %s", c.api, c.retryAfter, got, c.want)
		}
	}
}

// syncBuffer is a log sink safe for the client's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const huntingOK = `{"schema":[{"name":"n","type":"Int64"}],"results":[{"n":1}]}`

func TestRunHuntingRequests(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		auth, _, _ := strings.Cut(r.Header.Get("Authorization"), "/.default") // the token names its scope
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type")+" "+auth+" "+string(body))
		mu.Unlock()
		writeJSON(w, 200, huntingOK)
	})
	c, _, _ := testClient(t, ts, nil)
	ctx := ctxTimeout(t, 10*time.Second)
	if _, err := c.RunHunting(ctx, HuntingGraph, `T | count`, "P1D", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RunHunting(ctx, HuntingMDE, `T | count`, "", nil); err != nil {
		t.Fatal(err)
	}
	res, err := c.RunHunting(ctx, HuntingXDR, `T | count`, "", nil)
	if err != nil || res.Rows != 1 {
		t.Fatal(res, err)
	}
	want := []string{
		`POST /v1.0/security/runHuntingQuery application/json Bearer tok-1-https://graph.microsoft.com {"Query":"T | count","Timespan":"P1D"}`,
		`POST /api/advancedqueries/run application/json Bearer tok-2-https://api.securitycenter.microsoft.com {"Query":"T | count"}`,
		`POST /api/advancedhunting/run application/json Bearer tok-3-https://api.security.microsoft.com {"Query":"T | count"}`,
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(seen, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests\n got %s\nwant %s", strings.Join(seen, "\n"), strings.Join(want, "\n"))
	}
	if m, h := c.BudgetUsage(FamilyHunting); m != 3 || h != 3 {
		t.Errorf("hunting budget used %d/%d, want 3", m, h)
	}
}

func TestRunHuntingArguments(t *testing.T) {
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, huntingOK) })
	c, _, _ := testClient(t, ts, nil)
	ctx := ctxTimeout(t, 10*time.Second)
	for _, a := range []struct{ api, query, timespan, want string }{
		{"kusto", "T", "", `unknown API "kusto"`},
		{HuntingGraph, "  ", "", "empty query"},
		{HuntingMDE, "T", "P1D", "timespan is supported by the graph API only"},
	} {
		if _, err := c.RunHunting(ctx, a.api, a.query, a.timespan, nil); err == nil || !strings.Contains(err.Error(), a.want) {
			t.Errorf("%+v: %v", a, err)
		}
	}
	if ts.tokens() != 0 || ts.calls("/v1.0/security/runHuntingQuery")+ts.calls("/api/advancedqueries/run") != 0 {
		t.Errorf("invalid arguments reached the network")
	}
}

func TestRunHuntingCPUQuotaDefers(t *testing.T) {
	var mu sync.Mutex
	answer := 429
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		status := answer
		mu.Unlock()
		switch {
		case r.URL.Path == "/api/alerts":
			writeJSON(w, 200, `{"value":[]}`)
		case status == 429:
			writeJSON(w, 429, `{"error":{"code":"TooManyRequests","message":"Tenant has exceeded the allocated CPU resources for advanced hunting.","target":"t1"}}`)
		default:
			writeJSON(w, 200, huntingOK)
		}
	})
	logs := &syncBuffer{}
	c, clk, m := testClient(t, ts, func(o *Options) { o.Logger = log.NewLogfmtLogger(logs) })
	ctx := ctxTimeout(t, 10*time.Second)
	start := clk.Now()

	_, err := c.RunHunting(ctx, HuntingGraph, "T", "", nil)
	var d *HuntingDeferredError
	if !errors.As(err, &d) || !errors.Is(err, ErrHuntingDeferred) || !errors.Is(err, ErrThrottled) {
		t.Fatalf("got %v, want a deferral", err)
	}
	if !d.Until.Equal(start.Add(15*time.Minute)) || d.API != HuntingGraph || d.Tenant != "contoso" {
		t.Errorf("deferral %+v", d)
	}
	until := start.Add(15 * time.Minute).UTC().Format("15:04:05")
	if !strings.Contains(err.Error(), "until "+until) || !strings.Contains(err.Error(), "CPU resources") {
		t.Errorf("message %q lacks the time or Defender's words", err)
	}
	if n := ts.calls("/v1.0/security/runHuntingQuery"); n != 1 {
		t.Errorf("%d calls for a CPU-quota 429, want 1 (no retry)", n)
	}

	// Every hunting call of the tenant fails at once with the same error,
	// whatever the back end; nothing is sent, nothing more is counted.
	for _, api := range []string{HuntingGraph, HuntingMDE} {
		_, err2 := c.RunHunting(ctx, api, "T", "", nil)
		if !errors.Is(err2, ErrHuntingDeferred) || err2.Error() != err.Error() {
			t.Errorf("%s during the deferral: %v", api, err2)
		}
	}
	if n := ts.calls("/v1.0/security/runHuntingQuery") + ts.calls("/api/advancedqueries/run"); n != 1 {
		t.Errorf("%d calls reached the server during the deferral, want none after the first", n)
	}
	if got := testutil.ToFloat64(m.throttled.WithLabelValues("contoso", "graph")); got != 1 {
		t.Errorf("throttled_total %v, want 1", got)
	}
	if n := strings.Count(logs.String(), "CPU quota spent"); n != 1 {
		t.Errorf("logged %d times, want once:\n%s", n, logs)
	}
	if len(clk.Waits()) != 0 {
		t.Errorf("waited %v; a deferral must fail fast", clk.Waits())
	}

	// Other families are not affected.
	var page struct{}
	if err := Get(ctx, c, alertsReq, &page); err != nil {
		t.Errorf("alerts during a hunting deferral: %v", err)
	}

	// Once the window has passed, queries go out again.
	mu.Lock()
	answer = 200
	mu.Unlock()
	_ = clk.Sleep(ctx, 15*time.Minute)
	if _, err := c.RunHunting(ctx, HuntingGraph, "T", "", nil); err != nil {
		t.Errorf("after the window: %v", err)
	}
}

func TestRunHuntingCPUQuotaRetryAfter(t *testing.T) {
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		writeJSON(w, 429, `{"error":{"code":"TooManyRequests","message":"CPU quota exceeded"}}`)
	})
	c, clk, _ := testClient(t, ts, nil)
	_, err := c.RunHunting(ctxTimeout(t, 10*time.Second), HuntingMDE, "T", "", nil)
	var d *HuntingDeferredError
	if !errors.As(err, &d) || !d.Until.Equal(clk.Now().Add(2*time.Minute)) {
		t.Errorf("got %v, want a deferral for the Retry-After", err)
	}
}

func TestRunHuntingCallQuotaRetried(t *testing.T) {
	var mu sync.Mutex
	n := 0
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		first := n == 1
		mu.Unlock()
		if first {
			w.Header().Set("Retry-After", "2")
			writeJSON(w, 429, `{"error":{"code":"429","message":"API calls quota exceeded! maximum allowed 45 per 00:01:00","target":"t"}}`)
			return
		}
		writeJSON(w, 200, huntingOK)
	})
	c, clk, _ := testClient(t, ts, nil)
	res, err := c.RunHunting(ctxTimeout(t, 10*time.Second), HuntingGraph, "T", "", nil)
	if err != nil || res.Rows != 1 {
		t.Fatalf("call-count 429 then 200: %v %v", res, err)
	}
	if w := clk.Waits(); len(w) != 1 || w[0] != 2*time.Second {
		t.Errorf("waits %v, want the Retry-After once", w)
	}
	if _, err := c.RunHunting(ctxTimeout(t, 10*time.Second), HuntingGraph, "T", "", nil); err != nil {
		t.Errorf("a call-count 429 must not defer: %v", err)
	}
}

func TestRunHuntingBadRequest(t *testing.T) {
	var mu sync.Mutex
	body := ""
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		writeJSON(w, 400, body)
	})
	c, _, _ := testClient(t, ts, nil)
	ctx := ctxTimeout(t, 10*time.Second)
	set := func(b string) {
		mu.Lock()
		body = b
		mu.Unlock()
	}

	set(`{"error":{"code":"BadRequest","message":"'where' operator: Failed to resolve scalar expression named 'Foo'","innerError":{"request-id":"x"}}}`)
	_, err := c.RunHunting(ctx, HuntingGraph, "T | where Foo == 1", "", nil)
	var qe *HuntingQueryError
	if !errors.As(err, &qe) || !errors.Is(err, ErrHuntingQuery) || errors.Is(err, ErrHuntingTooLarge) || qe.TooLarge {
		t.Fatalf("got %v, want a query error", err)
	}
	if !strings.Contains(err.Error(), "Failed to resolve scalar expression named 'Foo'") || !IsStatus(err, 400) {
		t.Errorf("message %q", err)
	}

	set(`{"error":{"code":"BadRequest","message":"Query execution has exceeded the allowed result size. Optimize your query by limiting the number of results and try again.","target":"x"}}`)
	_, err = c.RunHunting(ctx, HuntingMDE, "T", "", nil)
	if !errors.Is(err, ErrHuntingTooLarge) || !errors.Is(err, ErrHuntingQuery) || !strings.Contains(err.Error(), "size limit") {
		t.Errorf("got %v, want result too large", err)
	}
	if n := ts.calls("/api/advancedqueries/run"); n != 1 {
		t.Errorf("a 400 was sent %d times", n)
	}
}

func TestRunHuntingCallbackErrorReturnedAsIs(t *testing.T) {
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, huntingOK) })
	c, _, _ := testClient(t, ts, nil)
	stop := errors.New("stop")
	_, err := c.RunHunting(context.Background(), HuntingGraph, "T", "", func(HuntingRow) error { return stop })
	if err != stop {
		t.Errorf("got %v, want the callback's error itself", err)
	}
}

// BenchmarkDecodeHunting100k decodes a 100,000-row answer (Defender's row
// limit) row by row; allocations stay per row, not per answer.
func BenchmarkDecodeHunting100k(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString(`{"schema":[{"name":"DeviceId","type":"String"},{"name":"count_","type":"Int64"}],"results":[`)
	for i := range 100000 {
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, `{"DeviceId":"%040d","count_":%d}`, i, i)
	}
	buf.WriteString(`]}`)
	body := buf.Bytes()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if _, err := decodeHunting(bytes.NewReader(body), func(HuntingRow) error { n++; return nil }); err != nil || n != 100000 {
			b.Fatal(n, err)
		}
	}
}
