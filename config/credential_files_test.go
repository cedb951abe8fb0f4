package config

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// perTenantFiles is a configuration whose tenants each read one kind of
// credential file; contoso's secret is a value.
const perTenantFiles = `tenants:
  - name: contoso
    tenant_id: 11111111-1111-1111-1111-111111111111
    client_id: 22222222-2222-2222-2222-222222222222
    client_secret: s-PLANTED
  - name: fabrikam
    tenant_id: 11111111-1111-1111-1111-111111111111
    client_id: 22222222-2222-2222-2222-222222222222
    client_secret_file: /run/secrets/fabrikam
  - name: northwind
    tenant_id: 11111111-1111-1111-1111-111111111111
    client_id: 22222222-2222-2222-2222-222222222222
    certificate_file: /run/secrets/northwind.pfx
    certificate_password_file: /run/secrets/northwind.pass
  - name: tailspin
    tenant_id: 11111111-1111-1111-1111-111111111111
    client_id: 22222222-2222-2222-2222-222222222222
    federated_token_file: /run/secrets/tailspin.token
`

// unreadable reads every file but the named ones, which do not exist.
func unreadable(missing ...string) func(string) ([]byte, error) {
	return func(p string) ([]byte, error) {
		for _, m := range missing {
			if p == m {
				return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
			}
		}
		return []byte("file-content-PLANTED\n"), nil
	}
}

// TestCredentialFilesPerTenant: with CredentialFilesPerTenant a credential
// file that cannot be read is not an error; the tenant keeps the path (for
// its client to read when the file is back) and nothing read from it.
// Without it, as --config.check loads, the same file is an error naming
// the key and the file.
func TestCredentialFilesPerTenant(t *testing.T) {
	missing := []string{"/run/secrets/fabrikam", "/run/secrets/northwind.pfx", "/run/secrets/northwind.pass", "/run/secrets/tailspin.token"}
	opts := testEnv()
	opts.ReadFile = unreadable(missing...)
	if _, err := Parse([]byte(perTenantFiles), "t.yml", opts); err == nil || !strings.Contains(err.Error(), "t.yml:9: tenants[1].client_secret_file: open /run/secrets/fabrikam") {
		t.Errorf("strict load: %v", err)
	}

	opts.CredentialFilesPerTenant = true
	cfg, err := Parse([]byte(perTenantFiles), "t.yml", opts)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Tenant{}
	for _, tc := range cfg.Tenants {
		byName[tc.Name] = tc
	}
	if len(byName) != 4 || byName["contoso"].ClientSecret != "s-PLANTED" {
		t.Fatalf("tenants: %+v", cfg.Tenants)
	}
	if f := byName["fabrikam"]; f.ClientSecretFile != "/run/secrets/fabrikam" || f.ClientSecret != "" || f.CredentialKind() != KindClientSecret {
		t.Errorf("fabrikam: %+v", f)
	}
	if n := byName["northwind"]; n.CertificateFile != "/run/secrets/northwind.pfx" || n.CertificatePasswordFile != "/run/secrets/northwind.pass" || n.CertificatePassword != "" {
		t.Errorf("northwind: %+v", n)
	}
	if tw := byName["tailspin"]; tw.FederatedTokenFile != "/run/secrets/tailspin.token" {
		t.Errorf("tailspin: %+v", tw)
	}
}

// TestPerTenantKeepsRealMistakesFatal: only an unreadable credential file
// is per tenant; a bad GUID, an unknown key, an empty secret file and an
// unreadable CA file are configuration errors in either mode.
func TestPerTenantKeepsRealMistakesFatal(t *testing.T) {
	opts := testEnv()
	opts.CredentialFilesPerTenant = true
	opts.ReadFile = unreadable("/run/ca.pem")
	for name, c := range map[string]struct{ yml, want string }{
		"bad guid": {strings.Replace(perTenantFiles, "11111111-1111-1111-1111-111111111111", "contoso.onmicrosoft.com", 1),
			"t.yml:3: tenants[0].tenant_id: \"contoso.onmicrosoft.com\" is not a GUID"},
		"unknown key": {perTenantFiles + "    client_secret_fil: x\n", "unknown key"},
		"ca file":     {perTenantFiles + "    tls: {ca_file: /run/ca.pem}\n", "tenants[3].tls.ca_file: open /run/ca.pem"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse([]byte(c.yml), "t.yml", opts); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
	opts.ReadFile = func(p string) ([]byte, error) { return []byte("\n"), nil }
	if _, err := Parse([]byte(perTenantFiles), "t.yml", opts); err == nil || !strings.Contains(err.Error(), "/run/secrets/fabrikam is empty") {
		t.Errorf("an empty secret file: %v", err)
	}
}

func TestCheckCredentialFiles(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	tc := Tenant{Name: "fabrikam", ClientSecretFile: secret}
	err := tc.CheckCredentialFiles()
	if err == nil || !strings.Contains(err.Error(), "client_secret_file: open "+secret+": no such file or directory") {
		t.Errorf("missing file: %v", err)
	}
	if err := os.Mkdir(secret, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := tc.CheckCredentialFiles(); err == nil || !strings.Contains(err.Error(), "client_secret_file: read "+secret) {
		t.Errorf("a directory where the file should be: %v", err)
	}
	ok := filepath.Join(dir, "ok")
	if err := os.WriteFile(ok, []byte("PLANTED-secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	tc = Tenant{Name: "northwind", CertificateFile: ok, CertificatePasswordFile: secret}
	if err := tc.CheckCredentialFiles(); err == nil || !strings.HasPrefix(err.Error(), "certificate_password_file: ") || strings.Contains(err.Error(), "PLANTED") {
		t.Errorf("unreadable password file: %v", err)
	}
	if err := (Tenant{FederatedTokenFile: ok}).CheckCredentialFiles(); err != nil {
		t.Errorf("readable file: %v", err)
	}
}
