package config

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The views below give the resolved config the file's own key names, so --config.check output
// reads like the file the user wrote, with defaults filled in. Secrets are typed Secret and so
// marshal as <secret> by construction: there is no code path here that could print one.

type tenantView struct {
	Name                string               `yaml:"name"`
	TenantID            string               `yaml:"tenant_id,omitempty"`
	ClientID            string               `yaml:"client_id,omitempty"`
	ClientSecret        Secret               `yaml:"client_secret,omitempty"`
	ClientSecretFile    string               `yaml:"client_secret_file,omitempty"`
	CertificateFile     string               `yaml:"certificate_file,omitempty"`
	CertificatePassword Secret               `yaml:"certificate_password,omitempty"`
	CertPasswordFile    string               `yaml:"certificate_password_file,omitempty"`
	FederatedTokenFile  string               `yaml:"federated_token_file,omitempty"`
	ManagedIdentity     *managedIdentityView `yaml:"managed_identity,omitempty"`
	Cloud               string               `yaml:"cloud"`
	Region              string               `yaml:"region,omitempty"`
	Endpoints           *endpointsView       `yaml:"endpoints,omitempty"`
	TLS                 *tlsView             `yaml:"tls,omitempty"`
	RefreshInterval     string               `yaml:"refresh_interval,omitempty"`
	RequestTimeout      string               `yaml:"request_timeout"`
}

type managedIdentityView struct {
	ClientID string `yaml:"client_id,omitempty"`
}

type endpointsView struct {
	Authority string `yaml:"authority,omitempty"`
	MDE       string `yaml:"mde,omitempty"`
	XDR       string `yaml:"xdr,omitempty"`
	Graph     string `yaml:"graph,omitempty"`
}

type tlsView struct {
	CAFile             string `yaml:"ca_file,omitempty"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

type collectorView struct {
	Enabled    bool     `yaml:"enabled"`
	API        string   `yaml:"api,omitempty"`
	Interval   string   `yaml:"interval,omitempty"`
	Lookback   string   `yaml:"lookback,omitempty"`
	StaleAfter []string `yaml:"stale_after,omitempty,flow"`
	PerMachine *bool    `yaml:"per_machine,omitempty"`
	PerControl *bool    `yaml:"per_control,omitempty"`
	FullLoad   string   `yaml:"full_load_interval,omitempty"`
}

type huntingView struct {
	API     string      `yaml:"api"`
	Queries []queryView `yaml:"queries"`
}

type queryView struct {
	Name     string   `yaml:"name"`
	Help     string   `yaml:"help"`
	Interval string   `yaml:"interval"`
	Timespan string   `yaml:"timespan,omitempty"`
	Query    string   `yaml:"query"`
	Labels   []string `yaml:"labels,flow"`
	Value    string   `yaml:"value"`
}

func durations(ds []time.Duration) []string {
	out := make([]string, len(ds))
	for i, v := range ds {
		out[i] = formatDuration(v)
	}
	return out
}

func optDuration(v time.Duration) string {
	if v == 0 {
		return ""
	}
	return formatDuration(v)
}

func (c *Config) tenantView(t Tenant) tenantView {
	v := tenantView{
		Name: t.Name, TenantID: t.TenantID, ClientID: t.ClientID,
		ClientSecret: t.ClientSecret, CertificateFile: t.CertificateFile, CertificatePassword: t.CertificatePassword,
		FederatedTokenFile: t.FederatedTokenFile,
		Cloud:              t.Cloud, Region: t.Region,
		RequestTimeout: formatDuration(t.RequestTimeout),
	}
	// As the user wrote it: a file, not the secret read from it.
	if t.ClientSecretFile != "" {
		v.ClientSecret, v.ClientSecretFile = "", t.ClientSecretFile
	}
	if t.CertificatePasswordFile != "" {
		v.CertificatePassword, v.CertPasswordFile = "", t.CertificatePasswordFile
	}
	if t.ManagedIdentity != nil {
		v.ManagedIdentity = &managedIdentityView{ClientID: t.ManagedIdentity.ClientID}
	}
	if t.Endpoints != (Endpoints{}) {
		e := endpointsView(t.Endpoints)
		v.Endpoints = &e
	}
	if t.TLS != (TLS{}) {
		v.TLS = &tlsView{CAFile: t.TLS.CAFile, InsecureSkipVerify: t.TLS.InsecureSkipVerify}
	}
	if t.refreshIntervalSet {
		v.RefreshInterval = formatDuration(t.RefreshInterval)
	}
	return v
}

// intervalSummary is what a user checking the config most wants to know and cannot see from the
// file alone: how often each collector will actually run for this tenant.
func (c *Config) intervalSummary(t Tenant) string {
	parts := make([]string, 0, len(CollectorNames))
	for _, name := range CollectorNames {
		state := ""
		if col := c.Collectors[name]; !col.Enabled {
			state = " (disabled)"
		}
		parts = append(parts, fmt.Sprintf("%s %s%s", name, formatDuration(c.Interval(t, name)), state))
	}
	return "runs: " + strings.Join(parts, ", ")
}

func encodeNode(v any) (*yaml.Node, error) {
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return nil, err
	}
	return &n, nil
}

func scalarNode(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

// Redacted renders the resolved config as YAML for --config.check, with every secret shown as
// <secret> and, per tenant, the interval each collector will run at.
func (c *Config) Redacted() (string, error) {
	root := &yaml.Node{Kind: yaml.MappingNode}
	if c.Source != "" {
		root.HeadComment = "Resolved configuration (source: " + c.Source + "); secrets are shown as <secret>."
	}

	tenants := &yaml.Node{Kind: yaml.SequenceNode}
	for _, t := range c.Tenants {
		n, err := encodeNode(c.tenantView(t))
		if err != nil {
			return "", err
		}
		n.HeadComment = c.intervalSummary(t)
		tenants.Content = append(tenants.Content, n)
	}
	root.Content = append(root.Content, scalarNode("tenants"), tenants)

	collectors := &yaml.Node{Kind: yaml.MappingNode}
	for _, name := range CollectorNames {
		col, ok := c.Collectors[name]
		if !ok {
			col = DefaultCollector(name)
			col.Interval = 0
		}
		v := collectorView{Enabled: col.Enabled, API: col.API, Interval: optDuration(col.Interval), Lookback: optDuration(col.Lookback)}
		if def := DefaultCollector(name).FullLoadInterval; col.API == "graph" && col.FullLoadInterval != def {
			// Only when written: the default written out would be checked against
			// the interval on reload, which the default is not.
			v.FullLoad = optDuration(col.FullLoadInterval)
		}
		keys := CollectorKeys(name)
		if contains(keys, "stale_after") {
			v.StaleAfter = durations(col.StaleAfter)
		}
		if contains(keys, "per_machine") {
			v.PerMachine = &col.PerMachine
		}
		if contains(keys, "per_control") {
			v.PerControl = &col.PerControl
		}
		n, err := encodeNode(v)
		if err != nil {
			return "", err
		}
		n.Style = yaml.FlowStyle
		collectors.Content = append(collectors.Content, scalarNode(name), n)
	}
	root.Content = append(root.Content, scalarNode("collectors"), collectors)

	h := huntingView{API: c.Hunting.API, Queries: []queryView{}}
	for _, q := range c.Hunting.Queries {
		labels := q.Labels
		if labels == nil {
			labels = []string{}
		}
		h.Queries = append(h.Queries, queryView{
			Name: q.Name, Help: q.Help, Interval: formatDuration(q.Interval), Timespan: q.Timespan,
			Query: q.Query, Labels: labels, Value: q.Value,
		})
	}
	hn, err := encodeNode(h)
	if err != nil {
		return "", err
	}
	root.Content = append(root.Content, scalarNode("hunting"), hn)

	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return "", err
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	return buf.String(), nil
}
