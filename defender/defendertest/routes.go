package defendertest

import (
	"net/http"
	"strings"
)

// routes wires the authority paths with ServeMux patterns and hands every
// /api/ path to the API table, which matches case-insensitively as Defender
// does (/api/Software and /api/software are the same API).
func (t *Tenant) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/{tenant}/v2.0/.well-known/openid-configuration", t.handleOpenIDConfiguration)
	mux.HandleFunc("/{tenant}/oauth2/v2.0/token", t.handleToken)
	mux.HandleFunc("/{tenant}/discovery/v2.0/keys", t.handleJWKS)
	mux.HandleFunc("/common/discovery/instance", t.handleInstanceDiscovery)
	mux.HandleFunc(managedIdentityPath, t.handleManagedIdentity)
	mux.HandleFunc("/", t.handleAPI)
	return mux
}

// lookupAPI resolves a request path to its API, accepting the optional
// version segment (/api/v1.0/alerts is /api/alerts).
func (t *Tenant) lookupAPI(path string) *apiEntry {
	p := strings.ToLower(path)
	if rest, ok := strings.CutPrefix(p, "/api/v1.0/"); ok {
		p = "/api/" + rest
	}
	p = strings.TrimSuffix(p, "/")
	return t.apis[p]
}
