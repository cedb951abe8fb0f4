package defender

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-kit/log/level"
)

// send performs one logical call: it takes a budget slot and a token for
// every attempt, retries 5xx, 429 and network errors with backoff (honouring
// Retry-After), renews the token once after a 401, and returns a 2xx JSON
// answer whose body is capped and must be closed. Any other answer becomes
// an *APIError.
func (c *Client) send(ctx context.Context, req *Request, u *url.URL) (*http.Response, error) {
	base := c.bases[req.API]
	call := &callState{method: req.method(), endpoint: req.endpoint()}
	if !sameOrigin(u, base) {
		return nil, fmt.Errorf("%w: %s %s: %s is not %s", ErrForeignNextLink, call.method, call.endpoint, origin(u), origin(base))
	}
	for attempt := 0; ; attempt++ {
		token, err := c.prepareAttempt(ctx, req, call, attempt)
		if err != nil {
			return nil, err
		}
		resp, cancel, err := c.attempt(ctx, req, u, base, token)
		if err != nil {
			if err := c.afterTransportError(ctx, req, call, err); err != nil {
				return nil, err
			}
			continue
		}
		if resp, err := c.handleAnswer(ctx, req, call, resp, cancel, token); resp != nil || err != nil {
			return resp, err
		}
	}
}

// callState is what one logical call remembers across its attempts.
type callState struct {
	method, endpoint string
	rejected         string // a token answered with 401, to be replaced once
	refreshed        bool   // the one token renewal after a 401 is spent
	retries          int    // retries spent on 5xx, 429 and network errors
}

func (s *callState) fail(err error) error {
	return fmt.Errorf("%s %s: %w", s.method, s.endpoint, err)
}

// prepareAttempt takes a budget slot and a token for the next attempt.
func (c *Client) prepareAttempt(ctx context.Context, req *Request, call *callState, attempt int) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", call.fail(err)
	}
	if err := c.budgets.acquire(ctx, req.Family); err != nil {
		return "", call.fail(err)
	}
	token, err := c.token(ctx, c.scopes[req.API], call.rejected)
	if err != nil {
		return "", err
	}
	if attempt > 0 {
		// Counted here, not at the top of the loop: a retry that ends
		// before a request leaves (no budget, no token) was not one.
		c.metrics.retry(c.tenant, req.API)
	}
	// Every request that leaves counts against Defender's limits, a
	// retry as much as a first attempt.
	countCall(ctx, req.Family)
	return token, nil
}

// afterTransportError decides whether a call whose request got no answer
// is tried again (nil, after the backoff) or fails.
func (c *Client) afterTransportError(ctx context.Context, req *Request, call *callState, err error) error {
	if ctx.Err() != nil {
		return call.fail(ctx.Err())
	}
	err = call.fail(transportError(err, c.timeout))
	if call.retries >= c.maxRetries {
		return err
	}
	call.retries++
	return c.backoff(ctx, req, c.backoffDelay(call.retries), err)
}

// handleAnswer reads an answer's status: a 2xx answer is returned, an
// answer worth another attempt returns (nil, nil) once the wait for it is
// over, and anything else is the call's error.
func (c *Client) handleAnswer(ctx context.Context, req *Request, call *callState, resp *http.Response, cancel context.CancelFunc, token string) (*http.Response, error) {
	status := resp.StatusCode
	switch {
	case status >= 200 && status < 300:
		if err := checkJSON(resp); err != nil {
			c.discard(resp, cancel)
			return nil, call.fail(err)
		}
		resp.Body = &cappedBody{body: resp.Body, limit: c.maxBody, endpoint: call.endpoint, cancel: cancel}
		return resp, nil

	case status == http.StatusUnauthorized && !call.refreshed:
		// A cached token may have been revoked or have expired early:
		// one fresh token, one more try.
		apiErr := c.apiError(resp, cancel, call.method, call.endpoint)
		level.Debug(c.logger).Log("msg", "401 from API, renewing the token", "endpoint", call.endpoint, "err", apiErr)
		call.refreshed, call.rejected = true, token
		return nil, nil

	case status == http.StatusTooManyRequests:
		return nil, c.afterThrottle(ctx, req, call, c.apiError(resp, cancel, call.method, call.endpoint))

	case status >= 500:
		apiErr := c.apiError(resp, cancel, call.method, call.endpoint)
		if call.retries >= c.maxRetries {
			return nil, apiErr
		}
		call.retries++
		wait := c.backoffDelay(call.retries)
		if apiErr.RetryAfter > wait {
			wait = apiErr.RetryAfter
		}
		return nil, c.backoff(ctx, req, wait, apiErr)

	default: // 3xx (redirects are not followed), 4xx, a second 401
		apiErr := c.apiError(resp, cancel, call.method, call.endpoint)
		if retiredAnswer(req.API, apiErr) {
			return nil, &RetiredError{API: req.API, Err: apiErr}
		}
		return nil, apiErr
	}
}

// afterThrottle waits out a 429 (nil) or gives up on it.
func (c *Client) afterThrottle(ctx context.Context, req *Request, call *callState, apiErr *APIError) error {
	c.metrics.throttle(c.tenant, req.API)
	if req.Family == FamilyHunting && huntingQuotaSpent(apiErr) {
		// A spent CPU quota outlasts any retry; RunHunting defers the family.
		return apiErr
	}
	if call.retries >= c.maxRetries {
		return apiErr
	}
	call.retries++
	wait := apiErr.RetryAfter
	if wait <= 0 {
		wait = c.backoffDelay(call.retries)
	}
	if dl, ok := ctx.Deadline(); ok && c.now().Add(wait).After(dl) {
		return fmt.Errorf("%w; Retry-After %s does not fit before the deadline (%s left)",
			apiErr, wait, dl.Sub(c.now()).Round(time.Second))
	}
	// Every caller of this family waits, not only this one.
	c.budgets.pauseUntil(req.Family, c.now().Add(wait))
	return c.backoff(ctx, req, wait, apiErr)
}

// token gets a token under the request timeout: a hanging authority must
// not hold a refresh longer than a hanging API would.
func (c *Client) token(ctx context.Context, scope, rejected string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return c.tokens.get(ctx, scope, rejected)
}

// attempt sends one HTTP request under its own timeout. On success the
// caller owns cancel (it ends the timeout once the body is read).
func (c *Client) attempt(ctx context.Context, req *Request, u, base *url.URL, token string) (*http.Response, context.CancelFunc, error) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	hreq, err := http.NewRequestWithContext(actx, req.method(), u.String(), body)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	if err := bearer(hreq, base, token); err != nil {
		cancel()
		return nil, nil, err
	}
	hreq.Header.Set("Accept", "application/json")
	hreq.Header.Set("User-Agent", "defender_exporter")
	if req.API == APIGraph {
		// Without it Graph answers every enum member added after
		// unknownFutureValue (serviceSource microsoftDefenderForCloud,
		// incident status awaitingAction, ...) as unknownFutureValue,
		// and the counts by label would be wrong.
		hreq.Header.Set("Prefer", preferUnknownEnums)
	}
	if req.Body != nil {
		hreq.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := c.http.Do(hreq)
	if err != nil {
		c.metrics.observe(c.tenant, req.API, req.endpoint(), 0, time.Since(start))
		cancel()
		return nil, nil, err
	}
	// The duration covers reading the body: observed when it is closed.
	done := func() {
		c.metrics.observe(c.tenant, req.API, req.endpoint(), resp.StatusCode, time.Since(start))
		cancel()
	}
	return resp, done, nil
}

// preferUnknownEnums asks Graph for evolvable enum members as they are
// (https://learn.microsoft.com/graph/best-practices-concept#handling-future-members-in-evolvable-enumerations).
const preferUnknownEnums = "include-unknown-enum-members"

// transportError makes a failed exchange readable in one log line: the
// *url.Error wrapper goes, since its quoted URL repeats the endpoint with
// its whole query, and an attempt's timeout is named as such.
func transportError(err error, timeout time.Duration) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no answer within the request timeout (%s): %w", timeout, err)
	}
	return err
}

// backoff waits d before the next attempt, unless the wait would outlast
// the context: then cause is returned at once, not after a pointless wait.
func (c *Client) backoff(ctx context.Context, req *Request, d time.Duration, cause error) error {
	if dl, ok := ctx.Deadline(); ok && c.now().Add(d).After(dl) {
		return cause
	}
	level.Debug(c.logger).Log("msg", "retrying", "endpoint", req.endpoint(), "wait", d, "err", cause)
	if err := c.sleep(ctx, d); err != nil {
		return fmt.Errorf("%w (while waiting to retry: %w)", cause, err)
	}
	return nil
}

// backoffDelay is the capped exponential backoff for the n-th retry
// (n >= 1) with "equal jitter": half fixed, half random, so that tenants
// failing together do not retry together.
func (c *Client) backoffDelay(n int) time.Duration {
	d := c.retryBase
	for i := 1; i < n && d < c.retryMax; i++ {
		d *= 2
	}
	d = min(d, c.retryMax)
	half := d / 2
	return half + rand.N(d-half+1)
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date, capped at
// maxRetryAfter; 0 when absent or unreadable.
func parseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(h, 10, 64); err == nil {
		if secs < 0 {
			return 0
		}
		d = time.Duration(min(secs, int64(maxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	}
	return max(0, min(d, maxRetryAfter))
}

// apiError reads (a bounded part of) an error answer and closes it.
func (c *Client) apiError(resp *http.Response, cancel context.CancelFunc, method, endpoint string) *APIError {
	defer c.discard(resp, cancel)
	e := &APIError{
		Method:     method,
		Endpoint:   endpoint,
		Status:     resp.StatusCode,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), c.now()),
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var shape struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Target  string `json:"target"`
		} `json:"error"`
	}
	switch {
	case json.Unmarshal(body, &shape) == nil && (shape.Error.Code != "" || shape.Error.Message != ""):
		e.Code = trimMessage(shape.Error.Code)
		e.Message = trimMessage(shape.Error.Message)
		e.Target = trimMessage(shape.Error.Target)
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		if loc, err := resp.Location(); err == nil {
			// Origin and path only: a query may carry anything. The
			// target is the server's text, so it is bounded like any.
			e.Message = "redirect to " + trimMessage(origin(loc)+loc.EscapedPath()) + " not followed"
		}
	case len(bytes.TrimSpace(body)) > 0 && isTextual(resp.Header.Get("Content-Type")):
		e.Message = trimMessage(string(body))
	}
	return e
}

func isTextual(contentType string) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	return mt == "text/plain" || isJSONType(mt)
}

// discard drains a little of the body so the connection can be reused,
// then closes it.
func (c *Client) discard(resp *http.Response, cancel context.CancelFunc) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	cancel()
}

func checkJSON(resp *http.Response) error {
	ct := resp.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || !isJSONType(mt) {
		return fmt.Errorf("%w: want application/json, got %q", ErrUnexpectedContentType, trimMessage(ct))
	}
	return nil
}

func isJSONType(mt string) bool {
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// cappedBody fails a read past limit with ErrResponseTooLarge, and ends
// the attempt's timeout and records its metrics on Close.
type cappedBody struct {
	body     io.ReadCloser
	limit    int64
	read     int64
	endpoint string
	cancel   context.CancelFunc
	closed   bool
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.read >= b.limit {
		// Is there more? One byte tells.
		var one [1]byte
		n, err := b.body.Read(one[:])
		if n > 0 {
			return 0, fmt.Errorf("%w: %s answered more than %d bytes (max_response_bytes)", ErrResponseTooLarge, b.endpoint, b.limit)
		}
		return 0, err
	}
	if int64(len(p)) > b.limit-b.read {
		p = p[:b.limit-b.read]
	}
	n, err := b.body.Read(p)
	b.read += int64(n)
	return n, err
}

func (b *cappedBody) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	_, _ = io.Copy(io.Discard, io.LimitReader(b.body, 64<<10))
	err := b.body.Close()
	b.cancel()
	return err
}
