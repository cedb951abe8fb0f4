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
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
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

	// A replacement that does not parse is a credential error naming the
	// file, and the next good one is picked up.
	writeWithTime(t, file, []byte("-----BEGIN CERTIFICATE-----\nhalf"), t0.Add(2*time.Minute))
	err := c.Token(context.Background(), APIMDE)
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
	f, err := loadCertificateFile(file, "")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if changed, err := f.refresh(); err != nil || changed {
			b.Fatal(changed, err)
		}
	}
}
