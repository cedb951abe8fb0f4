package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// binary is the exporter built once for the tests that run it as users do.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "defender-exporter-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "defender_exporter")
	buildArgs := []string{"build", "-o", binary}
	if raceEnabled {
		buildArgs = append(buildArgs, "-race")
	}
	build := exec.Command("go", append(buildArgs, ".")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the exporter:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// exporter is a running binary with its log captured.
type exporter struct {
	cmd  *exec.Cmd
	addr string
	log  *syncBuffer
	// exited is closed once the process has ended and waitErr holds what
	// cmd.Wait said; one goroutine waits, so that an early exit is seen
	// at once. Use wait, never cmd.Wait.
	exited  chan struct{}
	waitErr error
}

// wait waits for the process to end and returns cmd.Wait's answer.
func (e *exporter) wait() error {
	<-e.exited
	return e.waitErr
}

type syncBuffer struct {
	mu  chan struct{}
	buf bytes.Buffer
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{mu: make(chan struct{}, 1)} }
func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.Write(p)
}
func (b *syncBuffer) String() string {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.String()
}

func startExporter(t *testing.T, args ...string) *exporter {
	t.Helper()
	e := &exporter{addr: freeAddr(t), log: newSyncBuffer(), exited: make(chan struct{})}
	e.cmd = exec.Command(binary, append([]string{"--web.listen-address=" + e.addr}, args...)...)
	e.cmd.Stdout, e.cmd.Stderr = e.log, e.log
	if err := e.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		e.waitErr = e.cmd.Wait()
		close(e.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-e.exited:
		default:
			_ = e.cmd.Process.Kill()
			_ = e.wait()
		}
		if t.Failed() {
			t.Logf("exporter log:\n%s", e.log.String())
		}
	})
	return e
}

func (e *exporter) get(t *testing.T, path string) (int, string) {
	t.Helper()
	return e.fetch(path)
}

// waitReady polls /-/ready; the deadline is generous because it bounds a
// failure, not a measurement.
func (e *exporter) waitReady(t *testing.T) {
	t.Helper()
	if err := e.awaitReady(90 * time.Second); err != nil {
		t.Fatal(err)
	}
}

// awaitReady polls /-/ready until it answers 200, the process exits, or
// the deadline passes.
func (e *exporter) awaitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if code, _ := e.fetch("/-/ready"); code == http.StatusOK {
			return nil
		}
		select {
		case <-e.exited:
			// Wait has returned, so the output is complete.
			return fmt.Errorf("exporter exited before it was ready (%v); its output:\n%s", e.waitErr, e.log.String())
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("exporter not ready after %s; its output:\n%s", limit, e.log.String())
}

// fetch GETs path; a failed request is status 0 with the error as body.
func (e *exporter) fetch(path string) (int, string) {
	resp, err := http.Get("http://" + e.addr + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestEarlyExitReportedAtOnce: an exporter that exits during start-up is
// reported as soon as it has gone, with its exit status and its output,
// instead of after the readiness deadline.
func TestEarlyExitReportedAtOnce(t *testing.T) {
	e := startExporter(t, "--config.file="+filepath.Join(t.TempDir(), "missing.yml"))
	err := e.awaitReady(90 * time.Second)
	if err == nil {
		t.Fatal("an exporter without its configuration file became ready")
	}
	for _, want := range []string{"exited", "exit status 1", "cannot load the configuration", "missing.yml"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the report lacks %q:\n%v", want, err)
		}
	}
}

func TestDemoServesMetrics(t *testing.T) {
	e := startExporter(t, "--demo")
	e.waitReady(t)
	code, body := e.get(t, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d\n%s", code, body)
	}
	for _, want := range []string{
		`defender_up{tenant="contoso"} 1`,
		`defender_up{tenant="fabrikam"} 1`,
		`defender_collector_success{collector="alerts",tenant="contoso"} 1`,
		`defender_collector_success{collector="machines",tenant="fabrikam"} 1`,
		`defender_alerts{category=`,
		`defender_alerts_oldest_unresolved_timestamp_seconds{severity="High",tenant="contoso"}`,
		`defender_machines{av_status=`,
		`defender_machines_stale{tenant="contoso",threshold="1d"}`,
		// alerts and incidents on their default back end, Microsoft Graph.
		`defender_api_requests_total{api="graph",code="200",endpoint="/v1.0/security/alerts_v2",tenant="contoso"}`,
		`defender_api_requests_total{api="graph",code="200",endpoint="/v1.0/security/incidents",tenant="contoso"}`,
		`,service_source="MicrosoftDefenderForEndpoint",`,
		`defender_incidents{classification=`,
		`defender_incidents_oldest_unresolved_timestamp_seconds{severity=`,
		`defender_exporter_config_last_reload_successful 1`,
		`defender_exporter_build_info{`,
		`# HELP defender_alerts Defender alerts created within the lookback window, plus every unresolved alert. Refreshed in the background`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if code, body := e.get(t, "/"); code != http.StatusOK || !strings.Contains(body, "/metrics") {
		t.Errorf("landing page: %d %s", code, body)
	}
	if code, _ := e.get(t, "/-/healthy"); code != http.StatusOK {
		t.Errorf("/-/healthy: %d", code)
	}
	// SIGTERM ends the process cleanly.
	if err := e.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-e.exited:
		if err := e.wait(); err != nil {
			t.Errorf("exit after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit 30s after SIGTERM")
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const plantedSecret = "pl4nted-S3cret-value-never-shown"

func TestConfigCheckHidesSecrets(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "defender.yml", `tenants:
  - name: contoso
    tenant_id: 11111111-2222-3333-4444-555555555555
    client_id: 66666666-7777-8888-9999-000000000000
    client_secret: `+plantedSecret+`
`)
	cmd := exec.Command(binary, "--config.file="+cfg, "--config.check")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("--config.check on a good file: %v\n%s", err, out)
	}
	if strings.Contains(string(out), plantedSecret) {
		t.Fatalf("--config.check printed the secret:\n%s", out)
	}
	if !strings.Contains(string(out), "<secret>") || !strings.Contains(string(out), "configuration is valid") {
		t.Errorf("--config.check output lacks the redacted secret or the verdict:\n%s", out)
	}

	bad := writeFile(t, dir, "bad.yml", "tenants:\n  - name: x\n    tenant_idd: 1\n")
	out, err = exec.Command(binary, "--config.file="+bad, "--config.check").CombinedOutput()
	if code := exitCode(err); code != 1 {
		t.Fatalf("--config.check on a bad file: exit %d, want 1\n%s", code, out)
	}
	if !strings.Contains(string(out), "bad.yml:3") || !strings.Contains(string(out), "tenant_idd") {
		t.Errorf("error does not name the line and key:\n%s", out)
	}
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

func TestReloadKeepsOldConfigOnBadFile(t *testing.T) {
	dir := t.TempDir()
	good := `tenants:
  - name: contoso
    tenant_id: 11111111-2222-3333-4444-555555555555
    client_id: 66666666-7777-8888-9999-000000000000
    client_secret: ` + plantedSecret + `
    endpoints: {authority: "https://127.0.0.1:1", mde: "https://127.0.0.1:1", xdr: "https://127.0.0.1:1", graph: "https://127.0.0.1:1"}
collectors:
  alerts: {interval: 1h}
  machines: {interval: 1h}
`
	cfg := writeFile(t, dir, "defender.yml", good)
	e := startExporter(t, "--config.file="+cfg, "--web.enable-lifecycle", "--no-collector.scores",
		"--no-collector.vulnerabilities", "--no-collector.recommendations", "--no-collector.av_health",
		"--no-collector.machine_actions", "--no-collector.incidents")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if code, _ := e.get(t, "/-/healthy"); code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("exporter did not start")
		}
		time.Sleep(100 * time.Millisecond)
	}

	post := func() (int, string) {
		resp, err := http.Post("http://"+e.addr+"/-/reload", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := post(); code != http.StatusOK {
		t.Fatalf("reload of a good file: %d %s", code, body)
	}
	writeFile(t, dir, "defender.yml", good+"bogus_key: 1\n")
	code, body := post()
	if code != http.StatusInternalServerError || !strings.Contains(body, "bogus_key") {
		t.Fatalf("reload of a bad file: %d %s, want 500 naming the key", code, body)
	}
	_, metrics := e.get(t, "/metrics")
	if !strings.Contains(metrics, "defender_exporter_config_last_reload_successful 0") {
		t.Errorf("reload failure not in metrics")
	}
	if !strings.Contains(metrics, `defender_collector_success{collector="alerts",tenant="contoso"}`) &&
		!strings.Contains(metrics, `defender_up{tenant="contoso"}`) {
		t.Errorf("old configuration's tenant gone after a bad reload:\n%s", metrics)
	}
	for _, where := range []string{metrics, e.log.String(), body} {
		if strings.Contains(where, plantedSecret) {
			t.Fatalf("secret leaked")
		}
	}
	// SIGHUP reloads too: fix the file and signal.
	writeFile(t, dir, "defender.yml", good)
	if err := e.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if _, m := e.get(t, "/metrics"); strings.Contains(m, "defender_exporter_config_last_reload_successful 1") {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("SIGHUP did not reload the fixed file")
}
