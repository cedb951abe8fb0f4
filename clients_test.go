package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/defender-exporter/defender_exporter/config"
	"github.com/defender-exporter/defender_exporter/defender"
)

// The config package validates cloud and region names without importing
// defender, so the two lists are kept by hand: every name the client
// knows must load, and every name that loads must resolve to endpoints.
func TestConfigAcceptsExactlyTheClientsCloudsAndRegions(t *testing.T) {
	load := func(cloud, region string) error {
		yml := fmt.Sprintf(`tenants:
  - {name: t, tenant_id: 00000000-0000-0000-0000-0000000000aa, client_id: 00000000-0000-0000-0000-000000000001, client_secret: x, cloud: %q, region: %q}
`, cloud, region)
		_, err := config.Parse([]byte(yml), "test.yml", config.Options{})
		return err
	}
	for _, c := range defender.Clouds {
		if err := load(c, ""); err != nil {
			t.Errorf("cloud %q: the client knows it, the config rejects it: %v", c, err)
		}
		if _, _, err := defender.ResolveEndpoints(c, "", defender.Endpoints{}); err != nil {
			t.Errorf("cloud %q: %v", c, err)
		}
	}
	for _, r := range defender.Regions {
		if err := load("global", r); err != nil {
			t.Errorf("region %q: the client knows it, the config rejects it: %v", r, err)
		}
		ep, _, err := defender.ResolveEndpoints("global", r, defender.Endpoints{})
		if want := "https://" + r + ".api.security.microsoft.com"; err != nil || ep.MDE != want {
			t.Errorf("region %q: MDE %q, %v; want %s", r, ep.MDE, err, want)
		}
	}
	for _, bad := range []string{"fr", "US", "ind"} {
		if load("global", bad) == nil {
			t.Errorf("region %q: the config accepts a region the client does not know", bad)
		}
	}
}

// A secret from client_secret_file reaches the client as the file, which
// the client watches for rotation; a secret written in the file reaches it
// as the value.
func TestClientOptionsPassSecretFilesAsFiles(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	pfxFile, pwFile := filepath.Join(dir, "app.pfx"), filepath.Join(dir, "app.pfx.password")
	for file, content := range map[string]string{secretFile: "from-the-file-1234\n", pfxFile: "not parsed here", pwFile: "pfx-password-9012\n"} {
		if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.Parse([]byte(`tenants:
  - {name: a, tenant_id: 00000000-0000-0000-0000-0000000000aa, client_id: 00000000-0000-0000-0000-000000000001, client_secret_file: `+secretFile+`}
  - {name: b, tenant_id: 00000000-0000-0000-0000-0000000000bb, client_id: 00000000-0000-0000-0000-000000000001, client_secret: inline-secret-5678}
  - {name: c, tenant_id: 00000000-0000-0000-0000-0000000000cc, client_id: 00000000-0000-0000-0000-000000000001, certificate_file: `+pfxFile+`, certificate_password_file: `+pwFile+`}
`), filepath.Join(dir, "defender.yml"), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := clientOptions(cfg.Tenants[0])
	if err != nil {
		t.Fatal(err)
	}
	if a.Credential.ClientSecretFile != secretFile || a.Credential.ClientSecret != "" {
		t.Errorf("file secret: ClientSecretFile %q, ClientSecret set: %t; want the file only", a.Credential.ClientSecretFile, a.Credential.ClientSecret != "")
	}
	b, err := clientOptions(cfg.Tenants[1])
	if err != nil {
		t.Fatal(err)
	}
	if b.Credential.ClientSecretFile != "" || b.Credential.ClientSecret != "inline-secret-5678" {
		t.Errorf("inline secret: ClientSecretFile %q, ClientSecret matches: %t", b.Credential.ClientSecretFile, b.Credential.ClientSecret == "inline-secret-5678")
	}
	if _, err := defender.NewClient(a); err != nil {
		t.Errorf("client from the file: %v", err)
	}
	c, err := clientOptions(cfg.Tenants[2])
	if err != nil {
		t.Fatal(err)
	}
	if c.Credential.CertificateFile != pfxFile || c.Credential.CertificatePasswordFile != pwFile || c.Credential.CertificatePassword != "" {
		t.Errorf("certificate with a password file: %q, %q, password set: %t; want both files, no password",
			c.Credential.CertificateFile, c.Credential.CertificatePasswordFile, c.Credential.CertificatePassword != "")
	}
}
