package collector

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/defender-exporter/defender_exporter/config"
	"github.com/defender-exporter/defender_exporter/defender"
)

// Defender for Identity sensor health is off by default, because it needs
// that product; it refreshes every 15m, as machines do, since a sensor can
// fail at any time and costs two calls to look at.
func init() {
	register(Spec{
		Config: config.CollectorSpec{
			Name: "identity", Order: 120,
			Default: config.Collector{Enabled: false, Interval: 15 * time.Minute},
		},
		New:   newIdentityCollector,
		Calls: map[string]map[defender.Family]int{"": {defender.FamilyGraph: 2}}, // health issues, sensors
	})
}

// Microsoft Graph's Defender for Identity lists
// (https://learn.microsoft.com/graph/api/security-identitycontainer-list-healthissues,
// .../security-identitycontainer-list-sensors).
const (
	identityHealthIssuesPath = "/v1.0/security/identities/healthIssues" // SecurityIdentitiesHealth.Read.All
	identitySensorsPath      = "/v1.0/security/identities/sensors"      // SecurityIdentitiesSensors.Read.All
)

var (
	identityHealthIssuesDesc = newDesc("identity_health_issues",
		"Microsoft Defender for Identity health issues, by severity, status and type (healthIssueType: Sensor or Global).",
		"severity", "status", "type")
	identitySensorsDesc = newDesc("identity_sensors",
		"Microsoft Defender for Identity sensors, by health status, deployment status and sensor type.",
		"health_status", "deployment_status", "sensor_type")
)

type identityCollector struct{}

func newIdentityCollector(config.Collector) (Collector, error) { return identityCollector{}, nil }

// Refresh costs one call per page of each list, two for most tenants (a
// sensor per domain controller, AD FS, AD CS or Entra Connect server, and
// tens of health issues). No $top is sent: Graph documents no largest page
// for these lists, a $top above the service's limit is a 400 that would
// fail every refresh, and its default page holds such lists whole; every
// @odata.nextLink is followed.
func (identityCollector) Refresh(ctx context.Context, t *Target) ([]prometheus.Metric, error) {
	issues := newCounter(identityHealthIssuesDesc)
	_, err := defender.List(ctx, t.Client, defender.Request{
		API: defender.APIGraph, Family: defender.FamilyGraph,
		Endpoint: identityHealthIssuesPath, Path: identityHealthIssuesPath,
	}, func(h *defender.IdentityHealthIssue) error {
		issues.inc(graphLabel(h.Severity), graphLabel(h.Status), graphLabel(h.HealthIssueType))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing Defender for Identity health issues: %w%s", err, identityHint(err))
	}
	sensors := newCounter(identitySensorsDesc)
	_, err = defender.List(ctx, t.Client, defender.Request{
		API: defender.APIGraph, Family: defender.FamilyGraph,
		Endpoint: identitySensorsPath, Path: identitySensorsPath,
	}, func(s *defender.IdentitySensor) error {
		sensors.inc(graphLabel(s.HealthStatus), graphLabel(s.DeploymentStatus), graphLabel(s.SensorType))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing Defender for Identity sensors: %w%s", err, identityHint(err))
	}
	return sensors.emit(issues.emit(nil, t.Tenant), t.Tenant), nil
}

// identityHint says what a 404 most likely means: the tenant has no
// Defender for Identity workspace, and the collector, off by default, was
// turned on for it.
func identityHint(err error) string {
	if defender.IsStatus(err, http.StatusNotFound) {
		return " (is Defender for Identity set up for this tenant? If not, set collectors.identity.enabled: false)"
	}
	return ""
}
