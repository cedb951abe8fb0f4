package defendertest

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Defender for Identity sensors run on domain controllers and on the AD FS,
// AD CS and Entra Connect servers; the fake has one per 150 machines (at
// least two, at most 40), none for a tenant without machines. The enum
// spellings are Graph's; the weights are plausible, not measured.
var (
	sensorTypes = newWeighted[string]("domainControllerIntegrated", 70, "domainControllerStandalone", 5,
		"adfsIntegrated", 8, "adcsIntegrated", 8, "adConnectIntegrated", 9)
	sensorDeployment = newWeighted[string]("upToDate", 80, "outdated", 6, "updating", 3, "updateFailed", 2,
		"notConfigured", 3, "disconnected", 3, "syncing", 2, "startFailure", 1)
	healthIssueStatuses = newWeighted[string]("open", 30, "closed", 60, "suppressed", 10)
	identityDomains     = []string{"corp.contoso.com", "ad.fabrikam.com", "na.woodgrovebank.com", "emea.adatum.com"}
	sensorHostPrefix    = map[string]string{
		"domainControllerIntegrated": "DC", "domainControllerStandalone": "DC",
		"adfsIntegrated": "ADFS", "adcsIntegrated": "ADCS", "adConnectIntegrated": "AADC",
	}
)

// healthIssueKind is a kind of health issue; each has a fixed severity,
// as Defender for Identity's do. The identifiers are the fake's own.
type healthIssueKind struct {
	id, name, severity string
	global             bool
}

var healthIssueKinds = []healthIssueKind{
	{"1001", "Sensor stopped communicating", "high", false},
	{"1004", "Some domain controllers are unreachable by a sensor", "medium", false},
	{"1008", "Low success rate of active name resolution", "low", false},
	{"1011", "Windows events missing from domain controller event log", "medium", false},
	{"1014", "Power mode is not configured for optimal processor performance", "low", false},
	{"1017", "NTLM Auditing is not enabled", "medium", false},
	{"1020", "Sensor reached a memory resource limit", "low", false},
	{"1023", "Sensor service failed to start", "high", false},
	{"1031", "Directory Services Object Auditing is not configured as required", "medium", true},
	{"1034", "Directory services user credentials are incorrect", "high", true},
	{"1037", "Read-only user password to expire shortly", "medium", true},
}

// generateIdentity builds the sensors and their health issues: up to three
// per sensor, a few global ones, most of them closed. The sensors' health
// follows from the open issues (syncSensorHealth).
func generateIdentity(d *Dataset, r *rand.Rand) ([]HealthIssue, []Sensor) {
	if len(d.Machines) == 0 {
		return nil, nil
	}
	domain := identityDomains[uint64(d.Seed)%uint64(len(identityDomains))]
	n := min(max(len(d.Machines)/150, 2), 40)
	sensors := make([]Sensor, n)
	seq := map[string]int{}
	for i := range sensors {
		typ := sensorTypes.pick(r)
		prefix := sensorHostPrefix[typ]
		seq[prefix]++
		host := fmt.Sprintf("%s%02d", prefix, seq[prefix])
		sensors[i] = Sensor{
			ID: formatGUID(r.Uint64(), r.Uint64()), DisplayName: host, SensorType: typ,
			Version:          fmt.Sprintf("2.%d.%d.%d", 230+r.IntN(20), 17000+r.IntN(2000), 50000+r.IntN(9000)),
			DeploymentStatus: sensorDeployment.pick(r),
			CreatedDateTime:  TimeOf(d.Now.Add(-between(r, 30*24*time.Hour, 900*24*time.Hour)).Truncate(time.Second)),
			DomainName:       domain, DNSName: host + "." + domain,
		}
	}
	var issues []HealthIssue
	add := func(k healthIssueKind, sensorDNS []string) {
		created := d.Now.Add(-between(r, time.Hour, 60*24*time.Hour))
		h := HealthIssue{
			ID: formatGUID(r.Uint64(), r.Uint64()), DisplayName: k.name, IssueTypeID: k.id,
			Severity: k.severity, Status: healthIssueStatuses.pick(r),
			CreatedDateTime:      TimeOf(created),
			LastModifiedDateTime: TimeOf(created.Add(between(r, 0, d.Now.Sub(created)))),
			DomainNames:          []string{domain}, SensorDNSNames: sensorDNS,
			AdditionalInformation: []string{}, RecommendedActionCommands: []string{},
			Recommendations: []string{"Follow the guidance for this health issue in the Defender for Identity documentation."},
		}
		h.HealthIssueType, h.Description = "sensor", k.name+" on "+sensorDNS[0]
		if k.global {
			h.HealthIssueType, h.Description = "global", k.name+" on "+domain
		}
		if h.Severity == "high" && h.Status == "open" {
			// Closed since: the demo is quiet, and an open High issue
			// would fire DefenderIdentityHealthIssueHigh as long as it
			// runs (driftIdentity never reopens one either).
			h.Status = "closed"
		}
		issues = append(issues, h)
	}
	var sensorKinds, globalKinds []healthIssueKind
	for _, k := range healthIssueKinds {
		if k.global {
			globalKinds = append(globalKinds, k)
		} else {
			sensorKinds = append(sensorKinds, k)
		}
	}
	for i := range sensors {
		for range r.IntN(4) {
			add(sensorKinds[r.IntN(len(sensorKinds))], []string{sensors[i].DNSName})
		}
	}
	for range 2 + r.IntN(4) {
		dns := make([]string, 0, 2)
		for range 1 + r.IntN(2) {
			dns = append(dns, sensors[r.IntN(n)].DNSName)
		}
		add(globalKinds[r.IntN(len(globalKinds))], dns)
	}
	syncSensorHealth(sensors, issues)
	return issues, sensors
}

// syncSensorHealth sets each sensor's healthStatus from the most severe
// open sensor issue that names it, and counts those issues.
func syncSensorHealth(sensors []Sensor, issues []HealthIssue) {
	rank := map[string]int{"low": 1, "medium": 2, "high": 3}
	status := []string{"healthy", "notHealthyLow", "notHealthyMedium", "notHealthyHigh"}
	for i := range sensors {
		s := &sensors[i]
		worst, open := 0, int64(0)
		for j := range issues {
			h := &issues[j]
			if h.Status != "open" || h.HealthIssueType != "sensor" {
				continue
			}
			for _, dns := range h.SensorDNSNames {
				if dns == s.DNSName {
					worst, open = max(worst, rank[h.Severity]), open+1
					break
				}
			}
		}
		s.HealthStatus, s.OpenHealthIssuesCount = status[worst], open
	}
}

// driftIdentity now and then opens or closes a health issue (about one a
// minute at the default 5 s period), and the sensors' health follows. A
// High issue closes but is not reopened, so that a demo left running does
// not keep DefenderIdentityHealthIssueHigh firing. The caller holds the
// write lock.
func (d *Dataset) driftIdentity(r *rand.Rand, now time.Time) {
	if len(d.IdentityHealthIssues) == 0 || r.IntN(12) != 0 {
		return
	}
	h := &d.IdentityHealthIssues[r.IntN(len(d.IdentityHealthIssues))]
	switch h.Status {
	case "open":
		h.Status = "closed"
	case "closed":
		if h.Severity == "high" {
			return
		}
		h.Status = "open"
	default:
		return // suppressed stays so until someone lifts it
	}
	h.LastModifiedDateTime = TimeOf(now)
	syncSensorHealth(d.IdentitySensors, d.IdentityHealthIssues)
}
