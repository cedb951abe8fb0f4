package defender

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	msalerrors "github.com/AzureAD/microsoft-authentication-library-for-go/apps/errors"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/managedidentity"
	"github.com/go-kit/log"
)

// Credential says how the exporter proves its identity to Entra. Exactly one
// kind is set: ClientSecret, a certificate (CertificateFile or
// CertificateData), FederatedTokenFile, or ManagedIdentity.
type Credential struct {
	TenantID string
	ClientID string

	ClientSecret string
	// ClientSecretFile holds the client secret instead; it is watched like
	// a certificate file, so a rotated secret is used without a reload.
	ClientSecretFile string

	// CertificateFile or CertificateData: PEM (certificate and unencrypted
	// private key) or PKCS#12, recognised by content. CertificatePassword
	// opens a PKCS#12 file.
	CertificateFile     string
	CertificateData     []byte
	CertificatePassword string
	// CertificatePasswordFile holds the password instead; it is watched
	// with CertificateFile.
	CertificatePasswordFile string

	// FederatedTokenFile holds a JWT (workload identity); it is read again
	// for every token request, because the platform rotates it.
	FederatedTokenFile string

	// ManagedIdentity uses the managed identity of the host (App Service,
	// IMDS, Arc, ...); ManagedIdentityClientID selects a user-assigned one.
	ManagedIdentity         bool
	ManagedIdentityClientID string
}

// Kind names the credential kind ("client_secret", "certificate",
// "federated_token", "managed_identity"), or "" when none or several are set.
func (c Credential) Kind() string {
	var kinds []string
	if c.ClientSecret != "" || c.ClientSecretFile != "" {
		kinds = append(kinds, "client_secret")
	}
	if c.CertificateFile != "" || len(c.CertificateData) > 0 {
		kinds = append(kinds, "certificate")
	}
	if c.FederatedTokenFile != "" {
		kinds = append(kinds, "federated_token")
	}
	if c.ManagedIdentity {
		kinds = append(kinds, "managed_identity")
	}
	if len(kinds) != 1 {
		return ""
	}
	return kinds[0]
}

// String never shows the secret or the certificate password.
func (c Credential) String() string {
	kind := c.Kind()
	if kind == "" {
		kind = "invalid"
	}
	return fmt.Sprintf("Credential{kind: %s, tenant_id: %s, client_id: %s}", kind, c.TenantID, c.ClientID)
}

// GoString keeps %#v from printing the secret.
func (c Credential) GoString() string { return c.String() }

func (c Credential) validate() error {
	if c.Kind() == "" {
		return errors.New("set exactly one of client secret, certificate, federated token file, managed identity")
	}
	if c.ManagedIdentity {
		return nil
	}
	switch {
	case c.TenantID == "":
		return errors.New("no tenant id")
	case c.ClientID == "":
		return errors.New("no client id")
	case strings.ContainsAny(c.TenantID, "/?#"):
		return fmt.Errorf("tenant id %q: not a GUID or domain", c.TenantID)
	}
	return nil
}

// tokenProvider gets a token for a scope; force skips every cache.
type tokenProvider interface {
	acquire(ctx context.Context, scope string, force bool) (string, error)
}

// tokens hands out one token per scope and turns failures into *AuthError.
type tokens struct {
	tenant   string
	provider tokenProvider
	scrub    func(string) string

	mu    sync.Mutex
	last  map[string]string        // scope -> last token handed out
	locks map[string]chan struct{} // scope -> held (one token) while acquiring
}

// scopeLock serialises acquisitions per scope: MSAL does not merge
// concurrent cache misses, so without it every collector starting at once
// would ask Entra for its own token.
// It is a channel so that a waiter can give up when its context ends.
func (t *tokens) scopeLock(scope string) chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.locks == nil {
		t.locks = map[string]chan struct{}{}
	}
	l := t.locks[scope]
	if l == nil {
		l = make(chan struct{}, 1)
		t.locks[scope] = l
	}
	return l
}

// get returns a token for scope. rejected is a token an API has just
// answered 401 to: if it is still the current one, a new one is fetched
// past the caches; if another request already replaced it, the cached
// replacement is used.
func (t *tokens) get(ctx context.Context, scope, rejected string) (string, error) {
	l := t.scopeLock(scope)
	select {
	case l <- struct{}{}:
		defer func() { <-l }()
	case <-ctx.Done():
		return "", t.authError(ctx, scope, ctx.Err())
	}
	force := false
	if rejected != "" {
		t.mu.Lock()
		force = t.last[scope] == rejected
		t.mu.Unlock()
	}
	tok, err := t.provider.acquire(ctx, scope, force)
	if err != nil {
		return "", t.authError(ctx, scope, err)
	}
	t.mu.Lock()
	t.last[scope] = tok
	t.mu.Unlock()
	return tok, nil
}

// confidentialProvider serves client secret, certificate and federated
// token credentials through MSAL's confidential client, whose in-memory
// cache is keyed by scope (AcquireTokenByCredential looks there first and
// renews a token before it expires).
type confidentialProvider struct {
	build func() (confidential.Client, error)

	mu     sync.Mutex
	shared confidential.Client
	// renewed holds, per scope, the client that fetched that scope's token
	// past the cache. The other scopes keep using shared, whose tokens are
	// still good: a token one API rejected says nothing about the others.
	renewed map[string]confidential.Client
	// rotated, when set, says whether the credential changed since the
	// last call (a credential file replaced on disk): every client, and so
	// every cached token, is then dropped, and generation counts up.
	rotated    func() (bool, error)
	generation int
}

func newConfidentialProvider(build func() (confidential.Client, error)) (*confidentialProvider, error) {
	c, err := build()
	if err != nil {
		return nil, err
	}
	return &confidentialProvider{build: build, shared: c, renewed: map[string]confidential.Client{}}, nil
}

func (p *confidentialProvider) acquire(ctx context.Context, scope string, force bool) (string, error) {
	if force {
		if _, err := p.client(scope); err != nil { // picks up a rotation
			return "", err
		}
		p.mu.Lock()
		gen := p.generation
		p.mu.Unlock()
		// MSAL v1.10.1 has no "skip the cache" for client credentials other
		// than claims, which Entra would interpret; a new client starts with
		// an empty cache. It serves this scope only once it has a token:
		// when Entra is down, the token the old one holds stays usable.
		fresh, err := p.build()
		if err != nil {
			return "", err
		}
		res, err := fresh.AcquireTokenByCredential(ctx, []string{scope})
		if err != nil {
			return "", err
		}
		p.mu.Lock()
		if p.generation == gen { // else fresh holds the credential a rotation replaced meanwhile
			p.renewed[scope] = fresh
		}
		p.mu.Unlock()
		return res.AccessToken, nil
	}
	c, err := p.client(scope)
	if err != nil {
		return "", err
	}
	res, err := c.AcquireTokenByCredential(ctx, []string{scope})
	if err != nil {
		return "", err
	}
	return res.AccessToken, nil
}

// client is the MSAL client that serves scope, rebuilt first if the
// credential was rotated.
func (p *confidentialProvider) client(scope string) (confidential.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rotated != nil {
		changed, err := p.rotated()
		if err != nil {
			return confidential.Client{}, err
		}
		if changed {
			c, err := p.build()
			if err != nil {
				return confidential.Client{}, err
			}
			p.shared = c
			clear(p.renewed)
			p.generation++
		}
	}
	if c, ok := p.renewed[scope]; ok {
		return c, nil
	}
	return p.shared, nil
}

// managedIdentityProvider: MSAL keeps managed identity tokens in a
// process-wide cache, so a new client would not help; a claims value is
// the documented way past it (v1.10.1 does not send claims to any managed
// identity endpoint).
type managedIdentityProvider struct {
	client managedidentity.Client
}

func (p *managedIdentityProvider) acquire(ctx context.Context, scope string, force bool) (string, error) {
	var opts []managedidentity.AcquireTokenOption
	if force {
		opts = append(opts, managedidentity.WithClaims(`{"access_token":{}}`))
	}
	res, err := p.client.AcquireToken(ctx, scope, opts...)
	if err != nil {
		return "", err
	}
	return res.AccessToken, nil
}

// newTokenProvider builds the MSAL client for the credential. httpClient
// carries the TLS trust and the entra metrics. expiry, for certificate
// credentials, is the NotAfter of the certificate in use.
func newTokenProvider(cred Credential, authorityBase string, httpClient *http.Client, secrets *secretSet, logger log.Logger) (p tokenProvider, expiry func() time.Time, err error) {
	if cred.ManagedIdentity {
		id := managedidentity.SystemAssigned()
		if cred.ManagedIdentityClientID != "" {
			id = managedidentity.UserAssignedClientID(cred.ManagedIdentityClientID)
		}
		c, err := managedidentity.New(id, managedidentity.WithHTTPClient(httpClient))
		if err != nil {
			return nil, nil, err
		}
		return &managedIdentityProvider{client: c}, nil, nil
	}

	var (
		mc      confidential.Credential
		watched *watchedFile[fileCredential] // a credential file re-read when it changes
	)
	switch {
	case cred.ClientSecret != "":
		mc, err = confidential.NewCredFromSecret(cred.ClientSecret)
	case cred.ClientSecretFile != "":
		watched = clientSecretFile(cred.ClientSecretFile, secrets, logger)
	case cred.CertificateFile != "":
		watched = certificateFile(cred.CertificateFile, cred.CertificatePassword, cred.CertificatePasswordFile, secrets, logger)
		expiry = func() time.Time { return watched.current().notAfter }
	case len(cred.CertificateData) > 0:
		certs, key, leaf, perr := parseCertificate(cred.CertificateData, cred.CertificatePassword)
		if perr != nil {
			return nil, nil, fmt.Errorf("certificate: %w", perr)
		}
		na := leaf.NotAfter
		expiry = func() time.Time { return na }
		mc, err = confidential.NewCredFromCert(certs, key)
	case cred.FederatedTokenFile != "":
		mc = confidential.NewCredFromAssertionCallback(federatedTokenReader(cred.FederatedTokenFile))
	}
	if err == nil && watched != nil {
		err = watched.load()
	}
	if err != nil {
		return nil, nil, err
	}

	authority := strings.TrimRight(authorityBase, "/") + "/" + cred.TenantID
	au, err := url.Parse(authority)
	if err != nil {
		return nil, nil, fmt.Errorf("authority %q: %w", authority, err)
	}
	// Instance discovery asks login.microsoftonline.com about the authority;
	// for any other host (a sovereign proxy, the fake tenant) it would ask
	// the wrong server, or leave the network at all.
	discovery := wellKnownAuthority(au.Hostname())
	build := func() (confidential.Client, error) {
		c := mc
		if watched != nil {
			c = watched.current().cred
		}
		return confidential.New(authority, cred.ClientID, c,
			confidential.WithHTTPClient(httpClient),
			confidential.WithInstanceDiscovery(discovery))
	}
	cp, err := newConfidentialProvider(build)
	if err != nil {
		return nil, nil, err
	}
	if watched != nil {
		cp.rotated = watched.refresh
	}
	return cp, expiry, nil
}

func wellKnownAuthority(host string) bool {
	switch strings.ToLower(host) {
	case "login.microsoftonline.com", "login.microsoftonline.us":
		return true
	}
	return false
}

// federatedTokenReader returns MSAL's assertion callback: the file is read
// on every token request, since workload identity rewrites it (typically
// hourly) and a cached copy would expire.
func federatedTokenReader(path string) func(context.Context, confidential.AssertionRequestOptions) (string, error) {
	return func(context.Context, confidential.AssertionRequestOptions) (string, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", &assertionFileError{err: err}
		}
		tok := strings.TrimSpace(string(b))
		if tok == "" {
			return "", &assertionFileError{err: fmt.Errorf("federated token file %s is empty", path)}
		}
		return tok, nil
	}
}

// assertionFileError marks a failure to read the federated token file, so
// that it is reported as a credential problem rather than an outage.
type assertionFileError struct{ err error }

func (e *assertionFileError) Error() string { return e.err.Error() }
func (e *assertionFileError) Unwrap() error { return e.err }

// authError turns whatever MSAL returned into an *AuthError whose message
// holds the authority's error code and description but nothing secret.
func (t *tokens) authError(ctx context.Context, scope string, err error) *AuthError {
	ae := &AuthError{Tenant: t.tenant, Resource: strings.TrimSuffix(scope, "/.default")}
	var (
		callErr msalerrors.CallErr
		jsonErr msalerrors.InvalidJsonErr
		fileErr *assertionFileError
	)
	switch {
	case errors.As(err, &fileErr):
		ae.Kind = AuthCredential
		ae.Err = errors.New(t.scrub(fileErr.Error()))
	case errors.As(err, &callErr) && callErr.Resp != nil:
		ae.Status = callErr.Resp.StatusCode
		ae.Code, ae.Detail = oauthError(callErr.Resp)
		ae.Code, ae.Detail = t.scrub(ae.Code), t.scrub(ae.Detail)
		ae.Kind = AuthRejected
		if ae.Status >= 500 || ae.Status == http.StatusTooManyRequests {
			ae.Kind = AuthUnavailable
		}
		if ae.Code == "" && ae.Detail == "" {
			ae.Err = fmt.Errorf("authority answered HTTP %d", ae.Status)
		}
	case errors.As(err, &jsonErr):
		// Its message quotes the raw answer, which may hold a token.
		ae.Kind = AuthUnavailable
		ae.Err = errors.New("the authority's answer is not valid JSON")
	case ctx.Err() != nil:
		ae.Kind = AuthUnavailable
		ae.Err = ctx.Err()
	default:
		ae.Kind = AuthUnavailable
		ae.Err = errors.New(t.scrub(oneLine(err.Error())))
	}
	return ae
}

// oauthError reads Entra's {"error","error_description"} answer, or a
// managed identity endpoint's {"error":{"code","message"}} /
// {"message"} variants, from the body MSAL kept.
func oauthError(resp *http.Response) (code, detail string) {
	if resp.Body == nil {
		return "", ""
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body = io.NopCloser(bytes.NewReader(body)) // leave it readable for others
	var entra struct {
		Error            json.RawMessage `json:"error"`
		ErrorDescription string          `json:"error_description"`
		ErrorCodes       []int           `json:"error_codes"`
		Message          string          `json:"message"`
	}
	if json.Unmarshal(body, &entra) != nil {
		return "", trimMessage(string(body))
	}
	var s string
	if json.Unmarshal(entra.Error, &s) == nil {
		code = s
	} else {
		var nested struct{ Code, Message string }
		if json.Unmarshal(entra.Error, &nested) == nil {
			code, detail = nested.Code, nested.Message
		}
	}
	if entra.ErrorDescription != "" {
		detail = entra.ErrorDescription
	} else if detail == "" {
		detail = entra.Message
	}
	detail = trimMessage(detail)
	if detail == "" && len(entra.ErrorCodes) > 0 {
		detail = "AADSTS" + strconv.Itoa(entra.ErrorCodes[0])
	}
	return trimMessage(code), detail
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
