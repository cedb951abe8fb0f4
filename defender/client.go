// Package defender is the client of the Microsoft Defender for Endpoint,
// Defender XDR and Graph security APIs: tokens through MSAL (secret,
// certificate, federated token file, managed identity), national clouds
// and regional hosts, per-family call budgets, retries with Retry-After,
// a response size cap, host pinning of the bearer token, and listings
// streamed entity by entity across @odata.nextLink or $skip pages.
package defender

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/go-kit/log"
)

// Options configure a Client, one per tenant.
type Options struct {
	Tenant     string // the tenant label; defaults to Credential.TenantID
	Credential Credential
	// Endpoints and Scopes come from ResolveEndpoints; both zero means the
	// global cloud.
	Endpoints Endpoints
	Scopes    Scopes

	RootCAs            *x509.CertPool // nil: system roots
	InsecureSkipVerify bool

	RequestTimeout   time.Duration // per HTTP call, reading the answer included; default 60s
	MaxResponseBytes int64         // per answer; default 512 MiB
	// MaxRetries bounds the retries of one call after a 5xx, a 429 or a
	// network error; default 3, negative for none.
	MaxRetries int
	RetryBase  time.Duration // first backoff; default 1s
	RetryMax   time.Duration // backoff cap; default 30s
	// Budgets override DefaultBudgets per family; a Limit{} lifts the limit.
	Budgets map[Family]Limit

	Metrics *Metrics   // may be nil
	Logger  log.Logger // may be nil

	// Clock and Sleep drive the budgets, Retry-After and backoff; tests
	// inject fakes. Sleep must return early with ctx.Err() when ctx ends.
	Clock func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error

	// WrapTransport, when set, wraps the transport of the API requests
	// (not of the token requests). Benchmarks use it to replay recorded
	// answers from memory, so that TLS and the fake's encoding stay out of
	// a decode measurement. Host pinning and the bearer token are decided
	// before the transport, so a wrapper cannot widen where a token goes.
	WrapTransport func(http.RoundTripper) http.RoundTripper
}

const (
	defaultRequestTimeout   = 60 * time.Second
	defaultMaxResponseBytes = 512 << 20
	defaultMaxRetries       = 3
	defaultRetryBase        = time.Second
	defaultRetryMax         = 30 * time.Second
	// maxRetryAfter caps a Retry-After: a longer one is more likely a
	// mistake than a plan, and the budget pause would stall every refresh.
	maxRetryAfter = 5 * time.Minute
)

// Client talks to one tenant's Defender, XDR and Graph APIs. It is safe for
// concurrent use.
type Client struct {
	tenant     string
	bases      map[API]*url.URL
	scopes     map[API]string
	http       *http.Client
	tokens     *tokens
	budgets    *budgets
	metrics    *Metrics
	logger     log.Logger
	now        func() time.Time
	sleep      func(context.Context, time.Duration) error
	timeout    time.Duration
	maxBody    int64
	maxRetries int
	retryBase  time.Duration
	retryMax   time.Duration
	certExpiry func() time.Time // nil unless a certificate credential
	transport  *http.Transport
	conns      *connSet
}

// NewClient checks the options and builds the MSAL client. It does not
// contact Entra: the first token is fetched on first use (see Token).
func NewClient(o Options) (*Client, error) {
	if err := o.Credential.validate(); err != nil {
		return nil, &AuthError{Tenant: o.Tenant, Kind: AuthConfig, Err: err}
	}
	if o.Tenant == "" {
		o.Tenant = o.Credential.TenantID
	}
	if o.Endpoints == (Endpoints{}) && o.Scopes == (Scopes{}) {
		o.Endpoints, o.Scopes, _ = ResolveEndpoints("global", "", Endpoints{})
	}
	c := &Client{
		tenant:     o.Tenant,
		metrics:    o.Metrics,
		logger:     o.Logger,
		now:        o.Clock,
		sleep:      o.Sleep,
		timeout:    o.RequestTimeout,
		maxBody:    o.MaxResponseBytes,
		maxRetries: o.MaxRetries,
		retryBase:  o.RetryBase,
		retryMax:   o.RetryMax,
	}
	c.applyDefaults()
	c.metrics.initTenant(c.tenant)

	c.bases = map[API]*url.URL{}
	for api, base := range map[API]string{APIMDE: o.Endpoints.MDE, APIXDR: o.Endpoints.XDR, APIGraph: o.Endpoints.Graph} {
		n, err := normalizeBase(base)
		if err != nil {
			return nil, fmt.Errorf("endpoint %s: %w", api, err)
		}
		c.bases[api], _ = url.Parse(n)
	}
	authority, err := normalizeBase(o.Endpoints.Authority)
	if err != nil {
		return nil, fmt.Errorf("endpoint authority: %w", err)
	}
	c.scopes = map[API]string{APIMDE: o.Scopes.MDE, APIXDR: o.Scopes.XDR, APIGraph: o.Scopes.Graph}
	for api, s := range c.scopes {
		if s == "" {
			return nil, fmt.Errorf("no token scope for API %s", api)
		}
	}

	c.conns = &connSet{}
	c.transport = newTransport(o.RootCAs, o.InsecureSkipVerify, c.conns)
	var rt http.RoundTripper = c.transport
	if o.WrapTransport != nil {
		rt = o.WrapTransport(rt)
	}
	c.http = &http.Client{Transport: rt, CheckRedirect: noRedirects}
	endpoint := authorityEndpoint(o.Credential.TenantID)
	if o.Credential.ManagedIdentity {
		endpoint = fixedEndpoint("managed_identity")
	}
	msalHTTP := &http.Client{
		Transport:     &entraTransport{next: c.transport, metrics: c.metrics, tenant: c.tenant, endpoint: endpoint},
		CheckRedirect: noRedirects,
	}
	secrets := newSecretSet(o.Credential)
	provider, expiry, err := newTokenProvider(o.Credential, authority, msalHTTP, secrets, log.With(c.logger, "tenant", c.tenant))
	if err != nil {
		return nil, &AuthError{Tenant: c.tenant, Kind: AuthConfig, Err: errors.New(secrets.scrub(err.Error()))}
	}
	c.certExpiry = expiry
	c.tokens = &tokens{tenant: c.tenant, provider: provider, scrub: secrets.scrub, last: map[string]string{}}
	c.budgets = newBudgets(o.Budgets, c.now, c.sleep)
	return c, nil
}

func (c *Client) applyDefaults() {
	if c.logger == nil {
		c.logger = log.NewNopLogger()
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep = sleepContext
	}
	if c.timeout <= 0 {
		c.timeout = defaultRequestTimeout
	}
	if c.maxBody <= 0 {
		c.maxBody = defaultMaxResponseBytes
	}
	switch {
	case c.maxRetries == 0:
		c.maxRetries = defaultMaxRetries
	case c.maxRetries < 0:
		c.maxRetries = 0
	}
	if c.retryBase <= 0 {
		c.retryBase = defaultRetryBase
	}
	if c.retryMax <= 0 {
		c.retryMax = defaultRetryMax
	}
	if c.retryMax < c.retryBase {
		c.retryMax = c.retryBase
	}
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Tenant is the tenant label.
func (c *Client) Tenant() string { return c.tenant }

// Token checks that a token for api can be had (from the cache or from
// Entra); defender_up uses it. The error is an *AuthError.
func (c *Client) Token(ctx context.Context, api API) error {
	scope, ok := c.scopes[api]
	if !ok {
		return fmt.Errorf("unknown API %q", api)
	}
	_, err := c.token(ctx, scope, "")
	return err
}

// CertificateExpiry is the NotAfter of the client certificate's leaf, for
// certificate credentials.
func (c *Client) CertificateExpiry() (time.Time, bool) {
	if c.certExpiry == nil {
		return time.Time{}, false
	}
	return c.certExpiry(), true
}

// BudgetUsage is the number of calls of family f in the last minute and
// the last hour.
func (c *Client) BudgetUsage(f Family) (lastMinute, lastHour int) {
	return c.budgets.usage(f)
}

// Close closes the client's connections, idle or not; the client must not
// be used after (its requests fail).
func (c *Client) Close() {
	c.transport.CloseIdleConnections()
	c.conns.closeAll()
}

// Get fetches a single object (e.g. /api/exposureScore) into out, which is
// zeroed first (and left zero for a 404 when req.NotFoundIsEmpty).
func Get[T any](ctx context.Context, c *Client, req Request, out *T) error {
	if err := req.validate(); err != nil {
		return err
	}
	u := c.url(&req, req.Query)
	*out = *new(T)
	resp, err := c.send(ctx, &req, u)
	if err != nil {
		if req.NotFoundIsEmpty && IsStatus(err, http.StatusNotFound) {
			return nil
		}
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return bounded(fmt.Errorf("%s %s: decode: %w", req.method(), req.endpoint(), err))
	}
	return nil
}

// PostJSON sends in as a JSON body (advanced hunting) and decodes the answer
// into out; out may be nil to discard it.
func (c *Client) PostJSON(ctx context.Context, req Request, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("%s: encode request: %w", req.endpoint(), err)
	}
	req.Body = body
	if req.Method == "" {
		req.Method = http.MethodPost
	}
	if err := req.validate(); err != nil {
		return err
	}
	resp, err := c.send(ctx, &req, c.url(&req, req.Query))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
	} else {
		err = json.NewDecoder(resp.Body).Decode(out)
	}
	if err != nil {
		return bounded(fmt.Errorf("%s %s: decode: %w", req.method(), req.endpoint(), err))
	}
	return nil
}

// url joins the API base, the request path and a query.
func (c *Client) url(req *Request, q url.Values) *url.URL {
	u := *c.bases[req.API]
	u.Path += req.Path
	u.RawPath = ""
	u.RawQuery = encodeQuery(q)
	return &u
}
