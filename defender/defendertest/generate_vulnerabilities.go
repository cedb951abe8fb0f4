package defendertest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

var (
	cveSeverities = newWeighted[string]("Low", 8, "Medium", 40, "High", 40, "Critical", 12)
	// cvssRange is the CVSS v3 band of each severity.
	cvssRange = map[string][2]float64{"Low": {2.0, 3.9}, "Medium": {4.0, 6.9}, "High": {7.0, 8.9}, "Critical": {9.0, 10.0}}
	// The example answer spells supportability in lower case; both occur.
	cveSupportabilities = newWeighted[string]("Supported", 82, "supported", 6, "Not Supported", 6, "SupportedInPremium", 6)
	exploitTypes        = [][]string{{"Local privilege escalation"}, {"Denial of service"}, {"Local"}, {"Local privilege escalation", "Local"}}
	cveProducts         = []string{
		"Windows Kernel", "Windows SMB Server", "Microsoft Office", "Microsoft Edge (Chromium-based)", "Google Chrome",
		"Mozilla Firefox", "OpenSSL", "Oracle Java SE", "Adobe Acrobat Reader", "7-Zip", "Zoom Client",
		"Windows Print Spooler", "Linux kernel", "OpenSSH", "curl", "Apple macOS", "Windows Hyper-V", ".NET Framework",
	}
	cveKinds = []struct{ kind, vector string }{
		{"remote code execution", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H"},
		{"elevation of privilege", "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"},
		{"information disclosure", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"},
		{"denial of service", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"},
		{"security feature bypass", "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:L/I:H/A:N"},
		{"spoofing", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N"},
	}
)

// generateVulnerabilities makes n CVEs published over the last ten years,
// ordered by id. About two thirds expose no machine; the rest expose a few
// machines, and a handful expose most of the fleet.
func generateVulnerabilities(d *Dataset, r *rand.Rand, n int) []Vulnerability {
	published := make([]time.Time, n)
	for i := range published {
		published[i] = d.Now.Add(-time.Duration(math.Pow(r.Float64(), 0.7) * float64(10*365*24*time.Hour)))
	}
	slices.SortFunc(published, func(a, b time.Time) int { return a.Compare(b) })
	vulns := make([]Vulnerability, n)
	seq := map[int]int{} // last CVE number per year
	for i := range vulns {
		v := &vulns[i]
		year := published[i].Year()
		if seq[year] == 0 {
			seq[year] = 1000 + r.IntN(2000)
		}
		seq[year] += 1 + r.IntN(40)
		v.ID = fmt.Sprintf("CVE-%d-%d", year, seq[year])
		v.Name = v.ID
		kind := cveKinds[r.IntN(len(cveKinds))]
		v.product = r.IntN(len(cveProducts))
		v.Description = fmt.Sprintf("Summary: %s %s vulnerability.", cveProducts[v.product], kind.kind)
		v.Severity = cveSeverities.pick(r)
		if r.IntN(40) != 0 {
			band := cvssRange[v.Severity]
			v.CVSSV3, v.HasCVSS = round(band[0]+r.Float64()*(band[1]-band[0]), 1), true
			v.CVSSVector = kind.vector
		}
		v.PublishedOn = TimeOf(published[i])
		v.UpdatedOn = TimeOf(published[i].Add(between(r, 0, min(200*24*time.Hour, d.Now.Sub(published[i])+time.Second))))
		v.CVESupportability = cveSupportabilities.pick(r)
		if r.IntN(100) < 90 {
			v.EPSS, v.HasEPSS = round(math.Pow(r.Float64(), 6), 5), true
		}
		if r.IntN(100) < 18 {
			v.PublicExploit = true
			v.ExploitVerified = r.IntN(100) < 40
			v.ExploitInKit = r.IntN(100) < 15
			v.ExploitTypes = exploitTypes[r.IntN(len(exploitTypes))]
			v.ExploitURIs = []string{fmt.Sprintf("https://www.exploit-db.com/exploits/%d", 40000+r.IntN(12000))}
		}
		if m := len(d.Machines); m > 0 && r.IntN(100) < 35 {
			u := r.Float64()
			v.ExposedMachines = 1 + int64(u*u*u*float64(m-1))
			from := maxTime(published[i], d.Now.Add(-900*24*time.Hour))
			v.FirstDetected = TimeOf(from.Add(between(r, 0, min(30*24*time.Hour, d.Now.Sub(from)))))
		}
	}
	return vulns
}
