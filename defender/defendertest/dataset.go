package defendertest

import (
	"math/rand/v2"
	"sync"
	"time"
)

// Size says how many entities Generate makes. The AV health rows (one per
// onboarded machine) and the exposure scores (per device group) follow from
// Machines; every other entity type has its own knob.
type Size struct {
	Machines int
	Alerts   int
	// Vulnerabilities is the size of the TVM CVE catalogue; most CVEs
	// expose no machine, as in a real tenant.
	Vulnerabilities int
	Recommendations int
	MachineActions  int
	Incidents       int
	Indicators      int
	Investigations  int
}

// DefaultSize is a tenant of a few hundred devices, for the demo.
var DefaultSize = Size{Machines: 250, Alerts: 1500, Vulnerabilities: 3000, Recommendations: 180,
	MachineActions: 400, Incidents: 300, Indicators: 120, Investigations: 250}

// DeviceGroup is a Defender device group (rbacGroupId / rbacGroupName).
type DeviceGroup struct {
	ID   int64
	Name string
}

// Dataset is what the fake tenant serves. Read its fields directly to compute
// expected values; they only change through Drift and InjectAlerts, so a test
// with Drift off that reads between its own requests needs no locking. Code
// racing with drift uses View.
type Dataset struct {
	mu sync.RWMutex

	Seed     int64
	Now      time.Time // the anchor the timestamps were generated from
	TenantID string
	Groups   []DeviceGroup
	Machines []Machine
	// Alerts are ordered by alertCreationTime, oldest first, and served in
	// that order.
	Alerts []Alert

	// The posture data (generate_*.go of each API). Entities are served in
	// slice order: oldest first, except incidents, newest first as XDR does.
	ExposureScore       Score
	GroupExposureScores []GroupScore // one per device group with machines
	ConfigurationScore  Score
	Vulnerabilities     []Vulnerability
	Recommendations     []Recommendation
	AVInfo              []DeviceAVInfo // one per onboarded machine
	MachineActions      []MachineAction
	Incidents           []Incident
	Indicators          []Indicator
	Investigations      []Investigation

	// The Graph-only data (generate_graph_security.go): Secure Score
	// snapshots, newest first, and Defender for Identity.
	SecureScores         []SecureScore
	IdentityHealthIssues []HealthIssue
	IdentitySensors      []Sensor

	// rng continues the seed's stream for drift and injected alerts.
	rng          *rand.Rand
	postureRNG   *rand.Rand // drift of the posture data, apart from rng
	graphRNG     *rand.Rand // drift of the Graph-only data
	nextIncident int64
	lastIncident int64
	nextInvestig int64
}

// View runs fn with the dataset locked against drift and InjectAlerts.
func (d *Dataset) View(fn func(d *Dataset)) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	fn(d)
}

// Generate builds a deterministic dataset: the same seed, size and now give
// byte-identical JSON. Machines and alerts come from separate streams of the
// seed, so changing one count does not reshuffle the other entity type.
func Generate(seed int64, size Size, now time.Time) *Dataset {
	d := &Dataset{
		Seed:         seed,
		Now:          now.UTC(),
		TenantID:     tenantIDForSeed(seed),
		Groups:       deviceGroups,
		nextIncident: 1000 + int64(uint64(seed)%5000),
		nextInvestig: 100 + int64(uint64(seed)%900),
	}
	d.Machines = generateMachines(rand.New(rand.NewPCG(uint64(seed), streamMachines)), size.Machines, d.Now)
	d.Alerts = generateAlerts(d, rand.New(rand.NewPCG(uint64(seed), streamAlerts)), size.Alerts)
	generatePosture(d, seed, size)
	generateGraphSecurity(d, seed)
	d.rng = rand.New(rand.NewPCG(uint64(seed), streamDrift))
	d.postureRNG = rand.New(rand.NewPCG(uint64(seed), streamPostureDrift))
	return d
}

// Independent PCG streams of one seed.
const (
	streamIDs      = 0x7e4a47
	streamMachines = 0x6d6163
	streamAlerts   = 0x616c72
	streamDrift    = 0x647269
	// The posture entity types (generatePosture).
	streamScores          = 0x73636f
	streamVulnerabilities = 0x76756c
	streamRecommendations = 0x726563
	streamAVInfo          = 0x617669
	streamMachineActions  = 0x616374
	streamIncidents       = 0x696e63
	streamIndicators      = 0x696e64
	streamInvestigations  = 0x696e76
	streamPostureDrift    = 0x706472
)

// tenantIDForSeed is the tenant GUID of a seed; New and Generate agree on it
// so alerts carry the serving tenant's aadTenantId.
func tenantIDForSeed(seed int64) string {
	r := rand.New(rand.NewPCG(uint64(seed), streamIDs))
	return formatGUID(r.Uint64(), r.Uint64())
}

// weighted picks one of values with the given relative weights.
type weighted[T any] struct {
	values  []T
	cumul   []int
	weights int
}

func newWeighted[T any](pairs ...any) weighted[T] {
	var w weighted[T]
	for i := 0; i+1 < len(pairs); i += 2 {
		w.values = append(w.values, pairs[i].(T))
		w.weights += pairs[i+1].(int)
		w.cumul = append(w.cumul, w.weights)
	}
	return w
}

func (w weighted[T]) pick(r *rand.Rand) T {
	n := r.IntN(w.weights)
	for i, c := range w.cumul {
		if n < c {
			return w.values[i]
		}
	}
	return w.values[len(w.values)-1]
}

// between returns a uniformly random duration in [lo, hi).
func between(r *rand.Rand, lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(r.Int64N(int64(hi-lo)))
}
