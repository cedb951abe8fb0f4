package defendertest

import (
	"hash/fnv"
	"strconv"
	"strings"
	"time"
)

// The Defender Vulnerability Management tables, built from the same
// dataset entries as the MDE APIs so that a query over them and the API
// listing agree: a CVE the catalogue says exposes N machines has N devices
// in DeviceTvmSoftwareVulnerabilities; a configuration recommendation
// applicable to T machines of which E are exposed has T assessments, E of
// them not compliant; every row of the antivirus health export is the
// latest DeviceTvmInfoGathering report of its device. Column names and
// types follow the Microsoft Learn schema pages (advanced-hunting-devicetvm*-table).

// devicePool lists the machines (indexes into d.Machines) TVM data is drawn
// from: the onboarded ones, or all when a count asks for more, which only
// generated counts on a tiny tenant do.
func devicePool(d *Dataset) []int {
	pool := make([]int, 0, len(d.Machines))
	for i := range d.Machines {
		if onboarded(&d.Machines[i]) {
			pool = append(pool, i)
		}
	}
	return pool
}

// spread calls fn with k distinct machines (indexes into d.Machines),
// chosen for the entity id: a
// start and a stride coprime with the pool's size walk the pool without
// repeating, so the choice is the same on every query and costs no memory.
// fn returning false stops the walk.
func spread(d *Dataset, pool []int, id string, k int64, fn func(i int, j int64) bool) bool {
	if k > int64(len(pool)) {
		pool = make([]int, len(d.Machines))
		for i := range pool {
			pool[i] = i
		}
	}
	n := int64(len(pool))
	if k <= 0 || n == 0 {
		return true
	}
	k = min(k, n)
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	x := h.Sum64() ^ uint64(d.Seed)
	start := int64(x % uint64(n))
	stride := int64(1)
	if n > 1 {
		stride = 1 + int64((x>>32)%uint64(n-1))
		for gcd(stride, n) != 1 {
			stride = stride%(n-1) + 1
		}
	}
	for j := int64(0); j < k; j++ {
		if !fn(pool[(start+j*stride)%n], j) {
			return false
		}
	}
	return true
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// cveSoftware is the product a CVE of the catalogue is in (cveProducts,
// by index): vendor and name in TVM's lower-case spelling, or os for the
// operating system itself, named after the device.
var cveSoftware = []struct {
	vendor, name, version string
	os                    bool
}{
	{os: true}, // Windows Kernel
	{os: true}, // Windows SMB Server
	{"microsoft", "office", "16.0.17928.20114", false},
	{"microsoft", "edge_chromium-based", "130.0.2849.80", false},
	{"google", "chrome", "130.0.6723.117", false},
	{"mozilla", "firefox", "131.0.3", false},
	{"openssl", "openssl", "3.0.2", false},
	{"oracle", "jre", "8.0.4110", false},
	{"adobe", "acrobat_reader_dc", "24.002.20857", false},
	{"7-zip", "7-zip", "23.1.0.0", false},
	{"zoom", "zoom", "5.17.11", false},
	{os: true}, // Windows Print Spooler
	{os: true}, // Linux kernel
	{"openbsd", "openssh", "8.9p1", false},
	{"haxx", "curl", "8.4.0", false},
	{os: true}, // Apple macOS
	{os: true}, // Windows Hyper-V
	{"microsoft", ".net_framework", "4.8", false},
}

// osSoftware names a machine's operating system as TVM does.
func osSoftware(m *Machine) (vendor, name string) {
	switch {
	case m.OSPlatform == "macOS":
		return "apple", "macos"
	case isLinux(m.OSPlatform):
		return "linux", strings.ToLower(m.OSPlatform)
	case strings.HasPrefix(m.OSPlatform, "WindowsServer"):
		return "microsoft", "windows_server_" + strings.TrimPrefix(m.OSPlatform, "WindowsServer")
	}
	return "microsoft", "windows_" + strings.TrimPrefix(m.OSPlatform, "Windows")
}

var softwareVulnerabilitiesColumns = []kColumn{
	{"DeviceId", kString}, {"DeviceName", kString}, {"OSPlatform", kString}, {"OSVersion", kString},
	{"OSArchitecture", kString}, {"SoftwareVendor", kString}, {"SoftwareName", kString}, {"SoftwareVersion", kString},
	{"CveId", kString}, {"VulnerabilitySeverityLevel", kString}, {"RecommendedSecurityUpdate", kString},
	{"RecommendedSecurityUpdateId", kString},
}

// softwareVulnerabilitiesTable has, for every CVE of the catalogue, one row
// per exposed machine, and a second row (an older version of the same
// software still installed) on every seventh: counting a CVE's devices
// therefore needs distinct devices, as on a real tenant. The table has no
// Timestamp: it is the current state.
func softwareVulnerabilitiesTable(d *Dataset) *kTable {
	pool := devicePool(d)
	return streamed(softwareVulnerabilitiesColumns, func(yield func([]any) bool) {
		// A tenant's tens of millions of cells are a few thousand distinct
		// values: each is turned into an interface value once per query,
		// not once per cell.
		devices := make([][7]any, len(d.Machines))
		for i := range d.Machines {
			m := &d.Machines[i]
			vendor, name := osSoftware(m)
			devices[i] = [7]any{m.ID, m.ComputerDNSName, m.OSPlatform, m.Version, m.OSArchitecture, vendor, name}
		}
		row := make([]any, len(softwareVulnerabilitiesColumns))
		for i := range d.Vulnerabilities {
			v := &d.Vulnerabilities[i]
			sw := cveSoftware[v.product%len(cveSoftware)]
			var update, updateID any = "", ""
			if sw.os {
				update, updateID = "Cumulative security update", "KB50"+strconv.Itoa(40000+i%9000)
			}
			var vendor, name, version, older, id, severity any = sw.vendor, sw.name, sw.version, sw.version + ".old", v.ID, v.Severity
			ok := spread(d, pool, v.ID, v.ExposedMachines, func(m int, j int64) bool {
				dev := &devices[m]
				copy(row, dev[:5])
				row[5], row[6], row[7] = vendor, name, version
				if sw.os {
					row[5], row[6], row[7] = dev[5], dev[6], dev[3]
				}
				row[8], row[9], row[10], row[11] = id, severity, update, updateID
				if !yield(row) {
					return false
				}
				if j%7 == 3 && !sw.os {
					row[7] = older
					return yield(row)
				}
				return true
			})
			if !ok {
				return
			}
		}
	})
}

var softwareVulnerabilitiesKBColumns = []kColumn{
	{"CveId", kString}, {"CvssScore", kString}, {"IsExploitAvailable", kBool}, {"VulnerabilitySeverityLevel", kString},
	{"LastModifiedTime", kDatetime}, {"PublishedDate", kDatetime}, {"VulnerabilityDescription", kString},
}

// softwareVulnerabilitiesKBTable is the CVE catalogue: the list of
// vulnerabilities TVM assesses devices for, exposed or not.
func softwareVulnerabilitiesKBTable(d *Dataset) *kTable {
	return streamed(softwareVulnerabilitiesKBColumns, func(yield func([]any) bool) {
		for i := range d.Vulnerabilities {
			v := &d.Vulnerabilities[i]
			cvss := "" // CvssScore is a string column; unscored CVEs have none
			if v.HasCVSS {
				cvss = strconv.FormatFloat(v.CVSSV3, 'f', -1, 64)
			}
			if !yield([]any{v.ID, cvss, v.PublicExploit, v.Severity, v.UpdatedOn.Time(), v.PublishedOn.Time(), v.Description}) {
				return
			}
		}
	})
}

var configurationAssessmentColumns = []kColumn{
	{"DeviceId", kString}, {"DeviceName", kString}, {"OSPlatform", kString}, {"Timestamp", kDatetime},
	{"ConfigurationId", kString}, {"ConfigurationCategory", kString}, {"ConfigurationSubcategory", kString},
	{"ConfigurationImpact", kReal}, {"IsApplicable", kBool}, {"IsCompliant", kBool}, {"IsExpectedUserImpact", kBool},
}

// configurationCategories spells the API's recommendationCategory as the
// assessment table does ("Security controls", with a space).
var configurationCategories = map[string]string{"SecurityControls": "Security controls"}

// configurationAssessmentTable holds, for every configuration
// recommendation (scid-*), an assessment on each of its totalMachineCount
// machines, the first exposedMachinesCount of them not compliant; one in
// five of the compliant machines also has an older assessment that failed,
// so counting the exposed machines needs each device's latest assessment.
func configurationAssessmentTable(d *Dataset) *kTable {
	pool := devicePool(d)
	return streamed(configurationAssessmentColumns, func(yield func([]any) bool) {
		devices := make([][3]any, len(d.Machines)) // interface values made once per query
		for i := range d.Machines {
			m := &d.Machines[i]
			devices[i] = [3]any{m.ID, m.ComputerDNSName, m.OSPlatform}
		}
		var now, weekAgo, applicable, userImpact any = d.Now, d.Now.Add(-7 * 24 * time.Hour), true, false
		row := make([]any, len(configurationAssessmentColumns))
		for i := range d.Recommendations {
			x := &d.Recommendations[i]
			if !strings.HasPrefix(x.ID, "scid-") {
				continue
			}
			category := x.RecommendationCategory
			if c, ok := configurationCategories[category]; ok {
				category = c
			}
			var id, cat, sub, impact any = x.ID, category, x.SubCategory, x.ConfigScoreImpact
			ok := spread(d, pool, x.ID, x.TotalMachineCount, func(m int, j int64) bool {
				copy(row, devices[m][:])
				row[4], row[5], row[6], row[7] = id, cat, sub, impact
				row[8], row[10] = applicable, userImpact
				compliant := j >= x.ExposedMachinesCount
				if compliant && j%5 == 0 {
					// Fixed since: a week ago it failed.
					row[3], row[9] = weekAgo, false
					if !yield(row) {
						return false
					}
				}
				row[3], row[9] = now, compliant
				return yield(row)
			})
			if !ok {
				return
			}
		}
	})
}

var infoGatheringColumns = []kColumn{
	{"Timestamp", kDatetime}, {"LastSeenTime", kDatetime}, {"DeviceId", kString}, {"DeviceName", kString},
	{"OSPlatform", kString}, {"AdditionalFields", kDynamic},
}

// avFlag writes the export's "True"/"False" as the booleans
// AdditionalFields holds; anything else (Unknown, empty) is null there.
func avFlag(s string) any {
	switch s {
	case "True":
		return true
	case "False":
		return false
	}
	return nil
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// infoGatheringTable has two reports per row of the antivirus health
// export: the latest, matching it, and one a day older in which everything
// was up to date in active mode, so a count by antivirus state needs each
// device's latest report first.
func infoGatheringTable(d *Dataset) *kTable {
	return streamed(infoGatheringColumns, func(yield func([]any) bool) {
		for i := range d.AVInfo {
			x := &d.AVInfo[i]
			ts := x.DataRefreshTimestamp.Time()
			older := map[string]any{
				"AvMode": "0", "AvIsSignatureUptoDate": true, "AvIsEngineUptodate": true, "AvIsPlatformUptodate": true,
				"AvSignatureVersion": x.AVSignatureVersion, "AvEngineVersion": x.AVEngineVersion, "AvPlatformVersion": x.AVPlatformVersion,
			}
			latest := map[string]any{
				"AvMode":                nullIfEmpty(x.AVMode),
				"AvIsSignatureUptoDate": avFlag(x.AVIsSignatureUpToDate),
				"AvIsEngineUptodate":    avFlag(x.AVIsEngineUpToDate),
				"AvIsPlatformUptodate":  avFlag(x.AVIsPlatformUpToDate),
				"AvSignatureVersion":    nullIfEmpty(x.AVSignatureVersion),
				"AvEngineVersion":       nullIfEmpty(x.AVEngineVersion),
				"AvPlatformVersion":     nullIfEmpty(x.AVPlatformVersion),
				"AvSignatureUpdateTime": x.AVSignatureUpdateTime.Time().Format(time.RFC3339),
			}
			for _, r := range []struct {
				at     time.Time
				fields map[string]any
			}{{ts.Add(-24 * time.Hour), older}, {ts, latest}} {
				if !yield([]any{r.at, x.LastSeenTime.Time(), x.MachineID, x.ComputerDNSName, x.OSPlatform, r.fields}) {
					return
				}
			}
		}
	})
}
