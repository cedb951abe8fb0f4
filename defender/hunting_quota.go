package defender

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Sentinel errors of advanced hunting, for errors.Is.
var (
	// ErrHuntingDeferred: the tenant's hunting CPU quota is spent, so its
	// hunting calls are not sent until the quota window has passed. The
	// error is a *HuntingDeferredError.
	ErrHuntingDeferred = errors.New("advanced hunting deferred")
	// ErrHuntingQuery: Defender rejected the query (HTTP 400): a KQL
	// syntax or semantic error, or a per-query limit. The error is a
	// *HuntingQueryError carrying Defender's message.
	ErrHuntingQuery = errors.New("advanced hunting query rejected")
	// ErrHuntingTooLarge: the result exceeded Defender's size limit (HTTP
	// 400 "...exceeded the allowed result size..."). Also matches
	// ErrHuntingQuery.
	ErrHuntingTooLarge = errors.New("advanced hunting result too large")
)

// HuntingDeferredError says that the tenant's hunting CPU quota is spent
// and until when its hunting calls fail without being sent. The 429 that
// started the deferral and every call refused after it return the same
// error, so a scheduler that logs changed errors logs it once per query.
type HuntingDeferredError struct {
	Tenant  string
	API     string    // the back end that answered 429: graph, mde or xdr
	Until   time.Time // first moment a hunting call is sent again
	Message string    // Defender's message from the 429
	Err     error     // the *APIError of that 429
}

func (e *HuntingDeferredError) Error() string {
	msg := fmt.Sprintf("advanced hunting deferred until %s: the tenant's hunting CPU quota is spent (%s API", e.Until.UTC().Format("15:04:05 UTC"), e.API)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg + "); other collectors are not affected"
}

// Is matches ErrHuntingDeferred.
func (e *HuntingDeferredError) Is(target error) bool { return target == ErrHuntingDeferred }

// Unwrap gives the 429 *APIError (so errors.Is(err, ErrThrottled) holds).
func (e *HuntingDeferredError) Unwrap() error { return e.Err }

// HuntingQueryError is a query Defender rejected with HTTP 400.
type HuntingQueryError struct {
	API      string // graph, mde or xdr
	Message  string // Defender's message, e.g. "Failed to resolve column ... named 'Foo'"
	TooLarge bool   // the result exceeded the allowed size
	Err      error  // the *APIError
}

func (e *HuntingQueryError) Error() string {
	said := e.Message
	if said == "" {
		said = e.Err.Error()
	}
	if e.TooLarge {
		return fmt.Sprintf("advanced hunting (%s API): the result exceeds Defender's size limit (100,000 rows or about 124 MB): aggregate with summarize or filter in the query: Defender said: %s", e.API, said)
	}
	return fmt.Sprintf("advanced hunting (%s API): Defender rejected the query: %s", e.API, said)
}

// Is matches ErrHuntingQuery, and ErrHuntingTooLarge for an oversized result.
func (e *HuntingQueryError) Is(target error) bool {
	return target == ErrHuntingQuery || (target == ErrHuntingTooLarge && e.TooLarge)
}

// Unwrap gives the *APIError.
func (e *HuntingQueryError) Unwrap() error { return e.Err }

// callQuotaRE matches the call-count 429 seen in the wild, "API calls quota
// exceeded! maximum allowed 45 per 00:01:00" (https://learn.microsoft.com/defender-endpoint/api/run-advanced-query-api).
var callQuotaRE = regexp.MustCompile(`(?i)api calls quota|maximum allowed \d+ per`)

// huntingQuotaSpent reports whether a hunting 429 is about the CPU
// (running-time) quota rather than the call count. Only the body tells
// (https://learn.microsoft.com/defender-xdr/advanced-hunting-limits): a call-count 429 clears within the minute and is
// retried like any 429; a CPU one lasts until the quota window ends, so
// retrying would only spend calls. Messages that name neither (an empty
// body, a gateway's "rate limit") count as call-count throttling.
func huntingQuotaSpent(e *APIError) bool {
	m := strings.ToLower(e.Message)
	if callQuotaRE.MatchString(m) {
		return false
	}
	for _, w := range []string{"cpu", "resource", "running time", "execution time", "quota"} {
		if strings.Contains(m, w) {
			return true
		}
	}
	return false
}

// Quota windows of the CPU quota (advanced-hunting-limits, as above): Graph and XDR block a
// tenant "until after the next 15-minute cycle"; MDE allots running time
// per hour.
const (
	huntingCPUWindowXDR = 15 * time.Minute
	huntingCPUWindowMDE = time.Hour
)

// huntingQuotaResumes is when hunting calls may be sent again after a CPU
// quota 429: the Retry-After if Defender sent one, else a whole window from
// now. A whole window, not the next quarter-hour on the clock, because the
// docs do not say the cycles are clock-aligned, and waiting too little would
// only earn another 429.
func huntingQuotaResumes(api string, retryAfter time.Duration, now time.Time) time.Time {
	switch {
	case retryAfter > 0:
		return now.Add(retryAfter)
	case api == HuntingMDE:
		return now.Add(huntingCPUWindowMDE)
	}
	return now.Add(huntingCPUWindowXDR)
}

// isResultTooLarge recognises "Query execution has exceeded the allowed
// result size. Optimize your query by limiting the number of results and
// try again" (https://learn.microsoft.com/defender-endpoint/api/run-advanced-query-api).
func isResultTooLarge(msg string) bool {
	return strings.Contains(strings.ToLower(msg), "allowed result size")
}

// deferFamily makes every call of family f fail at once with err until
// until, without waiting: unlike a Retry-After pause, which callers wait
// out, a spent quota lasts longer than any refresh should wait. It reports
// whether this starts a new deferral (none was in force), for logging once.
func (b *budgets) deferFamily(f Family, until time.Time, err error) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	w := b.window(f)
	fresh := !b.now().Before(w.deferredUntil)
	if until.After(w.deferredUntil) {
		w.deferredUntil, w.deferredErr = until, err
	}
	return fresh
}
