package config

import (
	"strings"
	"testing"
	"time"
)

const (
	envTenantID = "11111111-1111-1111-1111-111111111111"
	envClientID = "22222222-2222-2222-2222-222222222222"
)

func TestEnvironmentFallback(t *testing.T) {
	for _, tc := range []struct {
		name  string
		env   []string
		file  string // config content; "" means Load("")
		kind  string
		check func(t *testing.T, tn Tenant)
		err   string
	}{
		{
			name: "client secret",
			env:  []string{"AZURE_TENANT_ID", envTenantID, "AZURE_CLIENT_ID", envClientID, "AZURE_CLIENT_SECRET", "azure-PLANTED"},
			kind: KindClientSecret,
			check: func(t *testing.T, tn Tenant) {
				if string(tn.ClientSecret) != "azure-PLANTED" || tn.TenantID != envTenantID || tn.ClientID != envClientID {
					t.Errorf("tenant = %#v", tn)
				}
			},
		},
		{
			name: "secret wins over certificate and token file, as in azidentity",
			env: []string{"AZURE_TENANT_ID", envTenantID, "AZURE_CLIENT_ID", envClientID, "AZURE_CLIENT_SECRET", "s",
				"AZURE_CLIENT_CERTIFICATE_PATH", "testdata/certs/app.pem", "AZURE_FEDERATED_TOKEN_FILE", "testdata/secrets/federated_token"},
			kind: KindClientSecret,
		},
		{
			name: "certificate with password",
			env: []string{"AZURE_TENANT_ID", envTenantID, "AZURE_CLIENT_ID", envClientID,
				"AZURE_CLIENT_CERTIFICATE_PATH", "testdata/certs/app.pfx", "AZURE_CLIENT_CERTIFICATE_PASSWORD", "pw-PLANTED",
				"AZURE_FEDERATED_TOKEN_FILE", "testdata/secrets/federated_token"},
			kind: KindCertificate,
			check: func(t *testing.T, tn Tenant) {
				if tn.CertificateFile != "testdata/certs/app.pfx" || string(tn.CertificatePassword) != "pw-PLANTED" {
					t.Errorf("tenant = %#v", tn)
				}
			},
		},
		{
			name: "workload identity",
			env: []string{"AZURE_TENANT_ID", envTenantID, "AZURE_CLIENT_ID", envClientID,
				"AZURE_FEDERATED_TOKEN_FILE", "testdata/secrets/federated_token", "AZURE_AUTHORITY_HOST", "https://login.microsoftonline.us/"},
			kind: KindFederatedToken,
			check: func(t *testing.T, tn Tenant) {
				if tn.FederatedTokenFile != "testdata/secrets/federated_token" || tn.Endpoints.Authority != "https://login.microsoftonline.us" {
					t.Errorf("tenant = %#v", tn)
				}
			},
		},
		{
			name: "client id alone is a user-assigned managed identity",
			env:  []string{"AZURE_CLIENT_ID", envClientID},
			kind: KindManagedIdentity,
			check: func(t *testing.T, tn Tenant) {
				if tn.ManagedIdentity.ClientID != envClientID || tn.TenantID != "" {
					t.Errorf("tenant = %#v", tn)
				}
			},
		},
		{
			name: "tenant and client id without a credential is a managed identity",
			env:  []string{"AZURE_TENANT_ID", envTenantID, "AZURE_CLIENT_ID", envClientID},
			kind: KindManagedIdentity,
		},
		{
			name: "defaults apply to the environment tenant",
			env:  []string{"AZURE_TENANT_ID", envTenantID, "AZURE_CLIENT_ID", envClientID, "AZURE_CLIENT_SECRET", "s"},
			file: "defaults:\n  cloud: gcc\n  request_timeout: 20s\n  refresh_interval: 2m\ncollectors:\n  alerts: {enabled: false}\n",
			kind: KindClientSecret,
			check: func(t *testing.T, tn Tenant) {
				if tn.Cloud != "gcc" || tn.RequestTimeout != 20*time.Second || tn.RefreshInterval != 2*time.Minute || !tn.refreshIntervalSet {
					t.Errorf("tenant = %#v", tn)
				}
			},
		},
		{
			name: "a credential in defaults wins over the managed-identity guess",
			env:  []string{"AZURE_TENANT_ID", envTenantID, "AZURE_CLIENT_ID", envClientID},
			file: "defaults:\n  client_secret_file: testdata/secrets/client_secret\n",
			kind: KindClientSecret,
		},
		{
			name: "system-assigned managed identity from defaults, no variables",
			file: "defaults:\n  managed_identity: {}\n",
			kind: KindManagedIdentity,
			check: func(t *testing.T, tn Tenant) {
				if tn.ManagedIdentity.ClientID != "" {
					t.Errorf("tenant = %#v", tn)
				}
			},
		},
		{
			name: "empty variables count as unset",
			env:  []string{"AZURE_TENANT_ID", "", "AZURE_CLIENT_SECRET", ""},
			err:  "environment: no tenants: list them under tenants: in the config file, or set AZURE_TENANT_ID",
		},
		{
			name: "nothing set, with a file",
			file: "collectors: {}\n",
			err:  "cfg.yml: no tenants: list them under tenants:",
		},
		{
			name: "secret without tenant id",
			env:  []string{"AZURE_CLIENT_ID", envClientID, "AZURE_CLIENT_SECRET", "s-PLANTED"},
			err:  "environment: AZURE_TENANT_ID: is not set: the Directory (tenant) ID",
		},
		{
			name: "tenant id without any credential",
			env:  []string{"AZURE_TENANT_ID", envTenantID},
			err:  "environment: no credential: set AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE",
		},
		{
			name: "bad tenant id",
			env:  []string{"AZURE_TENANT_ID", "contoso.onmicrosoft.com", "AZURE_CLIENT_ID", envClientID, "AZURE_CLIENT_SECRET", "s-PLANTED"},
			err:  "environment: AZURE_TENANT_ID: \"contoso.onmicrosoft.com\" is not a GUID",
		},
		{
			name: "missing token file",
			env:  []string{"AZURE_TENANT_ID", envTenantID, "AZURE_CLIENT_ID", envClientID, "AZURE_FEDERATED_TOKEN_FILE", "/nonexistent/token"},
			err:  "environment: AZURE_FEDERATED_TOKEN_FILE: open /nonexistent/token: no such file or directory",
		},
		{
			name: "bad authority host",
			env:  []string{"AZURE_CLIENT_ID", envClientID, "AZURE_AUTHORITY_HOST", "http://login.example.com"},
			err:  "environment: AZURE_AUTHORITY_HOST: \"http://login.example.com\" must use https",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := testEnv(tc.env...)
			var cfg *Config
			var err error
			if tc.file == "" {
				cfg, err = Load("", opts)
			} else {
				cfg, err = Parse([]byte(tc.file), "cfg.yml", opts)
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				if strings.Contains(err.Error(), planted) {
					t.Errorf("error leaks a secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Source != envSource || len(cfg.Tenants) != 1 || cfg.Tenants[0].Name != "default" {
				t.Fatalf("Source %q, tenants %#v", cfg.Source, cfg.Tenants)
			}
			tn := cfg.Tenants[0]
			if got := tn.CredentialKind(); got != tc.kind {
				t.Errorf("CredentialKind = %s, want %s", got, tc.kind)
			}
			if tc.check != nil {
				tc.check(t, tn)
			}
		})
	}
}

// With tenants listed, the AZURE_* variables are ignored: the file is the whole truth.
func TestEnvironmentIgnoredWithTenants(t *testing.T) {
	cfg, err := Load("testdata/good-minimal.yml", testEnv("AZURE_TENANT_ID", envTenantID, "AZURE_CLIENT_ID", envClientID, "AZURE_CLIENT_SECRET", "x"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Source != "testdata/good-minimal.yml" || len(cfg.Tenants) != 1 || cfg.Tenants[0].Name != "contoso" {
		t.Errorf("config = %#v", cfg)
	}
}
