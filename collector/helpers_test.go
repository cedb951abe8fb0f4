package collector

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/defender-exporter/defender_exporter/config"
	"github.com/defender-exporter/defender_exporter/defender"
	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// testNow anchors both the fake tenant's data and the collectors' clock,
// so golden files do not depend on the day the tests run.
var testNow = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return testNow }

// fakeTenant starts a fake Defender tenant and a real client for it, over
// TLS with a client secret, as production does.
func fakeTenant(t testing.TB, size defendertest.Size) (*defendertest.Tenant, *Target) {
	t.Helper()
	tenant, err := defendertest.New(defendertest.Options{Seed: 7, Size: size, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tenant.Close)
	return tenant, &Target{Tenant: "contoso", Client: newClient(t, tenant, nil), Now: fixedNow}
}

func newClient(t testing.TB, tenant *defendertest.Tenant, metrics *defender.Metrics) *defender.Client {
	t.Helper()
	return fakeClient(t, tenant, tenant.NewApp(), func(o *defender.Options) { o.Metrics = metrics })
}

// fakeClient is a client of the fake tenant for app, with fast retries;
// adjust changes the options before the client is built.
func fakeClient(t testing.TB, tenant *defendertest.Tenant, app *defendertest.App, adjust func(*defender.Options)) *defender.Client {
	t.Helper()
	u := tenant.URL()
	endpoints, scopes, err := defender.ResolveEndpoints("global", "", defender.Endpoints{Authority: u, MDE: u, XDR: u, Graph: u})
	if err != nil {
		t.Fatal(err)
	}
	o := defender.Options{
		Tenant:     "contoso",
		Credential: defender.Credential{TenantID: tenant.TenantID(), ClientID: app.ClientID, ClientSecret: app.Secret},
		Endpoints:  endpoints,
		Scopes:     scopes,
		RootCAs:    tenant.CAPool(),
		RetryBase:  time.Millisecond,
		RetryMax:   5 * time.Millisecond,
	}
	if adjust != nil {
		adjust(&o)
	}
	c, err := defender.NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func collectorConfig(t testing.TB, name string) config.Collector {
	t.Helper()
	return config.DefaultCollector(name)
}

// collectorConfigAPI is collectorConfig on the back end api ("mde", "xdr",
// "graph").
func collectorConfigAPI(t testing.TB, name, api string) config.Collector {
	t.Helper()
	c := config.DefaultCollector(name)
	c.API = api
	return c
}

// metricSet adapts a snapshot to prometheus.Collector for testutil.
type metricSet []prometheus.Metric

func (m metricSet) Describe(chan<- *prometheus.Desc) {}
func (m metricSet) Collect(ch chan<- prometheus.Metric) {
	for _, x := range m {
		ch <- x
	}
}

func refresh(t testing.TB, c Collector, target *Target) metricSet {
	t.Helper()
	ms, err := c.Refresh(context.Background(), target)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	return ms
}

// exposition renders metrics in the text format, sorted as the registry
// sorts them, for golden files.
func exposition(t testing.TB, c prometheus.Collector) []byte {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// compareGolden checks c against testdata/<name>.prom with
// testutil.CollectAndCompare and lints it; -update rewrites the file.
func compareGolden(t *testing.T, c prometheus.Collector, name string) {
	t.Helper()
	path := filepath.Join("testdata", name+".prom")
	if *update {
		if err := os.WriteFile(path, exposition(t, c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run go test ./collector -update to create it)", err)
	}
	defer f.Close()
	if err := testutil.CollectAndCompare(c, f); err != nil {
		t.Errorf("%s differs from the golden file: %v", path, err)
	}
	problems, err := testutil.CollectAndLint(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint %s: %s", p.Metric, p.Text)
	}
}

// seriesOf returns the exposition lines of one metric family.
func seriesOf(t testing.TB, c prometheus.Collector, name string) []string {
	var out []string
	for _, line := range strings.Split(string(exposition(t, c)), "\n") {
		if strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ") {
			out = append(out, line)
		}
	}
	return out
}
