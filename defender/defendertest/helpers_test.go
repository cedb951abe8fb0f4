package defendertest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC)

const mdeScope = "https://api.securitycenter.microsoft.com/.default"

func newTestTenant(t testing.TB, opts Options) *Tenant {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	tn, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tn.Close)
	return tn
}

func (tn *Tenant) tokenURL() string {
	return tn.URL() + "/" + tn.TenantID() + "/oauth2/v2.0/token"
}

// postToken sends a token request and decodes the JSON answer.
func postToken(t testing.TB, tn *Tenant, form url.Values, basicUser, basicPass string) (int, map[string]any, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, tn.tokenURL(), strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicUser != "" {
		req.SetBasicAuth(url.QueryEscape(basicUser), url.QueryEscape(basicPass))
	}
	resp, err := tn.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("token answer is not JSON: %v: %s", err, raw)
	}
	return resp.StatusCode, body, string(raw)
}

// secretToken gets an access token for scope with the app's secret.
func secretToken(t testing.TB, tn *Tenant, app *App, scope string) string {
	t.Helper()
	status, body, raw := postToken(t, tn, url.Values{
		"grant_type": {"client_credentials"}, "client_id": {app.ClientID},
		"client_secret": {app.Secret}, "scope": {scope},
	}, "", "")
	if status != http.StatusOK {
		t.Fatalf("token: status %d: %s", status, raw)
	}
	return body["access_token"].(string)
}

// get performs an authenticated GET and returns status, headers and body.
func get(t testing.TB, tn *Tenant, token, pathAndQuery string) (int, http.Header, []byte) {
	t.Helper()
	target := pathAndQuery
	if !strings.HasPrefix(target, "https://") {
		target = tn.URL() + pathAndQuery
	}
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := tn.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, raw
}

func newAuthRequest(tn *Tenant, token, pathAndQuery string) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodGet, tn.URL()+pathAndQuery, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return req, nil
}

func drain(resp *http.Response) (int64, error) {
	defer resp.Body.Close()
	return io.Copy(io.Discard, resp.Body)
}
