package defendertest

import (
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"sync"

	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// App is an app registration in the fake tenant with every credential kind
// the exporter supports. It holds secrets: never log it.
type App struct {
	ClientID string
	Secret   string // client secret value
	CertPEM  []byte // PEM certificate registered on the app
	KeyPEM   []byte // PEM PKCS#8 RSA 2048 private key of CertPEM
	// PFX is the certificate and key as PKCS#12, encrypted with PFXPassword.
	PFX         []byte
	PFXPassword string
}

// String keeps secrets out of test logs and failure messages.
func (a App) String() string { return "App{ClientID: " + a.ClientID + "}" }

// GoString keeps %#v from printing the secret fields too.
func (a App) GoString() string { return a.String() }

// appRecord is the server side of an app registration.
type appRecord struct {
	mu          sync.Mutex
	clientID    string
	objectID    string
	secret      string
	cert        *x509.Certificate
	sha1Thumb   [20]byte
	sha256Thumb [32]byte
	roles       []string
	revoked     bool
}

func (a *appRecord) snapshot() (revoked bool, roles []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.revoked, append([]string(nil), a.roles...)
}

// NewApp registers an app with a client secret, a certificate and a federated
// credential (trusting FederatedToken), granted every role in AllRoles. It
// panics only if key generation fails, which crypto/rand does not do.
func (t *Tenant) NewApp() *App {
	app, err := t.newApp()
	if err != nil {
		panic("defendertest: NewApp: " + err.Error())
	}
	return app
}

func (t *Tenant) newApp() (*App, error) {
	t.mu.Lock()
	clientID := formatGUID(t.ids.Uint64(), t.ids.Uint64())
	objectID := formatGUID(t.ids.Uint64(), t.ids.Uint64())
	t.mu.Unlock()

	cert, key, err := newAppCertificate(clientID)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	pfxPassword := randomSecret(16)
	pfx, err := pkcs12.Modern2023.Encode(key, cert, nil, pfxPassword)
	if err != nil {
		return nil, err
	}
	rec := &appRecord{
		clientID:    clientID,
		objectID:    objectID,
		secret:      entraSecret(),
		cert:        cert,
		sha1Thumb:   sha1.Sum(cert.Raw),
		sha256Thumb: sha256.Sum256(cert.Raw),
		roles:       AllRoles(),
	}
	t.mu.Lock()
	t.apps[clientID] = rec
	t.mu.Unlock()
	return &App{
		ClientID:    clientID,
		Secret:      rec.secret,
		CertPEM:     pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}),
		KeyPEM:      pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		PFX:         pfx,
		PFXPassword: pfxPassword,
	}, nil
}

func (t *Tenant) app(clientID string) *appRecord {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.apps[clientID]
}

// RevokeApp removes every credential of the app: its secret, certificate and
// federated credential are rejected from now on (Entra's invalid_client).
// Tokens issued before stay valid until they expire, as with Entra; use
// ExpireTokens to end them too. Unknown client IDs are ignored.
func (t *Tenant) RevokeApp(clientID string) {
	if a := t.app(clientID); a != nil {
		a.mu.Lock()
		a.revoked = true
		a.mu.Unlock()
	}
}

// SetAppRoles replaces the application permissions granted to the app; the
// next token it gets carries only these (an API then answers 403 Forbidden
// when its permission is missing).
func (t *Tenant) SetAppRoles(clientID string, roles ...string) {
	if a := t.app(clientID); a != nil {
		a.mu.Lock()
		a.roles = append([]string(nil), roles...)
		a.mu.Unlock()
	}
}

// entraSecret looks like an Entra client secret value (40 characters with the
// "Q~" marker), so any length or charset assumption in a client is exercised.
func entraSecret() string {
	s := randomSecret(38)
	return s[:3] + "8Q~" + s[3:37]
}

const secretAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.~"

func randomSecret(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand.Read never returns an error on supported platforms.
		panic(fmt.Sprintf("defendertest: crypto/rand: %v", err))
	}
	for i := range b {
		b[i] = secretAlphabet[int(b[i])%len(secretAlphabet)]
	}
	return string(b)
}
