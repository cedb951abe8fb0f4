package config

import (
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// tenantKeys are the keys of a `tenants:` entry. `defaults:` takes the same keys except name, since
// any tenant key may be set once for all (docs/configuration.md).
var tenantKeys = []string{
	"name", "tenant_id", "client_id",
	"client_secret", "client_secret_file",
	"certificate_file", "certificate_password", "certificate_password_file",
	"federated_token_file", "managed_identity",
	"cloud", "region", "endpoints", "tls",
	"refresh_interval", "request_timeout",
}

var (
	defaultsKeys = tenantKeys[1:]
	endpointKeys = []string{"authority", "mde", "xdr", "graph"}
	tlsKeys      = []string{"ca_file", "insecure_skip_verify"}
	miKeys       = []string{"client_id"}
	clouds       = []string{"global", "gcc", "gcc-high", "dod"}
	regions      = []string{"", "us", "eu", "uk", "au", "swa", "ina", "aea"} // defender.Regions and ""
)

// The tenant name is a label value and shows up in logs, dashboards' variable regexes and file names
// of golden tests; a conservative alphabet keeps all of those simple.
var (
	tenantNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	guidRE       = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

// field is one optional value with where it was set, so that after defaults are merged into a
// tenant an error still points at the line that holds the bad value.
type field[T any] struct {
	v  T
	ok bool
	at pos
}

func set[T any](v T, at pos) field[T] { return field[T]{v: v, ok: true, at: at} }

func inherit[T any](f *field[T], from field[T]) {
	if !f.ok {
		*f = from
	}
}

type miSpec struct {
	clientID field[string]
}

// tenantSpec is a tenant (or the defaults) as written, before merging and resolving.
type tenantSpec struct {
	at  pos
	env bool // built from AZURE_* variables: "missing" errors name the variable to set
	// broken: some value failed its own check. The checks on the tenant as a whole are then
	// skipped, since a value that could not be read looks missing and would be reported twice.
	broken bool

	name, tenantID, clientID field[string]

	clientSecret, clientSecretFile           field[string]
	certFile, certPassword, certPasswordFile field[string]
	federatedTokenFile                       field[string]
	managedIdentity                          field[miSpec]
	// secretsLiteral: values from the environment are final; ${...} expansion is for the file only.
	secretsLiteral bool

	cloud, region               field[string]
	authority, mde, xdr, graph  field[string]
	caFile                      field[string]
	insecureSkipVerify          field[bool]
	refreshInterval, reqTimeout field[time.Duration]
}

func (s *tenantSpec) hasCredential() bool {
	return s.clientSecret.ok || s.clientSecretFile.ok || s.certFile.ok || s.certPassword.ok ||
		s.certPasswordFile.ok || s.federatedTokenFile.ok || s.managedIdentity.ok
}

// merge fills what the tenant leaves unset from defaults. The credential keys move as one group:
// a tenant that names its own certificate must not also inherit the defaults' client secret and
// then fail the one-credential rule.
func (s tenantSpec) merge(def tenantSpec) tenantSpec {
	s.broken = s.broken || def.broken
	if !s.hasCredential() {
		s.clientSecret, s.clientSecretFile = def.clientSecret, def.clientSecretFile
		s.certFile, s.certPassword, s.certPasswordFile = def.certFile, def.certPassword, def.certPasswordFile
		s.federatedTokenFile, s.managedIdentity = def.federatedTokenFile, def.managedIdentity
		s.secretsLiteral = def.secretsLiteral
	}
	inherit(&s.tenantID, def.tenantID)
	inherit(&s.clientID, def.clientID)
	inherit(&s.cloud, def.cloud)
	// A region in defaults is meant for the global-cloud tenants; a tenant in a government cloud
	// has no regional hosts, so it does not inherit one (its own region key is still checked).
	if !s.cloud.ok || s.cloud.v == "global" {
		inherit(&s.region, def.region)
	}
	inherit(&s.authority, def.authority)
	inherit(&s.mde, def.mde)
	inherit(&s.xdr, def.xdr)
	inherit(&s.graph, def.graph)
	inherit(&s.caFile, def.caFile)
	inherit(&s.insecureSkipVerify, def.insecureSkipVerify)
	inherit(&s.refreshInterval, def.refreshInterval)
	inherit(&s.reqTimeout, def.reqTimeout)
	return s
}

func defaultsHint(key string) string {
	if key == "name" {
		return "name identifies one tenant, so it belongs under tenants:, not defaults:"
	}
	return ""
}

// tenantSpec decodes a tenant entry or the defaults block, checking each value on its own; checks
// that need the merged tenant (one credential, region vs cloud, files) come later in resolveTenant.
func (d *decoder) tenantSpec(n *yaml.Node, path string, keys []string, hint func(string) string) (s tenantSpec) {
	s = tenantSpec{at: d.posOf(d.resolve(n), path)}
	before := len(d.errs)
	defer func() { s.broken = len(d.errs) > before }()
	pairs, ok := d.mapping(n, path, keys, hint)
	if !ok {
		return s
	}
	for _, p := range pairs {
		at := d.posOf(p.v, p.path)
		if r := d.resolve(p.v); r != nil {
			at.line = r.Line
		}
		switch p.key {
		case "name":
			if v, ok := d.scalar(p.v, p.path, "a name"); ok && d.checkName(v, at) {
				s.name = set(v, at)
			}
		case "tenant_id", "client_id":
			d.guidKey(&s, p, at)
		case "client_secret", "certificate_password",
			"client_secret_file", "certificate_file", "certificate_password_file", "federated_token_file":
			d.credentialKey(&s, p, at)
		case "managed_identity":
			s.managedIdentity = set(d.managedIdentity(p.v, p.path), at)
		case "cloud", "region":
			d.cloudKey(&s, p, at)
		case "endpoints":
			d.endpointsKey(&s, p)
		case "tls":
			d.tlsKey(&s, p)
		case "refresh_interval":
			if v, ok := d.positive(p.v, p.path); ok {
				s.refreshInterval = set(v, at)
			}
		case "request_timeout":
			if v, ok := d.positive(p.v, p.path); ok {
				s.reqTimeout = set(v, at)
			}
		}
	}
	return s
}

// guidKey decodes tenant_id or client_id, the app registration's GUIDs.
func (d *decoder) guidKey(s *tenantSpec, p pair, at pos) {
	v, ok := d.scalar(p.v, p.path, "a GUID")
	if !ok {
		return
	}
	if !guidRE.MatchString(v) {
		what := "the Directory (tenant) ID"
		if p.key == "client_id" {
			what = "the Application (client) ID"
		}
		d.errAt(at, nil, "%q is not a GUID: use %s from the app registration's overview in Entra, e.g. 00000000-0000-0000-0000-000000000000", truncate(v), what)
		return
	}
	if p.key == "tenant_id" {
		s.tenantID = set(v, at)
	} else {
		s.clientID = set(v, at)
	}
}

// credentialKey decodes a secret (client_secret, certificate_password) or the path of a credential
// file; whether the tenant has exactly one credential is resolveCredential's check.
func (d *decoder) credentialKey(s *tenantSpec, p pair, at pos) {
	switch p.key {
	case "client_secret", "certificate_password":
		// The value is never echoed, not even in a type error.
		v, ok := d.scalar(p.v, p.path, "a string")
		if !ok {
			return
		}
		if p.key == "client_secret" {
			s.clientSecret = set(v, at)
		} else {
			s.certPassword = set(v, at)
		}
		return
	}
	v, ok := d.filePath(p.v, p.path)
	if !ok {
		return
	}
	f := set(v, at)
	switch p.key {
	case "client_secret_file":
		s.clientSecretFile = f
	case "certificate_file":
		s.certFile = f
	case "certificate_password_file":
		s.certPasswordFile = f
	case "federated_token_file":
		s.federatedTokenFile = f
	}
}

// cloudKey decodes cloud or region, which pick the API hosts; whether the region fits the cloud is
// resolveTenant's check.
func (d *decoder) cloudKey(s *tenantSpec, p pair, at pos) {
	switch p.key {
	case "cloud":
		if v, ok := d.scalar(p.v, p.path, "a cloud name"); ok {
			if !contains(clouds, v) {
				d.errAt(at, nil, "%q is not a cloud: use global, gcc, gcc-high or dod", truncate(v))
				return
			}
			s.cloud = set(v, at)
		}
	case "region":
		if v, ok := d.scalar(p.v, p.path, "a region"); ok {
			if !contains(regions, v) {
				d.errAt(at, nil, "%q is not a region: use %s, or \"\" for the global host", truncate(v), strings.Join(regions[1:], ", "))
				return
			}
			s.region = set(v, at)
		}
	}
}

// endpointsKey decodes endpoints:, each URL pointing at the line that holds it.
func (d *decoder) endpointsKey(s *tenantSpec, p pair) {
	eps, _ := d.mapping(p.v, p.path, endpointKeys, noHint)
	for _, e := range eps {
		v, ok := d.endpoint(e.v, e.path)
		if !ok {
			continue
		}
		f := set(v, d.posOf(d.resolve(e.v), e.path))
		switch e.key {
		case "authority":
			s.authority = f
		case "mde":
			s.mde = f
		case "xdr":
			s.xdr = f
		case "graph":
			s.graph = f
		}
	}
}

// tlsKey decodes tls:, each value pointing at the line that holds it.
func (d *decoder) tlsKey(s *tenantSpec, p pair) {
	tps, _ := d.mapping(p.v, p.path, tlsKeys, noHint)
	for _, e := range tps {
		eat := d.posOf(d.resolve(e.v), e.path)
		switch e.key {
		case "ca_file":
			if v, ok := d.filePath(e.v, e.path); ok {
				s.caFile = set(v, eat)
			}
		case "insecure_skip_verify":
			if v, ok := d.boolean(e.v, e.path); ok {
				s.insecureSkipVerify = set(v, eat)
			}
		}
	}
}

func (d *decoder) checkName(v string, at pos) bool {
	switch {
	case v == "":
		d.errAt(at, nil, "is empty: give the tenant a short name for the tenant label, e.g. contoso")
	case !tenantNameRE.MatchString(v):
		d.errAt(at, nil, "%q may contain only letters, digits, '_', '.' and '-', since it becomes the tenant label, e.g. contoso-prod", truncate(v))
	default:
		return true
	}
	return false
}

func (d *decoder) managedIdentity(n *yaml.Node, path string) miSpec {
	var mi miSpec
	pairs, _ := d.mapping(n, path, miKeys, func(k string) string {
		if k == "object_id" || k == "resource_id" {
			return "only client_id selects a user-assigned identity; use {} for the system-assigned one"
		}
		return ""
	})
	for _, p := range pairs {
		v, ok := d.scalar(p.v, p.path, "a GUID")
		if !ok {
			continue
		}
		at := d.posOf(d.resolve(p.v), p.path)
		if v != "" && !guidRE.MatchString(v) {
			d.errAt(at, nil, "%q is not a GUID: use the managed identity's Client ID, or leave managed_identity empty ({}) for the system-assigned identity", truncate(v))
			continue
		}
		mi.clientID = set(v, at)
	}
	return mi
}

// filePath resolves a path relative to the config file, as Prometheus does, so the config and its
// secrets can move together.
func (d *decoder) filePath(n *yaml.Node, path string) (string, bool) {
	v, ok := d.scalar(n, path, "a file path")
	if !ok {
		return "", false
	}
	if v == "" {
		d.errf(d.resolve(n), path, "needs a file path")
		return "", false
	}
	return d.resolvePath(v), true
}

func (d *decoder) resolvePath(p string) string {
	if d.dir == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(d.dir, p)
}

// readAt reads a file named in the config; the error message is the OS's own ("open /x: no such
// file or directory"), which already says what is wrong and where.
func (d *decoder) readAt(f field[string]) ([]byte, bool) {
	b, err := d.readFile(f.v)
	if err != nil {
		d.errAt(f.at, err, "%v", err)
		return nil, false
	}
	return b, true
}

// readCredential reads a credential file named in the config, as readAt does. With
// Options.CredentialFilesPerTenant a file that cannot be read is no error: ok is false and later is
// true, and the caller keeps the path for the client to read when the file is back.
func (d *decoder) readCredential(f field[string]) (b []byte, ok, later bool) {
	b, err := d.readFile(f.v)
	switch {
	case err == nil:
		return b, true, false
	case d.credentialFilesPerTenant:
		return nil, false, true
	}
	d.errAt(f.at, err, "%v", err)
	return nil, false, false
}

// CheckCredentialFiles reads every credential file of t, so that one that has become unreadable
// since the configuration was loaded (or was then, with Options.CredentialFilesPerTenant) is
// reported once for the tenant, naming the key and the file, before a client is built. The
// contents are not kept: the client reads its files itself.
func (t Tenant) CheckCredentialFiles() error {
	for _, f := range []struct{ key, path string }{
		{"client_secret_file", t.ClientSecretFile},
		{"certificate_file", t.CertificateFile},
		{"certificate_password_file", t.CertificatePasswordFile},
		{"federated_token_file", t.FederatedTokenFile},
	} {
		if f.path == "" {
			continue
		}
		if _, err := os.ReadFile(f.path); err != nil {
			return fmt.Errorf("%s: %w", f.key, err)
		}
	}
	return nil
}

// missing reports a required value that is absent, pointing at the tenant entry (or, for the
// environment tenant, at the variable to set).
func (d *decoder) missing(s tenantSpec, key, envVar, what string) {
	if s.env {
		d.errAt(pos{file: envSource, path: envVar}, nil, "is not set: %s", what)
		return
	}
	d.errAt(s.at, nil, "%s is required: %s", key, what)
}

func where(at pos) string {
	if at.line > 0 {
		return fmt.Sprintf("line %d", at.line)
	}
	return at.String()
}

// resolveTenant checks a merged tenant as a whole and reads its files.
func (d *decoder) resolveTenant(s tenantSpec) (Tenant, bool) {
	before := len(d.errs)
	t := Tenant{
		Name:            s.name.v,
		TenantID:        s.tenantID.v,
		ClientID:        s.clientID.v,
		Cloud:           defaultCloud,
		RefreshInterval: defaultRefreshInterval,
		RequestTimeout:  defaultRequestTimeout,
	}
	if s.cloud.ok {
		t.Cloud = s.cloud.v
	}
	if s.region.ok && s.region.v != "" && t.Cloud != "global" {
		d.errAt(s.region.at, nil, "region %q applies only to the global cloud, but this tenant's cloud is %s: remove region (the %s hosts are not regional)", s.region.v, t.Cloud, t.Cloud)
	}
	t.Region = s.region.v
	t.Endpoints = Endpoints{Authority: s.authority.v, MDE: s.mde.v, XDR: s.xdr.v, Graph: s.graph.v}
	t.TLS.InsecureSkipVerify = s.insecureSkipVerify.v
	if s.caFile.ok {
		if b, ok := d.readAt(s.caFile); ok {
			if !x509.NewCertPool().AppendCertsFromPEM(b) {
				d.errAt(s.caFile.at, nil, "%s holds no PEM certificate: ca_file needs the CA certificates (-----BEGIN CERTIFICATE-----) that sign the API hosts", s.caFile.v)
			} else {
				t.TLS.CAFile = s.caFile.v
			}
		}
	}
	if s.refreshInterval.ok {
		t.RefreshInterval, t.refreshIntervalSet = s.refreshInterval.v, true
	}
	if s.reqTimeout.ok {
		t.RequestTimeout = s.reqTimeout.v
	}

	d.resolveCredential(s, &t)

	if t.ManagedIdentity == nil {
		if !s.tenantID.ok {
			d.missing(s, "tenant_id", "AZURE_TENANT_ID", "the Directory (tenant) ID GUID of the tenant")
		}
		if !s.clientID.ok {
			d.missing(s, "client_id", "AZURE_CLIENT_ID", "the Application (client) ID GUID of the app registration")
		}
	}
	return t, len(d.errs) == before
}

type credKey struct {
	key string
	at  pos
}

// resolveCredential checks that the tenant has exactly one credential and reads it into t.
func (d *decoder) resolveCredential(s tenantSpec, t *Tenant) {
	kinds := credentialKinds(s)
	d.checkOneCredential(s, kinds)
	if len(kinds) != 1 {
		return
	}

	switch kinds[0].key {
	case "client_secret":
		if v, ok := d.secret(s.clientSecret, s.secretsLiteral); ok {
			if v == "" {
				d.errAt(s.clientSecret.at, nil, "is empty: set the app's client secret, or use client_secret_file")
			}
			t.ClientSecret = Secret(v)
		}
	case "client_secret_file":
		b, ok, later := d.readCredential(s.clientSecretFile)
		if ok {
			v := trimSecretFile(b)
			if v == "" {
				d.errAt(s.clientSecretFile.at, nil, "%s is empty: the file must hold the app's client secret", s.clientSecretFile.v)
			}
			t.ClientSecret = Secret(v)
		}
		if ok || later {
			t.ClientSecretFile = s.clientSecretFile.v
		}
	case "certificate_file":
		d.resolveCertificate(s, t)
	case "federated_token_file":
		// Read once to fail fast on a wrong path; the content is a short-lived token that the
		// client re-reads on every acquisition, so it is not kept.
		if _, ok, later := d.readCredential(s.federatedTokenFile); ok || later {
			t.FederatedTokenFile = s.federatedTokenFile.v
		}
	case "managed_identity":
		d.resolveManagedIdentity(s, t)
	}
}

// credentialKinds lists the credentials s sets, each with where it is set.
func credentialKinds(s tenantSpec) []credKey {
	var kinds []credKey
	add := func(key string, f field[string]) {
		if f.ok {
			kinds = append(kinds, credKey{key, f.at})
		}
	}
	add("client_secret", s.clientSecret)
	add("client_secret_file", s.clientSecretFile)
	add("certificate_file", s.certFile)
	add("federated_token_file", s.federatedTokenFile)
	if s.managedIdentity.ok {
		kinds = append(kinds, credKey{"managed_identity", s.managedIdentity.at})
	}
	return kinds
}

// checkOneCredential reports a tenant with no credential or more than one, and a certificate
// password without a certificate or given twice.
func (d *decoder) checkOneCredential(s tenantSpec, kinds []credKey) {
	switch {
	case len(kinds) == 0 && s.env:
		d.errAt(pos{file: envSource}, nil, "no credential: set AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE (with AZURE_TENANT_ID and AZURE_CLIENT_ID), or AZURE_CLIENT_ID alone for a user-assigned managed identity")
	case len(kinds) == 0:
		d.errAt(s.at, nil, "no credential: set one of client_secret, client_secret_file, certificate_file, federated_token_file or managed_identity")
	case len(kinds) > 1:
		// Point at the one written last: that is usually the one just added.
		sort.SliceStable(kinds, func(i, j int) bool { return kinds[i].at.line < kinds[j].at.line })
		d.errAt(kinds[1].at, nil, "%s and %s (%s) are both set, but a tenant uses exactly one credential: keep one", kinds[1].key, kinds[0].key, where(kinds[0].at))
	}
	for _, f := range []field[string]{s.certPassword, s.certPasswordFile} {
		if f.ok && !s.certFile.ok {
			d.errAt(f.at, nil, "applies only with certificate_file (to decrypt a .pfx or an encrypted key): remove it, or add certificate_file")
		}
	}
	if s.certPassword.ok && s.certPasswordFile.ok {
		d.errAt(s.certPasswordFile.at, nil, "certificate_password_file and certificate_password (%s) are both set: keep one", where(s.certPassword.at))
	}
}

// resolveCertificate reads the certificate credential into t: the file and its password, if any.
func (d *decoder) resolveCertificate(s tenantSpec, t *Tenant) {
	// Existence and readability only; the defender package parses PEM and PKCS#12 and reports
	// what it finds.
	b, ok, later := d.readCredential(s.certFile)
	if ok && len(b) == 0 {
		d.errAt(s.certFile.at, nil, "%s is empty: it must hold the PEM certificate and key, or a .pfx", s.certFile.v)
	}
	if ok || later {
		t.CertificateFile = s.certFile.v
	}
	if s.certPassword.ok {
		if v, ok := d.secret(s.certPassword, s.secretsLiteral); ok {
			t.CertificatePassword = Secret(v)
		}
	}
	if s.certPasswordFile.ok {
		b, ok, later := d.readCredential(s.certPasswordFile)
		if ok {
			t.CertificatePassword = Secret(trimSecretFile(b))
		}
		if ok || later {
			t.CertificatePasswordFile = s.certPasswordFile.v
		}
	}
}

// resolveManagedIdentity sets t's managed identity, after checking that a client_id next to it
// agrees with it.
func (d *decoder) resolveManagedIdentity(s tenantSpec, t *Tenant) {
	mi := s.managedIdentity.v
	switch {
	case s.clientID.ok && !mi.clientID.ok:
		d.errAt(s.clientID.at, nil, "client_id is not used with a system-assigned managed identity: move it to managed_identity.client_id for a user-assigned identity, or remove it")
	case s.clientID.ok && !strings.EqualFold(s.clientID.v, mi.clientID.v):
		d.errAt(s.clientID.at, nil, "%s differs from managed_identity.client_id %s (%s): remove client_id; the managed identity's client_id is the one used", s.clientID.v, mi.clientID.v, where(mi.clientID.at))
	}
	t.ManagedIdentity = &ManagedIdentity{ClientID: mi.clientID.v}
}

func (d *decoder) secret(f field[string], literal bool) (string, bool) {
	if literal {
		return f.v, true
	}
	v, err := expandEnv(f.v, d.getenv)
	if err != nil {
		d.errAt(f.at, nil, "%v", err)
		return "", false
	}
	return v, true
}
