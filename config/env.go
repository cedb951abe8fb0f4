package config

// The environment fallback mirrors the Azure SDK's DefaultAzureCredential order (EnvironmentCredential,
// then WorkloadIdentityCredential, then ManagedIdentityCredential), so that a container already
// configured for any Azure SDK, or for AKS workload identity, runs without a config file.

// envVars are the variables the fallback reads, in the order the docs list them.
var envVars = []string{
	"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET",
	"AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_CLIENT_CERTIFICATE_PASSWORD",
	"AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST",
}

const envTenantName = "default"

// envTenant builds the tenant spec from AZURE_* variables. ok is false when none of them is set, so
// the caller can explain that either tenants: or the environment is needed. Empty variables count as
// unset, as in azidentity.
func (d *decoder) envTenant() (tenantSpec, bool) {
	get := func(k string) string {
		v, _ := d.getenv(k)
		return v
	}
	at := func(k string) pos { return pos{file: envSource, path: k} }
	s := tenantSpec{at: pos{file: envSource}, env: true, secretsLiteral: true}
	s.name = set(envTenantName, pos{file: envSource})

	anySet := false
	for _, k := range envVars {
		if get(k) != "" {
			anySet = true
		}
	}
	if !anySet {
		return s, false
	}

	if v := get("AZURE_TENANT_ID"); v != "" {
		if guidRE.MatchString(v) {
			s.tenantID = set(v, at("AZURE_TENANT_ID"))
		} else {
			d.errAt(at("AZURE_TENANT_ID"), nil, "%q is not a GUID: use the Directory (tenant) ID from the app registration's overview in Entra", truncate(v))
		}
	}
	clientID := get("AZURE_CLIENT_ID")
	if clientID != "" {
		if guidRE.MatchString(clientID) {
			s.clientID = set(clientID, at("AZURE_CLIENT_ID"))
		} else {
			d.errAt(at("AZURE_CLIENT_ID"), nil, "%q is not a GUID: use the Application (client) ID from the app registration's overview in Entra", truncate(clientID))
			clientID = ""
		}
	}
	switch {
	case get("AZURE_CLIENT_SECRET") != "":
		s.clientSecret = set(get("AZURE_CLIENT_SECRET"), at("AZURE_CLIENT_SECRET"))
	case get("AZURE_CLIENT_CERTIFICATE_PATH") != "":
		s.certFile = set(get("AZURE_CLIENT_CERTIFICATE_PATH"), at("AZURE_CLIENT_CERTIFICATE_PATH"))
		if pw := get("AZURE_CLIENT_CERTIFICATE_PASSWORD"); pw != "" {
			s.certPassword = set(pw, at("AZURE_CLIENT_CERTIFICATE_PASSWORD"))
		}
	case get("AZURE_FEDERATED_TOKEN_FILE") != "":
		s.federatedTokenFile = set(get("AZURE_FEDERATED_TOKEN_FILE"), at("AZURE_FEDERATED_TOKEN_FILE"))
	}
	if v := get("AZURE_AUTHORITY_HOST"); v != "" {
		if u, err := checkEndpoint(v); err != nil {
			d.errAt(at("AZURE_AUTHORITY_HOST"), nil, "%v", err)
		} else {
			s.authority = set(u, at("AZURE_AUTHORITY_HOST"))
		}
	}
	return s, true
}

// withManagedIdentityFallback is the SDK's last resort: with no credential from the environment or
// from defaults, AZURE_CLIENT_ID alone selects a user-assigned managed identity. It runs after the
// merge so that a credential in defaults: wins over this guess.
func withManagedIdentityFallback(s tenantSpec) tenantSpec {
	if !s.hasCredential() && s.clientID.ok && s.clientID.at.file == envSource {
		s.managedIdentity = set(miSpec{clientID: s.clientID}, s.clientID.at)
	}
	return s
}
