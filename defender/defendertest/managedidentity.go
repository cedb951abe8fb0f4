package defendertest

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The App Service managed-identity source, as MSAL for Go calls it: GET
// $IDENTITY_ENDPOINT?api-version=2019-08-01&resource=<resource>[&client_id=]
// with header X-IDENTITY-HEADER: $IDENTITY_HEADER, answered with
// {"access_token","expires_on":"<unix seconds as a string>","resource",
// "token_type","client_id"}. MSAL uses IDENTITY_ENDPOINT verbatim, so an
// https endpoint works given an HTTP client that trusts the fake's CA.

const (
	managedIdentityPath       = "/msi/token"
	appServiceAPIVersion      = "2019-08-01"
	managedIdentityHeaderName = "X-IDENTITY-HEADER"
)

// ManagedIdentityEndpoint returns the values for IDENTITY_ENDPOINT and
// IDENTITY_HEADER. The header value is a secret: never log it.
func (t *Tenant) ManagedIdentityEndpoint() (endpoint, header string) {
	return t.url + managedIdentityPath, t.miHdr
}

// ManagedIdentityClientID is the client ID of the system-assigned identity;
// its tokens carry it as appid and every role in AllRoles.
func (t *Tenant) ManagedIdentityClientID() string { return t.miID }

func writeMIError(w http.ResponseWriter, status int, msg string) {
	setDefaultContentType(w)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"statusCode": status, "message": msg, "correlationId": newRandomGUID()})
}

func (t *Tenant) handleManagedIdentity(w http.ResponseWriter, r *http.Request) {
	t.calls.add("managedidentity")
	f, _ := t.faults.take("managedidentity")
	if replaceAnswer(w, r, f, func(s int) { writeMIError(w, s, http.StatusText(s)+" (injected fault)") }) {
		return
	}
	if r.Method != http.MethodGet {
		writeMIError(w, http.StatusMethodNotAllowed, "Only GET is supported.")
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.Header.Get(managedIdentityHeaderName)), []byte(t.miHdr)) != 1 {
		writeMIError(w, http.StatusUnauthorized, "The X-IDENTITY-HEADER header is missing or wrong.")
		return
	}
	q := r.URL.Query()
	if q.Get("api-version") != appServiceAPIVersion {
		writeMIError(w, http.StatusBadRequest, "Unsupported api-version; want "+appServiceAPIVersion+".")
		return
	}
	resource := strings.TrimSuffix(q.Get("resource"), "/.default")
	api, canonical, ok := t.cloud.resource(resource)
	if !ok {
		writeMIError(w, http.StatusBadRequest, "AADSTS500011: The resource principal named "+safeForMessage(resource)+" was not found in the tenant.")
		return
	}
	clientID, objectID, roles := t.miID, t.miID, AllRoles()
	switch {
	case q.Get("mi_res_id") != "" || q.Get("object_id") != "" || q.Get("principal_id") != "":
		writeMIError(w, http.StatusBadRequest, "Only the system-assigned identity or a user-assigned identity by client_id is known to this tenant.")
		return
	case q.Get("client_id") != "" && !strings.EqualFold(q.Get("client_id"), t.miID):
		// A user-assigned identity: any registered, unrevoked app stands in.
		app := t.app(strings.ToLower(q.Get("client_id")))
		if app == nil {
			writeMIError(w, http.StatusBadRequest, "No user-assigned identity with this client_id is assigned to the resource.")
			return
		}
		revoked, appRoles := app.snapshot()
		if revoked {
			writeMIError(w, http.StatusBadRequest, "The user-assigned identity has been removed.")
			return
		}
		clientID, objectID, roles = app.clientID, app.objectID, appRoles
	}
	tok, lifetime, err := t.issueAccessToken(clientID, objectID, canonical, rolesFor(api, roles))
	if err != nil {
		writeMIError(w, http.StatusInternalServerError, "Token signing failed.")
		return
	}
	expiresOn := time.Now().Add(lifetime).Unix()
	body, _ := json.Marshal(map[string]string{
		"access_token": tok,
		"expires_on":   strconv.FormatInt(expiresOn, 10),
		"resource":     canonical,
		"token_type":   "Bearer",
		"client_id":    clientID,
	})
	writeDistorted(w, http.StatusOK, "application/json; charset=utf-8", body, f)
}
