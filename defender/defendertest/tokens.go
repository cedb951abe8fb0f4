package defendertest

import (
	"encoding/binary"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Access tokens are compact JWTs signed ES256 with the tenant's key, shaped
// like Entra's v1 app tokens (aud, iss sts.windows.net, appid, tid, roles,
// idtyp "app"). Clients must treat them as opaque; the fake verifies them.

const signingKeyID = "defendertest-1"

func (t *Tenant) tokenLifetime() time.Duration {
	if t.opts.TokenLifetime > 0 {
		return t.opts.TokenLifetime
	}
	return time.Hour
}

// issueAccessToken mints a token for resource. Each token carries a serial
// (in uti) so ExpireTokens can reject everything issued before it.
func (t *Tenant) issueAccessToken(clientID, objectID, resource string, roles []string) (string, time.Duration, error) {
	lifetime := t.tokenLifetime()
	now := time.Now()
	serial := t.tokSeq.Add(1)
	var sb [8]byte
	binary.BigEndian.PutUint64(sb[:], serial)
	c := jwtClaims{
		Aud:   audience{resource},
		Iss:   "https://sts.windows.net/" + t.tenantID + "/",
		Iat:   float64(now.Unix()),
		Nbf:   float64(now.Unix()),
		Exp:   float64(now.Add(lifetime).Unix()),
		AppID: clientID,
		Oid:   objectID,
		Sub:   objectID,
		Tid:   t.tenantID,
		Idtyp: "app",
		Ver:   "1.0",
		Roles: roles,
		Uti:   b64.EncodeToString(sb[:]),
	}
	tok, err := signES256(t.signKey, jwtHeader{Typ: "JWT", Kid: signingKeyID}, c)
	return tok, lifetime, err
}

// rolesFor keeps the granted roles that belong to the token's resource.
func rolesFor(api apiAudience, granted []string) []string {
	var out []string
	for _, r := range granted {
		if slices.Contains(resourceRoles[api], r) {
			out = append(out, r)
		}
	}
	return out
}

// ExpireTokens makes the APIs reject every access token issued so far with
// 401, as if they had all expired; tokens issued afterwards work.
func (t *Tenant) ExpireTokens() {
	t.expiredBelow.Store(t.tokSeq.Load() + 1)
}

// federationIssuer is the issuer of FederatedToken, standing in for a
// workload identity provider (Kubernetes, GitHub Actions) trusted by every
// app's federated credential.
func (t *Tenant) federationIssuer() string { return t.url + "/federation" }

// FederatedToken mints a token that the token endpoint accepts as a federated
// client assertion for clientID: issuer federationIssuer, audience
// FederatedAudience, subject clientID, valid for an hour.
func (t *Tenant) FederatedToken(clientID string) string {
	now := time.Now()
	c := jwtClaims{
		Iss: t.federationIssuer(),
		Sub: clientID,
		Aud: audience{FederatedAudience},
		Iat: float64(now.Unix()),
		Nbf: float64(now.Unix()),
		Exp: float64(now.Add(time.Hour).Unix()),
		Jti: newRandomGUID(),
	}
	tok, err := signES256(t.signKey, jwtHeader{Typ: "JWT", Kid: signingKeyID}, c)
	if err != nil {
		return "" // ECDSA signing with crypto/rand does not fail
	}
	return tok
}

// checkBearer validates the Authorization header for an API of audience api
// needing one of roles. It returns 0 when the request may proceed, else the
// status (401 or 403) to answer.
func (t *Tenant) checkBearer(r *http.Request, api apiAudience, roles []string) (int, string) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return http.StatusUnauthorized, "Authorization header is missing or is not a bearer token."
	}
	p, err := parseJWT(strings.TrimSpace(tok))
	if err != nil || !p.verifyES256(&t.signKey.PublicKey) {
		return http.StatusUnauthorized, "The access token is invalid."
	}
	c := p.claims
	if !strings.EqualFold(c.Tid, t.tenantID) {
		return http.StatusUnauthorized, "The access token was issued for another tenant."
	}
	if !t.cloud.accepts(api, c.Aud) {
		return http.StatusUnauthorized, "The access token has the wrong audience for this API."
	}
	if float64(time.Now().Unix()) >= c.Exp || t.tokenSerial(c.Uti) < t.expiredBelow.Load() {
		return http.StatusUnauthorized, "The access token has expired."
	}
	if len(roles) > 0 && !slices.ContainsFunc(c.Roles, func(r string) bool { return slices.Contains(roles, r) }) {
		return http.StatusForbidden, "The application lacks the permission " + strings.Join(roles, " or ") + "."
	}
	return 0, ""
}

func (t *Tenant) tokenSerial(uti string) uint64 {
	b, err := b64.DecodeString(uti)
	if err != nil || len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}
