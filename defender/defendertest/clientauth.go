package defendertest

import (
	"bytes"
	"crypto/rsa"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client authentication at the token endpoint, checked for real: a client
// secret (form or HTTP Basic), a certificate assertion signed with the key of
// a certificate registered on the app, or a federated assertion from the
// fake's own issuer. Error texts carry client IDs at most, never a submitted
// secret or assertion.

func errBadSecret(clientID string) *entraError {
	return &entraError{http.StatusUnauthorized, "invalid_client", 7000215,
		"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '" + clientID + "'."}
}

// authenticateClient finds the app and checks its credential: client_secret
// in the form or in HTTP Basic (RFC 6749 §2.3.1), or a client assertion —
// either a certificate assertion the app signed itself or a federated token
// from the fake's issuer.
func (t *Tenant) authenticateClient(r *http.Request, form url.Values) (*appRecord, *entraError) {
	clientID := form.Get("client_id")
	secret, hasSecret := form.Get("client_secret"), form.Has("client_secret")
	if user, pass, ok := r.BasicAuth(); ok {
		if hasSecret {
			return nil, &entraError{http.StatusBadRequest, "invalid_request", 9002313,
				"Invalid request. Only one client authentication method may be used."}
		}
		// RFC 6749 §2.3.1: both parts are form-urlencoded before Basic.
		u, err1 := url.QueryUnescape(user)
		p, err2 := url.QueryUnescape(pass)
		if err1 != nil || err2 != nil || (clientID != "" && clientID != u) {
			return nil, &entraError{http.StatusUnauthorized, "invalid_client", 7000218,
				"The client credentials in the Authorization header are malformed."}
		}
		clientID, secret, hasSecret = u, p, true
	}
	assertion := form.Get("client_assertion")
	if hasSecret && assertion != "" {
		return nil, &entraError{http.StatusBadRequest, "invalid_request", 9002313,
			"Invalid request. Only one client authentication method may be used."}
	}
	var parsed *parsedJWT
	if assertion != "" {
		if form.Get("client_assertion_type") != clientAssertionType {
			return nil, &entraError{http.StatusBadRequest, "invalid_request", 50027,
				"The client_assertion_type is missing or not supported."}
		}
		var err error
		if parsed, err = parseJWT(assertion); err != nil {
			return nil, &entraError{http.StatusUnauthorized, "invalid_client", 50027,
				"JWT token is invalid or malformed: " + err.Error()}
		}
		if clientID == "" && parsed.claims.Iss == parsed.claims.Sub {
			clientID = parsed.claims.Sub // a certificate assertion names its app
		}
	}
	if clientID == "" {
		return nil, &entraError{http.StatusBadRequest, "invalid_request", 900144,
			"The request body must contain the following parameter: 'client_id'."}
	}
	app := t.app(strings.ToLower(clientID))
	if app == nil {
		return nil, &entraError{http.StatusBadRequest, "unauthorized_client", 700016,
			"Application with identifier '" + safeForMessage(clientID) + "' was not found in the directory '" + t.tenantID + "'."}
	}
	revoked, _ := app.snapshot()
	switch {
	case hasSecret:
		if revoked || subtle.ConstantTimeCompare([]byte(secret), []byte(app.secret)) != 1 {
			return nil, errBadSecret(app.clientID)
		}
		return app, nil
	case parsed != nil:
		if parsed.header.X5t != "" || parsed.header.X5tS256 != "" {
			return app, t.checkCertificateAssertion(r, app, revoked, parsed)
		}
		return app, t.checkFederatedAssertion(app, revoked, parsed)
	}
	return nil, &entraError{http.StatusUnauthorized, "invalid_client", 7000218,
		"The request body must contain the following parameter: 'client_assertion' or 'client_secret'."}
}

// assertionSkew is the clock skew Entra tolerates on assertion times.
const assertionSkew = 5 * time.Minute

func checkAssertionTimes(p *parsedJWT) *entraError {
	now := float64(time.Now().Unix())
	skew := assertionSkew.Seconds()
	if p.claims.Exp == 0 || p.claims.Exp < now-skew || (p.claims.Nbf != 0 && p.claims.Nbf > now+skew) {
		return &entraError{http.StatusUnauthorized, "invalid_client", 700024,
			"Client assertion is not within its valid time range."}
	}
	return nil
}

func (t *Tenant) checkCertificateAssertion(r *http.Request, app *appRecord, revoked bool, p *parsedJWT) *entraError {
	notRegistered := &entraError{http.StatusUnauthorized, "invalid_client", 700027,
		"The certificate with identifier used to sign the client assertion is not registered on application."}
	if revoked || !thumbprintMatches(p.header, app) {
		return notRegistered
	}
	pub, ok := app.cert.PublicKey.(*rsa.PublicKey)
	if !ok || !p.verifyRSA(pub) {
		return &entraError{http.StatusUnauthorized, "invalid_client", 7000274,
			"Client assertion failed signature validation."}
	}
	if p.claims.Iss != app.clientID || p.claims.Sub != app.clientID {
		return &entraError{http.StatusUnauthorized, "invalid_client", 700021,
			"Client assertion application identifier doesn't match 'client_id' parameter."}
	}
	endpoint := base(r) + r.URL.Path
	if !p.claims.Aud.contains(endpoint) {
		return &entraError{http.StatusUnauthorized, "invalid_client", 700212,
			"The audience of the client assertion must be the token endpoint " + endpoint + "."}
	}
	return checkAssertionTimes(p)
}

func (t *Tenant) checkFederatedAssertion(app *appRecord, revoked bool, p *parsedJWT) *entraError {
	if p.claims.Iss != t.federationIssuer() {
		return &entraError{http.StatusUnauthorized, "invalid_client", 700211,
			"No matching federated identity record found for presented assertion issuer."}
	}
	if !p.verifyES256(&t.signKey.PublicKey) {
		return &entraError{http.StatusUnauthorized, "invalid_client", 7000274,
			"Client assertion failed signature validation."}
	}
	if !p.claims.Aud.contains(FederatedAudience) {
		return &entraError{http.StatusUnauthorized, "invalid_client", 700212,
			"No matching federated identity record found for presented assertion audience."}
	}
	if revoked || !strings.EqualFold(p.claims.Sub, app.clientID) {
		return &entraError{http.StatusUnauthorized, "invalid_client", 70021,
			"No matching federated identity record found for presented assertion."}
	}
	return checkAssertionTimes(p)
}

// thumbprintMatches compares the assertion's x5t (SHA-1) or x5t#S256
// (SHA-256) with the app's certificate. The JWS spec says base64url, but MSAL
// for Go sends standard base64 with padding and Entra accepts both, so both
// decodings are tried.
func thumbprintMatches(h jwtHeader, app *appRecord) bool {
	if h.X5tS256 != "" && bytes.Equal(decodeThumbprint(h.X5tS256), app.sha256Thumb[:]) {
		return true
	}
	return h.X5t != "" && bytes.Equal(decodeThumbprint(h.X5t), app.sha1Thumb[:])
}

func decodeThumbprint(s string) []byte {
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.StdEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b
		}
	}
	return nil
}
