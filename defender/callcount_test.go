package defender

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// TestCallCounterCountsRequestsByFamily: every request that leaves is
// counted under its family, retries included, token requests not, and a
// context without a counter counts nothing.
func TestCallCounterCountsRequestsByFamily(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.setAPI(pager(t, 25001, 50, func() string { return ts.URL }))
	c, _, _ := testClient(t, ts, nil)

	var cc CallCounter
	ctx := WithCallCounter(ctxTimeout(t, 30*time.Second), &cc)
	req := alertsReq
	req.PageSize = 10000
	stats, err := List(ctx, c, req, func(*struct{}) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if got := cc.Calls()[FamilyMDE]; got != stats.Pages || got != 3 {
		t.Errorf("mde calls counted = %d, want the 3 pages the listing took (%d)", got, stats.Pages)
	}
	want := Listing{Endpoint: "/api/alerts", Family: FamilyMDE, PageSize: 10000, ListStats: ListStats{Pages: 3, Items: 25001}}
	if got := cc.Listings(); len(got) != 1 || got[0] != want {
		t.Errorf("listings = %+v, want [%+v]", got, want)
	}
	if ts.tokens() == 0 {
		t.Fatal("no token was requested; the test proves nothing about token calls")
	}
	if cc.Total() != 3 {
		t.Errorf("total = %d, want 3: token requests are not Defender calls", cc.Total())
	}

	// A 500 then a success: two requests left, both count.
	var n atomic.Int32
	ts.setAPI(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			writeJSON(w, http.StatusInternalServerError, `{"error":{"code":"InternalServerError"}}`)
			return
		}
		writeJSON(w, http.StatusOK, `{"value":[]}`)
	})
	var retried CallCounter
	avinfo := Request{API: APIMDE, Family: FamilyAVInfo, Path: "/api/deviceavinfo"}
	if _, err := List(WithCallCounter(ctxTimeout(t, 30*time.Second), &retried), c, avinfo, func(*struct{}) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if got := retried.Calls(); got[FamilyAVInfo] != 2 || len(got) != 1 {
		t.Errorf("calls with one retry = %v, want map[avinfo:2]", got)
	}

	// No counter in the context: nothing to count into, nothing breaks.
	if _, err := List(context.Background(), c, avinfo, func(*struct{}) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if cc.Total() != 3 || retried.Total() != 2 {
		t.Error("a request without a counter in its context was counted")
	}
}
