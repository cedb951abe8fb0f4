package defendertest

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// The authority mimics Entra ID's v2.0 endpoints closely enough for MSAL for
// Go's confidential client (custom authority, instance discovery off):
// MSAL fetches /{tenant}/v2.0/.well-known/openid-configuration, requires
// authorization_endpoint, token_endpoint and an issuer on the same scheme and
// host as the authority, then POSTs client_credentials to token_endpoint with
// scope "<resource>/.default openid offline_access profile".

const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// FederatedAudience is the audience Entra requires of a federated credential.
const FederatedAudience = "api://AzureADTokenExchange"

// base is the scheme and host the client used, so discovery documents and
// assertion audiences match whatever host name the client connected with.
func base(r *http.Request) string { return "https://" + r.Host }

func (t *Tenant) knownTenant(w http.ResponseWriter, r *http.Request) bool {
	if strings.EqualFold(r.PathValue("tenant"), t.tenantID) {
		return true
	}
	(&entraError{http.StatusBadRequest, "invalid_tenant", 90002,
		"Tenant not found. Check to make sure you have the correct tenant ID."}).write(w, r)
	return false
}

func (t *Tenant) handleOpenIDConfiguration(w http.ResponseWriter, r *http.Request) {
	t.calls.add("openid-configuration")
	f, _ := t.faults.take("openid-configuration")
	if replaceAnswer(w, r, f, func(s int) { entraErrorFor(s).write(w, r) }) {
		return
	}
	if !t.knownTenant(w, r) {
		return
	}
	b, tid := base(r), t.tenantID
	doc := map[string]any{
		"token_endpoint":                        b + "/" + tid + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              b + "/" + tid + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"ES256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                b + "/" + tid + "/v2.0",
		"request_uri_parameter_supported":       false,
		"authorization_endpoint":                b + "/" + tid + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         b + "/" + tid + "/oauth2/v2.0/devicecode",
		"end_session_endpoint":                  b + "/" + tid + "/oauth2/v2.0/logout",
		"tenant_region_scope":                   "WW",
		"cloud_instance_name":                   "microsoftonline.com",
		"cloud_graph_host_name":                 "graph.windows.net",
		"msgraph_host":                          "graph.microsoft.com",
	}
	body, _ := json.Marshal(doc)
	writeDistorted(w, http.StatusOK, "application/json; charset=utf-8", body, f)
}

// handleJWKS publishes the fake's signing key, so a client that wants to
// inspect its access token can.
func (t *Tenant) handleJWKS(w http.ResponseWriter, r *http.Request) {
	t.calls.add("jwks")
	f, _ := t.faults.take("jwks")
	if replaceAnswer(w, r, f, func(s int) { entraErrorFor(s).write(w, r) }) {
		return
	}
	if !t.knownTenant(w, r) {
		return
	}
	// Bytes is the uncompressed point 0x04 || X || Y.
	pt, err := t.signKey.PublicKey.Bytes()
	if err != nil || len(pt) != 65 {
		entraErrorFor(http.StatusInternalServerError).write(w, r)
		return
	}
	x, y := pt[1:33], pt[33:]
	doc := map[string]any{"keys": []map[string]any{{
		"kty": "EC", "use": "sig", "crv": "P-256", "kid": signingKeyID,
		"x": b64.EncodeToString(x), "y": b64.EncodeToString(y),
	}}}
	body, _ := json.Marshal(doc)
	writeDistorted(w, http.StatusOK, "application/json; charset=utf-8", body, f)
}

// handleInstanceDiscovery answers the AAD instance-discovery call MSAL makes
// when instance discovery is left on for an unknown host. MSAL sends that call
// to login.microsoftonline.com, not to the authority, so it only reaches the
// fake through a client that rewrites hosts; served for completeness.
func (t *Tenant) handleInstanceDiscovery(w http.ResponseWriter, r *http.Request) {
	t.calls.add("instance-discovery")
	host := r.Host
	doc := map[string]any{
		"tenant_discovery_endpoint": base(r) + "/" + t.tenantID + "/v2.0/.well-known/openid-configuration",
		"api-version":               "1.1",
		"metadata": []map[string]any{{
			"preferred_network": host, "preferred_cache": host, "aliases": []string{host},
		}},
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(doc)
}

// maxFormBytes caps the token request body; an assertion with an x5c chain
// is a few KB.
const maxFormBytes = 256 << 10

func (t *Tenant) handleToken(w http.ResponseWriter, r *http.Request) {
	t.calls.add("token")
	f, _ := t.faults.take("token")
	if replaceAnswer(w, r, f, func(s int) { entraErrorFor(s).write(w, r) }) {
		return
	}
	if !t.knownTenant(w, r) {
		return
	}
	body, eerr := t.token(r)
	if eerr != nil {
		eerr.write(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("Pragma", "no-cache")
	writeDistorted(w, http.StatusOK, "application/json; charset=utf-8", body, f)
}

// token runs the client-credentials grant and returns the JSON answer.
func (t *Tenant) token(r *http.Request) ([]byte, *entraError) {
	if r.Method != http.MethodPost {
		return nil, &entraError{http.StatusBadRequest, "invalid_request", 900561,
			"The endpoint only accepts POST requests."}
	}
	r.Body = http.MaxBytesReader(nil, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return nil, &entraError{http.StatusBadRequest, "invalid_request", 900144,
			"The request body must be a form-encoded set of parameters."}
	}
	form := r.PostForm
	switch g := form.Get("grant_type"); g {
	case "client_credentials":
	case "":
		return nil, &entraError{http.StatusBadRequest, "invalid_request", 900144,
			"The request body must contain the following parameter: 'grant_type'."}
	default:
		return nil, &entraError{http.StatusBadRequest, "unsupported_grant_type", 70003,
			"The app requested an unsupported grant type."}
	}
	app, eerr := t.authenticateClient(r, form)
	if eerr != nil {
		return nil, eerr
	}
	api, resource, eerr := t.scopeResource(form.Get("scope"))
	if eerr != nil {
		return nil, eerr
	}
	revoked, roles := app.snapshot()
	if revoked {
		// Checked again: RevokeApp may have raced the credential check.
		return nil, errBadSecret(app.clientID)
	}
	tok, lifetime, err := t.issueAccessToken(app.clientID, app.objectID, resource, rolesFor(api, roles))
	if err != nil {
		return nil, &entraError{http.StatusInternalServerError, "server_error", 90033, "Token signing failed."}
	}
	secs := int(lifetime / time.Second)
	body, _ := json.Marshal(map[string]any{
		"token_type":     "Bearer",
		"expires_in":     secs - 1,
		"ext_expires_in": secs - 1,
		"access_token":   tok,
	})
	return body, nil
}

// scopeResource checks a client-credentials scope: exactly one resource with
// the /.default suffix (OIDC scopes MSAL appends are ignored, as Entra does
// for this grant), and a resource the tenant's cloud knows.
func (t *Tenant) scopeResource(scope string) (apiAudience, string, *entraError) {
	var resources []string
	for _, s := range strings.Fields(scope) {
		switch s {
		case "openid", "profile", "offline_access", "email":
			continue
		}
		resources = append(resources, s)
	}
	switch {
	case len(resources) == 0:
		return "", "", &entraError{http.StatusBadRequest, "invalid_request", 900144,
			"The request body must contain the following parameter: 'scope'."}
	case len(resources) > 1:
		return "", "", &entraError{http.StatusBadRequest, "invalid_scope", 70011,
			"The provided value for the input parameter 'scope' is not valid. All scopes included must be for a single resource."}
	}
	res, ok := strings.CutSuffix(resources[0], "/.default")
	if !ok {
		return "", "", &entraError{http.StatusBadRequest, "invalid_scope", 1002012,
			"The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."}
	}
	api, canonical, ok := t.cloud.resource(res)
	if !ok {
		return "", "", &entraError{http.StatusBadRequest, "invalid_resource", 500011,
			"The resource principal named " + safeForMessage(res) + " was not found in the tenant named " + t.tenantID + "."}
	}
	return api, canonical, nil
}

// safeForMessage bounds and sanitises a client-supplied value before it is
// quoted in an error (a resource URI is not a secret, but it is untrusted).
func safeForMessage(s string) string {
	if len(s) > 200 {
		s = s[:200]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}
