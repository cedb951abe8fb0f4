package defender

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// newTransport returns the transport shared by the API client and MSAL:
// the default proxy and timeouts, and a TLS configuration that trusts
// rootCAs (nil: the system roots). Its connections are registered in
// conns, so that Client.Close can end them all.
func newTransport(rootCAs *x509.CertPool, insecure bool, conns *connSet) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = conns.dial(t.DialContext)
	t.TLSClientConfig = &tls.Config{
		MinVersion: tls.VersionTLS12,
		RootCAs:    rootCAs,
		// Only for a lab behind an intercepting proxy; config validation warns.
		InsecureSkipVerify: insecure, //nolint:gosec
	}
	t.MaxIdleConnsPerHost = 4
	t.ResponseHeaderTimeout = 0 // the per-request context bounds the wait
	return t
}

// noRedirects refuses every redirect: the client never has a reason to
// follow one, and following one could carry a bearer token or a client
// assertion to a host it was not meant for. The 3xx answer itself is
// returned and reported as an error by the caller.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// origin is scheme://host:port with the default port made explicit and
// the host lower-cased, for comparing where a token may go.
func origin(u *url.URL) string {
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	scheme := strings.ToLower(u.Scheme)
	if port == "" {
		switch scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

func sameOrigin(a, b *url.URL) bool { return origin(a) == origin(b) }

// entraTransport instruments the requests MSAL makes (api="entra").
// endpoint maps a request to a low-cardinality template.
type entraTransport struct {
	next     http.RoundTripper
	metrics  *Metrics
	tenant   string
	endpoint func(*http.Request) string
}

// maxEntraBody caps an answer of the authority (discovery, token, managed
// identity): they are a few KB, and MSAL reads them whole, without a limit
// of its own.
const maxEntraBody = 1 << 20

func (t *entraTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	code := 0
	if err == nil {
		code = resp.StatusCode
		resp.Body = &cappedBody{body: resp.Body, limit: maxEntraBody, endpoint: t.endpoint(req), cancel: func() {}}
	}
	// MSAL reads these small bodies at once; time to headers is the cost.
	t.metrics.observe(t.tenant, APIEntra, t.endpoint(req), code, time.Since(start))
	return resp, err
}

// authorityEndpoint is the template of a request MSAL sends to the
// authority: the tenant id becomes {tenant}; paths MSAL is not known to use
// become "other", so that an unexpected path cannot grow the label set.
func authorityEndpoint(tenantID string) func(*http.Request) string {
	known := map[string]bool{
		"/{tenant}/oauth2/v2.0/token":                     true,
		"/{tenant}/v2.0/.well-known/openid-configuration": true,
		"/common/discovery/instance":                      true,
	}
	return func(req *http.Request) string {
		parts := strings.Split(req.URL.Path, "/")
		if len(parts) > 1 && tenantID != "" && strings.EqualFold(parts[1], tenantID) {
			parts[1] = "{tenant}"
		}
		p := strings.Join(parts, "/")
		if known[p] {
			return p
		}
		return "other"
	}
}

func fixedEndpoint(name string) func(*http.Request) string {
	return func(*http.Request) string { return name }
}

// bearer sets the Authorization header, after checking once more that the
// request goes to the API's configured origin: the last line of defence
// against a token leaving for another host.
func bearer(req *http.Request, base *url.URL, token string) error {
	if !sameOrigin(req.URL, base) {
		return fmt.Errorf("%w: refusing to send a token to %s (configured %s)", ErrForeignNextLink, origin(req.URL), origin(base))
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return nil
}

// errClientClosed: a request on a client after Close.
var errClientClosed = errors.New("defender client closed")

// connSet tracks the open connections of one client. Close on a client
// dropped by a reload must release them all, but
// http.Transport.CloseIdleConnections misses a connection whose request was
// cancelled a moment before (HTTP/2 forgets the stream asynchronously),
// which would then stay open until the idle timeout, reload after reload.
type connSet struct {
	mu     sync.Mutex
	open   map[*trackedConn]struct{}
	closed bool
}

type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

func (s *connSet) dial(next dialFunc) dialFunc {
	if next == nil {
		next = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := next(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		tc := &trackedConn{Conn: c, set: s}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed {
			c.Close()
			return nil, errClientClosed
		}
		if s.open == nil {
			s.open = map[*trackedConn]struct{}{}
		}
		s.open[tc] = struct{}{}
		return tc, nil
	}
}

// closeAll closes every open connection and refuses new ones.
func (s *connSet) closeAll() {
	s.mu.Lock()
	open := s.open
	s.open, s.closed = nil, true
	s.mu.Unlock()
	for c := range open {
		c.Conn.Close()
	}
}

type trackedConn struct {
	net.Conn
	set *connSet
}

func (c *trackedConn) Close() error {
	c.set.mu.Lock()
	delete(c.set.open, c)
	c.set.mu.Unlock()
	return c.Conn.Close()
}
