package defender_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/defender-exporter/defender_exporter/defender"
	"github.com/defender-exporter/defender_exporter/defender/defendertest"
	"github.com/prometheus/client_golang/prometheus"
)

var anchor = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func newTenant(t *testing.T, o defendertest.Options) *defendertest.Tenant {
	t.Helper()
	if o.Now == nil {
		o.Now = func() time.Time { return anchor }
	}
	tn, err := defendertest.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tn.Close)
	return tn
}

// recorder is an injected clock and sleep: it records the waits the
// client asks for and moves the clock, so no test sleeps for real.
type recorder struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func (r *recorder) Now() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.now
}

func (r *recorder) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.now = r.now.Add(d)
	r.waits = append(r.waits, d)
	return nil
}

func (r *recorder) Waits() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.waits...)
}

// clientFor points a client at the fake: every endpoint overridden to its
// URL, the scopes of its cloud.
func clientFor(t *testing.T, tn *defendertest.Tenant, cred defender.Credential, mod func(*defender.Options)) (*defender.Client, *recorder, *prometheus.Registry) {
	t.Helper()
	u := tn.URL()
	ep, scopes, err := defender.ResolveEndpoints(tn.Cloud(), "", defender.Endpoints{Authority: u, MDE: u, XDR: u, Graph: u})
	if err != nil {
		t.Fatal(err)
	}
	cred.TenantID = tn.TenantID()
	rec := &recorder{now: time.Now()}
	reg := prometheus.NewRegistry()
	m := defender.NewMetrics(reg)
	o := defender.Options{
		Tenant: "fake", Credential: cred, Endpoints: ep, Scopes: scopes,
		RootCAs: tn.CAPool(), RetryBase: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond,
		Metrics: m, Clock: rec.Now, Sleep: rec.Sleep,
	}
	if mod != nil {
		mod(&o)
	}
	c, err := defender.NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, rec, reg
}

// value is the sum of the samples of a metric whose labels include want.
func value(t *testing.T, reg *prometheus.Registry, name string, want map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := want[lp.GetName()]; ok && v != lp.GetValue() {
					continue metrics
				}
			}
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

var alerts = defender.Request{API: defender.APIMDE, Family: defender.FamilyMDE, Endpoint: "/api/alerts", Path: "/api/alerts", PageSize: 10000}

func listAlerts(ctx context.Context, c *defender.Client, req defender.Request) (map[string]bool, defender.ListStats, error) {
	ids := map[string]bool{}
	stats, err := defender.List(ctx, c, req, func(a *defender.Alert) error {
		ids[a.ID] = true
		return nil
	})
	return ids, stats, err
}

func wantAllAlerts(t *testing.T, tn *defendertest.Tenant, ids map[string]bool) {
	t.Helper()
	data := tn.Data().Alerts
	if len(ids) != len(data) {
		t.Fatalf("got %d distinct alerts, the tenant has %d", len(ids), len(data))
	}
	for _, a := range data {
		if !ids[a.ID] {
			t.Fatalf("alert %s missing", a.ID)
		}
	}
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFakeCredentialKinds(t *testing.T) {
	tn := newTenant(t, defendertest.Options{Seed: 1, Size: defendertest.Size{Machines: 5, Alerts: 30}})
	app := tn.NewApp()
	pemFile := writeFile(t, "app.pem", append(append([]byte(nil), app.CertPEM...), app.KeyPEM...))
	pfxFile := writeFile(t, "app.pfx", app.PFX)

	for name, cred := range map[string]defender.Credential{
		"client secret":             {ClientID: app.ClientID, ClientSecret: app.Secret},
		"certificate PEM file":      {ClientID: app.ClientID, CertificateFile: pemFile},
		"certificate PKCS#12 file":  {ClientID: app.ClientID, CertificateFile: pfxFile, CertificatePassword: app.PFXPassword},
		"certificate PKCS#12 bytes": {ClientID: app.ClientID, CertificateData: app.PFX, CertificatePassword: app.PFXPassword},
	} {
		t.Run(name, func(t *testing.T) {
			c, _, _ := clientFor(t, tn, cred, nil)
			ids, _, err := listAlerts(context.Background(), c, alerts)
			if err != nil {
				t.Fatal(err)
			}
			wantAllAlerts(t, tn, ids)
			if exp, ok := c.CertificateExpiry(); ok != (cred.ClientSecret == "") || (ok && !exp.After(time.Now())) {
				t.Errorf("CertificateExpiry = %v, %v", exp, ok)
			}
		})
	}
}

// The federated token file is read at every token request: a broken file
// fails the next acquisition, a fixed one makes it work again.
func TestFakeFederatedTokenFileReread(t *testing.T) {
	tn := newTenant(t, defendertest.Options{Seed: 2, Size: defendertest.Size{Alerts: 3}})
	app := tn.NewApp()
	file := writeFile(t, "azure-identity-token", []byte(tn.FederatedToken(app.ClientID)))
	c, _, _ := clientFor(t, tn, defender.Credential{ClientID: app.ClientID, FederatedTokenFile: file}, nil)
	if err := c.Token(context.Background(), defender.APIMDE); err != nil {
		t.Fatal(err)
	}
	// Rotated to a token of another app: rejected at the next acquisition.
	other := tn.NewApp()
	if err := os.WriteFile(file, []byte(tn.FederatedToken(other.ClientID)), 0o600); err != nil {
		t.Fatal(err)
	}
	err := c.Token(context.Background(), defender.APIXDR)
	var ae *defender.AuthError
	if !errors.As(err, &ae) || ae.Kind != defender.AuthRejected {
		t.Fatalf("err = %v, want the assertion rejected", err)
	}
	t.Logf("rejected assertion: %v", err)
	if err := os.WriteFile(file, []byte(tn.FederatedToken(app.ClientID)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := c.Token(context.Background(), defender.APIXDR); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	if n := tn.Calls("token"); n != 3 {
		t.Errorf("token calls = %d, want 3", n)
	}
}

func TestFakeManagedIdentity(t *testing.T) {
	tn := newTenant(t, defendertest.Options{Seed: 3, Size: defendertest.Size{Alerts: 12}})
	endpoint, header := tn.ManagedIdentityEndpoint()
	t.Setenv("IDENTITY_ENDPOINT", endpoint)
	t.Setenv("IDENTITY_HEADER", header)
	app := tn.NewApp()
	for name, cred := range map[string]defender.Credential{
		"system-assigned": {ManagedIdentity: true},
		"user-assigned":   {ManagedIdentity: true, ManagedIdentityClientID: app.ClientID},
	} {
		t.Run(name, func(t *testing.T) {
			c, _, reg := clientFor(t, tn, cred, nil)
			ids, _, err := listAlerts(context.Background(), c, alerts)
			if err != nil {
				t.Fatal(err)
			}
			wantAllAlerts(t, tn, ids)
			// MSAL caches managed identity tokens per process, so a token
			// may come from an earlier test's tenant: the API's 401 then
			// forces a fresh one. Either way one answer was a 200.
			if v := value(t, reg, "defender_api_requests_total", map[string]string{"api": "entra", "endpoint": "managed_identity", "code": "200"}); v > 1 {
				t.Errorf("managed identity token requests = %v, want at most 1", v)
			}
		})
	}
}

func TestFakeWrongAudienceRejected(t *testing.T) {
	tn := newTenant(t, defendertest.Options{Seed: 4, Size: defendertest.Size{Alerts: 3}})
	app := tn.NewApp()
	c, _, _ := clientFor(t, tn, defender.Credential{ClientID: app.ClientID, ClientSecret: app.Secret}, func(o *defender.Options) {
		o.Scopes.MDE = o.Scopes.XDR // a token for XDR sent to MDE
	})
	_, _, err := listAlerts(context.Background(), c, alerts)
	if !defender.IsStatus(err, 401) {
		t.Fatalf("err = %v, want 401", err)
	}
	// One fresh token and one more try, then the error.
	if n := tn.Calls("/api/alerts"); n != 2 {
		t.Errorf("API calls = %d, want 2", n)
	}
}

func TestFakePagingCallCounts(t *testing.T) {
	tn := newTenant(t, defendertest.Options{Seed: 5, Size: defendertest.Size{Alerts: 2501}, DefaultPageSize: 200})
	app := tn.NewApp()
	c, _, _ := clientFor(t, tn, defender.Credential{ClientID: app.ClientID, ClientSecret: app.Secret}, nil)

	for _, tc := range []struct {
		name      string
		pageSize  int
		wantCalls int
	}{
		{"$top 1000 and $skip", 1000, 3},
		{"$top 2501: a full page, then an empty one", 2501, 2},
		{"$top 10000", 10000, 1},
		{"no $top: nextLink", 0, 13},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tn.ResetCalls()
			req := alerts
			req.PageSize = tc.pageSize
			ids, stats, err := listAlerts(context.Background(), c, req)
			if err != nil {
				t.Fatal(err)
			}
			wantAllAlerts(t, tn, ids)
			if n := tn.Calls("/api/alerts"); n != tc.wantCalls || stats.Pages != tc.wantCalls || stats.Items != 2501 {
				t.Errorf("calls %d, stats %+v; want %d calls", n, stats, tc.wantCalls)
			}
		})
	}
	if m, h := c.BudgetUsage(defender.FamilyMDE); m != 3+2+1+13 || h != 3+2+1+13 {
		t.Errorf("budget usage = %d/min, %d/h; want 19", m, h)
	}
}

// The documented maximum page: 25,001 alerts cost 3 calls of $top=10000.
// (Slow under -race: encoding/json is heavily instrumented.)
func TestFakePagingMaxPage(t *testing.T) {
	if testing.Short() {
		t.Skip("25,001 alerts")
	}
	tn := newTenant(t, defendertest.Options{Seed: 7, Size: defendertest.Size{Alerts: 25001}})
	app := tn.NewApp()
	c, _, _ := clientFor(t, tn, defender.Credential{ClientID: app.ClientID, ClientSecret: app.Secret}, nil)
	n := 0
	stats, err := defender.List(context.Background(), c, alerts, func(*defender.Alert) error { n++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if calls := tn.Calls("/api/alerts"); calls != 3 || stats.Pages != 3 || n != 25001 {
		t.Errorf("calls %d, stats %+v, entities %d; want 3 calls, 25001 entities", calls, stats, n)
	}
}

func TestFakeFaults(t *testing.T) {
	tn := newTenant(t, defendertest.Options{Seed: 6, Size: defendertest.Size{Machines: 10, Alerts: 40}, DefaultPageSize: 10})
	app := tn.NewApp()
	cred := defender.Credential{ClientID: app.ClientID, ClientSecret: app.Secret}
	nextLinks := alerts
	nextLinks.PageSize = 0

	t.Run("429 with Retry-After", func(t *testing.T) {
		tn.ClearFaults()
		tn.SetFault("/api/alerts", defendertest.Fault{Status: 429, RetryAfter: "3", Times: 2})
		c, rec, reg := clientFor(t, tn, cred, nil)
		ids, _, err := listAlerts(context.Background(), c, alerts)
		if err != nil {
			t.Fatal(err)
		}
		wantAllAlerts(t, tn, ids)
		if w := rec.Waits(); len(w) != 2 || w[0] != 3*time.Second || w[1] != 3*time.Second {
			t.Errorf("waits = %v, want [3s 3s]", w)
		}
		if v := value(t, reg, "defender_api_throttled_total", map[string]string{"tenant": "fake", "api": "mde"}); v != 2 {
			t.Errorf("throttled = %v", v)
		}
	})
	t.Run("5xx then success", func(t *testing.T) {
		tn.ClearFaults()
		tn.ResetCalls()
		tn.SetFault("/api/alerts", defendertest.Fault{Status: 503, Times: 2})
		c, rec, _ := clientFor(t, tn, cred, nil)
		if _, _, err := listAlerts(context.Background(), c, alerts); err != nil {
			t.Fatal(err)
		}
		if n := tn.Calls("/api/alerts"); n != 3 || len(rec.Waits()) != 2 {
			t.Errorf("calls %d, waits %v", n, rec.Waits())
		}
	})
	t.Run("connection reset", func(t *testing.T) {
		tn.ClearFaults()
		tn.SetFault("/api/alerts", defendertest.Fault{ResetConnection: true, Times: 1})
		c, rec, _ := clientFor(t, tn, cred, nil)
		ids, _, err := listAlerts(context.Background(), c, alerts)
		if err != nil {
			t.Fatal(err)
		}
		wantAllAlerts(t, tn, ids)
		if len(rec.Waits()) > 1 {
			t.Errorf("waits = %v", rec.Waits())
		}
	})
	t.Run("foreign nextLink", func(t *testing.T) {
		tn.ClearFaults()
		tn.SetFault("/api/alerts", defendertest.Fault{NextLinkOtherHost: true})
		c, _, _ := clientFor(t, tn, cred, nil)
		_, _, err := listAlerts(context.Background(), c, nextLinks)
		if !errors.Is(err, defender.ErrForeignNextLink) {
			t.Fatalf("err = %v", err)
		}
		if tn.OtherHostSawToken() || tn.Calls("otherhost") != 0 {
			t.Error("the other host was called")
		}
	})
	t.Run("nextLink loop", func(t *testing.T) {
		tn.ClearFaults()
		tn.SetFault("/api/alerts", defendertest.Fault{NextLinkLoop: true})
		c, _, _ := clientFor(t, tn, cred, nil)
		if _, _, err := listAlerts(context.Background(), c, nextLinks); !errors.Is(err, defender.ErrNextLinkLoop) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("truncated", func(t *testing.T) {
		tn.ClearFaults()
		tn.SetFault("/api/alerts", defendertest.Fault{Truncated: true})
		c, _, _ := clientFor(t, tn, cred, nil)
		_, _, err := listAlerts(context.Background(), c, alerts)
		if err == nil || !strings.Contains(err.Error(), "/api/alerts page 1") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("malformed", func(t *testing.T) {
		tn.ClearFaults()
		tn.SetFault("/api/alerts", defendertest.Fault{Malformed: true})
		c, _, _ := clientFor(t, tn, cred, nil)
		_, _, err := listAlerts(context.Background(), c, alerts)
		if err == nil || !strings.Contains(err.Error(), "/api/alerts page 1") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("huge page", func(t *testing.T) {
		tn.ClearFaults()
		tn.SetFault("/api/alerts", defendertest.Fault{HugePage: 1 << 20})
		c, _, _ := clientFor(t, tn, cred, func(o *defender.Options) { o.MaxResponseBytes = 512 << 10 })
		if _, _, err := listAlerts(context.Background(), c, alerts); !errors.Is(err, defender.ErrResponseTooLarge) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("HTML content type", func(t *testing.T) {
		tn.ClearFaults()
		tn.SetFault("/api/alerts", defendertest.Fault{ContentType: "text/html"})
		c, _, _ := clientFor(t, tn, cred, nil)
		if _, _, err := listAlerts(context.Background(), c, alerts); !errors.Is(err, defender.ErrUnexpectedContentType) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("expired tokens renewed once", func(t *testing.T) {
		tn.ClearFaults()
		c, _, _ := clientFor(t, tn, cred, nil)
		if err := c.Token(context.Background(), defender.APIMDE); err != nil {
			t.Fatal(err)
		}
		tn.ExpireTokens()
		tn.ResetCalls()
		ids, _, err := listAlerts(context.Background(), c, alerts)
		if err != nil {
			t.Fatal(err)
		}
		wantAllAlerts(t, tn, ids)
		if tn.Calls("token") != 1 || tn.Calls("/api/alerts") != 2 {
			t.Errorf("token calls %d, API calls %d; want 1 and 2", tn.Calls("token"), tn.Calls("/api/alerts"))
		}
	})
	t.Run("revoked app", func(t *testing.T) {
		tn.ClearFaults()
		gone := tn.NewApp()
		c, _, _ := clientFor(t, tn, defender.Credential{ClientID: gone.ClientID, ClientSecret: gone.Secret}, nil)
		tn.RevokeApp(gone.ClientID)
		err := c.Token(context.Background(), defender.APIMDE)
		var ae *defender.AuthError
		if !errors.As(err, &ae) || ae.Code != "invalid_client" || strings.Contains(err.Error(), gone.Secret) {
			t.Fatalf("err = %v", err)
		}
		t.Logf("revoked: %v", err)
	})
	t.Run("machines 404 is empty", func(t *testing.T) {
		tn.ClearFaults()
		c, _, _ := clientFor(t, tn, cred, nil)
		req := defender.Request{
			API: defender.APIMDE, Family: defender.FamilyMDE, Path: "/api/machines", PageSize: 10000, NotFoundIsEmpty: true,
			Query: map[string][]string{"$filter": {"healthStatus eq 'NoSuchStatus'"}},
		}
		stats, err := defender.List(context.Background(), c, req, func(*defender.Machine) error { return nil })
		if err != nil || stats.Items != 0 {
			t.Fatalf("stats %+v, err %v", stats, err)
		}
	})
}

// One client serves concurrent refreshes of several collectors.
func TestFakeConcurrentListings(t *testing.T) {
	tn := newTenant(t, defendertest.Options{Seed: 8, Size: defendertest.Size{Machines: 300, Alerts: 300}, DefaultPageSize: 50})
	app := tn.NewApp()
	c, _, _ := clientFor(t, tn, defender.Credential{ClientID: app.ClientID, ClientSecret: app.Secret}, nil)
	machines := defender.Request{API: defender.APIMDE, Family: defender.FamilyMDE, Path: "/api/machines", PageSize: 100, NotFoundIsEmpty: true}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 4; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			ids, _, err := listAlerts(context.Background(), c, defender.Request{API: defender.APIMDE, Family: defender.FamilyMDE, Path: "/api/alerts"})
			if err == nil && len(ids) != 300 {
				err = errors.New("alerts missing")
			}
			errs <- err
		}()
		go func() {
			defer wg.Done()
			n := 0
			_, err := defender.List(context.Background(), c, machines, func(*defender.Machine) error { n++; return nil })
			if err == nil && n != 300 {
				err = errors.New("machines missing")
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := tn.Calls("token"); n != 1 {
		t.Errorf("token calls = %d, want 1", n)
	}
}
