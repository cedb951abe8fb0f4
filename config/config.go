// Package config loads and validates the defender_exporter configuration file.
//
// The exporter talks to rate-limited APIs on behalf of several tenants with real credentials, so a
// mistake found at start-up is cheap and one found at 3 a.m. by a failed refresh is not: this package
// rejects unknown keys, checks every value it can without calling Azure (GUIDs, clouds, URLs, files,
// intervals against Defender's call budgets), and names the file, line and key of every problem.
// The resolved Config is immutable once returned; Store swaps whole configs on reload.
package config

import (
	"time"
)

// envSource is Config.Source when the tenant was built from the AZURE_* variables, and the "file"
// that errors about those variables point at.
const envSource = "environment"

// Built-in tenant defaults, as docs/configuration.md lists them.
const (
	defaultRefreshInterval = 5 * time.Minute
	defaultRequestTimeout  = 60 * time.Second
	defaultCloud           = "global"
)

// Config is the resolved configuration: defaults merged into every tenant, secrets read, every
// collector present.
type Config struct {
	Tenants    []Tenant
	Collectors map[string]Collector // every name in CollectorNames is present
	Hunting    Hunting
	// Source says where the tenants came from: the file path, or "environment" when they were built
	// from the AZURE_* variables.
	Source string
}

// Endpoints override the hosts that Cloud would pick, for proxies, sovereign-cloud oddities and the
// fake tenant in tests. Token scopes always follow Cloud: overriding a host must not silently change
// the audience a token is requested for. "" means "from the cloud table".
type Endpoints struct {
	Authority string // Entra host, like AZURE_AUTHORITY_HOST; the client appends the tenant ID
	MDE       string
	XDR       string
	Graph     string
}

// TLS customises server verification for all of a tenant's endpoints.
type TLS struct {
	CAFile             string
	InsecureSkipVerify bool
}

// ManagedIdentity selects Azure managed identity; ClientID "" means the system-assigned identity.
type ManagedIdentity struct {
	ClientID string
}

// Tenant is one Defender tenant and the credential used to reach it. File paths are already
// resolved against the config file's directory.
type Tenant struct {
	Name     string // the `tenant` label value
	TenantID string // "" only with a managed identity
	ClientID string // "" only with a managed identity

	// Exactly one credential is set; CredentialKind says which.
	ClientSecret Secret
	// ClientSecretFile is where ClientSecret was read from, if from a file: the client watches
	// it, so that a rotated secret is used without a reload.
	ClientSecretFile    string
	CertificateFile     string
	CertificatePassword Secret
	// CertificatePasswordFile is where CertificatePassword was read from, if from a file: the
	// client watches it with the certificate file, as the two rotate together.
	CertificatePasswordFile string
	// FederatedTokenFile is kept as a path: workload-identity tokens are rotated on disk, so the
	// client must re-read the file on every token acquisition.
	FederatedTokenFile string
	ManagedIdentity    *ManagedIdentity

	Cloud     string // global | gcc | gcc-high | dod
	Region    string // "" | us | eu | uk | au | swa | ina | aea; global cloud only
	Endpoints Endpoints
	TLS       TLS

	RefreshInterval time.Duration // tenant > defaults > 5m
	RequestTimeout  time.Duration // tenant > defaults > 60s

	// refreshIntervalSet records whether refresh_interval was written down (tenant or defaults). Only
	// then does it override the collectors' own default intervals: a 5m fallback must not make the
	// hourly score collectors run twelve times as often.
	refreshIntervalSet bool
}

// Credential kinds, as returned by Tenant.CredentialKind.
const (
	KindClientSecret    = "client_secret"
	KindCertificate     = "certificate"
	KindFederatedToken  = "federated_token"
	KindManagedIdentity = "managed_identity"
)

// CredentialKind says which credential a validated tenant uses, so that the client and the
// certificate-expiry metric can switch on one value instead of re-deriving it from which fields are
// set.
func (t Tenant) CredentialKind() string {
	switch {
	case t.ManagedIdentity != nil:
		return KindManagedIdentity
	case t.FederatedTokenFile != "":
		return KindFederatedToken
	case t.CertificateFile != "":
		return KindCertificate
	default:
		return KindClientSecret
	}
}

// Hunting holds the user-defined advanced-hunting metrics.
type Hunting struct {
	API     string // "graph" (default) or "mde"
	Queries []HuntingQuery
}

// HuntingQuery turns the rows of one KQL query into the metric defender_hunting_<Name>.
type HuntingQuery struct {
	Name     string
	Help     string
	Interval time.Duration
	Timespan string // ISO 8601 duration or interval; graph API only
	Query    string
	Labels   []string // result columns; the label names are LabelName(column)
	Value    string   // numeric result column
}

// Interval is how often collector runs for tenant t. An interval written on the collector wins;
// otherwise a refresh_interval written for the tenant (or in defaults) applies; otherwise the
// collector's own default, which differs per collector because the data changes at different
// speeds (alerts by the minute, exposure scores by the day). "hunting" is not a collector here:
// each query has its own interval. An unknown name gets the tenant's refresh interval, so that a
// caller's typo cannot produce a zero interval and a busy loop.
func (c *Config) Interval(t Tenant, collector string) time.Duration {
	if col, ok := c.Collectors[collector]; ok && col.Interval > 0 {
		return col.Interval
	}
	if t.refreshIntervalSet && t.RefreshInterval > 0 {
		return t.RefreshInterval
	}
	if def := DefaultCollector(collector).Interval; def > 0 {
		return def
	}
	if t.RefreshInterval > 0 {
		return t.RefreshInterval
	}
	return defaultRefreshInterval
}
