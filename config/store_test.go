package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestStoreReload(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	s := NewStore(reg)
	if s.Current() != nil {
		t.Fatal("Current before the first Reload must be nil")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "defender.yml")
	write := func(name string) {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		// Relative paths in testdata files are relative to testdata/.
		abs, _ := filepath.Abs("testdata")
		b = []byte(strings.NewReplacer("secrets/", abs+"/secrets/", "certs/", abs+"/certs/").Replace(string(b)))
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	gauges := func() (success, ts float64) {
		return testutil.ToFloat64(s.success), testutil.ToFloat64(s.seconds)
	}

	write("good-minimal.yml")
	cfg, err := s.Reload(path, testEnv())
	if err != nil {
		t.Fatal(err)
	}
	if s.Current() != cfg || cfg.Tenants[0].Name != "contoso" {
		t.Fatalf("Current = %+v", s.Current())
	}
	ok, ts := gauges()
	if ok != 1 || ts <= 0 {
		t.Errorf("after success: successful=%v timestamp=%v", ok, ts)
	}

	write("bad-no-credential.yml")
	bad, err := s.Reload(path, testEnv())
	if err == nil || bad != nil || !strings.Contains(err.Error(), "no credential") {
		t.Fatalf("Reload of a bad file = %v, %v", bad, err)
	}
	if s.Current() != cfg {
		t.Error("a failed reload must keep the previous config")
	}
	if ok, ts2 := gauges(); ok != 0 || ts2 != ts {
		t.Errorf("after failure: successful=%v timestamp=%v (was %v)", ok, ts2, ts)
	}

	write("good-anchors.yml")
	cfg2, err := s.Reload(path, testEnv())
	if err != nil {
		t.Fatal(err)
	}
	if s.Current() != cfg2 || len(cfg2.Tenants) != 3 {
		t.Errorf("Current after the second good reload = %+v", s.Current())
	}
	if ok, ts3 := gauges(); ok != 1 || ts3 < ts {
		t.Errorf("after recovery: successful=%v timestamp=%v", ok, ts3)
	}

	if n, err := testutil.GatherAndCount(reg, "defender_exporter_config_last_reload_successful", "defender_exporter_config_last_reload_success_timestamp_seconds"); err != nil || n != 2 {
		t.Errorf("registered gauges: %d, %v", n, err)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}

func TestStoreWithoutRegistry(t *testing.T) {
	s := NewStore(nil)
	if _, err := s.Reload("testdata/does-not-exist.yml", testEnv()); err == nil {
		t.Error("no error for a missing file")
	}
	if testutil.ToFloat64(s.success) != 0 {
		t.Error("gauge not 0 after a failed first load")
	}
}

func TestStoreConcurrentReads(t *testing.T) {
	s := NewStore(nil)
	if _, err := s.Reload("testdata/good-minimal.yml", testEnv()); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 20; i++ {
			_, _ = s.Reload("testdata/good-minimal.yml", testEnv())
		}
	}()
	for i := 0; i < 1000; i++ {
		if s.Current() == nil {
			t.Fatal("Current returned nil during reloads")
		}
	}
	<-done
}
