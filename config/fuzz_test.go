package config

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse checks that no input makes Parse panic or hang, that an accepted config is complete and
// renders, and that no secret reaches an error message or the rendered config.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yml")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	const secret = "fuzz-secret-9c41e7"
	opts := Options{
		Getenv: func(k string) (string, bool) {
			if strings.HasPrefix(k, "AZURE_") {
				return "", false
			}
			return secret, true
		},
		ReadFile: func(p string) ([]byte, error) {
			switch {
			case strings.HasSuffix(p, "ca.pem"):
				return os.ReadFile("testdata/certs/ca.pem")
			case strings.Contains(p, "nope"):
				return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
			}
			return []byte(secret + "\n"), nil
		},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, "fuzz.yml", opts)
		mentions := strings.Contains(string(data), secret)
		if err != nil {
			if cfg != nil {
				t.Fatal("a config returned with an error")
			}
			if !mentions && strings.Contains(err.Error(), secret) {
				t.Fatalf("error leaks a secret: %v", err)
			}
			return
		}
		for _, name := range CollectorNames {
			if _, ok := cfg.Collectors[name]; !ok {
				t.Fatalf("collector %s missing", name)
			}
		}
		for _, tn := range cfg.Tenants {
			for _, name := range CollectorNames {
				if cfg.Interval(tn, name) <= tn.RequestTimeout {
					t.Fatalf("tenant %s: %s interval not above request_timeout", tn.Name, name)
				}
			}
		}
		out, err := cfg.Redacted()
		if err != nil {
			t.Fatalf("Redacted: %v", err)
		}
		if !mentions && strings.Contains(out, secret) {
			t.Fatalf("Redacted leaks a secret:\n%s", out)
		}
	})
}
