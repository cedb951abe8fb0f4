package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/defender-exporter/defender_exporter/config"
	"github.com/defender-exporter/defender_exporter/defender"
	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

// Secrets and tokens: planted values are looked for in every place the
// exporter writes text (debug log, error messages, --config.check, the
// landing page, /metrics, /-/reload answers), and a bearer token must never
// reach a host other than the configured one.

// fakeForBinary starts a fake tenant in the test process for the exporter
// binary to talk to, with the CA written where tls.ca_file can find it.
func fakeForBinary(t *testing.T, dir string, seed int64) (*defendertest.Tenant, string) {
	t.Helper()
	ft, err := defendertest.New(defendertest.Options{Seed: seed, Size: defendertest.Size{Machines: 20, Alerts: 30}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ft.Close)
	return ft, writeFile(t, dir, fmt.Sprintf("ca-%d.pem", seed), string(ft.CACertPEM()))
}

// collectorsOnly is a collectors: section that enables only the named
// collectors, each on the given interval.
func collectorsOnly(interval string, names ...string) string {
	var b strings.Builder
	b.WriteString("collectors:\n")
	for _, n := range config.CollectorNames {
		on := false
		for _, want := range names {
			on = on || n == want
		}
		if on {
			fmt.Fprintf(&b, "  %s: {enabled: true, interval: %s}\n", n, interval)
		} else {
			fmt.Fprintf(&b, "  %s: {enabled: false}\n", n)
		}
	}
	return b.String()
}

// tenantYAML points a tenant at the fake; cred is its credential lines.
func tenantYAML(name string, ft *defendertest.Tenant, clientID, caFile, cred string) string {
	u := ft.URL()
	return fmt.Sprintf(`  - name: %s
    tenant_id: %s
    client_id: %s
%s
    endpoints: {authority: %q, mde: %q, xdr: %q, graph: %q}
    tls: {ca_file: %s}
`, name, ft.TenantID(), clientID, cred, u, u, u, u, caFile)
}

// noLeak fails if text holds a secret or anything that looks like a token
// or a client assertion (JWTs start with the base64 of `{"`).
func noLeak(t *testing.T, where, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("%s holds a planted secret", where)
		}
	}
	for _, marker := range []string{"eyJ", "Bearer ", "client_assertion="} {
		if strings.Contains(text, marker) {
			i := strings.Index(text, marker)
			t.Errorf("%s holds %q: ...%s...", where, marker, text[max(0, i-80):min(len(text), i+40)])
		}
	}
}

// TestSecretsNeverShown runs the exporter at debug level against a fake
// tenant with a client secret and a password-protected PKCS#12 certificate,
// drives it through token renewals, a revoked credential, a nextLink to
// another host and a bad reload, and looks for the planted secrets
// everywhere it writes.
func TestSecretsNeverShown(t *testing.T) {
	dir := t.TempDir()
	ft, caFile := fakeForBinary(t, dir, 11)
	secretApp, certApp := ft.NewApp(), ft.NewApp()
	secrets := []string{secretApp.Secret, certApp.PFXPassword, certApp.Secret}

	pfx := writeFile(t, dir, "app.pfx", string(certApp.PFX))
	pass := writeFile(t, dir, "app.pfx.password", certApp.PFXPassword+"\n")
	good := "defaults: {request_timeout: 2s}\ntenants:\n" +
		tenantYAML("contoso", ft, secretApp.ClientID, caFile, "    client_secret: "+secretApp.Secret) +
		tenantYAML("fabrikam", ft, certApp.ClientID, caFile, "    certificate_file: "+pfx+"\n    certificate_password_file: "+pass) +
		collectorsOnly("3s", "alerts", "machines")
	cfgFile := writeFile(t, dir, "defender.yml", good)

	// --config.check shows the configuration with the secret hidden.
	out, err := exec.Command(binary, "--config.file="+cfgFile, "--config.check").CombinedOutput()
	if err != nil {
		t.Fatalf("--config.check: %v\n%s", err, out)
	}
	noLeak(t, "--config.check output", string(out), secrets...)
	if !strings.Contains(string(out), "<secret>") {
		t.Errorf("--config.check does not show <secret>:\n%s", out)
	}

	e := startExporter(t, "--config.file="+cfgFile, "--log.level=debug", "--web.enable-lifecycle")
	e.waitReady(t)
	// Both tenants up (a refresh that missed the short timeout on a busy
	// machine is retried at the next interval).
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, metrics := e.get(t, "/metrics")
		if strings.Contains(metrics, `defender_up{tenant="contoso"} 1`) && strings.Contains(metrics, `defender_up{tenant="fabrikam"} 1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the tenants are not both up within 60s:\n%s", metrics)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Every token rejected (renewals, logged at debug with the 401), the
	// certificate app revoked (a failed renewal, logged at warn with
	// Entra's answer), and machines answering with a nextLink to another
	// host (logged at warn).
	ft.ExpireTokens()
	ft.RevokeApp(certApp.ClientID)
	ft.SetFault("/api/machines", defendertest.Fault{NextLinkOtherHost: true})
	waitLog(t, e, "invalid_client")
	waitLog(t, e, "@odata.nextLink points to another origin")
	if ft.OtherHostSawToken() || ft.Calls("otherhost") != 0 {
		t.Errorf("the other host got %d requests (token seen: %t)", ft.Calls("otherhost"), ft.OtherHostSawToken())
	}

	// A bad reload: the answer names the problem but not the secret, and
	// the old configuration keeps serving.
	writeFile(t, dir, "defender.yml", strings.Replace(good, "client_secret: ", "client_secret_typo: ", 1))
	resp, err := http.Post("http://"+e.addr+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(string(body), "client_secret_typo") {
		t.Errorf("bad reload: %d %s", resp.StatusCode, body)
	}
	noLeak(t, "the /-/reload answer", string(body), secrets...)
	_, metrics := e.get(t, "/metrics")
	if !strings.Contains(metrics, `defender_alerts{`) || !strings.Contains(metrics, `tenant="contoso"`) {
		t.Error("the old configuration stopped serving after a bad reload")
	}

	for path, text := range map[string]string{"/metrics": metrics, "/": e.getBody(t, "/"), "/-/ready": e.getBody(t, "/-/ready"), "/-/healthy": e.getBody(t, "/-/healthy")} {
		noLeak(t, path, text, secrets...)
	}
	logs := e.log.String()
	if !strings.Contains(logs, "level=debug") {
		t.Error("no debug lines: was the exporter at debug level?")
	}
	noLeak(t, "the log", logs, secrets...)
}

func (e *exporter) getBody(t *testing.T, path string) string {
	t.Helper()
	_, body := e.get(t, path)
	return body
}

// waitLog polls the exporter's log for s; the deadline bounds a failure.
func waitLog(t *testing.T, e *exporter, s string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(e.log.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("the log never said %q", s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestConfigErrorsHideSecrets: a configuration error on or near a secret
// names the key and line, never the value.
func TestConfigErrorsHideSecrets(t *testing.T) {
	dir := t.TempDir()
	head := "tenants:\n  - name: contoso\n    tenant_id: 11111111-2222-3333-4444-555555555555\n    client_id: 66666666-7777-8888-9999-000000000000\n"
	for name, body := range map[string]string{
		"secret-as-mapping":         "    client_secret: {value: " + plantedSecret + "}\n",
		"secret-as-list":            "    client_secret: [" + plantedSecret + "]\n",
		"two-credentials":           "    client_secret: " + plantedSecret + "\n    client_secret_file: /nonexistent\n",
		"password-without-cert":     "    client_secret: x\n    certificate_password: " + plantedSecret + "\n",
		"password-both-ways":        "    certificate_file: /nonexistent.pfx\n    certificate_password: " + plantedSecret + "\n    certificate_password_file: /nonexistent\n",
		"unterminated-quote":        "    client_secret: \"" + plantedSecret + "\n",
		"tab-after-secret":          "    client_secret: " + plantedSecret + "\n\tcloud: global\n",
		"misspelt-key":              "    client_secrt: " + plantedSecret + "\n",
		"secret-at-top-level":       "client_secret: " + plantedSecret + "\n",
		"secret-in-defaults-typo":   "defaults: {client_secet: " + plantedSecret + "}\n",
		"duplicate-secret-key":      "    client_secret: " + plantedSecret + "\n    client_secret: " + plantedSecret + "x\n",
		"secret-with-env-unset":     "    client_secret: " + plantedSecret + "${DEFENDER_UNSET_VARIABLE_FOR_TEST}\n",
		"secret-empty-after-strip":  "    client_secret: \"\"\n    certificate_password: " + plantedSecret + "\n",
		"secret-as-number-and-text": "    client_secret: " + plantedSecret + ": nested\n",
	} {
		t.Run(name, func(t *testing.T) {
			file := writeFile(t, dir, name+".yml", head+body)
			out, err := exec.Command(binary, "--config.file="+file, "--config.check").CombinedOutput()
			if code := exitCode(err); code != 1 {
				t.Fatalf("exit %d, want 1:\n%s", code, out)
			}
			noLeak(t, "the error", string(out), plantedSecret)
			if !strings.Contains(string(out), name+".yml") {
				t.Errorf("the error does not name the file:\n%s", out)
			}
		})
	}
}

// pinnedClient is a client of the fake whose API endpoints may point
// elsewhere (a redirector).
func pinnedClient(t *testing.T, ft *defendertest.Tenant, endpoints defender.Endpoints, extraCA *x509.Certificate) *defender.Client {
	t.Helper()
	app := ft.NewApp()
	_, scopes, err := defender.ResolveEndpoints("global", "", defender.Endpoints{Authority: ft.URL()})
	if err != nil {
		t.Fatal(err)
	}
	pool := ft.CAPool()
	if extraCA != nil {
		pool.AddCert(extraCA)
	}
	c, err := defender.NewClient(defender.Options{
		Tenant:     "contoso",
		Credential: defender.Credential{TenantID: ft.TenantID(), ClientID: app.ClientID, ClientSecret: app.Secret},
		Endpoints:  endpoints, Scopes: scopes, RootCAs: pool,
		RequestTimeout: 10 * time.Second, MaxRetries: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// recorder is a host that must never be reached: it counts every request.
func recorder(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "not here", http.StatusTeapot)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// TestRedirectsNeverCarryTheToken: the API host and the authority answer
// every request with a redirect to another host; the client follows none,
// so neither the bearer token nor the client secret leave.
func TestRedirectsNeverCarryTheToken(t *testing.T) {
	ft, err := defendertest.New(defendertest.Options{Seed: 3, Size: defendertest.Size{Machines: 5, Alerts: 5}})
	if err != nil {
		t.Fatal(err)
	}
	defer ft.Close()
	other, hits := recorder(t)
	for _, status := range []int{301, 302, 303, 307, 308} {
		t.Run(fmt.Sprintf("API %d", status), func(t *testing.T) {
			redirector := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				// To the fake's own foreign host, which records tokens, and
				// to a recorder that counts any request.
				target := ft.OtherHostURL() + r.URL.RequestURI()
				if r.URL.Query().Has("$skip") {
					target = other.URL + r.URL.RequestURI()
				}
				http.Redirect(w, r, target, status)
			}))
			defer redirector.Close()
			u := redirector.URL
			c := pinnedClient(t, ft, defender.Endpoints{Authority: ft.URL(), MDE: u, XDR: u, Graph: u}, redirector.Certificate())
			for _, skip := range []string{"", "5"} {
				q := map[string][]string{}
				if skip != "" {
					q["$skip"] = []string{skip}
				}
				_, err := defender.List(context.Background(), c, defender.Request{
					API: defender.APIMDE, Family: defender.FamilyMDE, Endpoint: "/api/alerts", Path: "/api/alerts", Query: q,
				}, func(*defender.Alert) error { return nil })
				var ae *defender.APIError
				if !errors.As(err, &ae) || ae.Status != status || !strings.Contains(err.Error(), "not followed") {
					t.Errorf("List through a %d: %v, want an APIError saying the redirect was not followed", status, err)
				}
			}
		})
	}
	t.Run("authority", func(t *testing.T) {
		redirector := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
		}))
		defer redirector.Close()
		u := ft.URL()
		app := ft.NewApp()
		_, scopes, _ := defender.ResolveEndpoints("global", "", defender.Endpoints{})
		pool := ft.CAPool()
		pool.AddCert(redirector.Certificate())
		c, err := defender.NewClient(defender.Options{
			Credential: defender.Credential{TenantID: ft.TenantID(), ClientID: app.ClientID, ClientSecret: app.Secret},
			Endpoints:  defender.Endpoints{Authority: redirector.URL, MDE: u, XDR: u, Graph: u}, Scopes: scopes, RootCAs: pool,
		})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		err = c.Token(context.Background(), defender.APIMDE)
		if err == nil {
			t.Fatal("a token through a redirecting authority")
		}
		noLeak(t, "the error", err.Error(), app.Secret)
	})
	if ft.OtherHostSawToken() || ft.Calls("otherhost") != 0 || hits.Load() != 0 {
		t.Errorf("a redirect was followed: fake's other host %d calls (token seen %t), recorder %d",
			ft.Calls("otherhost"), ft.OtherHostSawToken(), hits.Load())
	}
}

// TestAuthorityAnswerCapped: MSAL reads the authority's answers whole;
// the client caps them, so a runaway token answer is an error, not memory.
func TestAuthorityAnswerCapped(t *testing.T) {
	ft, err := defendertest.New(defendertest.Options{Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer ft.Close()
	u := ft.URL()
	c := pinnedClient(t, ft, defender.Endpoints{Authority: u, MDE: u, XDR: u, Graph: u}, nil)
	huge := `{"token_type":"Bearer","expires_in":3599,"access_token":"` + strings.Repeat("x", 4<<20) + `"}`
	ft.SetFault("token", defendertest.Fault{Body: huge})
	err = c.Token(context.Background(), defender.APIMDE)
	if err == nil || !strings.Contains(err.Error(), "response too large") {
		t.Fatalf("a 4 MiB token answer: %v, want a response-too-large error", err)
	}
	if len(err.Error()) > 1000 {
		t.Errorf("error of %d bytes", len(err.Error()))
	}
	ft.ClearFaults()
	if err := c.Token(context.Background(), defender.APIMDE); err != nil {
		t.Errorf("after the fault: %v", err)
	}
}
