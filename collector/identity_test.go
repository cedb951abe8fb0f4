package collector

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/defender-exporter/defender_exporter/defender"
	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

func identityCollectorFor(t *testing.T) Collector {
	t.Helper()
	cfg := collectorConfig(t, "identity")
	cfg.Enabled = true
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestIdentityGolden(t *testing.T) {
	_, target := fakeTenant(t, defendertest.Size{Machines: 900})
	compareGolden(t, refresh(t, identityCollectorFor(t), target), "identity")
}

// TestIdentityMatchData: the counts are the fake's entities by their
// normalised enums, and every entity is counted once.
func TestIdentityMatchData(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 3000})
	ms := refresh(t, identityCollectorFor(t), target)
	d := tenant.Data()
	issues := map[[3]string]float64{}
	for _, h := range d.IdentityHealthIssues {
		issues[[3]string{graphLabel(h.Severity), graphLabel(h.Status), graphLabel(h.HealthIssueType)}]++
	}
	for k, want := range issues {
		if got := valueOf(t, ms, "defender_identity_health_issues", `severity="`+k[0]+`"`, `status="`+k[1]+`"`, `type="`+k[2]+`"`); got != want {
			t.Errorf("health issues %v: %v, want %v", k, got, want)
		}
	}
	sensors := map[[3]string]float64{}
	for _, s := range d.IdentitySensors {
		sensors[[3]string{graphLabel(s.HealthStatus), graphLabel(s.DeploymentStatus), graphLabel(s.SensorType)}]++
	}
	for k, want := range sensors {
		if got := valueOf(t, ms, "defender_identity_sensors", `health_status="`+k[0]+`"`, `deployment_status="`+k[1]+`"`, `sensor_type="`+k[2]+`"`); got != want {
			t.Errorf("sensors %v: %v, want %v", k, got, want)
		}
	}
	if got, want := sumSeries(t, ms, "defender_identity_health_issues"), float64(len(d.IdentityHealthIssues)); got != want || want < 20 {
		t.Errorf("%v health issues counted, the fake has %v", got, want)
	}
	if got, want := sumSeries(t, ms, "defender_identity_sensors"), float64(len(d.IdentitySensors)); got != want || want < 10 {
		t.Errorf("%v sensors counted, the fake has %v", got, want)
	}
	// The fake's enums are Graph's camelCase; the labels are not.
	for _, l := range append(seriesOf(t, ms, "defender_identity_health_issues"), seriesOf(t, ms, "defender_identity_sensors")...) {
		for _, raw := range []string{`"high"`, `"open"`, `"sensor"`, `"global"`, `"healthy"`, `"upToDate"`, `"domainControllerIntegrated"`} {
			if strings.Contains(l, raw) {
				t.Errorf("label value %s not normalised: %s", raw, l)
			}
		}
	}
}

// TestIdentityPaging: no $top is sent and every nextLink is followed: a
// call per page of the server's, both lists complete.
func TestIdentityPaging(t *testing.T) {
	tenant, err := defendertest.New(defendertest.Options{Seed: 7, Size: defendertest.Size{Machines: 3000}, Now: fixedNow, DefaultPageSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tenant.Close)
	target := &Target{Tenant: "contoso", Client: newClient(t, tenant, nil), Now: fixedNow}
	var calls defender.CallCounter
	ms, err := identityCollectorFor(t).Refresh(defender.WithCallCounter(context.Background(), &calls), target)
	if err != nil {
		t.Fatal(err)
	}
	d := tenant.Data()
	pages := func(n int) int { return max(1, (n+6)/7) }
	for path, n := range map[string]int{
		defendertest.IdentityHealthIssuesPath: len(d.IdentityHealthIssues),
		defendertest.IdentitySensorsPath:      len(d.IdentitySensors),
	} {
		if got, want := tenant.Calls(path), pages(n); got != want || want < 3 {
			t.Errorf("%s: %d calls for %d entities in pages of 7, want %d", path, got, n, want)
		}
	}
	for _, l := range calls.Listings() {
		if l.PageSize != 0 {
			t.Errorf("%s: asked for pages of %d; Graph documents no largest $top here", l.Endpoint, l.PageSize)
		}
	}
	if got := sumSeries(t, metricSet(ms), "defender_identity_sensors"); got != float64(len(d.IdentitySensors)) {
		t.Errorf("%v sensors over pages, want %d", got, len(d.IdentitySensors))
	}
}

// TestIdentityMicrosoftExample runs the documented example answers
// (https://learn.microsoft.com/graph/api/security-identitycontainer-list-healthissues
// and .../security-identitycontainer-list-sensors, saved in testdata)
// through the collector. The health issue's type is "Global" there, though
// the enum member is "global": both give the label Global.
func TestIdentityMicrosoftExample(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 10})
	tenant.SetFault(defendertest.IdentityHealthIssuesPath, defendertest.Fault{Body: readTestdata(t, "msgraph-list-healthissues.json")})
	tenant.SetFault(defendertest.IdentitySensorsPath, defendertest.Fault{Body: readTestdata(t, "msgraph-list-sensors.json")})
	ms := refresh(t, identityCollectorFor(t), target)
	want := `defender_identity_health_issues{severity="Medium",status="Open",tenant="contoso",type="Global"} 1` + "\n" +
		`defender_identity_sensors{deployment_status="UpToDate",health_status="Healthy",sensor_type="DomainControllerIntegrated",tenant="contoso"} 1`
	got := strings.Join(append(seriesOf(t, ms, "defender_identity_health_issues"), seriesOf(t, ms, "defender_identity_sensors")...), "\n")
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestIdentityNullEnums: null or absent enums give "", an unknown member
// passes through with its first letter upper-cased.
func TestIdentityNullEnums(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 10})
	tenant.SetFault(defendertest.IdentityHealthIssuesPath, defendertest.Fault{Body: `{"value":[{"severity":null,"status":"open"},{"status":"open","healthIssueType":"someNewKind"}]}`})
	tenant.SetFault(defendertest.IdentitySensorsPath, defendertest.Fault{Body: `{"value":[]}`})
	ms := refresh(t, identityCollectorFor(t), target)
	if got := valueOf(t, ms, "defender_identity_health_issues", `severity=""`, `type=""`); got != 1 {
		t.Errorf("null severity and type: %v", got)
	}
	if got := valueOf(t, ms, "defender_identity_health_issues", `type="SomeNewKind"`); got != 1 {
		t.Errorf("unknown type: %v", got)
	}
	if n := len(seriesOf(t, ms, "defender_identity_sensors")); n != 0 {
		t.Errorf("%d sensor series for no sensor", n)
	}
}

func TestIdentityFailure(t *testing.T) {
	tenant, target := fakeTenant(t, defendertest.Size{Machines: 300})
	c := identityCollectorFor(t)

	// Each list has its own permission; either missing fails the refresh.
	ms, err := c.Refresh(context.Background(), targetWithRoles(t, tenant, "SecurityIdentitiesSensors.Read.All"))
	if !defender.IsStatus(err, 403) || !strings.HasPrefix(err.Error(), "listing Defender for Identity health issues: ") || ms != nil {
		t.Fatalf("without SecurityIdentitiesHealth.Read.All: %v", err)
	}
	_, err = c.Refresh(context.Background(), targetWithRoles(t, tenant, "SecurityIdentitiesHealth.Read.All"))
	if !defender.IsStatus(err, 403) || !strings.HasPrefix(err.Error(), "listing Defender for Identity sensors: ") {
		t.Fatalf("without SecurityIdentitiesSensors.Read.All: %v", err)
	}

	// No Defender for Identity workspace: the error says what to check.
	tenant.SetFault(defendertest.IdentitySensorsPath, defendertest.Fault{Status: 404, Times: 1})
	if _, err := c.Refresh(context.Background(), target); !defender.IsStatus(err, 404) || !strings.Contains(err.Error(), "collectors.identity.enabled: false") {
		t.Fatalf("404: %v", err)
	}
	tenant.SetFault(defendertest.IdentityHealthIssuesPath, defendertest.Fault{NextLinkLoop: true, Times: 1})
	if _, err := c.Refresh(context.Background(), target); !errors.Is(err, defender.ErrNextLinkLoop) {
		t.Fatalf("nextLink loop: %v", err)
	}
	tenant.SetFault(defendertest.IdentitySensorsPath, defendertest.Fault{NextLinkOtherHost: true, Times: 1})
	if _, err := c.Refresh(context.Background(), target); !errors.Is(err, defender.ErrForeignNextLink) || tenant.OtherHostSawToken() {
		t.Fatalf("nextLink to another host: %v (token sent: %v)", err, tenant.OtherHostSawToken())
	}
	tenant.SetFault(defendertest.IdentitySensorsPath, defendertest.Fault{Truncated: true, Times: 1})
	if _, err := c.Refresh(context.Background(), target); err == nil {
		t.Fatal("a truncated page was accepted")
	}
	refresh(t, c, target) // and it recovers
}

func TestGraphEnumLabel(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "high": "High", "High": "High", "notHealthyLow": "NotHealthyLow",
		"unknownFutureValue": "UnknownFutureValue", "upToDate": "UpToDate", "1031": "1031", "élevé": "Élevé",
	} {
		if got := graphLabel(in); got != want {
			t.Errorf("graphLabel(%q) = %q, want %q", in, got, want)
		}
	}
}
