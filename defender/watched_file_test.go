package defender

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// certPEM writes a fresh leaf and its key as PEM and returns the leaf's
// SHA-256 thumbprint as MSAL puts it in the assertion header.
func certPEM(t testing.TB, file string, notAfter time.Time, mod time.Time) string {
	t.Helper()
	leaf, _, key := testCert(t, notAfter)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	data := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
	writeWithTime(t, file, data, mod)
	sum := sha256.Sum256(leaf.Raw)
	return strings.TrimRight(base64.StdEncoding.EncodeToString(sum[:]), "=")
}

// writeWithTime writes data and sets the modification time explicitly: two
// writes within the file system's timestamp granularity would look alike.
func writeWithTime(t testing.TB, file string, data []byte, mod time.Time) {
	t.Helper()
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(file, mod, mod); err != nil {
		t.Fatal(err)
	}
}

// A certificate file replaced on disk is used from the next token request
// on, without a reload, and its expiry is what CertificateExpiry reports.
func TestCertificateFileRotation(t *testing.T) {
	ts := newTestServer(t, nil)
	file := filepath.Join(t.TempDir(), "tls.pem")
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	oldExpiry := time.Now().Add(10 * 24 * time.Hour).Truncate(time.Second)
	oldThumb := certPEM(t, file, oldExpiry, t0)
	var logs bytes.Buffer
	c, _, _ := testClient(t, ts, func(o *Options) {
		o.Credential = Credential{TenantID: testTenantID, ClientID: testClientID, CertificateFile: file}
		o.Logger = log.NewLogfmtLogger(&logs)
	})
	thumbs := func() []string {
		var out []string
		for _, a := range ts.assertionsSeen() {
			h := assertionHeader(t, a)
			out = append(out, strings.TrimRight(h["x5t#S256"].(string), "="))
		}
		return out
	}

	if err := c.Token(context.Background(), APIMDE); err != nil {
		t.Fatal(err)
	}
	if err := c.Token(context.Background(), APIMDE); err != nil { // cached
		t.Fatal(err)
	}
	if exp, _ := c.CertificateExpiry(); !exp.Equal(oldExpiry) {
		t.Errorf("expiry = %v, want %v", exp, oldExpiry)
	}
	if logs.Len() != 0 {
		t.Errorf("logged before any rotation: %s", logs.String())
	}

	newExpiry := time.Now().Add(90 * 24 * time.Hour).Truncate(time.Second)
	newThumb := certPEM(t, file, newExpiry, t0.Add(time.Minute))
	if err := c.Token(context.Background(), APIMDE); err != nil {
		t.Fatal(err)
	}
	if err := c.Token(context.Background(), APIXDR); err != nil {
		t.Fatal(err)
	}
	if got := thumbs(); len(got) != 3 || got[0] != oldThumb || got[1] != newThumb || got[2] != newThumb {
		t.Errorf("assertions signed by %v, want [old new new] = [%s %s %s]", got, oldThumb, newThumb, newThumb)
	}
	if exp, _ := c.CertificateExpiry(); !exp.Equal(newExpiry) {
		t.Errorf("expiry after rotation = %v, want %v", exp, newExpiry)
	}
	wantLog := fmt.Sprintf(`level=info tenant=contoso msg="client certificate file changed; signing in with the new certificate from now on" file=%s not_after=%s`,
		file, newExpiry.UTC().Format(time.RFC3339))
	if got := strings.TrimSpace(logs.String()); got != wantLog {
		t.Errorf("log after rotation:\n got %s\nwant %s", got, wantLog)
	}

	// The same content written again (a sync that rewrites on every run)
	// is not a rotation: the cached token stays, nothing is logged.
	same, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	writeWithTime(t, file, same, t0.Add(90*time.Second))
	before := ts.tokens()
	if err := c.Token(context.Background(), APIMDE); err != nil {
		t.Fatal(err)
	}
	if n := ts.tokens(); n != before || strings.Count(logs.String(), "\n") != 1 {
		t.Errorf("unchanged content: %d token calls (want %d), log %q", n, before, logs.String())
	}

	// A replacement that does not parse is a credential error naming the
	// file, and the next good one is picked up.
	writeWithTime(t, file, []byte("-----BEGIN CERTIFICATE-----\nhalf"), t0.Add(2*time.Minute))
	err = c.Token(context.Background(), APIMDE)
	var ae *AuthError
	if !errors.As(err, &ae) || ae.Kind != AuthCredential || !strings.Contains(err.Error(), file) {
		t.Errorf("err = %v, want an AuthCredential error naming %s", err, file)
	}
	lastThumb := certPEM(t, file, newExpiry.Add(time.Hour), t0.Add(3*time.Minute))
	if err := c.Token(context.Background(), APIMDE); err != nil {
		t.Fatal(err)
	}
	if got := thumbs(); len(got) != 4 || got[3] != lastThumb {
		t.Errorf("assertions signed by %v, want the last one by %s", got, lastThumb)
	}
}

// The file is stat'ed, not parsed, when it has not changed.
func BenchmarkCertificateFileUnchanged(b *testing.B) {
	file := filepath.Join(b.TempDir(), "tls.pem")
	certPEM(b, file, time.Now().Add(time.Hour), time.Now())
	f := certificateFile(file, "", "", &secretSet{}, log.NewNopLogger())
	if err := f.load(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if changed, err := f.refresh(); err != nil || changed {
			b.Fatal(changed, err)
		}
	}
}

// A client secret file rewritten with a new secret is used from the next
// token request on; the new secret is scrubbed from messages like the old.
func TestClientSecretFileRotation(t *testing.T) {
	const newSecret = "n3w~Secret.After_Rotation"
	ts := newTestServer(t, nil)
	ts.otherSecret = newSecret
	file := filepath.Join(t.TempDir(), "client-secret")
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	writeWithTime(t, file, []byte(testSecret+"\n"), t0)
	var logs bytes.Buffer
	c, _, _ := testClient(t, ts, func(o *Options) {
		o.Credential = Credential{TenantID: testTenantID, ClientID: testClientID, ClientSecretFile: file}
		o.Logger = log.NewLogfmtLogger(&logs)
	})
	if err := c.Token(context.Background(), APIMDE); err != nil {
		t.Fatal(err)
	}
	writeWithTime(t, file, []byte(newSecret), t0.Add(time.Minute))
	if err := c.Token(context.Background(), APIMDE); err != nil {
		t.Fatal(err)
	}
	ts.mu.Lock()
	seen := slices.Clone(ts.secretsSeen)
	ts.mu.Unlock()
	if len(seen) != 2 || seen[0] != testSecret || seen[1] != newSecret {
		t.Errorf("secrets sent = %d %v, want the old one, then the new one", len(seen), seen)
	}
	want := fmt.Sprintf(`level=info tenant=contoso msg="client secret file changed; signing in with the new secret from now on" file=%s`, file)
	if got := strings.TrimSpace(logs.String()); got != want {
		t.Errorf("log:\n got %s\nwant %s", got, want)
	}

	// Entra echoing either secret back never gets it into an error.
	ts.tokenFail = 400
	ts.tokenFailBody = `{"error":"invalid_request","error_description":"AADSTS900144: bad ` + newSecret + ` or ` + testSecret + `"}`
	writeWithTime(t, file, []byte(newSecret+"\r\n"), t0.Add(2*time.Minute)) // same secret, new file: tokens are fetched again
	err := c.Token(context.Background(), APIXDR)
	if err == nil || !strings.Contains(err.Error(), "bad <secret> or <secret>") {
		t.Errorf("err = %v, want both secrets scrubbed", err)
	}

	// An emptied file is a credential error naming the file, not a sign-in
	// with an empty secret.
	ts.tokenFail = 0
	writeWithTime(t, file, []byte("\n"), t0.Add(3*time.Minute))
	err = c.Token(context.Background(), APIGraph)
	var ae *AuthError
	if !errors.As(err, &ae) || ae.Kind != AuthCredential || !strings.Contains(err.Error(), file+": is empty") {
		t.Errorf("err = %v, want an AuthCredential error naming the empty file", err)
	}
	for _, s := range []string{testSecret, newSecret} {
		if strings.Contains(logs.String(), s) {
			t.Errorf("the log holds a secret: %s", logs.String())
		}
	}
}

// A PKCS#12 file and its password file rotated together are read as a
// pair: the new certificate opens with the new password.
func TestCertificateWithPasswordFileRotation(t *testing.T) {
	ts := newTestServer(t, nil)
	dir := t.TempDir()
	pfxFile, pwFile := filepath.Join(dir, "app.pfx"), filepath.Join(dir, "app.pfx.password")
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	writePFX := func(password string, mod time.Time) string {
		leaf, _, key := testCert(t, time.Now().Add(30*24*time.Hour))
		pfx, err := pkcs12.Modern2023.Encode(key, leaf, nil, password)
		if err != nil {
			t.Fatal(err)
		}
		writeWithTime(t, pfxFile, pfx, mod)
		writeWithTime(t, pwFile, []byte(password+"\n"), mod)
		sum := sha256.Sum256(leaf.Raw)
		return strings.TrimRight(base64.StdEncoding.EncodeToString(sum[:]), "=")
	}
	first := writePFX("first-password", t0)
	c, _, _ := testClient(t, ts, func(o *Options) {
		o.Credential = Credential{TenantID: testTenantID, ClientID: testClientID, CertificateFile: pfxFile, CertificatePasswordFile: pwFile}
	})
	if err := c.Token(context.Background(), APIMDE); err != nil {
		t.Fatal(err)
	}
	second := writePFX("second-password", t0.Add(time.Minute))
	if err := c.Token(context.Background(), APIMDE); err != nil {
		t.Fatalf("after rotating both files: %v", err)
	}
	var got []string
	for _, a := range ts.assertionsSeen() {
		got = append(got, strings.TrimRight(assertionHeader(t, a)["x5t#S256"].(string), "="))
	}
	if len(got) != 2 || got[0] != first || got[1] != second {
		t.Errorf("assertions signed by %v, want [%s %s]", got, first, second)
	}

	// Only the password changed, to a wrong one: an error naming the
	// certificate, which does not quote the password.
	writeWithTime(t, pwFile, []byte("third-password"), t0.Add(2*time.Minute))
	err := c.Token(context.Background(), APIXDR)
	if err == nil || !strings.Contains(err.Error(), "certificate "+pfxFile) || strings.Contains(err.Error(), "third-password") {
		t.Errorf("err = %v, want one naming %s without the password", err, pfxFile)
	}
}
