package defendertest

import (
	"context"
	"crypto/tls"
	"net/http"
	"testing"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/managedidentity"
	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// These tests run the real MSAL for Go against the fake authority, which is
// what the exporter does; they pin down what MSAL needs from it.

func msalHTTPClient(tn *Tenant) *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: tn.CAPool()}}}
}

func msalClient(t *testing.T, tn *Tenant, clientID string, cred confidential.Credential) confidential.Client {
	t.Helper()
	c, err := confidential.New(tn.URL()+"/"+tn.TenantID(), clientID, cred,
		confidential.WithInstanceDiscovery(false),
		confidential.WithHTTPClient(msalHTTPClient(tn)))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkAPIToken proves the token MSAL got is one the APIs accept.
func checkAPIToken(t *testing.T, tn *Tenant, token string) {
	t.Helper()
	if status, _, body := get(t, tn, token, "/api/alerts?$top=1"); status != http.StatusOK {
		t.Fatalf("API rejected MSAL's token: %d %s", status, body)
	}
}

func TestMSALSecret(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 1, Size: Size{Machines: 3, Alerts: 3}})
	app := tn.NewApp()
	cred, err := confidential.NewCredFromSecret(app.Secret)
	if err != nil {
		t.Fatal(err)
	}
	c := msalClient(t, tn, app.ClientID, cred)
	res, err := c.AcquireTokenByCredential(context.Background(), []string{mdeScope})
	if err != nil {
		t.Fatal(err)
	}
	checkAPIToken(t, tn, res.AccessToken)
	if tn.Calls("openid-configuration") != 1 || tn.Calls("token") != 1 {
		t.Fatalf("calls: discovery %d token %d, want 1 and 1", tn.Calls("openid-configuration"), tn.Calls("token"))
	}
	// A second acquisition is served from MSAL's cache.
	if _, err := c.AcquireTokenByCredential(context.Background(), []string{mdeScope}); err != nil {
		t.Fatal(err)
	}
	if tn.Calls("token") != 1 {
		t.Fatalf("token calls = %d after a cached acquisition, want 1", tn.Calls("token"))
	}

	tn.RevokeApp(app.ClientID)
	c2 := msalClient(t, tn, app.ClientID, cred)
	if _, err := c2.AcquireTokenByCredential(context.Background(), []string{mdeScope}); err == nil {
		t.Fatal("revoked app got a token")
	}
}

func TestMSALCertificate(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 1, Size: Size{Machines: 3, Alerts: 3}})
	app := tn.NewApp()
	certs, key, err := confidential.CertFromPEM(append(append([]byte{}, app.CertPEM...), app.KeyPEM...), "")
	if err != nil {
		t.Fatal(err)
	}
	cred, err := confidential.NewCredFromCert(certs, key)
	if err != nil {
		t.Fatal(err)
	}
	res, err := msalClient(t, tn, app.ClientID, cred).AcquireTokenByCredential(context.Background(), []string{mdeScope})
	if err != nil {
		t.Fatal(err)
	}
	checkAPIToken(t, tn, res.AccessToken)

	// The PFX holds the same certificate and key.
	pfxKey, pfxCert, err := pkcs12.Decode(app.PFX, app.PFXPassword)
	if err != nil {
		t.Fatal(err)
	}
	pfxCred, err := confidential.NewCredFromCert(append(certs[:0:0], pfxCert), pfxKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := msalClient(t, tn, app.ClientID, pfxCred).AcquireTokenByCredential(context.Background(), []string{mdeScope}); err != nil {
		t.Fatal(err)
	}
}

func TestMSALFederated(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 1, Size: Size{Machines: 3, Alerts: 3}})
	app := tn.NewApp()
	cred := confidential.NewCredFromAssertionCallback(func(_ context.Context, o confidential.AssertionRequestOptions) (string, error) {
		return tn.FederatedToken(o.ClientID), nil
	})
	res, err := msalClient(t, tn, app.ClientID, cred).AcquireTokenByCredential(context.Background(), []string{mdeScope})
	if err != nil {
		t.Fatal(err)
	}
	checkAPIToken(t, tn, res.AccessToken)
}

func TestMSALManagedIdentity(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 1, Size: Size{Machines: 3, Alerts: 3}})
	endpoint, header := tn.ManagedIdentityEndpoint()
	t.Setenv("IDENTITY_ENDPOINT", endpoint)
	t.Setenv("IDENTITY_HEADER", header)
	mi, err := managedidentity.New(managedidentity.SystemAssigned(), managedidentity.WithHTTPClient(msalHTTPClient(tn)))
	if err != nil {
		t.Fatal(err)
	}
	// MSAL keeps managed-identity tokens in a process-wide cache keyed by
	// identity and resource only, so a token from an earlier tenant in this
	// process (go test -count=2) would be returned. Claims make MSAL skip the
	// cache read; the App Service request does not carry them.
	res, err := mi.AcquireToken(context.Background(), mdeScope, managedidentity.WithClaims(`{"access_token":{"nbf":{"essential":true}}}`))
	if err != nil {
		t.Fatal(err)
	}
	checkAPIToken(t, tn, res.AccessToken)
	// Now the cache holds this tenant's token.
	again, err := mi.AcquireToken(context.Background(), mdeScope)
	if err != nil || again.AccessToken != res.AccessToken {
		t.Fatalf("second acquisition: %v", err)
	}
	if tn.Calls("managedidentity") != 1 {
		t.Fatalf("managedidentity calls = %d, want 1", tn.Calls("managedidentity"))
	}

	app := tn.NewApp()
	ua, err := managedidentity.New(managedidentity.UserAssignedClientID(app.ClientID), managedidentity.WithHTTPClient(msalHTTPClient(tn)))
	if err != nil {
		t.Fatal(err)
	}
	res, err = ua.AcquireToken(context.Background(), mdeScope, managedidentity.WithClaims(`{"access_token":{"nbf":{"essential":true}}}`))
	if err != nil {
		t.Fatal(err)
	}
	checkAPIToken(t, tn, res.AccessToken)
}
