package config

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestSecretNeverPrints(t *testing.T) {
	s := Secret("hunter2-PLANTED")
	tn := Tenant{Name: "a", ClientSecret: s, CertificatePassword: s}
	var outs []string
	for _, verb := range []string{"%v", "%s", "%q", "%+v", "%#v", "%x", "%X", "%d", "%10s", "%-10v"} {
		outs = append(outs, fmt.Sprintf(verb, s), fmt.Sprintf(verb, tn), fmt.Sprintf(verb, &tn))
	}
	outs = append(outs, fmt.Sprint(s), fmt.Sprintln(s), s.String())
	y, err := yaml.Marshal(tn)
	if err != nil {
		t.Fatal(err)
	}
	j, err := json.Marshal(tn)
	if err != nil {
		t.Fatal(err)
	}
	txt, _ := s.MarshalText()
	outs = append(outs, string(y), string(j), string(txt))
	for _, o := range outs {
		if strings.Contains(o, planted) {
			t.Errorf("secret printed: %s", o)
		}
	}
	var fromJSON struct{ ClientSecret string }
	if err := json.Unmarshal(j, &fromJSON); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(y), "<secret>") || fromJSON.ClientSecret != "<secret>" {
		t.Errorf("yaml %s / json %s do not show <secret>", y, j)
	}
	if string(s) != "hunter2-PLANTED" {
		t.Error("the value must still be reachable with string(s)")
	}
}

func TestExpandEnv(t *testing.T) {
	env := map[string]string{"A": "alpha", "B_2": "beta", "EMPTY": ""}
	getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	for _, tc := range []struct{ in, want, err string }{
		{in: "plain", want: "plain"},
		{in: "${A}", want: "alpha"},
		{in: "x${A}y${B_2}z", want: "xalphaybetaz"},
		{in: "${EMPTY}", want: ""},
		{in: "a$b$", want: "a$b$"},
		{in: "$A", want: "$A"},
		{in: "$${A}", want: "${A}"},
		{in: "p$$${A}", want: "p$${A}"}, // $${ is matched first, leaving a literal $ before it
		{in: "${MISSING}", err: "environment variable MISSING is not set"},
		{in: "SECRET-PLANTED${", err: "without a closing }"},
		{in: "${not a name PLANTED}", err: "not a variable name"},
		{in: "${}", err: "not a variable name"},
	} {
		got, err := expandEnv(tc.in, getenv)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("expandEnv(%q) error = %v, want %q", tc.in, err, tc.err)
		case tc.err != "" && strings.Contains(err.Error(), planted):
			t.Errorf("expandEnv(%q) error echoes the input: %v", tc.in, err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("expandEnv(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestEnvExpandedSecretInFile(t *testing.T) {
	data := []byte(`tenants:
  - name: a
    tenant_id: 11111111-1111-1111-1111-111111111111
    client_id: 22222222-2222-2222-2222-222222222222
    client_secret: pre-${DEFENDER_SECRET}
`)
	cfg, err := Parse(data, "e.yml", testEnv())
	if err != nil {
		t.Fatal(err)
	}
	if got := string(cfg.Tenants[0].ClientSecret); got != "pre-env-secret-PLANTED-2" {
		t.Errorf("secret = %q", got)
	}
	_, err = Parse([]byte(strings.Replace(string(data), "pre-${DEFENDER_SECRET}", "${EMPTY_VAR}", 1)), "e.yml", testEnv("EMPTY_VAR", ""))
	if err == nil || !strings.Contains(err.Error(), "e.yml:5: tenants[0].client_secret: is empty") {
		t.Errorf("empty expansion: %v", err)
	}
}
