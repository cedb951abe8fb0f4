package defender

import (
	"context"
	"sync"
)

// CallCounter counts the HTTP requests sent to Defender on behalf of one
// piece of work, by family, retries included (Defender counts those too).
// The scheduler gives each refresh its own counter, learns from it what a
// refresh costs, and plans every tenant's call budget from that. Calls to
// Entra for tokens are not counted: they are not under Defender's limits.
type CallCounter struct {
	mu       sync.Mutex
	n        map[Family]int
	listings []Listing
}

// Listing is what one completed List call cost and yielded. With Items and
// PageSize, it says whether the listing took more pages than the page-size
// limit requires.
type Listing struct {
	Endpoint string
	Family   Family
	PageSize int // asked for; 0 = the server's default
	ListStats
}

type callCounterKey struct{}

// WithCallCounter returns a context whose requests are counted in c.
func WithCallCounter(ctx context.Context, c *CallCounter) context.Context {
	return context.WithValue(ctx, callCounterKey{}, c)
}

// countCall records one request of family f, if ctx carries a counter.
func countCall(ctx context.Context, f Family) {
	if c, _ := ctx.Value(callCounterKey{}).(*CallCounter); c != nil {
		c.add(f)
	}
}

func (c *CallCounter) add(f Family) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[Family]int{}
	}
	c.n[f]++
}

// recordListing notes a completed listing, if ctx carries a counter.
func recordListing(ctx context.Context, req *Request, stats ListStats) {
	if c, _ := ctx.Value(callCounterKey{}).(*CallCounter); c != nil {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.listings = append(c.listings, Listing{Endpoint: req.endpoint(), Family: req.Family, PageSize: req.PageSize, ListStats: stats})
	}
}

// Listings returns the listings completed so far, in order.
func (c *CallCounter) Listings() []Listing {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Listing(nil), c.listings...)
}

// Calls returns a copy of the counts so far, by family; families without a
// call are absent.
func (c *CallCounter) Calls() map[Family]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[Family]int, len(c.n))
	for f, n := range c.n {
		out[f] = n
	}
	return out
}

// Total is the number of requests counted, every family together.
func (c *CallCounter) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := 0
	for _, n := range c.n {
		t += n
	}
	return t
}
