package defendertest

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Distributions of a mid-sized enterprise fleet. The values are the API's
// enum spellings (https://learn.microsoft.com/defender-endpoint/api/machine); the weights are plausible, not measured.

var deviceGroups = []DeviceGroup{
	{ID: 3401, Name: "Workstations - HQ"},
	{ID: 3402, Name: "Workstations - Branch"},
	{ID: 3403, Name: "Servers - Production"},
	{ID: 3404, Name: "Servers - Test"},
	{ID: 3405, Name: "Domain Controllers"},
	{ID: 3406, Name: "Mac Users"},
	{ID: 3407, Name: "Linux Fleet"},
}

// platform is everything that follows from the operating system.
type platform struct {
	name     string // osPlatform
	prefix   string // host name prefix
	versions []string
	build    int64 // osBuild; 0 = null (non-Windows)
	agent    string
	groups   []int // indexes into deviceGroups
	server   bool
}

var platforms = newWeighted[*platform](
	&platform{"Windows10", "desktop", []string{"22H2", "22H2", "21H2", "1809"}, 19045, "10.8760.19041.4717", []int{0, 1}, false}, 28,
	&platform{"Windows11", "laptop", []string{"23H2", "24H2", "22H2"}, 22631, "10.8760.22621.4037", []int{0, 1}, false}, 32,
	&platform{"WindowsServer2016", "srv", []string{"1607"}, 14393, "10.8760.14393.7159", []int{2, 3, 4}, true}, 4,
	&platform{"WindowsServer2019", "srv", []string{"1809"}, 17763, "10.8760.17763.6189", []int{2, 3, 4}, true}, 10,
	&platform{"WindowsServer2022", "srv", []string{"21H2"}, 20348, "10.8760.20348.2655", []int{2, 3, 4}, true}, 10,
	&platform{"macOS", "macbook", []string{"14.6", "15.1", "13.6"}, 0, "101.24092.0004", []int{5}, false}, 7,
	&platform{"Linux", "lnx", []string{"22.04", "24.04", "9.4"}, 0, "101.24082.0004", []int{6, 2}, true}, 5,
	&platform{"Ubuntu", "ubuntu", []string{"22.04", "20.04"}, 0, "101.24082.0004", []int{6}, true}, 2,
	&platform{"RedHatEnterpriseLinux", "rhel", []string{"9.4", "8.10"}, 0, "101.24082.0004", []int{6, 2}, true}, 2,
)

var (
	healthStatuses = newWeighted[string](
		"Active", 82, "Inactive", 10, "ImpairedCommunication", 3, "NoSensorData", 2,
		"NoSensorDataImpairedCommunication", 1, "Unknown", 2)
	// The docs spell onboardingStatus "onboarded"; live answers say
	// "Onboarded". Both occur, so consumers must compare case-insensitively.
	onboardingStatuses = newWeighted[string](
		"Onboarded", 88, "onboarded", 3, "CanBeOnboarded", 5, "Unsupported", 2, "InsufficientInfo", 2)
	riskScores      = newWeighted[string]("None", 35, "Informational", 10, "Low", 25, "Medium", 20, "High", 10)
	exposureLevels  = newWeighted[string]("None", 5, "Low", 40, "Medium", 45, "High", 10)
	deviceValues    = newWeighted[string]("Normal", 85, "Low", 5, "High", 10)
	avStatuses      = newWeighted[string]("Updated", 80, "NotUpdated", 8, "Disabled", 3, "NotReporting", 4, "Unknown", 4, "NotSupported", 1)
	managedBy       = newWeighted[string]("Intune", 55, "MDE", 15, "ConfigMgr", 12, "Unknown", 18)
	exclusionReason = newWeighted[string]("InactiveDevice", 2, "DuplicateDevice", 1, "Other", 1)
	// Tag sets are shared slices, so a hundred thousand machines cost no
	// extra allocations for them.
	tagSets = newWeighted[[]string](
		[]string(nil), 60, []string{"Production"}, 12, []string{"VIP"}, 3, []string{"PCI", "Production"}, 4,
		[]string{"Finance"}, 6, []string{"Kiosk"}, 3, []string{"BYOD"}, 4, []string{"Legacy", "Production"}, 8)
)

func generateMachines(r *rand.Rand, n int, now time.Time) []Machine {
	machines := make([]Machine, n)
	for i := range machines {
		fillMachine(r, &machines[i], i, now)
	}
	return machines
}

func fillMachine(r *rand.Rand, m *Machine, i int, now time.Time) {
	p := platforms.pick(r)
	m.ID = fmt.Sprintf("%016x%016x%08x", r.Uint64(), r.Uint64(), r.Uint32())
	m.OSPlatform = p.name
	m.Version = p.versions[r.IntN(len(p.versions))]
	m.OSBuild = p.build
	m.OSProcessor = "x64"
	m.OSArchitecture = "64-bit"
	if p.name == "Windows10" && r.IntN(40) == 0 {
		m.OSProcessor, m.OSArchitecture = "x86", "32-bit"
	}
	m.ComputerDNSName = fmt.Sprintf("%s-%05d.corp.contoso.com", p.prefix, i+1)
	if !p.server && p.name != "macOS" && r.IntN(10) == 0 {
		m.ComputerDNSName = fmt.Sprintf("%s-%05d", p.prefix, i+1) // workgroup device, no domain suffix
	}

	m.OnboardingStatus = onboardingStatuses.pick(r)
	onboarded := m.OnboardingStatus == "Onboarded" || m.OnboardingStatus == "onboarded"
	m.HealthStatus = healthStatuses.pick(r)
	if !onboarded {
		m.HealthStatus = [...]string{"Inactive", "Unknown"}[r.IntN(2)]
	}

	// lastSeen follows health: active devices reported within a day, the
	// rest are stale by days to weeks, so 24 h / 7 d / 30 d cut-offs matter.
	var age time.Duration
	switch m.HealthStatus {
	case "Active":
		age = between(r, 5*time.Minute, 20*time.Hour)
	case "Inactive":
		age = between(r, 7*24*time.Hour, 60*24*time.Hour)
	default:
		age = between(r, 20*time.Hour, 12*24*time.Hour)
	}
	lastSeen := now.Add(-age)
	m.LastSeen = TimeOf(lastSeen)
	m.FirstSeen = TimeOf(lastSeen.Add(-between(r, 30*24*time.Hour, 900*24*time.Hour)))

	m.LastIPAddress = fmt.Sprintf("10.%d.%d.%d", 10+r.IntN(40), r.IntN(256), 1+r.IntN(254))
	m.LastExternalIPAddress = fmt.Sprintf("203.0.113.%d", 1+r.IntN(254))
	mac := fmt.Sprintf("00155D%06X", r.Uint32()&0xffffff)
	m.IPAddresses = []IPAddress{{IPAddress: m.LastIPAddress, MACAddress: mac, Type: "Ethernet", OperationalStatus: "Up"}}
	if r.IntN(3) == 0 {
		m.IPAddresses = append(m.IPAddresses, IPAddress{IPAddress: "fe80::" + fmt.Sprintf("%x:%x", r.Uint32()&0xffff, r.Uint32()&0xffff),
			MACAddress: mac, Type: "Ethernet", OperationalStatus: "Up"})
	}

	m.RiskScore = riskScores.pick(r)
	m.ExposureLevel = exposureLevels.pick(r)
	m.DeviceValue = deviceValues.pick(r)
	m.MachineTags = tagSets.pick(r)
	if r.IntN(100) < 85 {
		g := deviceGroups[p.groups[r.IntN(len(p.groups))]]
		m.RBACGroupID, m.RBACGroupName = g.ID, g.Name
	} // else ungrouped: rbacGroupId 0, rbacGroupName null

	if onboarded {
		m.AgentVersion = p.agent
		m.DefenderAVStatus = avStatuses.pick(r)
		m.ManagedBy = managedBy.pick(r)
	} else {
		m.OSBuild = 0
		m.DefenderAVStatus = "Unknown"
		m.RiskScore, m.ExposureLevel = "None", "None"
		m.ManagedBy = "Unknown"
	}
	m.ManagedByStatus = "Unknown"
	if m.ManagedBy != "Unknown" {
		m.ManagedByStatus = "Success"
	}
	if p.name != "macOS" && !isLinux(p.name) && r.IntN(10) < 7 {
		m.IsAADJoined = true
		m.AADDeviceID = formatGUID(r.Uint64(), r.Uint64())
	}
	if r.IntN(100) == 0 {
		m.IsExcluded = true
		m.ExclusionReason = exclusionReason.pick(r)
	}
	m.IsPotentialDuplication = r.IntN(50) == 0
}

func isLinux(osPlatform string) bool {
	switch osPlatform {
	case "Linux", "Ubuntu", "RedHatEnterpriseLinux":
		return true
	}
	return false
}
