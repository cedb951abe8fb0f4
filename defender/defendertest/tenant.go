// Package defendertest is a fake Microsoft Defender tenant for tests,
// benchmarks and the exporter's --demo mode: one HTTPS listener with its own
// CA serves an Entra-like authority (OpenID discovery, the v2.0 token endpoint,
// an App Service managed-identity endpoint) and the Defender for Endpoint,
// Defender XDR and Graph APIs over deterministic generated data, with
// switches for the faults a real tenant produces.
//
// The package deliberately does not import the exporter's client: it mirrors
// the service as documented and as observed, so that client bugs show up as
// test failures instead of being shared by the fake.
package defendertest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a fake tenant. The zero value is a global-cloud tenant
// with no data.
type Options struct {
	// Seed makes the tenant ID, client IDs and data deterministic.
	Seed int64
	// Size is how many entities to generate. The zero Size generates none
	// (useful for the empty-listing cases); DefaultSize suits the demo.
	Size Size
	// Now anchors generated timestamps and the drift clock; nil = time.Now.
	// Token lifetimes always use the wall clock, because MSAL stamps its
	// assertions and judges token expiry with it.
	Now func() time.Time
	// Cloud selects which audiences the APIs accept: "global" (default),
	// "gcc", "gcc-high" or "dod".
	Cloud string
	// Drift makes the data change slowly in the background (the demo).
	Drift bool
	// DriftEvery is the drift period; 0 = 5 seconds.
	DriftEvery time.Duration
	// DefaultPageSize is the page size of a listing requested without $top;
	// 0 = the API's maximum (10,000 for alerts and machines). Set it small to
	// exercise nextLink paging with a small dataset.
	DefaultPageSize int
	// TokenLifetime is the lifetime of issued access tokens; 0 = 1 hour.
	TokenLifetime time.Duration
}

// Tenant is a running fake tenant. Its methods are safe for concurrent use.
type Tenant struct {
	opts     Options
	now      func() time.Time
	cloud    cloudSpec
	tenantID string
	pki      *pki
	signKey  *ecdsa.PrivateKey // access tokens and federated tokens

	srv   *http.Server
	url   string
	other *http.Server
	// otherURL uses "localhost" so that it differs from URL() by host name,
	// not only by port.
	otherURL      string
	otherSawToken atomic.Bool

	mu     sync.Mutex
	apps   map[string]*appRecord
	ids    *rand.Rand // deterministic client IDs, guarded by mu
	miID   string     // client ID of the system-assigned managed identity
	miHdr  string     // IDENTITY_HEADER secret
	tokSeq atomic.Uint64
	// expiredBelow rejects every token whose serial is below it.
	expiredBelow atomic.Uint64

	faults faultSet
	calls  callCounter
	data   *Dataset
	apis   map[string]*apiEntry // lower-cased path -> API

	closeOnce sync.Once
	stopDrift chan struct{}
	driftDone chan struct{}
}

// New starts a fake tenant. Close it when done.
func New(opts Options) (*Tenant, error) {
	cloud, err := lookupCloud(opts.Cloud)
	if err != nil {
		return nil, err
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	p, err := newPKI()
	if err != nil {
		return nil, err
	}
	signKey, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	if err != nil {
		return nil, err
	}
	// The tenant and identity IDs come from their own stream of the seed so
	// that adding apps never shifts the generated data.
	// It starts with the tenant ID (see tenantIDForSeed).
	ids := rand.New(rand.NewPCG(uint64(opts.Seed), streamIDs))
	t := &Tenant{
		opts:     opts,
		now:      now,
		cloud:    cloud,
		tenantID: formatGUID(ids.Uint64(), ids.Uint64()),
		pki:      p,
		signKey:  signKey,
		apps:     map[string]*appRecord{},
		ids:      ids,
	}
	t.miID = formatGUID(ids.Uint64(), ids.Uint64())
	t.miHdr = randomSecret(32)
	t.data = Generate(opts.Seed, opts.Size, now())
	t.apis = buildAPIs()

	tlsConf := &tls.Config{
		Certificates: []tls.Certificate{p.server},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2", "http/1.1"},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	otherLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	t.url = "https://" + ln.Addr().String()
	t.otherURL = "https://localhost:" + portOf(otherLn.Addr())
	// Handshake failures (a client that does not trust the CA) are expected
	// in tests and would only clutter the output.
	quiet := log.New(io.Discard, "", 0)
	t.srv = &http.Server{
		Handler:           t.routes(),
		TLSConfig:         tlsConf.Clone(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          quiet,
	}
	t.other = &http.Server{
		Handler:           http.HandlerFunc(t.serveOtherHost),
		TLSConfig:         tlsConf.Clone(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          quiet,
	}
	go func() { _ = t.srv.ServeTLS(ln, "", "") }()
	go func() { _ = t.other.ServeTLS(otherLn, "", "") }()

	if opts.Drift {
		t.startDrift()
	}
	return t, nil
}

func portOf(a net.Addr) string {
	_, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "0"
	}
	return port
}

// Close stops the drift goroutine and both listeners, aborting requests in
// flight. It is safe to call more than once.
func (t *Tenant) Close() {
	t.closeOnce.Do(func() {
		if t.stopDrift != nil {
			close(t.stopDrift)
			<-t.driftDone
		}
		_ = t.srv.Close()
		_ = t.other.Close()
	})
}

// URL is the base URL of the one listener serving the authority and all APIs,
// "https://127.0.0.1:PORT".
func (t *Tenant) URL() string { return t.url }

// TenantID is the tenant GUID (lower case, as MSAL lower-cases authorities).
// The MSAL authority is URL() + "/" + TenantID().
func (t *Tenant) TenantID() string { return t.tenantID }

// Cloud is the national cloud whose audiences the APIs accept.
func (t *Tenant) Cloud() string { return t.cloud.name }

// CAPool holds the fake's CA, to put in a client's tls.Config.RootCAs.
func (t *Tenant) CAPool() *x509.CertPool { return t.pki.pool.Clone() }

// CACertPEM is the fake's CA certificate, to write to a tls.ca_file.
func (t *Tenant) CACertPEM() []byte { return append([]byte(nil), t.pki.caPEM...) }

// OtherHostURL is a second listener standing in for a foreign host that a
// bad nextLink points at (Fault.NextLinkOtherHost). It answers 404 to
// everything and records whether a request carried a token.
func (t *Tenant) OtherHostURL() string { return t.otherURL }

// OtherHostSawToken reports whether any request with an Authorization header
// ever reached OtherHostURL.
func (t *Tenant) OtherHostSawToken() bool { return t.otherSawToken.Load() }

// Data is the generated dataset the APIs serve, to compute expected values.
func (t *Tenant) Data() *Dataset { return t.data }

// HTTPClient returns a client that trusts the fake's CA, for tests that talk
// to the fake directly.
func (t *Tenant) HTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: t.CAPool(), MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2: true,
	}}
}

func (t *Tenant) serveOtherHost(w http.ResponseWriter, r *http.Request) {
	t.calls.add("otherhost")
	if r.Header.Get("Authorization") != "" {
		t.otherSawToken.Store(true)
	}
	writeAPIError(w, http.StatusNotFound, "NotFound", "This host does not serve the Defender API.")
}
