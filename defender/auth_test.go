package defender

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

func TestTokenCachedPerScope(t *testing.T) {
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, `{"value":[]}`) })
	c, _, m := testClient(t, ts, nil)
	for i := 0; i < 3; i++ {
		if _, err := List(context.Background(), c, alertsReq, func(*item) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Token(context.Background(), APIMDE); err != nil {
		t.Fatal(err)
	}
	if n := ts.tokens(); n != 1 {
		t.Errorf("token requests = %d, want 1 (cached)", n)
	}
	if err := c.Token(context.Background(), APIXDR); err != nil {
		t.Fatal(err)
	}
	if n := ts.tokens(); n != 2 {
		t.Errorf("token requests = %d, want 2 (one per resource)", n)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("contoso", "entra", "/{tenant}/oauth2/v2.0/token", "200")); got != 2 {
		t.Errorf("entra token requests = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("contoso", "entra", "/{tenant}/v2.0/.well-known/openid-configuration", "200")); got != 1 {
		t.Errorf("entra discovery requests = %v, want 1", got)
	}
}

func TestAuthErrorInvalidSecret(t *testing.T) {
	ts := newTestServer(t, nil)
	c, _, _ := testClient(t, ts, func(o *Options) { o.Credential.ClientSecret = "wrong-secret-value" })
	err := c.Token(context.Background(), APIMDE)
	var ae *AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want *AuthError", err)
	}
	want := "token for https://api.securitycenter.microsoft.com: invalid_client AADSTS7000215: Invalid client secret provided. (HTTP 401)"
	if err.Error() != want {
		t.Errorf("err = %q\nwant  %q", err, want)
	}
	if ae.Kind != AuthRejected || ae.Tenant != "contoso" || ae.Status != 401 || ae.Code != "invalid_client" {
		t.Errorf("AuthError = %+v", ae)
	}
	if strings.Contains(err.Error(), "wrong-secret-value") {
		t.Error("the secret is in the message")
	}
	// A List gets the same error, unchanged.
	_, err = List(context.Background(), c, alertsReq, func(*item) error { return nil })
	if !errors.As(err, &ae) || ts.calls("/api/alerts") != 0 {
		t.Errorf("List: err = %v, API calls %d", err, ts.calls("/api/alerts"))
	}
}

func TestAuthErrorScrubsEchoedSecrets(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.tokenFail = 400
	ts.tokenFailBody = `{"error":"invalid_request","error_description":"AADSTS900144: bad value ` + testSecret + ` here"}`
	c, _, _ := testClient(t, ts, nil)
	err := c.Token(context.Background(), APIMDE)
	if err == nil || strings.Contains(err.Error(), testSecret) || !strings.Contains(err.Error(), "bad value <secret> here") {
		t.Errorf("err = %v", err)
	}
}

func TestAuthErrorKinds(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.tokenFail = 503
	ts.tokenFailBody = `upstream down`
	c, _, _ := testClient(t, ts, nil)
	var ae *AuthError
	if err := c.Token(context.Background(), APIMDE); !errors.As(err, &ae) || ae.Kind != AuthUnavailable || ae.Status != 503 {
		t.Errorf("503: err = %v (%+v)", err, ae)
	}

	// An authority nobody listens on.
	dead := newTestServer(t, nil)
	dead.Close()
	c2, _, m := testClient(t, ts, func(o *Options) { o.Endpoints.Authority = dead.URL })
	err := c2.Token(context.Background(), APIMDE)
	if !errors.As(err, &ae) || ae.Kind != AuthUnavailable || strings.Contains(err.Error(), "\n") {
		t.Errorf("unreachable: err = %q (%+v)", err, ae)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("contoso", "entra", "/{tenant}/v2.0/.well-known/openid-configuration", "error")); got < 1 {
		t.Errorf(`entra requests{code="error"} = %v`, got)
	}
}

func TestCredentialValidation(t *testing.T) {
	base := Credential{TenantID: testTenantID, ClientID: testClientID}
	for name, cred := range map[string]Credential{
		"none":                     base,
		"two kinds":                {TenantID: testTenantID, ClientID: testClientID, ClientSecret: "x", FederatedTokenFile: "/f"},
		"no tenant":                {ClientID: testClientID, ClientSecret: "x"},
		"no client":                {TenantID: testTenantID, ClientSecret: "x"},
		"bad tenant":               {TenantID: "a/b", ClientID: testClientID, ClientSecret: "x"},
		"missing certificate file": {TenantID: testTenantID, ClientID: testClientID, CertificateFile: "/nonexistent/app.pem"},
		"garbage certificate":      {TenantID: testTenantID, ClientID: testClientID, CertificateData: []byte("not a cert"), CertificatePassword: "pw-123456"},
	} {
		_, err := NewClient(Options{Credential: cred, Tenant: "t"})
		var ae *AuthError
		if !errors.As(err, &ae) || ae.Kind != AuthConfig {
			t.Errorf("%s: err = %v, want an AuthConfig error", name, err)
		}
		if err != nil && strings.Contains(err.Error(), "pw-123456") {
			t.Errorf("%s: password in %q", name, err)
		}
	}
	s := fmt.Sprintf("%v %+v %#v %s", Credential{ClientSecret: testSecret, CertificatePassword: "pfx-pass"},
		Credential{ClientSecret: testSecret}, Credential{ClientSecret: testSecret}, Credential{ManagedIdentity: true})
	if strings.Contains(s, testSecret) || strings.Contains(s, "pfx-pass") || !strings.Contains(s, "kind: managed_identity") {
		t.Errorf("Credential printed as %s", s)
	}
}

// testCert makes a CA and a leaf signed by it, with the leaf's RSA key.
func testCert(t testing.TB, notAfter time.Time) (leaf, ca *x509.Certificate, key *rsa.PrivateKey) {
	t.Helper()
	caKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ = x509.ParseCertificate(caDER)
	key, err = rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "app"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ = x509.ParseCertificate(der)
	return leaf, ca, key
}

// assertionHeader decodes a client assertion's JOSE header.
func assertionHeader(t *testing.T, jwt string) map[string]any {
	t.Helper()
	part, _, _ := strings.Cut(jwt, ".")
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		t.Fatalf("assertion header: %v", err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestCertificateCredentials(t *testing.T) {
	notAfter := time.Now().Add(90 * 24 * time.Hour).Truncate(time.Second)
	leaf, ca, key := testCert(t, notAfter)
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	// Chain first, key in the middle, leaf last: the leaf is found by its key.
	pemData := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
	pemData = append(pemData, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw})...)
	pkcs1 := append(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw})...)
	modern, err := pkcs12.Modern2023.Encode(key, leaf, []*x509.Certificate{ca}, "pfx-password")
	if err != nil {
		t.Fatal(err)
	}
	legacy, err := pkcs12.LegacyDES.Encode(key, leaf, nil, "pfx-password")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pfxFile := filepath.Join(dir, "app.pem") // a misleading name: the content decides
	if err := os.WriteFile(pfxFile, modern, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(leaf.Raw)
	thumb256 := base64.StdEncoding.EncodeToString(sum[:])

	for name, cred := range map[string]Credential{
		"PEM PKCS#8 with chain":         {CertificateData: pemData},
		"PEM PKCS#1":                    {CertificateData: pkcs1},
		"PKCS#12 AES (file, .pem name)": {CertificateFile: pfxFile, CertificatePassword: "pfx-password"},
		"PKCS#12 3DES":                  {CertificateData: legacy, CertificatePassword: "pfx-password"},
	} {
		t.Run(name, func(t *testing.T) {
			ts := newTestServer(t, nil)
			cred.TenantID, cred.ClientID = testTenantID, testClientID
			c, _, _ := testClient(t, ts, func(o *Options) { o.Credential = cred })
			if exp, ok := c.CertificateExpiry(); !ok || !exp.Equal(notAfter) {
				t.Errorf("CertificateExpiry = %v, %v; want %v", exp, ok, notAfter)
			}
			if err := c.Token(context.Background(), APIMDE); err != nil {
				t.Fatal(err)
			}
			assertions := ts.assertionsSeen()
			if len(assertions) != 1 {
				t.Fatalf("assertions = %d", len(assertions))
			}
			h := assertionHeader(t, assertions[0])
			// MSAL v1.10.1 signs PS256 and names the certificate by its
			// SHA-256 thumbprint.
			if h["x5t#S256"] != thumb256 && h["x5t#S256"] != strings.TrimRight(thumb256, "=") {
				t.Errorf("assertion header %v does not name the leaf (%s)", h, thumb256)
			}
		})
	}

	for name, tc := range map[string]struct {
		cred Credential
		want string
	}{
		"wrong PFX password": {Credential{CertificateData: modern, CertificatePassword: "nope"}, "wrong certificate password"},
		"encrypted PEM key":  {Credential{CertificateData: []byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n")}, "encrypted private keys are not supported"},
		"key without its certificate": {Credential{CertificateData: append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}),
			pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)}, "no certificate matches the private key"},
	} {
		tc.cred.TenantID, tc.cred.ClientID = testTenantID, testClientID
		_, err := NewClient(Options{Credential: tc.cred})
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "nope") {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
	}
}

func TestFederatedTokenFileReread(t *testing.T) {
	ts := newTestServer(t, nil)
	file := filepath.Join(t.TempDir(), "azure-identity-token")
	if err := os.WriteFile(file, []byte("eyJ.first.jwt\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, _, _ := testClient(t, ts, func(o *Options) {
		o.Credential = Credential{TenantID: testTenantID, ClientID: testClientID, FederatedTokenFile: file}
	})
	if err := c.Token(context.Background(), APIMDE); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("eyJ.second.jwt"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := c.Token(context.Background(), APIXDR); err != nil {
		t.Fatal(err)
	}
	if got := ts.assertionsSeen(); len(got) != 2 || got[0] != "eyJ.first.jwt" || got[1] != "eyJ.second.jwt" {
		t.Errorf("assertions = %q, want the file's content at each acquisition", got)
	}
	// A missing file is a credential problem, and says which file.
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	err := c.Token(context.Background(), APIGraph)
	var ae *AuthError
	if !errors.As(err, &ae) || ae.Kind != AuthCredential || !strings.Contains(err.Error(), file) {
		t.Errorf("err = %v (%+v), want an AuthCredential error naming the file", err, ae)
	}
}

func TestManagedIdentityAppService(t *testing.T) {
	const header = "identity-header-secret"
	var mu sync.Mutex
	var resources []string
	ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/msi/token" {
			writeJSON(w, 200, `{"value":[]}`)
			return
		}
		if r.Header.Get("X-IDENTITY-HEADER") != header {
			writeJSON(w, 401, `{"statusCode":401,"message":"bad header"}`)
			return
		}
		mu.Lock()
		resources = append(resources, r.URL.Query().Get("resource")+" "+r.URL.Query().Get("client_id"))
		n := len(resources)
		mu.Unlock()
		writeJSON(w, 200, fmt.Sprintf(`{"access_token":"mi-%d","expires_on":"%d","resource":%q,"token_type":"Bearer"}`,
			n, time.Now().Add(time.Hour).Unix(), r.URL.Query().Get("resource")))
	})
	t.Setenv("IDENTITY_ENDPOINT", ts.URL+"/msi/token")
	t.Setenv("IDENTITY_HEADER", header)
	// MSAL caches managed identity tokens process-wide: a unique client id
	// keeps this test independent of others.
	clientID := "mi-" + strconv.FormatInt(time.Now().UnixNano(), 10)
	c, _, m := testClient(t, ts, func(o *Options) {
		o.Credential = Credential{ManagedIdentity: true, ManagedIdentityClientID: clientID}
	})
	if _, ok := c.CertificateExpiry(); ok {
		t.Error("a managed identity has no certificate")
	}
	if err := c.Token(context.Background(), APIMDE); err != nil {
		t.Fatal(err)
	}
	if err := c.Token(context.Background(), APIMDE); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got := append([]string(nil), resources...)
	mu.Unlock()
	if len(got) != 1 || got[0] != "https://api.securitycenter.microsoft.com "+clientID {
		t.Errorf("MI requests = %q, want one for the MDE resource", got)
	}
	if v := testutil.ToFloat64(m.requests.WithLabelValues("contoso", "entra", "managed_identity", "200")); v != 1 {
		t.Errorf("entra managed_identity requests = %v, want 1", v)
	}
	// A 401 from the API forces a fresh managed identity token.
	var apiCalls int
	ts.setAPI(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/msi/token" {
			writeJSON(w, 200, fmt.Sprintf(`{"access_token":"mi-new","expires_on":"%d","token_type":"Bearer"}`, time.Now().Add(time.Hour).Unix()))
			return
		}
		apiCalls++
		if r.Header.Get("Authorization") != "Bearer mi-new" {
			writeJSON(w, 401, `{"error":{"code":"Unauthorized","message":"revoked"}}`)
			return
		}
		writeJSON(w, 200, `{"value":[]}`)
	})
	if _, err := List(context.Background(), c, alertsReq, func(*item) error { return nil }); err != nil {
		t.Fatalf("after 401: %v", err)
	}
	if apiCalls != 2 {
		t.Errorf("API calls = %d, want 2", apiCalls)
	}
}

func TestEntraEndpointTemplate(t *testing.T) {
	f := authorityEndpoint("ABC-def")
	for path, want := range map[string]string{
		"/abc-DEF/oauth2/v2.0/token":                     "/{tenant}/oauth2/v2.0/token",
		"/abc-def/v2.0/.well-known/openid-configuration": "/{tenant}/v2.0/.well-known/openid-configuration",
		"/common/discovery/instance":                     "/common/discovery/instance",
		"/other-tenant/oauth2/v2.0/token":                "other",
		"/abc-def/something/else":                        "other",
	} {
		r, _ := http.NewRequest("GET", "https://login.example"+path, nil)
		if got := f(r); got != want {
			t.Errorf("%s -> %s, want %s", path, got, want)
		}
	}
}

func TestOAuthErrorShapes(t *testing.T) {
	for body, want := range map[string]string{
		`{"error":"invalid_scope","error_description":"AADSTS70011: The provided value for the input parameter 'scope' is not valid.\r\nTrace ID: 1"}`: "invalid_scope|AADSTS70011: The provided value for the input parameter 'scope' is not valid.",
		`{"error":{"code":"BadRequest","message":"No identity"}}`:                                                                                      "BadRequest|No identity",
		`{"statusCode":400,"message":"No user-assigned identity"}`:                                                                                     "|No user-assigned identity",
		`{"error":"temporarily_unavailable","error_codes":[50196]}`:                                                                                    "temporarily_unavailable|AADSTS50196",
		`<html>gateway</html>`: "|<html>gateway</html>",
	} {
		resp := &http.Response{Body: io.NopCloser(strings.NewReader(body))}
		code, detail := oauthError(resp)
		if got := code + "|" + detail; got != want {
			t.Errorf("%s:\n got %q\nwant %q", body, got, want)
		}
	}
}

func TestInstanceDiscoveryOnlyForWellKnownHosts(t *testing.T) {
	for host, want := range map[string]bool{
		"login.microsoftonline.com": true, "LOGIN.microsoftonline.us": true,
		"127.0.0.1": false, "login.example.com": false, "login.microsoftonline.com.evil": false,
	} {
		if got := wellKnownAuthority(host); got != want {
			t.Errorf("%s: %v", host, got)
		}
	}
}

func TestSleepContext(t *testing.T) {
	if err := sleepContext(context.Background(), time.Millisecond); err != nil {
		t.Error(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sleepContext(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}
