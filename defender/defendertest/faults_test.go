package defendertest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestFaultStatus(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 9, Size: Size{Machines: 3, Alerts: 3}})
	tok := secretToken(t, tn, tn.NewApp(), mdeScope)
	for _, c := range []struct {
		status int
		code   string
	}{{429, "TooManyRequests"}, {500, "InternalServerError"}, {503, "InternalServerError"}, {401, "Unauthorized"}, {403, "Forbidden"}} {
		tn.SetFault("/api/alerts", Fault{Status: c.status, RetryAfter: "7", Times: 1})
		status, h, raw := get(t, tn, tok, "/api/alerts")
		if status != c.status || decodeAPIError(t, raw).Error.Code != c.code || h.Get("Retry-After") != "7" {
			t.Fatalf("%d fault: got %d %s Retry-After %q", c.status, status, raw, h.Get("Retry-After"))
		}
		if status, _, _ := get(t, tn, tok, "/api/alerts"); status != 200 {
			t.Fatalf("Times: 1 fault still active: %d", status)
		}
	}

	tn.ResetCalls()
	tn.SetFault("/api/machines", Fault{Status: 429, Times: 2})
	var got []int
	for range 3 {
		status, _, _ := get(t, tn, tok, "/api/machines")
		got = append(got, status)
	}
	if got[0] != 429 || got[1] != 429 || got[2] != 200 || tn.Calls("/api/machines") != 3 {
		t.Fatalf("Times: 2 gave %v, %d calls", got, tn.Calls("/api/machines"))
	}

	tn.SetFault("/api/alerts", Fault{Status: 500})
	for range 3 {
		if status, _, _ := get(t, tn, tok, "/api/alerts"); status != 500 {
			t.Fatal("Times: 0 fault did not persist")
		}
	}
	tn.ClearFaults()
	if status, _, _ := get(t, tn, tok, "/api/alerts"); status != 200 {
		t.Fatal("ClearFaults left the fault")
	}

	tn.SetFault("/api/alerts", Fault{Body: `{"value":[{"id":"custom"}]}`, ContentType: "application/json"})
	status, h, raw := get(t, tn, tok, "/api/alerts")
	if status != 200 || string(raw) != `{"value":[{"id":"custom"}]}` || h.Get("Content-Type") != "application/json" {
		t.Fatalf("Body fault: %d %q %s", status, h.Get("Content-Type"), raw)
	}
	tn.ClearFaults()
}

func TestFaultToken(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 9})
	app := tn.NewApp()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {app.ClientID}, "client_secret": {app.Secret}, "scope": {mdeScope}}
	tn.SetFault("token", Fault{Status: 503, Times: 1})
	status, body, raw := postToken(t, tn, form, "", "")
	if status != 503 || body["error"] != "temporarily_unavailable" || body["error_codes"] == nil {
		t.Fatalf("token 503 fault: %d %s", status, raw)
	}
	tn.SetFault("token", Fault{Malformed: true, Times: 1})
	resp, err := tn.HTTPClient().PostForm(tn.tokenURL(), form)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if json.Valid(b) {
		t.Fatalf("malformed token answer is valid JSON: %s", b)
	}
	if tn.Calls("token") != 2 {
		t.Fatalf("Calls(token) = %d", tn.Calls("token"))
	}
	tn.SetFault("openid-configuration", Fault{Status: 500, Times: 1})
	if status, _, _ := get(t, tn, "", "/"+tn.TenantID()+"/v2.0/.well-known/openid-configuration"); status != 500 {
		t.Fatalf("discovery fault: %d", status)
	}
}

func TestFaultDelayHonoursContext(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 9, Size: Size{Machines: 1}})
	tok := secretToken(t, tn, tn.NewApp(), mdeScope)
	tn.SetFault("/api/machines", Fault{Delay: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, tn.URL()+"/api/machines", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	done := make(chan error, 1)
	go func() {
		resp, err := tn.HTTPClient().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	// Wait until the request is inside the fake, then give up on it.
	deadline := time.Now().Add(10 * time.Second)
	for tn.Calls("/api/machines") == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	// Close must not wait for the hour either (newTestTenant's Cleanup).
}

func TestFaultBrokenBodies(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 10, Size: Size{Machines: 3, Alerts: 30}, DefaultPageSize: 10})
	tok := secretToken(t, tn, tn.NewApp(), mdeScope)
	fetch := func() (*http.Response, []byte, error) {
		req, _ := http.NewRequest(http.MethodGet, tn.URL()+"/api/alerts", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := tn.HTTPClient().Do(req)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, b, err
	}

	tn.SetFault("/api/alerts", Fault{ResetConnection: true, Times: 1})
	if _, _, err := fetch(); err == nil {
		t.Fatal("ResetConnection: request succeeded")
	}

	tn.SetFault("/api/alerts", Fault{Malformed: true, Times: 1})
	resp, b, err := fetch()
	if err != nil || resp.StatusCode != 200 || json.Valid(b) {
		t.Fatalf("Malformed: err %v, status %v, valid %v", err, resp.StatusCode, json.Valid(b))
	}

	tn.SetFault("/api/alerts", Fault{Truncated: true, Times: 1})
	resp, b, err = fetch()
	if err == nil && json.Valid(b) {
		t.Fatalf("Truncated: complete body (status %d)", resp.StatusCode)
	}

	tn.SetFault("/api/alerts", Fault{ContentType: "text/html", Times: 1})
	if resp, _, err = fetch(); err != nil || resp.Header.Get("Content-Type") != "text/html" {
		t.Fatalf("ContentType: %v", err)
	}

	tn.SetFault("/api/alerts", Fault{HugePage: 1 << 20, Times: 1})
	_, b, err = fetch()
	if err != nil || len(b) < 1<<20 {
		t.Fatalf("HugePage: %d bytes, %v", len(b), err)
	}
	p := decodePage(t, b)
	if got := ids(t, p); len(got) != 10 || len(got[0]) < 1<<20 {
		t.Fatal("HugePage did not pad the first entity's string value")
	}
}

func TestFaultNextLinks(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 11, Size: Size{Machines: 3, Alerts: 30}, DefaultPageSize: 10})
	tok := secretToken(t, tn, tn.NewApp(), mdeScope)

	tn.SetFault("/api/alerts", Fault{EmptyPageWithNextLink: true, Times: 1})
	_, _, raw := get(t, tn, tok, "/api/alerts")
	p := decodePage(t, raw)
	if len(p.Value) != 0 || !strings.Contains(p.NextLink, "$skip=10") {
		t.Fatalf("EmptyPageWithNextLink: %d entities, nextLink %q", len(p.Value), p.NextLink)
	}

	tn.SetFault("/api/alerts", Fault{NextLinkLoop: true, Times: 1})
	_, _, raw = get(t, tn, tok, "/api/alerts?$skip=10")
	if p := decodePage(t, raw); p.NextLink != tn.URL()+"/api/alerts?$skip=10" {
		t.Fatalf("NextLinkLoop: nextLink %q", p.NextLink)
	}

	tn.SetFault("/api/alerts", Fault{NextLinkOtherHost: true, Times: 1})
	_, _, raw = get(t, tn, tok, "/api/alerts")
	p = decodePage(t, raw)
	if !strings.HasPrefix(p.NextLink, tn.OtherHostURL()+"/api/alerts?") {
		t.Fatalf("NextLinkOtherHost: nextLink %q", p.NextLink)
	}
	// A careful client follows without its token; the other host notices
	// only a token.
	if status, _, _ := get(t, tn, "", p.NextLink); status != 404 || tn.OtherHostSawToken() {
		t.Fatalf("tokenless follow: status %d, sawToken %v", status, tn.OtherHostSawToken())
	}
	get(t, tn, tok, p.NextLink)
	if !tn.OtherHostSawToken() || tn.Calls("otherhost") != 2 {
		t.Fatal("the other host did not record the leaked token")
	}
}

func TestFaultManagedIdentity(t *testing.T) {
	tn := newTestTenant(t, Options{})
	endpoint, header := tn.ManagedIdentityEndpoint()
	app := tn.NewApp()
	call := func(query, hdr string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, endpoint+"?"+query, nil)
		req.Header.Set("X-IDENTITY-HEADER", hdr)
		resp, err := tn.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	q := "api-version=2019-08-01&resource=" + url.QueryEscape("https://api.securitycenter.microsoft.com")
	if status, body := call(q, header); status != 200 || body["expires_on"] == nil || body["client_id"] != tn.ManagedIdentityClientID() {
		t.Fatalf("system-assigned: %d %v", status, body)
	}
	if status, body := call(q+"&client_id="+app.ClientID, header); status != 200 || body["client_id"] != app.ClientID {
		t.Fatalf("user-assigned: %d %v", status, body)
	}
	if status, _ := call(q, "wrong"); status != 401 {
		t.Fatalf("wrong header: %d", status)
	}
	if status, _ := call("api-version=2017-09-01&resource=https://api.securitycenter.microsoft.com", header); status != 400 {
		t.Fatalf("wrong api-version: %d", status)
	}
	tn.SetFault("managedidentity", Fault{Status: 500, Times: 1})
	if status, _ := call(q, header); status != 500 {
		t.Fatalf("fault: %d", status)
	}
}

// Over HTTP/1.1 the connection itself is dropped (hijack + RST), which is a
// different code path from HTTP/2's stream reset.
func TestFaultDropsHTTP1Connection(t *testing.T) {
	tn := newTestTenant(t, Options{Seed: 13, Size: Size{Alerts: 20}})
	tok := secretToken(t, tn, tn.NewApp(), mdeScope)
	client := msalHTTPClient(tn) // no ForceAttemptHTTP2: HTTP/1.1
	for _, f := range []Fault{{ResetConnection: true}, {Truncated: true}} {
		tn.SetFault("/api/alerts", f)
		req, _ := newAuthRequest(tn, tok, "/api/alerts")
		resp, err := client.Do(req)
		if err == nil {
			if resp.ProtoMajor != 1 {
				t.Fatalf("got HTTP/%d", resp.ProtoMajor)
			}
			_, err = drain(resp)
		}
		if err == nil {
			t.Fatalf("%+v: the connection was not dropped", f)
		}
	}
}
