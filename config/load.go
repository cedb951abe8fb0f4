package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Options lets tests replace the process environment and the file system; nil fields mean
// os.LookupEnv and os.ReadFile.
type Options struct {
	Getenv   func(string) (string, bool)
	ReadFile func(string) ([]byte, error)
	// CredentialFilesPerTenant makes a credential file that cannot be read (client_secret_file,
	// certificate_file, certificate_password_file, federated_token_file: missing, unreadable, being
	// replaced) the problem of its tenant alone rather than a configuration error: the path is kept,
	// the value read from it is left empty, and the tenant's client, which reads its files itself
	// (Tenant.CheckCredentialFiles), fails that tenant until the file can be read. The exporter loads
	// its configuration this way, so that one tenant's file cannot stop every tenant; --config.check
	// does not, so that it names every file it cannot read. Other files (tls.ca_file) and every
	// other mistake stay errors.
	CredentialFilesPerTenant bool
}

func (o Options) withDefaults() Options {
	if o.Getenv == nil {
		o.Getenv = os.LookupEnv
	}
	if o.ReadFile == nil {
		o.ReadFile = os.ReadFile
	}
	return o
}

var topKeys = []string{"defaults", "tenants", "collectors", "hunting"}

// Load reads and validates the config file at path. An empty path means no file: built-in defaults
// and one tenant from the AZURE_* environment variables, which is all a workload-identity pod needs.
func Load(path string, opts Options) (*Config, error) {
	opts = opts.withDefaults()
	if path == "" {
		return Parse(nil, "", opts)
	}
	data, err := opts.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(data, path, opts)
}

// Parse validates a config held in memory; filename is used in error messages and to resolve
// relative file paths. Every problem found is reported, one per line, in file order.
func Parse(data []byte, filename string, opts Options) (*Config, error) {
	opts = opts.withDefaults()
	d := &decoder{file: filename, getenv: opts.Getenv, readFile: opts.ReadFile, credentialFilesPerTenant: opts.CredentialFilesPerTenant}
	if filename != "" {
		d.dir = filepath.Dir(filename)
	} else if len(data) > 0 {
		d.file = "config"
	}
	root := d.parse(data)
	if len(d.errs) > 0 {
		// A file that is not valid YAML says nothing reliable about tenants; reporting "no
		// tenants" on top of the syntax error would only mislead.
		return nil, d.errs.finish()
	}
	cfg := d.config(root, filename)
	if err := d.errs.finish(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func tenantHint(key string) string {
	switch key {
	case "authority", "mde", "xdr", "graph":
		return key + " goes under endpoints:, e.g. endpoints: {" + key + ": https://...}"
	case "ca_file", "insecure_skip_verify":
		return key + " goes under tls:, e.g. tls: {" + key + ": ...}"
	case "interval":
		return "use refresh_interval"
	case "timeout":
		return "use request_timeout"
	case "certificate", "certificate_path", "client_certificate_path":
		return "use certificate_file"
	}
	return ""
}

func (d *decoder) config(root *yaml.Node, filename string) *Config {
	cfg := &Config{Source: filename}
	var defaultsNode, collectorsNode, huntingNode, tenantsNode *yaml.Node
	var huntingAt, collectorsAt pos
	tenantsSet := false
	if root != nil && !isNull(root) && root.Kind != yaml.MappingNode {
		d.errf(root, "", "the config must be a mapping with the keys %s, got %s", strings.Join(topKeys, ", "), describe(root))
		return nil
	}
	pairs, _ := d.mapping(root, "", topKeys, noHint)
	for _, p := range pairs {
		switch p.key {
		case "defaults":
			defaultsNode = p.v
		case "tenants":
			tenantsNode, tenantsSet = p.v, true
		case "collectors":
			collectorsNode, collectorsAt = p.v, d.posOf(p.k, p.key)
		case "hunting":
			huntingNode, huntingAt = p.v, d.posOf(p.k, p.key)
		}
	}

	def := d.tenantSpec(defaultsNode, "defaults", defaultsKeys, func(k string) string {
		if h := defaultsHint(k); h != "" {
			return h
		}
		return tenantHint(k)
	})
	if def.cloud.ok && def.cloud.v != "global" && def.region.v != "" {
		d.errAt(def.region.at, nil, "region %q applies only to the global cloud, but defaults.cloud is %s: remove region", def.region.v, def.cloud.v)
	}
	cfg.Collectors = d.collectors(collectorsNode, "collectors")
	cfg.Hunting = d.hunting(huntingNode, "hunting", huntingAt)

	var specs []tenantSpec
	if tenantsSet {
		items, ok := d.sequence(tenantsNode, "tenants", "tenants")
		if ok && len(items) == 0 {
			d.errf(d.resolve(tenantsNode), "tenants", "no tenants listed: add at least one, or remove tenants: to build one from the AZURE_* environment variables")
		}
		names := map[string]pos{}
		for i, it := range items {
			s := d.tenantSpec(it, fmt.Sprintf("tenants[%d]", i), tenantKeys, tenantHint)
			switch first, dup := names[s.name.v]; {
			case s.broken:
			case !s.name.ok:
				d.errAt(s.at, nil, "name is required: a short name for the tenant label, e.g. contoso")
			case dup:
				d.errAt(s.name.at, nil, "%q is already the name of the tenant on %s: names must be unique, since they are the tenant label", s.name.v, where(first))
			default:
				names[s.name.v] = s.name.at
			}
			specs = append(specs, s.merge(def))
		}
	} else {
		s, ok := d.envTenant()
		if !ok && !def.hasCredential() {
			at := pos{file: d.file}
			if at.file == "" {
				at.file = envSource
			}
			d.errAt(at, nil, "no tenants: list them under tenants: in the config file, or set AZURE_TENANT_ID, AZURE_CLIENT_ID and one of AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE (AZURE_CLIENT_ID alone selects a user-assigned managed identity)")
		} else {
			specs = append(specs, withManagedIdentityFallback(s.merge(def)))
			cfg.Source = envSource
		}
	}
	if d.aborted {
		return nil
	}
	for _, s := range specs {
		if s.broken {
			continue
		}
		if t, ok := d.resolveTenant(s); ok {
			cfg.Tenants = append(cfg.Tenants, t)
		}
	}
	if huntingAt == (pos{}) {
		huntingAt = collectorsAt
	}
	d.huntingBudget(cfg, huntingAt)
	if len(d.errs) == 0 {
		// Only on an otherwise valid config: with bad intervals this would repeat their errors.
		d.checkTimeouts(cfg, specs)
		d.checkFullLoad(cfg)
	}
	return cfg
}

// checkTimeouts makes sure every request can time out before the next refresh of the same kind
// is due; otherwise one slow API would make refreshes pile up behind each other.
func (d *decoder) checkTimeouts(cfg *Config, specs []tenantSpec) {
	for i, t := range cfg.Tenants {
		var over []string
		for _, name := range CollectorNames {
			if iv := cfg.Interval(t, name); t.RequestTimeout >= iv {
				over = append(over, fmt.Sprintf("%s (%s)", name, formatDuration(iv)))
			}
		}
		for _, q := range cfg.Hunting.Queries {
			if t.RequestTimeout >= q.Interval {
				over = append(over, fmt.Sprintf("hunting query %s (%s)", q.Name, formatDuration(q.Interval)))
			}
		}
		if len(over) == 0 {
			continue
		}
		s := specs[i]
		if s.reqTimeout.ok {
			d.errAt(s.reqTimeout.at, nil, "%s is not less than the interval of %s: a request must time out before the next refresh is due; lower request_timeout or raise those intervals",
				formatDuration(t.RequestTimeout), strings.Join(over, ", "))
		} else {
			d.errAt(s.at, nil, "request_timeout is %s by default, which is not less than the interval of %s: set a shorter request_timeout or raise those intervals",
				formatDuration(t.RequestTimeout), strings.Join(over, ", "))
		}
	}
}
