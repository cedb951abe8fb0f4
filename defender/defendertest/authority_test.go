package defendertest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestTokenWithSecret(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 1})
	app := tn.NewApp()

	status, body, raw := postToken(t, tn, url.Values{
		"grant_type": {"client_credentials"}, "client_id": {app.ClientID},
		"client_secret": {app.Secret}, "scope": {mdeScope + " openid offline_access profile"},
	}, "", "")
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, raw)
	}
	if body["token_type"] != "Bearer" || body["expires_in"] != float64(3599) || body["access_token"] == "" {
		t.Fatalf("unexpected token answer %s", raw)
	}
	p, err := parseJWT(body["access_token"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if !p.claims.Aud.contains("https://api.securitycenter.microsoft.com") || p.claims.AppID != app.ClientID ||
		p.claims.Tid != tn.TenantID() || len(p.claims.Roles) == 0 {
		t.Fatalf("unexpected claims %+v", p.claims)
	}

	// HTTP Basic (RFC 6749 §2.3.1) works too.
	status, _, raw = postToken(t, tn, url.Values{"grant_type": {"client_credentials"}, "scope": {mdeScope}}, app.ClientID, app.Secret)
	if status != http.StatusOK {
		t.Fatalf("basic auth: status %d: %s", status, raw)
	}
	if got := tn.Calls("token"); got != 2 {
		t.Fatalf("Calls(token) = %d, want 2", got)
	}
}

func TestTokenErrors(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 1})
	app := tn.NewApp()
	revoked := tn.NewApp()
	tn.RevokeApp(revoked.ClientID)

	form := func(kv ...string) url.Values {
		v := url.Values{"grant_type": {"client_credentials"}, "client_id": {app.ClientID},
			"client_secret": {app.Secret}, "scope": {mdeScope}}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v
	}
	cases := []struct {
		name   string
		form   url.Values
		status int
		err    string
		code   float64
	}{
		{"wrong secret", form("client_secret", "not-the-secret-value"), 401, "invalid_client", 7000215},
		{"revoked app", form("client_id", revoked.ClientID, "client_secret", revoked.Secret), 401, "invalid_client", 7000215},
		{"unknown app", form("client_id", "00000000-0000-0000-0000-000000000001"), 400, "unauthorized_client", 700016},
		{"no credential", form("client_secret", ""), 401, "invalid_client", 7000218},
		{"unknown resource", form("scope", "https://foo.example.com/.default"), 400, "invalid_resource", 500011},
		{"scope without .default", form("scope", "https://api.securitycenter.microsoft.com"), 400, "invalid_scope", 1002012},
		{"two resources", form("scope", mdeScope+" https://graph.microsoft.com/.default"), 400, "invalid_scope", 70011},
		{"no scope", form("scope", ""), 400, "invalid_request", 900144},
		{"wrong grant", form("grant_type", "password"), 400, "unsupported_grant_type", 70003},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body, raw := postToken(t, tn, c.form, "", "")
			if status != c.status || body["error"] != c.err {
				t.Fatalf("got %d %v, want %d %s: %s", status, body["error"], c.status, c.err, raw)
			}
			codes, _ := body["error_codes"].([]any)
			if len(codes) != 1 || codes[0] != c.code {
				t.Fatalf("error_codes = %v, want [%v]", body["error_codes"], c.code)
			}
			desc, _ := body["error_description"].(string)
			if !strings.HasPrefix(desc, "AADSTS") || body["trace_id"] == "" || body["correlation_id"] == "" || body["timestamp"] == "" {
				t.Fatalf("not Entra-shaped: %s", raw)
			}
			for _, secret := range []string{app.Secret, revoked.Secret, "not-the-secret-value"} {
				if strings.Contains(raw, secret) {
					t.Fatalf("error body echoes a submitted secret: %s", raw)
				}
			}
		})
	}

	t.Run("wrong tenant", func(t *testing.T) {
		resp, err := tn.HTTPClient().PostForm(tn.URL()+"/11111111-1111-1111-1111-111111111111/oauth2/v2.0/token", form())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("status %d, want 400", resp.StatusCode)
		}
	})
	t.Run("GET", func(t *testing.T) {
		status, _, _ := get(t, tn, "", "/"+tn.TenantID()+"/oauth2/v2.0/token")
		if status != http.StatusBadRequest {
			t.Fatalf("status %d, want 400", status)
		}
	})
}

// signAssertion builds a certificate client assertion the way a client
// library would, independently of the fake's verification code.
func signAssertion(t *testing.T, alg string, thumbHeader string, certPEM, keyPEM []byte, claims map[string]any) string {
	t.Helper()
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		t.Fatal("bad PEM")
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	key := k.(*rsa.PrivateKey)
	header := map[string]any{"alg": alg, "typ": "JWT"}
	switch thumbHeader {
	case "x5t":
		s := sha1.Sum(cb.Bytes)
		header["x5t"] = b64.EncodeToString(s[:])
	case "x5t#S256":
		s := sha256.Sum256(cb.Bytes)
		header["x5t#S256"] = b64.EncodeToString(s[:])
	}
	hb, _ := json.Marshal(header)
	pb, _ := json.Marshal(claims)
	input := b64.EncodeToString(hb) + "." + b64.EncodeToString(pb)
	digest := sha256.Sum256([]byte(input))
	var sig []byte
	if alg == "PS256" {
		sig, err = rsa.SignPSS(rand.Reader, key, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	} else {
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	}
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64.EncodeToString(sig)
}

func TestTokenWithCertificateAssertion(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 2})
	app := tn.NewApp()
	other := tn.NewApp()
	now := time.Now().Unix()
	claims := func(mod func(map[string]any)) map[string]any {
		c := map[string]any{"aud": tn.tokenURL(), "iss": app.ClientID, "sub": app.ClientID,
			"jti": newRandomGUID(), "nbf": now, "iat": now, "exp": now + 600}
		if mod != nil {
			mod(c)
		}
		return c
	}
	cases := []struct {
		name      string
		assertion string
		status    int
		code      float64
	}{
		{"RS256 x5t", signAssertion(t, "RS256", "x5t", app.CertPEM, app.KeyPEM, claims(nil)), 200, 0},
		{"PS256 x5t#S256", signAssertion(t, "PS256", "x5t#S256", app.CertPEM, app.KeyPEM, claims(nil)), 200, 0},
		{"expired", signAssertion(t, "PS256", "x5t#S256", app.CertPEM, app.KeyPEM, claims(func(c map[string]any) {
			c["nbf"], c["exp"] = now-3600, now-1800
		})), 401, 700024},
		{"not yet valid", signAssertion(t, "PS256", "x5t#S256", app.CertPEM, app.KeyPEM, claims(func(c map[string]any) {
			c["nbf"], c["exp"] = now+3600, now+4000
		})), 401, 700024},
		{"wrong audience", signAssertion(t, "PS256", "x5t#S256", app.CertPEM, app.KeyPEM, claims(func(c map[string]any) {
			c["aud"] = "https://login.microsoftonline.com/" + tn.TenantID() + "/oauth2/v2.0/token"
		})), 401, 700212},
		{"other app's certificate", signAssertion(t, "PS256", "x5t#S256", other.CertPEM, other.KeyPEM, claims(nil)), 401, 700027},
		{"thumbprint of app, key of other", signAssertion(t, "PS256", "x5t#S256", app.CertPEM, other.KeyPEM, claims(nil)), 401, 7000274},
		{"issuer is another app", signAssertion(t, "PS256", "x5t#S256", app.CertPEM, app.KeyPEM, claims(func(c map[string]any) {
			c["iss"] = other.ClientID
		})), 401, 700021},
		{"garbage", "not.a.jwt", 401, 50027},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body, raw := postToken(t, tn, url.Values{
				"grant_type": {"client_credentials"}, "client_id": {app.ClientID}, "scope": {mdeScope},
				"client_assertion_type": {clientAssertionType}, "client_assertion": {c.assertion},
			}, "", "")
			if status != c.status {
				t.Fatalf("status %d, want %d: %s", status, c.status, raw)
			}
			if c.code != 0 {
				if codes, _ := body["error_codes"].([]any); len(codes) != 1 || codes[0] != c.code {
					t.Fatalf("error_codes %v, want %v", body["error_codes"], c.code)
				}
				if strings.Contains(raw, c.assertion) {
					t.Fatal("error echoes the assertion")
				}
			}
		})
	}

	tn.RevokeApp(app.ClientID)
	status, _, raw := postToken(t, tn, url.Values{
		"grant_type": {"client_credentials"}, "client_id": {app.ClientID}, "scope": {mdeScope},
		"client_assertion_type": {clientAssertionType},
		"client_assertion":      {signAssertion(t, "PS256", "x5t#S256", app.CertPEM, app.KeyPEM, claims(nil))},
	}, "", "")
	if status != http.StatusUnauthorized {
		t.Fatalf("revoked certificate: status %d: %s", status, raw)
	}
}

func TestTokenWithFederatedAssertion(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 3})
	app := tn.NewApp()
	other := tn.NewApp()
	post := func(clientID, assertion string) (int, string) {
		status, _, raw := postToken(t, tn, url.Values{
			"grant_type": {"client_credentials"}, "client_id": {clientID}, "scope": {mdeScope},
			"client_assertion_type": {clientAssertionType}, "client_assertion": {assertion},
		}, "", "")
		return status, raw
	}
	if status, raw := post(app.ClientID, tn.FederatedToken(app.ClientID)); status != 200 {
		t.Fatalf("status %d: %s", status, raw)
	}
	if status, _ := post(app.ClientID, tn.FederatedToken(other.ClientID)); status != 401 {
		t.Fatalf("token for another subject: status %d, want 401", status)
	}
	// An access token is signed by the same key but has the wrong audience.
	access := secretToken(t, tn, app, mdeScope)
	if status, _ := post(app.ClientID, access); status != 401 {
		t.Fatalf("access token as assertion: status %d, want 401", status)
	}
	tn.RevokeApp(app.ClientID)
	if status, _ := post(app.ClientID, tn.FederatedToken(app.ClientID)); status != 401 {
		t.Fatalf("revoked app: status %d, want 401", status)
	}
}

func TestOpenIDConfiguration(t *testing.T) {
	tn := newTestTenant(t, Options{})
	status, _, raw := get(t, tn, "", "/"+tn.TenantID()+"/v2.0/.well-known/openid-configuration")
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["token_endpoint"] != tn.tokenURL() || doc["issuer"] != tn.URL()+"/"+tn.TenantID()+"/v2.0" {
		t.Fatalf("unexpected discovery document %s", raw)
	}
	if tn.Calls("openid-configuration") != 1 {
		t.Fatal("discovery call not counted")
	}
}

func TestJWKSVerifiesAccessTokens(t *testing.T) {
	tn := newTestTenant(t, Options{})
	tok := secretToken(t, tn, tn.NewApp(), mdeScope)
	status, _, raw := get(t, tn, "", "/"+tn.TenantID()+"/discovery/v2.0/keys")
	if status != 200 {
		t.Fatalf("jwks: %d", status)
	}
	var set struct {
		Keys []struct{ Kty, Crv, Kid, X, Y string }
	}
	if err := json.Unmarshal(raw, &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("jwks %s", raw)
	}
	x, _ := b64.DecodeString(set.Keys[0].X)
	y, _ := b64.DecodeString(set.Keys[0].Y)
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		t.Fatal(err)
	}
	p, err := parseJWT(tok)
	if err != nil || p.header.Kid != set.Keys[0].Kid || !p.verifyES256(pub) {
		t.Fatal("the published key does not verify an access token")
	}
}
