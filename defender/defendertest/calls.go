package defendertest

import "sync"

// callCounter counts requests per endpoint template, so tests can assert how
// many calls a refresh cost (including the ones a fault answered).
type callCounter struct {
	mu    sync.Mutex
	n     map[string]int
	bytes map[string]int // answer bytes, where counted (hunting)
}

func (c *callCounter) add(endpoint string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[endpoint]++
}

func (c *callCounter) get(endpoint string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[endpoint]
}

func (c *callCounter) addBytes(endpoint string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bytes == nil {
		c.bytes = map[string]int{}
	}
	c.bytes[endpoint] += n
}

func (c *callCounter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n, c.bytes = nil, nil
}

// Calls reports how many requests reached endpoint since New or ResetCalls.
// endpoint is an API path template ("/api/alerts", also when the request used
// the /api/v1.0/ prefix), or one of "token", "openid-configuration", "jwks",
// "instance-discovery", "managedidentity", "otherhost", "unknown".
func (t *Tenant) Calls(endpoint string) int { return t.calls.get(endpoint) }

// ResetCalls zeroes every counter.
func (t *Tenant) ResetCalls() { t.calls.reset() }

// AnswerBytes reports the body bytes of the successful answers of an
// advanced-hunting endpoint (HuntingGraphPath, ...) since New or
// ResetCalls, so tests can show what an aggregated query costs on the wire.
func (t *Tenant) AnswerBytes(endpoint string) int {
	t.calls.mu.Lock()
	defer t.calls.mu.Unlock()
	return t.calls.bytes[endpoint]
}
