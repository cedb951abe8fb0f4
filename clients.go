package main

import (
	"crypto/x509"
	"fmt"
	"os"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/defender-exporter/defender_exporter/config"
	"github.com/defender-exporter/defender_exporter/defender"
)

// clientFactory turns a tenant's configuration into its API client. The
// request metrics are shared by every client, labelled by tenant.
type clientFactory struct {
	metrics *defender.Metrics
	logger  log.Logger
}

func newClientFactory(reg prometheus.Registerer, logger log.Logger) *clientFactory {
	return &clientFactory{metrics: defender.NewMetrics(reg), logger: logger}
}

func (f *clientFactory) build(t config.Tenant) (*defender.Client, error) {
	// One message naming the key and the file, whichever file it is (the
	// federated token file is otherwise read only at the first token).
	if err := t.CheckCredentialFiles(); err != nil {
		return nil, fmt.Errorf("tenant %s: %w", t.Name, err)
	}
	opts, err := clientOptions(t)
	if err != nil {
		return nil, err
	}
	opts.Metrics = f.metrics
	opts.Logger = log.With(f.logger, "tenant", t.Name)
	return defender.NewClient(opts)
}

// forget drops a removed tenant's request series.
func (f *clientFactory) forget(tenant string) { f.metrics.DeleteTenant(tenant) }

// clientOptions maps the configuration onto the client; it is separate from
// build so that tests can check the mapping without a network.
func clientOptions(t config.Tenant) (defender.Options, error) {
	endpoints, scopes, err := defender.ResolveEndpoints(t.Cloud, t.Region, defender.Endpoints{
		Authority: t.Endpoints.Authority,
		MDE:       t.Endpoints.MDE,
		XDR:       t.Endpoints.XDR,
		Graph:     t.Endpoints.Graph,
	})
	if err != nil {
		return defender.Options{}, fmt.Errorf("tenant %s: %w", t.Name, err)
	}
	cred := defender.Credential{
		TenantID:                t.TenantID,
		ClientID:                t.ClientID,
		ClientSecret:            string(t.ClientSecret),
		ClientSecretFile:        t.ClientSecretFile,
		CertificateFile:         t.CertificateFile,
		CertificatePassword:     string(t.CertificatePassword),
		CertificatePasswordFile: t.CertificatePasswordFile,
		FederatedTokenFile:      t.FederatedTokenFile,
	}
	// The client reads and watches secret files itself.
	if t.ClientSecretFile != "" {
		cred.ClientSecret = ""
	}
	if t.CertificatePasswordFile != "" {
		cred.CertificatePassword = ""
	}
	if t.ManagedIdentity != nil {
		cred.ManagedIdentity = true
		cred.ManagedIdentityClientID = t.ManagedIdentity.ClientID
	}
	opts := defender.Options{
		Tenant:             t.Name,
		Credential:         cred,
		Endpoints:          endpoints,
		Scopes:             scopes,
		InsecureSkipVerify: t.TLS.InsecureSkipVerify,
		RequestTimeout:     t.RequestTimeout,
	}
	if t.TLS.CAFile != "" {
		// The configured CA is added to the system roots, so one file can
		// hold just the proxy's or the test tenant's CA.
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		pem, err := os.ReadFile(t.TLS.CAFile)
		if err != nil {
			return defender.Options{}, fmt.Errorf("tenant %s: tls.ca_file: %w", t.Name, err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return defender.Options{}, fmt.Errorf("tenant %s: tls.ca_file %s: no PEM certificate found", t.Name, t.TLS.CAFile)
		}
		opts.RootCAs = pool
	}
	return opts, nil
}
