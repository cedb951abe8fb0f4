package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

// Lifecycle faults driven through the binary: tenants whose credential
// files are broken or missing at start-up or at a reload, and tenants
// removed by a reload while their requests are in flight.

// waitMetrics polls /metrics until every want is in it; the deadline
// bounds a failure, it measures nothing.
func waitMetrics(t *testing.T, e *exporter, what string, want ...string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, metrics := e.get(t, "/metrics")
		missing := ""
		for _, w := range want {
			if !strings.Contains(metrics, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return metrics
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: /metrics still lacks %s after 60s:\n%s", what, missing, grepLines(metrics, "defender_up"))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func grepLines(text, s string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// countLines counts the log lines that contain every one of subs.
func countLines(log string, subs ...string) int {
	n := 0
	for _, l := range strings.Split(log, "\n") {
		all := l != ""
		for _, s := range subs {
			all = all && strings.Contains(l, s)
		}
		if all {
			n++
		}
	}
	return n
}

// TestMalformedCertificateRecoversWithoutRestart: a certificate file that
// exists but does not parse passes the configuration check, so the
// exporter starts with that tenant down. Once the file is fixed the tenant
// comes up by itself (its client is built again with backoff), with no
// SIGHUP and no restart.
func TestMalformedCertificateRecoversWithoutRestart(t *testing.T) {
	dir := t.TempDir()
	ft, caFile := fakeForBinary(t, dir, 21)
	secretApp, certApp := ft.NewApp(), ft.NewApp()
	pfx := writeFile(t, dir, "fabrikam.pfx", "not a certificate\n")
	pass := writeFile(t, dir, "fabrikam.pfx.password", certApp.PFXPassword+"\n")
	cfg := writeFile(t, dir, "defender.yml", "defaults: {request_timeout: 2s}\ntenants:\n"+
		tenantYAML("contoso", ft, secretApp.ClientID, caFile, "    client_secret: "+secretApp.Secret)+
		tenantYAML("fabrikam", ft, certApp.ClientID, caFile, "    certificate_file: "+pfx+"\n    certificate_password_file: "+pass)+
		collectorsOnly("1h", "alerts", "machines"))
	e := startExporter(t, "--config.file="+cfg)
	e.waitReady(t)
	waitMetrics(t, e, "broken certificate", `defender_up{tenant="contoso"} 1`, `defender_up{tenant="fabrikam"} 0`)
	if n := countLines(e.log.String(), "level=error", "tenant=fabrikam", pfx); n != 1 {
		t.Errorf("%d error lines naming fabrikam and its file, want 1:\n%s", n, e.log.String())
	}

	// Written aside and renamed, as a sidecar would.
	fixed := writeFile(t, dir, "fabrikam.pfx.new", string(certApp.PFX))
	if err := os.Rename(fixed, pfx); err != nil {
		t.Fatal(err)
	}
	// The collectors' hour-long interval is not waited for: the tenant's
	// jobs refresh as soon as its client is built.
	waitMetrics(t, e, "fixed certificate, no reload", `defender_up{tenant="fabrikam"} 1`, `defender_up{tenant="contoso"} 1`)
	noLeak(t, "the log", e.log.String(), secretApp.Secret, certApp.PFXPassword)
}

// TestMissingCredentialFileFailsItsTenantAlone: a client secret file that
// is missing at start-up, or at a reload, or unreadable (a directory where
// the file should be), fails its tenant alone: the exporter starts, the
// reload is accepted for every other tenant, the tenant is down with one
// error line naming it and the file, and it comes back by itself once the
// file is readable.
func TestMissingCredentialFileFailsItsTenantAlone(t *testing.T) {
	dir := t.TempDir()
	ft, caFile := fakeForBinary(t, dir, 22)
	a, b := ft.NewApp(), ft.NewApp()
	secretFile := filepath.Join(dir, "fabrikam.secret")
	yml := "defaults: {request_timeout: 2s}\ntenants:\n" +
		tenantYAML("contoso", ft, a.ClientID, caFile, "    client_secret: "+a.Secret) +
		tenantYAML("fabrikam", ft, b.ClientID, caFile, "    client_secret_file: "+secretFile) +
		collectorsOnly("1h", "alerts", "machines")
	cfg := writeFile(t, dir, "defender.yml", yml)

	// --config.check still names the file: it checks what it can.
	out, err := exec.Command(binary, "--config.file="+cfg, "--config.check").CombinedOutput()
	if err == nil || !strings.Contains(string(out), secretFile) {
		t.Errorf("--config.check with a missing secret file: %v\n%s", err, out)
	}

	e := startExporter(t, "--config.file="+cfg)
	e.waitReady(t)
	waitMetrics(t, e, "missing at start-up", `defender_up{tenant="contoso"} 1`, `defender_up{tenant="fabrikam"} 0`)
	if n := countLines(e.log.String(), "level=error", "tenant=fabrikam", secretFile); n != 1 {
		t.Errorf("%d error lines naming fabrikam and its file, want 1:\n%s", n, e.log.String())
	}
	if n := countLines(e.log.String(), secretFile); n != 1 {
		t.Errorf("the missing file is named on %d lines, want 1:\n%s", n, e.log.String())
	}

	writeFile(t, dir, "fabrikam.secret", b.Secret+"\n")
	waitMetrics(t, e, "file written", `defender_up{tenant="fabrikam"} 1`)
	// A reload now reads the secret from the file.
	reload := func() {
		t.Helper()
		before := countLines(e.log.String(), "configuration loaded")
		if err := e.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(60 * time.Second)
		for countLines(e.log.String(), "configuration loaded") == before {
			if time.Now().After(deadline) {
				t.Fatalf("no reload within 60s:\n%s", e.log.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	reload()
	waitMetrics(t, e, "reloaded with the file", `defender_up{tenant="fabrikam"} 1`)

	// Rotated at the wrong moment: the path is a directory during a reload.
	if err := os.Remove(secretFile); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(secretFile, 0o700); err != nil {
		t.Fatal(err)
	}
	reload()
	waitLog(t, e, "read "+secretFile+": is a directory")
	metrics := waitMetrics(t, e, "unreadable at a reload", `defender_up{tenant="fabrikam"} 0`, `defender_up{tenant="contoso"} 1`)
	if !strings.Contains(metrics, "defender_exporter_config_last_reload_successful 1") {
		t.Errorf("the reload was refused:\n%s", grepLines(metrics, "reload"))
	}
	if err := os.Remove(secretFile); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "fabrikam.secret", b.Secret+"\n")
	waitMetrics(t, e, "file back", `defender_up{tenant="fabrikam"} 1`, `defender_up{tenant="contoso"} 1`)
	noLeak(t, "the log", e.log.String(), a.Secret, b.Secret)
}

// TestRemovedTenantSeriesStayGone: a reload removes a tenant whose request
// is in flight (the fake holds it); the cancelled request must not bring
// the tenant's request series back.
func TestRemovedTenantSeriesStayGone(t *testing.T) {
	dir := t.TempDir()
	ftA, caA := fakeForBinary(t, dir, 23)
	ftB, caB := fakeForBinary(t, dir, 24)
	ftB.SetFault(defendertest.GraphAlertsPath, defendertest.Fault{Delay: time.Minute})
	a, b := ftA.NewApp(), ftB.NewApp()
	head := "defaults: {request_timeout: 8s}\ntenants:\n" +
		tenantYAML("contoso", ftA, a.ClientID, caA, "    client_secret: "+a.Secret)
	tail := collectorsOnly("10s", "alerts", "machines")
	cfg := writeFile(t, dir, "defender.yml", head+tenantYAML("fabrikam", ftB, b.ClientID, caB, "    client_secret: "+b.Secret)+tail)
	e := startExporter(t, "--config.file="+cfg)

	deadline := time.Now().Add(60 * time.Second)
	for ftB.Calls(defendertest.GraphAlertsPath) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no alerts request to fabrikam within 60s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitMetrics(t, e, "fabrikam's requests counted", `tenant="fabrikam"`)

	writeFile(t, dir, "defender.yml", head+tail)
	if err := e.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(60 * time.Second)
	for countLines(e.log.String(), "configuration loaded", "tenants=1") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the reload did not happen within 60s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Several scrapes over a second: a late recording would show in one.
	for range 5 {
		_, metrics := e.get(t, "/metrics")
		if lines := grepLines(metrics, `tenant="fabrikam"`); lines != "" {
			t.Fatalf("series of the removed tenant after the reload:\n%s", lines)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
