package defender

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

const (
	testTenantID = "11111111-2222-3333-4444-555555555555"
	testClientID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	testSecret   = "s3cr3t~Value.That_Must-Never-Leak"
)

// testServer is one TLS listener with a minimal Entra authority (discovery
// and a client-credentials token endpoint) and a pluggable API handler.
type testServer struct {
	*httptest.Server
	api http.Handler

	mu         sync.Mutex
	tokenCalls int
	apiCalls   map[string]int
	// tokenFail, when set, answers the token endpoint with this status and body.
	tokenFail     int
	tokenFailBody string
	tokensIssued  []string
	assertions    []string // client_assertion values received
	secretsSeen   []string // client_secret values received
	// otherSecret is accepted besides testSecret, as after a rotation.
	otherSecret string
}

func newTestServer(t *testing.T, api http.HandlerFunc) *testServer {
	if api == nil {
		api = func(http.ResponseWriter, *http.Request) {}
	}
	t.Helper()
	ts := &testServer{api: api, apiCalls: map[string]int{}}
	mux := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parts := strings.SplitN(r.URL.Path, "/", 3) // "", tenant, rest
		switch {
		case len(parts) == 3 && parts[2] == "v2.0/.well-known/openid-configuration":
			base := ts.URL + "/" + parts[1]
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]string{
				"authorization_endpoint": base + "/oauth2/v2.0/authorize",
				"token_endpoint":         base + "/oauth2/v2.0/token",
				"issuer":                 base + "/v2.0",
			})
		case len(parts) == 3 && parts[2] == "oauth2/v2.0/token" && r.Method == http.MethodPost:
			ts.token(w, r)
		default:
			ts.mu.Lock()
			ts.apiCalls[r.URL.Path]++
			api := ts.api
			ts.mu.Unlock()
			api.ServeHTTP(w, r)
		}
	})
	ts.Server = httptest.NewUnstartedServer(mux)
	// No keep-alive: Go's transport silently retries a GET on a reused
	// connection that the server dropped, which would blur call counts.
	ts.Config.SetKeepAlivesEnabled(false)
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return ts
}

func (ts *testServer) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.tokenCalls++
	if a := r.PostForm.Get("client_assertion"); a != "" {
		ts.assertions = append(ts.assertions, a)
	}
	secret := r.PostForm.Get("client_secret")
	if secret != "" {
		ts.secretsSeen = append(ts.secretsSeen, secret)
	}
	w.Header().Set("Content-Type", "application/json")
	if ts.tokenFail != 0 {
		w.WriteHeader(ts.tokenFail)
		_, _ = w.Write([]byte(ts.tokenFailBody))
		return
	}
	if secret != testSecret && (secret != ts.otherSecret || secret == "") && r.PostForm.Get("client_assertion") == "" {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x","error_codes":[7000215]}`))
		return
	}
	tok := fmt.Sprintf("tok-%d-%s", ts.tokenCalls, strings.TrimSuffix(r.PostForm.Get("scope"), "/.default"))
	ts.tokensIssued = append(ts.tokensIssued, tok)
	_ = json.NewEncoder(w).Encode(map[string]any{"token_type": "Bearer", "expires_in": 3600, "access_token": tok})
}

func (ts *testServer) setAPI(h http.HandlerFunc) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.api = h
}

func (ts *testServer) calls(path string) int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.apiCalls[path]
}

func (ts *testServer) assertionsSeen() []string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]string(nil), ts.assertions...)
}

func (ts *testServer) tokens() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.tokenCalls
}

func (ts *testServer) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ts.Certificate())
	return p
}

// fakeClock is a clock that only moves when Sleep is called; Sleep
// records what it was asked to wait.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now()} }

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	f.waits = append(f.waits, d)
	return nil
}

func (f *fakeClock) Waits() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.waits...)
}

// testClient builds a client against ts with a secret credential, a fake
// clock, small retry delays and a private metrics registry.
func testClient(t *testing.T, ts *testServer, mod func(*Options)) (*Client, *fakeClock, *Metrics) {
	t.Helper()
	clk := newFakeClock()
	m := NewMetrics(prometheus.NewRegistry())
	o := Options{
		Tenant: "contoso",
		Credential: Credential{
			TenantID: testTenantID, ClientID: testClientID, ClientSecret: testSecret,
		},
		Endpoints: Endpoints{Authority: ts.URL, MDE: ts.URL, XDR: ts.URL, Graph: ts.URL},
		Scopes: Scopes{
			MDE:   "https://api.securitycenter.microsoft.com/.default",
			XDR:   "https://api.security.microsoft.com/.default",
			Graph: "https://graph.microsoft.com/.default",
		},
		RootCAs:   ts.pool(),
		RetryBase: 10 * time.Millisecond,
		RetryMax:  80 * time.Millisecond,
		Metrics:   m,
		Clock:     clk.Now,
		Sleep:     clk.Sleep,
	}
	if mod != nil {
		mod(&o)
	}
	c, err := NewClient(o)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(c.Close)
	return c, clk, m
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; odata.metadata=minimal; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

var alertsReq = Request{API: APIMDE, Family: FamilyMDE, Endpoint: "/api/alerts", Path: "/api/alerts"}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
