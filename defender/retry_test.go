package defender

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

type item struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"7", 7 * time.Second},
		{" 12 ", 12 * time.Second},
		{"0", 0},
		{"-3", 0},
		{"86400", maxRetryAfter},
		{"99999999999999999", maxRetryAfter},
		{"Thu, 26 Nov 2026 10:00:30 GMT", 30 * time.Second},
		{"Thu, 26 Nov 2026 09:59:00 GMT", 0}, // in the past
		{"Thu, 26 Nov 2026 12:00:00 GMT", maxRetryAfter},
		{"soon", 0},
	} {
		if got := parseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// throttleThen answers 429 with retryAfter n times, then a one-item page.
func throttleThen(n int, retryAfter string) http.HandlerFunc {
	var calls atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		if int(calls.Add(1)) <= n {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			writeJSON(w, http.StatusTooManyRequests, `{"error":{"code":"TooManyRequests","message":"Rate limit is exceeded.","target":"c0ffee"}}`)
			return
		}
		writeJSON(w, http.StatusOK, `{"value":[{"id":"a"}]}`)
	}
}

func TestRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		name       string
		retryAfter func(now time.Time) string
		check      func(t *testing.T, waits []time.Duration)
	}{
		{
			name:       "seconds",
			retryAfter: func(time.Time) string { return "17" },
			check: func(t *testing.T, waits []time.Duration) {
				if len(waits) != 2 || waits[0] != 17*time.Second || waits[1] != 17*time.Second {
					t.Errorf("waits = %v, want [17s 17s]", waits)
				}
			},
		},
		{
			name: "HTTP date",
			retryAfter: func(now time.Time) string {
				return now.Add(42 * time.Second).UTC().Format(http.TimeFormat)
			},
			check: func(t *testing.T, waits []time.Duration) {
				// The date has a one-second resolution. After the first wait the
				// date is past: the second 429 falls back to the backoff.
				if len(waits) != 2 || waits[0] < 40*time.Second || waits[0] > 42*time.Second || waits[1] > 20*time.Millisecond {
					t.Errorf("waits = %v, want [about 42s, a backoff of at most 20ms]", waits)
				}
			},
		},
		{
			name:       "missing: backoff",
			retryAfter: func(time.Time) string { return "" },
			check: func(t *testing.T, waits []time.Duration) {
				// RetryBase 10ms, RetryMax 80ms, equal jitter.
				if len(waits) != 2 || waits[0] < 5*time.Millisecond || waits[0] > 10*time.Millisecond ||
					waits[1] < 10*time.Millisecond || waits[1] > 20*time.Millisecond {
					t.Errorf("waits = %v, want [5ms..10ms 10ms..20ms]", waits)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, nil)
			c, clk, m := testClient(t, ts, nil)
			ts.setAPI(throttleThen(2, tc.retryAfter(clk.Now())))
			stats, err := List(context.Background(), c, alertsReq, func(*item) error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			if stats.Items != 1 || ts.calls("/api/alerts") != 3 {
				t.Errorf("items %d, calls %d; want 1, 3", stats.Items, ts.calls("/api/alerts"))
			}
			tc.check(t, clk.Waits())
			if got := testutil.ToFloat64(m.throttled.WithLabelValues("contoso", "mde")); got != 2 {
				t.Errorf("throttled_total = %v, want 2", got)
			}
			if got := testutil.ToFloat64(m.retries.WithLabelValues("contoso", "mde")); got != 2 {
				t.Errorf("retries_total = %v, want 2", got)
			}
			if got := testutil.ToFloat64(m.requests.WithLabelValues("contoso", "mde", "/api/alerts", "429")); got != 2 {
				t.Errorf(`requests_total{code="429"} = %v, want 2`, got)
			}
		})
	}
}

func TestRetryAfterBeyondDeadlineFailsNow(t *testing.T) {
	ts := newTestServer(t, throttleThen(1, "120"))
	c, clk, _ := testClient(t, ts, func(o *Options) { o.Clock = time.Now })
	ctx := ctxTimeout(t, 30*time.Second)
	_, err := List(ctx, c, alertsReq, func(*item) error { return nil })
	if !errors.Is(err, ErrThrottled) {
		t.Fatalf("err = %v, want ErrThrottled", err)
	}
	for _, want := range []string{"GET /api/alerts: HTTP 429", "Rate limit is exceeded.", "Retry-After 2m0s does not fit before the deadline"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %q, want it to contain %q", err, want)
		}
	}
	if len(clk.Waits()) != 0 || ts.calls("/api/alerts") != 1 {
		t.Errorf("waited %v over %d calls; want no wait, 1 call", clk.Waits(), ts.calls("/api/alerts"))
	}
}

func TestThrottledRetriesRunOut(t *testing.T) {
	ts := newTestServer(t, throttleThen(100, "1"))
	c, _, _ := testClient(t, ts, func(o *Options) { o.MaxRetries = 2 })
	_, err := List(context.Background(), c, alertsReq, func(*item) error { return nil })
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 429 || ae.Code != "TooManyRequests" || ae.Target != "c0ffee" {
		t.Fatalf("err = %#v, want a 429 APIError", err)
	}
	if n := ts.calls("/api/alerts"); n != 3 {
		t.Errorf("calls = %d, want 3 (1 + MaxRetries 2)", n)
	}
}

func TestThrottlePausesTheFamily(t *testing.T) {
	ts := newTestServer(t, throttleThen(1, "30"))
	c, clk, _ := testClient(t, ts, nil)
	if _, err := List(context.Background(), c, alertsReq, func(*item) error { return nil }); err != nil {
		t.Fatal(err)
	}
	// A 429 sets a pause for the family: another caller now would wait it out.
	start := clk.Now()
	c.budgets.pauseUntil(FamilyMDE, start.Add(10*time.Second))
	if err := c.budgets.acquire(context.Background(), FamilyMDE); err != nil {
		t.Fatal(err)
	}
	if w := clk.Waits(); w[len(w)-1] != 10*time.Second {
		t.Errorf("waits = %v, want the last to be 10s", w)
	}
}

func TestServerErrorsRetriedThenFail(t *testing.T) {
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusInternalServerError, `{"error":{"code":"InternalServerError","message":"oops"}}`)
	})
	c, clk, m := testClient(t, ts, func(o *Options) { o.MaxRetries = 4 })
	_, err := List(context.Background(), c, alertsReq, func(*item) error { return nil })
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 500 {
		t.Fatalf("err = %v, want a 500 APIError", err)
	}
	if want := "GET /api/alerts: HTTP 500 Internal Server Error: InternalServerError: oops"; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
	if n := ts.calls("/api/alerts"); n != 5 {
		t.Errorf("calls = %d, want 5", n)
	}
	waits := clk.Waits()
	if len(waits) != 4 {
		t.Fatalf("waits = %v, want 4", waits)
	}
	// Exponential, capped at RetryMax (80ms), with jitter in [d/2, d].
	for i, d := range []time.Duration{10, 20, 40, 80} {
		d *= time.Millisecond
		if waits[i] < d/2 || waits[i] > d {
			t.Errorf("wait %d = %s, want within [%s, %s]", i, waits[i], d/2, d)
		}
	}
	if got := testutil.ToFloat64(m.retries.WithLabelValues("contoso", "mde")); got != 4 {
		t.Errorf("retries_total = %v, want 4", got)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("contoso", "mde", "/api/alerts", "500")); got != 5 {
		t.Errorf("requests_total{code=500} = %v, want 5", got)
	}
}

func TestBackoffDelayCapped(t *testing.T) {
	c := &Client{retryBase: time.Second, retryMax: 30 * time.Second}
	for n := 1; n < 80; n++ {
		if d := c.backoffDelay(n); d < 500*time.Millisecond || d > 30*time.Second {
			t.Fatalf("backoffDelay(%d) = %s", n, d)
		}
	}
	if d := c.backoffDelay(60); d < 15*time.Second {
		t.Errorf("backoffDelay(60) = %s, want the capped range [15s, 30s]", d)
	}
}

func TestNetworkResetRetried(t *testing.T) {
	var calls atomic.Int32
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				_ = conn.Close() // no answer at all
			}
			return
		}
		writeJSON(w, http.StatusOK, `{"value":[{"id":"a"},{"id":"b"}]}`)
	})
	c, clk, m := testClient(t, ts, nil)
	stats, err := List(context.Background(), c, alertsReq, func(*item) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if stats.Items != 2 || calls.Load() != 3 || len(clk.Waits()) != 2 {
		t.Errorf("items %d, calls %d, waits %v; want 2, 3, 2 waits", stats.Items, calls.Load(), clk.Waits())
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("contoso", "mde", "/api/alerts", "error")); got != 2 {
		t.Errorf(`requests_total{code="error"} = %v, want 2`, got)
	}
}

func TestAttemptTimeoutRetried(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			select { // hang until the client gives up on this attempt
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		writeJSON(w, http.StatusOK, `{"value":[]}`)
	})
	c, _, _ := testClient(t, ts, func(o *Options) { o.RequestTimeout = 200 * time.Millisecond })
	if _, err := List(context.Background(), c, alertsReq, func(*item) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 {
		t.Errorf("calls = %d, want 2", calls.Load())
	}
}

func TestClientErrorsNotRetried(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		want   string
	}{
		{400, `{"error":{"code":"ODataError","message":"Invalid filter clause: Could not find a property named 'foo'.","target":"43f4cb08-8fac-4b65-9db1-745c2ae65f3a"}}`,
			"GET /api/alerts: HTTP 400 Bad Request: ODataError: Invalid filter clause: Could not find a property named 'foo'. (target 43f4cb08-8fac-4b65-9db1-745c2ae65f3a)"},
		{403, `{"error":{"code":"Forbidden","message":"The application does not have any of the required application permissions (Alert.Read.All) to access the resource."}}`,
			"GET /api/alerts: HTTP 403 Forbidden: The application does not have any of the required application permissions (Alert.Read.All) to access the resource."},
		{404, `{"error":{"code":"ResourceNotFound","message":"Resource alerts wasn't found."}}`,
			"GET /api/alerts: HTTP 404 Not Found: ResourceNotFound: Resource alerts wasn't found."},
		{405, `<html>no</html>`, "GET /api/alerts: HTTP 405 Method Not Allowed"},
		{400, `{"error":{"code":"BadRequest","message":"` + strings.Repeat("x", 1000) + `"}}`, "GET /api/alerts: HTTP 400 Bad Request: BadRequest: " + strings.Repeat("x", 300) + "…"},
	} {
		ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(tc.body, "<") {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
				return
			}
			writeJSON(w, tc.status, tc.body)
		})
		c, clk, _ := testClient(t, ts, nil)
		_, err := List(context.Background(), c, alertsReq, func(*item) error { return nil })
		if !IsStatus(err, tc.status) || err.Error() != tc.want {
			t.Errorf("status %d: err = %q\nwant %q", tc.status, err, tc.want)
		}
		if n := ts.calls("/api/alerts"); n != 1 || len(clk.Waits()) != 0 {
			t.Errorf("status %d: %d calls, waits %v; want 1 call, no wait", tc.status, n, clk.Waits())
		}
	}
}

func TestUnauthorizedRefreshesTokenOnce(t *testing.T) {
	var seen []string
	ts := newTestServer(t, nil)
	ts.setAPI(func(w http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		seen = append(seen, tok)
		if len(seen) == 1 {
			writeJSON(w, http.StatusUnauthorized, `{"error":{"code":"Unauthorized","message":"expired"}}`)
			return
		}
		writeJSON(w, http.StatusOK, `{"value":[{"id":"a"}]}`)
	})
	c, clk, _ := testClient(t, ts, nil)
	if _, err := List(context.Background(), c, alertsReq, func(*item) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || seen[0] == seen[1] {
		t.Errorf("tokens seen = %v, want two different", seen)
	}
	if ts.tokens() != 2 || len(clk.Waits()) != 0 {
		t.Errorf("token calls %d, waits %v; want 2 and none", ts.tokens(), clk.Waits())
	}
}

func TestUnauthorizedTwiceFails(t *testing.T) {
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusUnauthorized, `{"error":{"code":"Unauthorized","message":"Unauthorized"}}`)
	})
	c, _, _ := testClient(t, ts, nil)
	_, err := List(context.Background(), c, alertsReq, func(*item) error { return nil })
	if !IsStatus(err, 401) {
		t.Fatalf("err = %v, want 401", err)
	}
	if n, tk := ts.calls("/api/alerts"), ts.tokens(); n != 2 || tk != 2 {
		t.Errorf("API calls %d, token calls %d; want 2 and 2", n, tk)
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	other := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the redirect target was called, Authorization %q", r.Header.Get("Authorization"))
	})
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/api/alerts?code=abc", http.StatusFound)
	})
	c, _, _ := testClient(t, ts, nil)
	_, err := List(context.Background(), c, alertsReq, func(*item) error { return nil })
	if !IsStatus(err, http.StatusFound) || !strings.Contains(err.Error(), "redirect to "+other.URL+"/api/alerts not followed") || strings.Contains(err.Error(), "code=abc") {
		t.Errorf("err = %v, want a 302 naming the target without its query", err)
	}
}

func TestContextEndsRetries(t *testing.T) {
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusServiceUnavailable, `{}`)
	})
	ctx, cancel := context.WithCancel(context.Background())
	c, _, _ := testClient(t, ts, func(o *Options) {
		o.MaxRetries = 10
		o.Sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
	})
	_, err := List(ctx, c, alertsReq, func(*item) error { return nil })
	if !errors.Is(err, context.Canceled) || !IsStatus(err, 503) {
		t.Errorf("err = %v, want the 503 and context.Canceled", err)
	}
	if n := ts.calls("/api/alerts"); n != 1 {
		t.Errorf("calls = %d, want 1", n)
	}
}

// Renewing one API's rejected token must not throw away the tokens of the
// other APIs: a 401 from the MDE API costs one token call, not one per API.
func TestUnauthorizedKeepsOtherAPIsTokens(t *testing.T) {
	rejectOnce := true
	ts := newTestServer(t, nil)
	ts.setAPI(func(w http.ResponseWriter, r *http.Request) {
		if rejectOnce {
			rejectOnce = false
			writeJSON(w, http.StatusUnauthorized, `{"error":{"code":"Unauthorized","message":"expired"}}`)
			return
		}
		writeJSON(w, http.StatusOK, `{"value":[]}`)
	})
	c, _, _ := testClient(t, ts, nil)
	if err := c.Token(context.Background(), APIXDR); err != nil {
		t.Fatal(err)
	}
	if _, err := List(context.Background(), c, alertsReq, func(*item) error { return nil }); err != nil {
		t.Fatal(err)
	}
	before := ts.tokens() // XDR, MDE, MDE renewed
	if before != 3 {
		t.Fatalf("token calls = %d, want 3", before)
	}
	if err := c.Token(context.Background(), APIXDR); err != nil {
		t.Fatal(err)
	}
	if err := c.Token(context.Background(), APIMDE); err != nil {
		t.Fatal(err)
	}
	if n := ts.tokens(); n != before {
		t.Errorf("token calls after the renewal = %d, want %d (both tokens still cached)", n, before)
	}
}
