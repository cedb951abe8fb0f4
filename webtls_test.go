package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

// The web server as deployed behind --web.config.file: TLS and basic auth
// from exporter-toolkit, tested over real TLS; and how the process ends on
// SIGTERM with work in flight.

// selfSigned writes a certificate and key for 127.0.0.1 and returns their
// paths and a pool that trusts the certificate.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "defender-exporter-test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile = writeFile(t, dir, "web.crt", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	keyFile = writeFile(t, dir, "web.key", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})))
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// offlineConfig is a valid configuration whose tenant cannot be reached:
// enough for the web server, which never waits on Defender.
func offlineConfig(t *testing.T, dir string) string {
	t.Helper()
	return writeFile(t, dir, "defender.yml", `tenants:
  - name: contoso
    tenant_id: 11111111-2222-3333-4444-555555555555
    client_id: 66666666-7777-8888-9999-000000000000
    client_secret: `+plantedSecret+`
    endpoints: {authority: "https://127.0.0.1:1", mde: "https://127.0.0.1:1", xdr: "https://127.0.0.1:1", graph: "https://127.0.0.1:1"}
`+collectorsOnly("1h", "alerts"))
}

func TestWebConfigTLSAndBasicAuth(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	const user, password = "prometheus", "s3cret-scrape-password"
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := writeFile(t, dir, "web.yml", fmt.Sprintf(`tls_server_config:
  cert_file: %s
  key_file: %s
basic_auth_users:
  %s: %s
`, certFile, keyFile, user, hash))
	e := startExporter(t, "--config.file="+offlineConfig(t, dir), "--web.config.file="+webConfig)

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
	}}
	get := func(scheme, path, u, p string) (int, string, error) {
		req, err := http.NewRequest(http.MethodGet, scheme+"://"+e.addr+path, nil)
		if err != nil {
			return 0, "", err
		}
		if u != "" {
			req.SetBasicAuth(u, p)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), nil
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, _, err := get("https", "/-/healthy", user, password)
		if err == nil && code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no TLS answer within 60s: %d %v", code, err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	for _, path := range []string{"/metrics", "/", "/-/healthy", "/-/ready"} {
		if code, _, err := get("https", path, "", ""); err != nil || code != http.StatusUnauthorized {
			t.Errorf("%s without credentials: %d %v, want 401", path, code, err)
		}
		if code, _, err := get("https", path, user, "wrong"); err != nil || code != http.StatusUnauthorized {
			t.Errorf("%s with a wrong password: %d %v, want 401", path, code, err)
		}
		if code, _, err := get("https", path, "nobody", password); err != nil || code != http.StatusUnauthorized {
			t.Errorf("%s as an unknown user: %d %v, want 401", path, code, err)
		}
	}
	code, body, err := get("https", "/metrics", user, password)
	if err != nil || code != http.StatusOK || !strings.Contains(body, "defender_exporter_build_info") {
		t.Errorf("/metrics with credentials: %d %v", code, err)
	}
	noLeak(t, "/metrics", body, plantedSecret, password, string(hash))

	// Plain HTTP on the TLS port is refused: Go's TLS server answers 400
	// and serves nothing.
	code, body, err = get("http", "/metrics", user, password)
	if err == nil && (code == http.StatusOK || strings.Contains(body, "defender_")) {
		t.Errorf("plain HTTP served /metrics: %d", code)
	}
	noLeak(t, "the log", e.log.String(), plantedSecret, password, string(hash))
}

// TestSIGTERMWithWorkInFlight sends SIGTERM while a refresh waits on a
// Defender answer that will not come for a minute and a scrape connection
// is half-sent: the process must exit 0 well within the request timeout.
func TestSIGTERMWithWorkInFlight(t *testing.T) {
	dir := t.TempDir()
	ft, caFile := fakeForBinary(t, dir, 12)
	app := ft.NewApp()
	ft.SetFault(defendertest.GraphAlertsPath, defendertest.Fault{Delay: time.Minute})
	// The interval is just above the timeout, which keeps the start-up
	// jitter (a quarter of the interval) short.
	const requestTimeout = 8 * time.Second
	cfg := writeFile(t, dir, "defender.yml", fmt.Sprintf("defaults: {request_timeout: %s}\ntenants:\n", requestTimeout)+
		tenantYAML("contoso", ft, app.ClientID, caFile, "    client_secret: "+app.Secret)+
		collectorsOnly("10s", "alerts", "machines"))
	e := startExporter(t, "--config.file="+cfg, "--web.shutdown-timeout=1s")

	// The refresh is in flight once the fake holds an alerts request.
	deadline := time.Now().Add(60 * time.Second)
	for ft.Calls(defendertest.GraphAlertsPath) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no alerts request within 60s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A scrape that is still being sent, and one that completes.
	conn, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /metrics HTTP/1.1\r\nHost: x\r\n")); err != nil {
		t.Fatal(err)
	}
	if code, _ := e.get(t, "/metrics"); code != http.StatusOK {
		t.Fatalf("scrape before SIGTERM: %d", code)
	}

	if err := e.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-e.exited:
		if err := e.wait(); err != nil {
			t.Errorf("exit after SIGTERM: %v", err)
		}
	case <-time.After(requestTimeout):
		t.Fatalf("still running %s (the request timeout) after SIGTERM", requestTimeout)
	}
	// The half-sent scrape got no answer; the connection is closed.
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, err := bufio.NewReader(conn).ReadString('\n'); err == nil && strings.HasPrefix(line, "HTTP/1.1 200") {
		t.Errorf("half-sent scrape answered after SIGTERM: %q", line)
	}
	if !strings.Contains(e.log.String(), "shutting down") {
		t.Errorf("no shutdown line in the log:\n%s", e.log.String())
	}
}
