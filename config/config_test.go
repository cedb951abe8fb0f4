package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Every secret in testdata and in the fake environment contains this marker, so one strings.Contains
// proves that no error message or rendered config leaks any of them.
const planted = "PLANTED"

func testEnv(kv ...string) Options {
	env := map[string]string{
		"DEFENDER_SECRET":        "env-secret-PLANTED-2",
		"DEFENDER_CERT_PASSWORD": "env-cert-password-PLANTED-4",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	return Options{Getenv: func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}}
}

func TestGoodFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/good-*.yml")
	files = append(files, "testdata/full.yml")
	if len(files) < 5 {
		t.Fatalf("found only %d good files", len(files))
	}
	// The environment tenant for the files without tenants:.
	opts := testEnv(
		"AZURE_TENANT_ID", "11111111-1111-1111-1111-111111111111",
		"AZURE_CLIENT_ID", "22222222-2222-2222-2222-222222222222",
		"AZURE_CLIENT_SECRET", "azure-secret-PLANTED-8",
	)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			cfg, err := Load(f, opts)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if len(cfg.Tenants) == 0 {
				t.Fatal("no tenants")
			}
			for _, name := range CollectorNames {
				if c, ok := cfg.Collectors[name]; !ok || c.Name != name {
					t.Errorf("collector %s missing or misnamed: %+v", name, c)
				}
			}
			for _, tn := range cfg.Tenants {
				for _, name := range CollectorNames {
					if iv := cfg.Interval(tn, name); iv <= tn.RequestTimeout {
						t.Errorf("tenant %s collector %s: interval %v not above request_timeout %v", tn.Name, name, iv, tn.RequestTimeout)
					}
				}
			}
			out, err := cfg.Redacted()
			if err != nil {
				t.Fatalf("Redacted: %v", err)
			}
			if strings.Contains(out, planted) {
				t.Errorf("Redacted output leaks a secret:\n%s", out)
			}
		})
	}
}

func TestFullFile(t *testing.T) {
	cfg, err := Load("testdata/full.yml", testEnv())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Source != "testdata/full.yml" {
		t.Errorf("Source = %q", cfg.Source)
	}
	byName := map[string]Tenant{}
	for _, tn := range cfg.Tenants {
		byName[tn.Name] = tn
	}
	ca := filepath.Join("testdata", "certs", "ca.pem")
	checks := []struct {
		name  string
		check func(Tenant) bool
	}{
		{"contoso", func(t Tenant) bool {
			return t.CredentialKind() == KindClientSecret && string(t.ClientSecret) == "file-secret-PLANTED-1" &&
				t.Region == "eu" && t.Cloud == "global" && t.RefreshInterval == 10*time.Minute &&
				t.RequestTimeout == 45*time.Second && t.TLS.CAFile == ca && t.refreshIntervalSet
		}},
		{"fabrikam", func(t Tenant) bool {
			return string(t.ClientSecret) == "env-secret-PLANTED-2" && t.Region == "us" &&
				t.RefreshInterval == 20*time.Minute && t.RequestTimeout == 30*time.Second
		}},
		{"tailspin.pem", func(t Tenant) bool {
			return t.CredentialKind() == KindCertificate && t.CertificateFile == filepath.Join("testdata", "certs", "app.pem") &&
				string(t.CertificatePassword) == "env-cert-password-PLANTED-4"
		}},
		{"tailspin.pfx", func(t Tenant) bool {
			return t.CredentialKind() == KindCertificate && string(t.CertificatePassword) == "test-pfx-password"
		}},
		{"wingtip_gov", func(t Tenant) bool {
			return t.CredentialKind() == KindFederatedToken && t.Cloud == "gcc-high" && t.Region == "" &&
				t.FederatedTokenFile == filepath.Join("testdata", "secrets", "federated_token")
		}},
		{"northwind", func(t Tenant) bool {
			// A government cloud does not inherit the defaults' region.
			return t.CredentialKind() == KindManagedIdentity && t.ManagedIdentity.ClientID == "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb" &&
				t.Cloud == "dod" && t.Region == "" && t.ClientID == ""
		}},
		{"adventure-works", func(t Tenant) bool {
			return t.CredentialKind() == KindManagedIdentity && t.ManagedIdentity.ClientID == "" && t.TenantID == "" && t.Cloud == "gcc"
		}},
		{"local-fake", func(t Tenant) bool {
			return string(t.ClientSecret) == "literal-secret-PLANTED-3" && t.Region == "" &&
				t.Endpoints == Endpoints{
					Authority: "https://127.0.0.1:8443", MDE: "https://127.0.0.1:8443",
					XDR: "http://localhost:8080", Graph: "https://[::1]:8443",
				} && t.TLS.InsecureSkipVerify
		}},
	}
	for _, c := range checks {
		tn, ok := byName[c.name]
		if !ok {
			t.Errorf("tenant %s missing", c.name)
			continue
		}
		if !c.check(tn) {
			t.Errorf("tenant %s resolved to %#v", c.name, tn)
		}
	}
	if len(cfg.Tenants) != len(checks) {
		t.Errorf("%d tenants, want %d", len(cfg.Tenants), len(checks))
	}

	m := cfg.Collectors["machines"]
	if !m.PerMachine || !reflect.DeepEqual(m.StaleAfter, []time.Duration{24 * time.Hour, 168 * time.Hour, 720 * time.Hour}) || m.Interval != 15*time.Minute {
		t.Errorf("machines = %+v", m)
	}
	for name, api := range map[string]string{"alerts": "graph", "incidents": "xdr", "machines": "mde", "vulnerabilities": "graph", "scores": "mde", "indicators": ""} {
		if c := cfg.Collectors[name]; c.API != api {
			t.Errorf("%s: api %q, want %q", name, c.API, api)
		}
	}
	if c := cfg.Collectors["alerts"]; c.FullLoadInterval != 4*time.Hour {
		t.Errorf("alerts full_load_interval = %s, want 4h", c.FullLoadInterval)
	}
	if c := cfg.Collectors["machine_actions"]; c.Lookback != 7*24*time.Hour {
		t.Errorf("machine_actions = %+v", c)
	}
	if c := cfg.Collectors["av_health"]; c.Enabled {
		t.Errorf("av_health = %+v", c)
	}
	if c := cfg.Collectors["indicators"]; !c.Enabled {
		t.Errorf("indicators = %+v", c)
	}
	if c := cfg.Collectors["secure_score"]; !c.PerControl || c.Interval != 2*time.Hour || c.API != "" {
		t.Errorf("secure_score = %+v", c)
	}
	if c := cfg.Collectors["identity"]; !c.Enabled || c.PerControl {
		t.Errorf("identity = %+v", c)
	}
	want := Hunting{API: "graph", Queries: []HuntingQuery{
		{
			Name: "devices_by_sensor_health", Help: "Devices by sensor health state.", Interval: 30 * time.Minute, Timespan: "P1D",
			Query:  "DeviceInfo | summarize arg_max(Timestamp, *) by DeviceId | summarize count() by SensorHealthState\n",
			Labels: []string{"SensorHealthState"}, Value: "count_",
		},
		{
			Name: "logons_last_day", Help: "Logons in the last day, by action type.", Interval: time.Hour,
			Timespan: "2024-02-01T08:00:00Z/P30D", Query: "DeviceLogonEvents | summarize n = count() by ActionType, OSPlatform",
			Labels: []string{"ActionType", "OSPlatform"}, Value: "n",
		},
		{
			Name: "total_devices", Help: "Devices seen.", Interval: 6 * time.Hour,
			Query: "DeviceInfo | summarize dcount(DeviceId)", Labels: []string{}, Value: "dcount_DeviceId",
		},
	}}
	if !reflect.DeepEqual(cfg.Hunting, want) {
		t.Errorf("hunting = %#v\nwant %#v", cfg.Hunting, want)
	}
}

func TestGoodFileDetails(t *testing.T) {
	t.Run("anchors", func(t *testing.T) {
		cfg, err := Load("testdata/good-anchors.yml", testEnv())
		if err != nil {
			t.Fatal(err)
		}
		two := cfg.Tenants[1]
		if two.Name != "two" || two.TenantID != "33333333-3333-3333-3333-333333333333" ||
			two.ClientID != "22222222-2222-2222-2222-222222222222" || string(two.ClientSecret) != "file-secret-PLANTED-1" ||
			two.TLS.CAFile == "" {
			t.Errorf("merged tenant = %#v", two)
		}
		if cfg.Tenants[2].TLS.CAFile == "" {
			t.Errorf("aliased tls not applied: %#v", cfg.Tenants[2])
		}
	})
	t.Run("defaults credential group", func(t *testing.T) {
		cfg, err := Load("testdata/good-defaults-credential.yml", testEnv())
		if err != nil {
			t.Fatal(err)
		}
		one, two := cfg.Tenants[0], cfg.Tenants[1]
		if one.CredentialKind() != KindClientSecret || one.ClientID != "22222222-2222-2222-2222-222222222222" {
			t.Errorf("one = %#v", one)
		}
		if two.CredentialKind() != KindCertificate || two.ClientSecret != "" || two.ClientID != one.ClientID {
			t.Errorf("two = %#v", two)
		}
	})
	t.Run("collector keeps default enabled", func(t *testing.T) {
		cfg, err := Load("testdata/good-hunting-mde.yml", testEnv())
		if err != nil {
			t.Fatal(err)
		}
		if a := cfg.Collectors["alerts"]; !a.Enabled || a.Interval != 2*time.Minute || a.Lookback != 720*time.Hour {
			t.Errorf("alerts = %+v", a)
		}
		if m := cfg.Collectors["machines"]; !m.Enabled || m.Interval != 0 || !m.PerMachine || len(m.StaleAfter) != 3 {
			t.Errorf("machines = %+v", m)
		}
		if i := cfg.Collectors["indicators"]; i.Enabled {
			t.Errorf("indicators = %+v", i)
		}
		if cfg.Hunting.API != "mde" || len(cfg.Hunting.Queries) != 1 {
			t.Errorf("hunting = %+v", cfg.Hunting)
		}
	})
}

// badFiles lists, for each testdata/bad-*.yml, the line and key path the error must name and a hint
// that says what would be right.
var badFiles = map[string]struct {
	line int
	key  string
	hint string
}{
	"bad-yaml-syntax.yml":                {5, "", "did not find expected ',' or ']'"},
	"bad-yaml-tab.yml":                   {5, "", "tab character"},
	"bad-multi-doc.yml":                  {7, "", "remove the '---' separator"},
	"bad-unknown-top-key.yml":            {1, "tenant", "did you mean tenants?"},
	"bad-collector-unknown-key.yml":      {8, "collectors.alerts.intervall", "unknown key (known: enabled, interval, api, lookback, full_load_interval); did you mean interval?"},
	"bad-collector-api.yml":              {10, "collectors.incidents.api", "\"mde\" is not one of the choices: use graph or xdr"},
	"bad-machines-graph-per-machine.yml": {9, "collectors.machines.per_machine", "per_machine needs api: mde"},
	"bad-machines-graph-stale-after.yml": {7, "collectors.machines.stale_after", "stale_after needs api: mde"},
	"bad-collector-api-elsewhere.yml":    {8, "collectors.indicators.api", "api applies only to alerts, machines, scores, vulnerabilities, recommendations, av_health, incidents"},
	"bad-collector-unknown-name.yml":     {7, "collectors.alert", "unknown collector (known: alerts, machines,"},
	"bad-full-load-short.yml":            {7, "collectors.alerts.full_load_interval", "5m is shorter than the alerts interval of tenant contoso (10m): every refresh would be a full load; set it to at least 10m, or remove it for the default (6h)"},
	"bad-full-load-tenant.yml":           {15, "collectors.alerts.full_load_interval", "1h is shorter than the alerts interval of tenant contoso (2h): every refresh would be a full load; set it to at least 2h"},
	"bad-full-load-mde.yml":              {8, "collectors.alerts.full_load_interval", "applies only to api: graph (the mde back end lists every alert in scope on each refresh)"},
	"bad-full-load-zero.yml":             {7, "collectors.alerts.full_load_interval", "must be greater than 0"},
	"bad-collector-option-elsewhere.yml": {7, "collectors.scores.lookback", "lookback applies only to alerts, machine_actions, incidents, investigations"},
	"bad-per-control-elsewhere.yml":      {8, "collectors.scores.per_control", "per_control applies only to secure_score"},
	"bad-duration.yml":                   {7, "collectors.alerts.interval", "e.g. 30s, 5m, 1h, 7d"},
	"bad-interval-zero.yml":              {7, "collectors.machines.interval", "must be greater than 0"},
	"bad-stale-after-order.yml":          {8, "collectors.machines.stale_after[1]", "increasing order"},
	"bad-stale-after-empty.yml":          {8, "collectors.machines.stale_after", "needs at least one duration"},
	"bad-lookback-zero.yml":              {7, "collectors.incidents.lookback", "must be greater than 0"},
	"bad-enabled-not-bool.yml":           {7, "collectors.alerts.enabled", "expected true or false"},
	"bad-tenants-empty.yml":              {1, "tenants", "remove tenants: to build one from the AZURE_* environment variables"},
	"bad-tenants-not-list.yml":           {2, "tenants", "expected a list of tenants"},
	"bad-tenant-no-name.yml":             {2, "tenants[0]", "name is required"},
	"bad-tenant-duplicate-name.yml":      {6, "tenants[1].name", "already the name of the tenant on line 2"},
	"bad-tenant-name-chars.yml":          {2, "tenants[0].name", "only letters, digits, '_', '.' and '-'"},
	"bad-tenant-key-misplaced.yml":       {6, "tenants[0].ca_file", "ca_file goes under tls:"},
	"bad-tenant-id.yml":                  {3, "tenants[0].tenant_id", "is not a GUID: use the Directory (tenant) ID"},
	"bad-client-id-missing.yml":          {2, "tenants[0]", "client_id is required"},
	"bad-duplicate-key.yml":              {6, "tenants[0].client_id", "duplicate key (first set on line 4)"},
	"bad-defaults-name.yml":              {2, "defaults.name", "belongs under tenants:"},
	"bad-two-credentials.yml":            {6, "tenants[0].client_secret", "client_secret and client_secret_file (line 5) are both set"},
	"bad-no-credential.yml":              {2, "tenants[0]", "no credential: set one of client_secret, client_secret_file, certificate_file, federated_token_file or managed_identity"},
	"bad-cert-password-without-cert.yml": {6, "tenants[0].certificate_password_file", "applies only with certificate_file"},
	"bad-cert-password-both.yml":         {7, "tenants[0].certificate_password_file", "certificate_password (line 6) are both set"},
	"bad-secret-file-missing.yml":        {5, "tenants[0].client_secret_file", "open " + filepath.Join("testdata", "secrets", "nope") + ": no such file or directory"},
	"bad-secret-file-empty.yml":          {5, "tenants[0].client_secret_file", "is empty"},
	"bad-cert-file-missing.yml":          {5, "tenants[0].certificate_file", "no such file or directory"},
	"bad-env-unset.yml":                  {5, "tenants[0].client_secret", "environment variable NOPE_UNSET is not set"},
	"bad-env-syntax.yml":                 {5, "tenants[0].client_secret", "without a closing }"},
	"bad-cloud.yml":                      {6, "tenants[0].cloud", "use global, gcc, gcc-high or dod"},
	"bad-region.yml":                     {6, "tenants[0].region", "use us, eu, uk, au, swa, ina, aea, or \"\" for the global host"},
	"bad-region-with-cloud.yml":          {7, "tenants[0].region", "applies only to the global cloud"},
	"bad-defaults-region-cloud.yml":      {3, "defaults.region", "applies only to the global cloud"},
	"bad-endpoint-http.yml":              {7, "tenants[0].endpoints.mde", "must use https"},
	"bad-endpoint-query.yml":             {7, "tenants[0].endpoints.graph", "must not have a query"},
	"bad-endpoint-relative.yml":          {7, "tenants[0].endpoints.authority", "is not an absolute URL"},
	"bad-endpoint-userinfo.yml":          {7, "tenants[0].endpoints.xdr", "must not contain a user name or password"},
	"bad-ca-file-missing.yml":            {6, "tenants[0].tls.ca_file", "no such file or directory"},
	"bad-ca-file-not-pem.yml":            {6, "tenants[0].tls.ca_file", "holds no PEM certificate"},
	"bad-request-timeout.yml":            {2, "defaults.request_timeout", "10m is not less than the interval of alerts (5m), machine_actions (5m), incidents (5m)"},
	"bad-request-timeout-default.yml":    {4, "tenants[0]", "request_timeout is 1m by default, which is not less than the interval of alerts (30s)"},
	"bad-request-timeout-zero.yml":       {6, "tenants[0].request_timeout", "must be greater than 0"},
	"bad-mi-client-id.yml":               {3, "tenants[0].managed_identity.client_id", "is not a GUID"},
	"bad-mi-with-client-id.yml":          {3, "tenants[0].client_id", "move it to managed_identity.client_id"},
	"bad-hunting-api.yml":                {7, "hunting.api", "use graph"},
	"bad-hunting-name.yml":               {8, "hunting.queries[0].name", "not a valid metric name part"},
	"bad-hunting-name-reserved.yml":      {3, "hunting.queries[0].name", "is reserved"},
	"bad-hunting-duplicate-name.yml":     {14, "hunting.queries[1].name", "already used by the query on line 8"},
	"bad-hunting-help-missing.yml":       {8, "hunting.queries[0]", "help is required"},
	"bad-hunting-help-empty.yml":         {9, "hunting.queries[0].help", "is empty"},
	"bad-hunting-no-labels.yml":          {8, "hunting.queries[0]", "labels is required: list the result columns that become labels, or [] for none"},
	"bad-hunting-label-collision.yml":    {12, "hunting.queries[0].labels[1]", "both become the label device_id"},
	"bad-hunting-label-tenant.yml":       {12, "hunting.queries[0].labels[0]", "which the exporter sets itself"},
	"bad-hunting-label-invalid.yml":      {12, "hunting.queries[0].labels[0]", "not a valid label name"},
	"bad-hunting-interval-short.yml":     {10, "hunting.queries[0].interval", "use 1m or more"},
	"bad-hunting-interval-missing.yml":   {8, "hunting.queries[0]", "interval is required"},
	"bad-hunting-timespan.yml":           {14, "hunting.queries[0].timespan", "not an ISO 8601 duration or interval"},
	"bad-hunting-timespan-mde.yml":       {15, "hunting.queries[0].timespan", "not supported by the mde hunting API (line 7)"},
	"bad-hunting-value-in-labels.yml":    {13, "hunting.queries[0].value", "also listed in labels"},
	"bad-hunting-value-missing.yml":      {8, "hunting.queries[0]", "value is required"},
	"bad-hunting-query-empty.yml":        {11, "hunting.queries[0].query", "is empty"},
	"bad-hunting-budget-hour.yml":        {8, "hunting", "queries need 1,620 calls/hour per tenant, 120 more than Defender's 1,500/hour: raise some intervals"},
	"bad-hunting-budget-minute.yml":      {6, "hunting", "46 queries may all run in the same minute, 1 more than Defender's 45 calls/minute per tenant"},
}

func TestBadFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad-*.yml")
	seen := map[string]bool{}
	for _, f := range files {
		name := filepath.Base(f)
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			want, ok := badFiles[name]
			if !ok {
				t.Fatalf("no expectation in badFiles for %s", name)
			}
			cfg, err := Load(f, testEnv())
			if err == nil {
				t.Fatalf("loaded without error: %+v", cfg)
			}
			msg := err.Error()
			prefix := f + ":" + strconv.Itoa(want.line) + ": "
			if want.key != "" {
				prefix += want.key + ": "
			}
			if !strings.Contains(msg, prefix) {
				t.Errorf("error does not name %q:\n%s", prefix, msg)
			}
			if !strings.Contains(msg, want.hint) {
				t.Errorf("error lacks the hint %q:\n%s", want.hint, msg)
			}
			if strings.Contains(msg, planted) {
				t.Errorf("error leaks a secret:\n%s", msg)
			}
		})
	}
	for name := range badFiles {
		if !seen[name] {
			t.Errorf("badFiles lists %s, which is not in testdata", name)
		}
	}
}

func TestErrorsWrapCause(t *testing.T) {
	_, err := Load("testdata/bad-secret-file-missing.yml", testEnv())
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is(err, fs.ErrNotExist) = false for %v", err)
	}
	_, err = Load("testdata/does-not-exist.yml", testEnv())
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "does-not-exist.yml") {
		t.Errorf("missing config file: %v", err)
	}
}

func TestAllErrorsReported(t *testing.T) {
	data := []byte(`tenants:
  - name: a
    tenant_id: nope
    client_id: 22222222-2222-2222-2222-222222222222
    client_secret: x
    cloud: mars
collectors:
  alerts: {interval: soon}
`)
	_, err := Parse(data, "multi.yml", testEnv())
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{"multi.yml:3: tenants[0].tenant_id:", "multi.yml:6: tenants[0].cloud:", "multi.yml:8: collectors.alerts.interval:"}
	if len(lines) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%s", len(lines), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("error %d = %q, want prefix %q", i, lines[i], w)
		}
	}
}

// A bad value in defaults is inherited by every tenant but must be reported once.
func TestDefaultsErrorReportedOnce(t *testing.T) {
	data := []byte(`defaults:
  client_secret_file: /nonexistent/secret
  client_id: 22222222-2222-2222-2222-222222222222
tenants:
  - {name: a, tenant_id: 11111111-1111-1111-1111-111111111111}
  - {name: b, tenant_id: 33333333-3333-3333-3333-333333333333}
`)
	_, err := Parse(data, "d.yml", Options{Getenv: testEnv().Getenv, ReadFile: func(p string) ([]byte, error) {
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
	}})
	if err == nil || strings.Count(err.Error(), "\n") != 0 || !strings.HasPrefix(err.Error(), "d.yml:2: defaults.client_secret_file: open /nonexistent/secret") {
		t.Errorf("err = %v", err)
	}
}

func TestRelativePathsFollowTheConfigFile(t *testing.T) {
	var read []string
	opts := Options{Getenv: testEnv().Getenv, ReadFile: func(p string) ([]byte, error) {
		read = append(read, p)
		return []byte("s\n"), nil
	}}
	data := []byte(`tenants:
  - name: a
    tenant_id: 11111111-1111-1111-1111-111111111111
    client_id: 22222222-2222-2222-2222-222222222222
    client_secret_file: rel/secret
  - name: b
    tenant_id: 11111111-1111-1111-1111-111111111111
    client_id: 22222222-2222-2222-2222-222222222222
    client_secret_file: /abs/secret
`)
	if _, err := Parse(data, "/etc/defender/defender.yml", opts); err != nil {
		t.Fatal(err)
	}
	want := []string{"/etc/defender/rel/secret", "/abs/secret"}
	if !reflect.DeepEqual(read, want) {
		t.Errorf("read %v, want %v", read, want)
	}
}

func TestSecretFileTrimming(t *testing.T) {
	for content, want := range map[string]string{
		"abc\n":    "abc",
		"abc\r\n":  "abc",
		"abc\n\n":  "abc",
		"a b c \n": "a b c ",
		"abc":      "abc",
	} {
		opts := Options{Getenv: testEnv().Getenv, ReadFile: func(string) ([]byte, error) { return []byte(content), nil }}
		cfg, err := Parse([]byte(`tenants: [{name: a, tenant_id: 11111111-1111-1111-1111-111111111111,
  client_id: 22222222-2222-2222-2222-222222222222, client_secret_file: s}]`), "t.yml", opts)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(cfg.Tenants[0].ClientSecret); got != want {
			t.Errorf("file %q: secret %q, want %q", content, got, want)
		}
	}
}

// yaml.v3 leaves aliases as pointers; a file of nested aliases and merge keys must fail fast, not
// expand exponentially.
func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 {tenant_id: 11111111-1111-1111-1111-111111111111}\n")
	for i := 1; i < 40; i++ {
		b.WriteString("a" + strconv.Itoa(i) + ": &a" + strconv.Itoa(i) + " {<<: [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + strconv.Itoa(i-1))
		}
		b.WriteString("]}\n")
	}
	b.WriteString("defaults: *a39\n")
	done := make(chan error, 1)
	go func() {
		_, err := Parse([]byte(b.String()), "bomb.yml", testEnv())
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, errTooComplex) {
			t.Fatalf("err = %v, want errTooComplex", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Parse did not return: alias expansion is unbounded")
	}
}

func TestNoFileNoEnvironment(t *testing.T) {
	_, err := Load("", Options{Getenv: func(string) (string, bool) { return "", false }})
	if err == nil || !strings.Contains(err.Error(), "environment: no tenants:") || !strings.Contains(err.Error(), "AZURE_TENANT_ID") {
		t.Errorf("err = %v", err)
	}
}

func TestMain(m *testing.M) {
	// Tests must not depend on the developer's Azure environment: every Load gets an explicit
	// Getenv, but guard against a future test forgetting it.
	for _, k := range envVars {
		os.Unsetenv(k)
	}
	os.Exit(m.Run())
}

// A full_load_interval equal to the alerts interval is a choice (every refresh lists everything),
// not a mistake; the default needs no check, even against a longer interval.
func TestFullLoadIntervalBounds(t *testing.T) {
	const tenant = "tenants:\n  - {name: contoso, tenant_id: 11111111-1111-1111-1111-111111111111, client_id: 22222222-2222-2222-2222-222222222222, client_secret: x}\n"
	for _, tc := range []struct{ collectors, want string }{
		{"collectors:\n  alerts: {interval: 10m, full_load_interval: 10m}\n", "10m0s"},
		{"collectors:\n  alerts: {interval: 12h}\n", "6h0m0s"},
	} {
		cfg, err := Parse([]byte(tenant+tc.collectors), "test.yml", testEnv())
		if err != nil {
			t.Fatalf("%s: %v", tc.collectors, err)
		}
		if got := cfg.Collectors["alerts"].FullLoadInterval.String(); got != tc.want {
			t.Errorf("%s: full_load_interval %s, want %s", tc.collectors, got, tc.want)
		}
	}
}
