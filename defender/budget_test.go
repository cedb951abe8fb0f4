package defender

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestBudgetMinuteWindowWaits(t *testing.T) {
	clk := newFakeClock()
	b := newBudgets(map[Family]Limit{FamilyMDE: {PerMinute: 3, PerHour: 100}}, clk.Now, clk.Sleep)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if err := b.acquire(ctx, FamilyMDE); err != nil {
			t.Fatal(err)
		}
		clk.Sleep(ctx, 10*time.Second) // calls at 0s, 10s, 20s
	}
	// now = 30s: the 4th call waits until the first leaves the window (60s).
	if err := b.acquire(ctx, FamilyMDE); err != nil {
		t.Fatal(err)
	}
	waits := clk.Waits()
	if got := waits[len(waits)-1]; got != 30*time.Second {
		t.Errorf("waited %s, want 30s", got)
	}
	if m, h := b.usage(FamilyMDE); m != 3 || h != 4 {
		t.Errorf("usage = %d/min %d/h, want 3 and 4", m, h)
	}
	// Other families have their own window.
	if err := b.acquire(ctx, FamilyHunting); err != nil {
		t.Fatal(err)
	}
	if len(clk.Waits()) != len(waits) {
		t.Error("hunting waited for mde's window")
	}
}

func TestBudgetFailsFastBeforeDeadline(t *testing.T) {
	clk := newFakeClock()
	b := newBudgets(map[Family]Limit{FamilyAVInfo: {PerMinute: 2}}, clk.Now, clk.Sleep)
	ctx, cancel := context.WithDeadline(context.Background(), clk.Now().Add(20*time.Second))
	defer cancel()
	for i := 0; i < 2; i++ {
		if err := b.acquire(ctx, FamilyAVInfo); err != nil {
			t.Fatal(err)
		}
	}
	err := b.acquire(ctx, FamilyAVInfo)
	if !errors.Is(err, ErrBudgetExhausted) {
		t.Fatalf("err = %v, want ErrBudgetExhausted", err)
	}
	for _, want := range []string{"family avinfo", "2 calls in the last minute (limit 2/min)", "next slot at", "(in 1m0s)", "after the deadline"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %q, want it to contain %q", err, want)
		}
	}
	if len(clk.Waits()) != 0 {
		t.Errorf("waited %v before failing", clk.Waits())
	}
}

func TestBudgetHourWindow(t *testing.T) {
	clk := newFakeClock()
	b := newBudgets(map[Family]Limit{FamilyIncidents: {PerMinute: 50, PerHour: 4}}, clk.Now, clk.Sleep)
	ctx := context.Background()
	for i := 0; i < 4; i++ {
		if err := b.acquire(ctx, FamilyIncidents); err != nil {
			t.Fatal(err)
		}
		clk.Sleep(ctx, time.Minute)
	}
	// 4 calls at 0..3 min; now = 4 min: the next slot is at 60 min.
	if err := b.acquire(ctx, FamilyIncidents); err != nil {
		t.Fatal(err)
	}
	waits := clk.Waits()
	if got := waits[len(waits)-1]; got != 56*time.Minute {
		t.Errorf("waited %s, want 56m", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := b.acquire(ctx, FamilyIncidents); err == nil || !strings.Contains(err.Error(), "4 calls in the last hour (limit 4/h)") {
		t.Errorf("err = %v, want the hour limit named", err)
	}
}

func TestBudgetDefaultsAndUnlimited(t *testing.T) {
	clk := newFakeClock()
	b := newBudgets(map[Family]Limit{FamilyHunting: {}}, clk.Now, clk.Sleep)
	if b.limits[FamilyMDE] != (Limit{100, 1500}) || b.limits[FamilyAVInfo] != (Limit{30, 1000}) ||
		b.limits[FamilyIncidents] != (Limit{50, 1500}) {
		t.Errorf("defaults = %v", b.limits)
	}
	for i := 0; i < 500; i++ {
		if err := b.acquire(context.Background(), FamilyHunting); err != nil {
			t.Fatal(err)
		}
	}
	if len(clk.Waits()) != 0 {
		t.Error("an unlimited family waited")
	}
}

// The client spends one slot per HTTP call, retries included, and says so
// through BudgetUsage.
func TestClientBudgetCountsEveryCall(t *testing.T) {
	calls := 0
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			writeJSON(w, 503, `{}`)
			return
		}
		writeJSON(w, 200, `{"value":[]}`)
	})
	c, _, _ := testClient(t, ts, func(o *Options) { o.Budgets = map[Family]Limit{FamilyMDE: {PerMinute: 2}} })
	if _, err := List(context.Background(), c, alertsReq, func(*item) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if m, h := c.BudgetUsage(FamilyMDE); m != 2 || h != 2 {
		t.Errorf("usage = %d, %d; want 2, 2", m, h)
	}
	ctx := ctxTimeout(t, 5*time.Second)
	_, err := List(ctx, c, alertsReq, func(*item) error { return nil })
	if !errors.Is(err, ErrBudgetExhausted) || !strings.HasPrefix(err.Error(), "GET /api/alerts: call budget exhausted: family mde") {
		t.Errorf("err = %v, want the budget error naming the endpoint", err)
	}
	if calls != 2 {
		t.Errorf("calls = %d, want 2", calls)
	}
}
