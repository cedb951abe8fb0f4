package defender

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Limit is a call budget: at most PerMinute calls in any 60 s and PerHour
// calls in any hour. Zero means no limit for that window.
type Limit struct {
	PerMinute int
	PerHour   int
}

// DefaultBudgets are Defender's documented limits per tenant
// (https://learn.microsoft.com/defender-endpoint/api/api-terms and each
// API's page). They count every HTTP call, retries included, since Defender
// counts those too.
var DefaultBudgets = map[Family]Limit{
	FamilyMDE:       {PerMinute: 100, PerHour: 1500},
	FamilyAVInfo:    {PerMinute: 30, PerHour: 1000},
	FamilyIncidents: {PerMinute: 50, PerHour: 1500},
	FamilyHunting:   {PerMinute: 45, PerHour: 1500},
	// Graph's security service limits: about 150 requests a minute per
	// app and tenant, no hourly limit of their own
	// (https://learn.microsoft.com/graph/throttling-limits).
	FamilyGraph: {PerMinute: 150},
}

// budgets holds one sliding window per family.
type budgets struct {
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
	limits map[Family]Limit

	mu      sync.Mutex
	windows map[Family]*window
}

type window struct {
	calls     []time.Time // start times within the last hour, oldest first
	notBefore time.Time   // set by a 429's Retry-After: nobody calls before
	// deferredUntil: calls fail at once with deferredErr until then (a
	// spent hunting CPU quota; see deferFamily in hunting_quota.go).
	deferredUntil time.Time
	deferredErr   error
}

func newBudgets(limits map[Family]Limit, now func() time.Time, sleep func(context.Context, time.Duration) error) *budgets {
	merged := make(map[Family]Limit, len(DefaultBudgets)+len(limits))
	for f, l := range DefaultBudgets {
		merged[f] = l
	}
	for f, l := range limits {
		merged[f] = l
	}
	return &budgets{now: now, sleep: sleep, limits: merged, windows: map[Family]*window{}}
}

func (b *budgets) window(f Family) *window {
	w := b.windows[f]
	if w == nil {
		w = &window{}
		b.windows[f] = w
	}
	return w
}

// prune drops calls older than an hour.
func (w *window) prune(now time.Time) {
	i := 0
	for i < len(w.calls) && !w.calls[i].After(now.Add(-time.Hour)) {
		i++
	}
	if i > 0 {
		w.calls = append(w.calls[:0], w.calls[i:]...)
	}
}

func (w *window) lastMinute(now time.Time) int {
	n := 0
	for i := len(w.calls) - 1; i >= 0 && w.calls[i].After(now.Add(-time.Minute)); i-- {
		n++
	}
	return n
}

// acquire takes one call slot of family f, waiting for one when the
// context's deadline leaves time for it, and fails fast otherwise.
func (b *budgets) acquire(ctx context.Context, f Family) error {
	for {
		wait, why, err := b.tryAcquire(f)
		if err != nil || wait <= 0 {
			return err
		}
		now := b.now()
		if dl, ok := ctx.Deadline(); ok && now.Add(wait).After(dl) {
			return fmt.Errorf("%w: family %s: %s; next slot at %s (in %s), after the deadline",
				ErrBudgetExhausted, f, why, now.Add(wait).UTC().Format(time.RFC3339), wait.Round(time.Second))
		}
		if err := b.sleep(ctx, wait); err != nil {
			return fmt.Errorf("waiting for a call slot of family %s (%s): %w", f, why, err)
		}
	}
}

// tryAcquire takes a slot now, or says how long until one frees and why.
func (b *budgets) tryAcquire(f Family) (time.Duration, string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	lim := b.limits[f]
	w := b.window(f)
	w.prune(now)
	if now.Before(w.deferredUntil) {
		return 0, "", w.deferredErr
	}
	var next time.Time
	var why string
	if now.Before(w.notBefore) {
		next, why = w.notBefore, "Defender asked to retry later (429)"
	}
	if lim.PerMinute > 0 && w.lastMinute(now) >= lim.PerMinute {
		// The slot frees when the PerMinute-th most recent call leaves the window.
		t := w.calls[len(w.calls)-lim.PerMinute].Add(time.Minute)
		if t.After(next) {
			next, why = t, fmt.Sprintf("%d calls in the last minute (limit %d/min)", lim.PerMinute, lim.PerMinute)
		}
	}
	if lim.PerHour > 0 && len(w.calls) >= lim.PerHour {
		t := w.calls[len(w.calls)-lim.PerHour].Add(time.Hour)
		if t.After(next) {
			next, why = t, fmt.Sprintf("%d calls in the last hour (limit %d/h)", len(w.calls), lim.PerHour)
		}
	}
	if next.After(now) {
		return next.Sub(now), why, nil
	}
	w.calls = append(w.calls, now)
	return 0, "", nil
}

// pauseUntil makes every caller of family f wait until t (a 429's
// Retry-After), so that concurrent refreshes do not hammer a throttled API.
func (b *budgets) pauseUntil(f Family, t time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	w := b.window(f)
	if t.After(w.notBefore) {
		w.notBefore = t
	}
}

func (b *budgets) usage(f Family) (lastMinute, lastHour int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	w := b.window(f)
	w.prune(now)
	return w.lastMinute(now), len(w.calls)
}
