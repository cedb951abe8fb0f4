package defendertest

import (
	"fmt"
	"math/rand/v2"
	"strconv"
)

// recKind is a recommendation template: configuration changes (scid-*) and
// software remediations (va-_-vendor-_-product).
type recKind struct {
	scid        int    // configuration recommendations; 0 for software
	name        string // recommendationName
	category    string
	subCategory string
	remediation string
	vendor      string // software only
	product     string
	version     string // recommendedVersion
	component   string // relatedComponent
	server      bool   // applies to servers rather than the whole fleet
}

var recKinds = newWeighted[*recKind](
	&recKind{scid: 2010, name: "Turn on Microsoft Defender Antivirus real-time protection", category: "SecurityControls", subCategory: "Antivirus", remediation: "ConfigurationChange", component: "Microsoft Defender Antivirus"}, 3,
	&recKind{scid: 2012, name: "Turn on PUA protection in block mode", category: "SecurityControls", subCategory: "Antivirus", remediation: "ConfigurationChange", component: "Microsoft Defender Antivirus"}, 4,
	&recKind{scid: 2003, name: "Turn on Tamper Protection", category: "SecurityControls", subCategory: "Antivirus", remediation: "ConfigurationChange", component: "Microsoft Defender Antivirus"}, 3,
	&recKind{scid: 2500, name: "Block credential stealing from the Windows local security authority subsystem", category: "SecurityControls", subCategory: "Attack Surface Reduction", remediation: "ConfigurationChange", component: "Attack Surface Reduction"}, 4,
	&recKind{scid: 2502, name: "Block Win32 API calls from Office macros", category: "SecurityControls", subCategory: "Attack Surface Reduction", remediation: "ConfigurationChange", component: "Attack Surface Reduction"}, 3,
	&recKind{scid: 4001, name: "Enable 'Windows Defender Firewall: Domain: Firewall state'", category: "Network", subCategory: "Firewall", remediation: "ConfigurationChange", component: "Windows Defender Firewall"}, 2,
	&recKind{scid: 34, name: "Disable SMBv1 client driver", category: "Network", subCategory: "Network", remediation: "ConfigurationChange", component: "SMB", server: true}, 3,
	&recKind{scid: 51, name: "Disable 'Allow Basic authentication' for WinRM Client", category: "Network", subCategory: "WinRM", remediation: "ConfigurationChange", component: "WinRM"}, 2,
	&recKind{scid: 61, name: "Set 'Minimum password length' to '14 or more character(s)'", category: "Accounts", subCategory: "Password Policy", remediation: "ConfigurationChange", component: "Accounts"}, 3,
	&recKind{scid: 65, name: "Set 'Account lockout threshold' to 1-10 invalid login attempt(s)", category: "Accounts", subCategory: "Account Lockout Policy", remediation: "ConfigurationChange", component: "Accounts"}, 2,
	&recKind{scid: 84, name: "Enable Local Admin password management", category: "Accounts", subCategory: "Local Administrator Password Solution", remediation: "ConfigurationChange", component: "LAPS"}, 2,
	&recKind{scid: 91, name: "Disable Anonymous enumeration of shares", category: "OS", subCategory: "Security Options", remediation: "ConfigurationChange", component: "Windows"}, 3,
	&recKind{scid: 2090, name: "Enable 'Require additional authentication at startup'", category: "OS", subCategory: "BitLocker", remediation: "ConfigurationChange", component: "BitLocker"}, 2,
	&recKind{scid: 96, name: "Set default behavior for 'AutoRun' to 'Enabled: Do not execute any autorun commands'", category: "OS", subCategory: "Security Options", remediation: "ConfigurationChange", component: "Windows"}, 2,
	&recKind{scid: 5001, name: "Disable JavaScript on Adobe Reader DC", category: "Application", subCategory: "Adobe Reader", remediation: "ConfigurationChange", component: "Adobe Acrobat Reader"}, 1,
	&recKind{vendor: "google", product: "chrome", name: "Update Chrome", category: "Application", remediation: "Update", version: "131.0.6778.86", component: "Chrome"}, 4,
	&recKind{vendor: "mozilla", product: "firefox", name: "Update Firefox", category: "Application", remediation: "Update", version: "133.0", component: "Firefox"}, 2,
	&recKind{vendor: "microsoft", product: "edge_chromium-based", name: "Update Microsoft Edge", category: "Application", remediation: "Update", version: "131.0.2903.70", component: "Edge"}, 2,
	&recKind{vendor: "microsoft", product: "office", name: "Update Microsoft Office", category: "Application", remediation: "Update", version: "16.0.18129.20116", component: "Office"}, 3,
	&recKind{vendor: "oracle", product: "jre", name: "Update JRE", category: "Application", remediation: "Update", version: "8.0.4310.10", component: "Java"}, 2,
	&recKind{vendor: "adobe", product: "acrobat_reader_dc", name: "Update Adobe Acrobat Reader DC", category: "Application", remediation: "Update", version: "24.5.20320.0", component: "Acrobat Reader"}, 2,
	&recKind{vendor: "7-zip", product: "7-zip", name: "Update 7-Zip", category: "Application", remediation: "Update", version: "24.08", component: "7-Zip"}, 1,
	&recKind{vendor: "openssl", product: "openssl", name: "Update OpenSSL", category: "Application", remediation: "Update", version: "3.0.15", component: "OpenSSL", server: true}, 2,
	&recKind{vendor: "microsoft", product: "windows_11", name: "Update Windows 11", category: "OS", remediation: "Update", version: "10.0.22631.4460", component: "Windows 11"}, 3,
	&recKind{vendor: "microsoft", product: "windows_server_2019", name: "Update Windows Server 2019", category: "OS", remediation: "Update", version: "10.0.17763.6532", component: "Windows Server 2019", server: true}, 2,
	&recKind{vendor: "apple", product: "macos", name: "Update macOS", category: "OS", remediation: "Update", version: "15.1.1", component: "macOS"}, 1,
	&recKind{vendor: "microsoft", product: "windows_10", name: "Upgrade to a later version of Windows 10", category: "OS", remediation: "Upgrade", version: "22H2", component: "Windows 10"}, 1,
	&recKind{vendor: "python", product: "python", name: "Upgrade Python to a supported version", category: "Application", remediation: "Upgrade", version: "3.12", component: "Python"}, 1,
	&recKind{vendor: "microsoft", product: "silverlight", name: "Uninstall Silverlight", category: "Application", remediation: "Uninstall", component: "Silverlight"}, 1,
	&recKind{vendor: "adobe", product: "flash_player", name: "Uninstall Adobe Flash Player", category: "Application", remediation: "Uninstall", component: "Flash Player"}, 1,
)

var recThreats = [][]string{nil, nil, nil, {"CVE-2024-4671"}, {"Ransomware"}, {"Emotet", "QakBot"}}

// generateRecommendations makes n recommendations. A tenant has each
// template once; larger n (for paging tests) repeats templates under new ids.
func generateRecommendations(d *Dataset, r *rand.Rand, n int) []Recommendation {
	machines := int64(len(d.Machines))
	seen := map[string]int{}
	recs := make([]Recommendation, n)
	for i := range recs {
		k := recKinds.pick(r)
		x := &recs[i]
		x.RecommendationName = k.name
		x.RecommendationCategory, x.SubCategory = k.category, k.subCategory
		x.RemediationType = k.remediation
		x.RelatedComponent = k.component
		if k.scid != 0 {
			x.ID = "scid-" + strconv.Itoa(k.scid)
			x.ConfigScoreImpact = round(r.Float64()*9, 2)
			x.SeverityScore = round(2+r.Float64()*6, 1)
		} else {
			x.ID = "va-_-" + k.vendor + "-_-" + k.product
			x.ProductName, x.Vendor = k.product, k.vendor
			x.RecommendedVersion = k.version
			if k.remediation != "Uninstall" {
				x.RecommendedProgram, x.RecommendedVendor = k.product, k.vendor
			}
			x.Weaknesses = int64(1 + r.IntN(180))
			x.SeverityScore = round(4+r.Float64()*6, 1)
			x.PublicExploit = r.IntN(100) < 30
			x.ActiveAlert = r.IntN(100) < 5
		}
		if c := seen[x.ID]; c > 0 {
			seen[x.ID]++
			x.ID = fmt.Sprintf("%s-%d", x.ID, c)
		} else {
			seen[x.ID] = 1
		}
		x.AssociatedThreats = recThreats[r.IntN(len(recThreats))]
		x.Status = "Active"
		if r.IntN(100) < 8 {
			x.Status = "Exception"
		}
		if machines > 0 {
			share := 0.05 + 0.9*r.Float64()
			if k.server {
				share *= 0.3
			}
			x.TotalMachineCount = max(1, int64(share*float64(machines)))
			x.ExposedMachinesCount = int64(r.Float64() * float64(x.TotalMachineCount))
			x.NonProductivityImpactedAssets = int64(r.Float64() * 0.1 * float64(x.ExposedMachinesCount))
			x.ExposedCriticalDevices = int64(r.Float64() * 0.05 * float64(x.ExposedMachinesCount))
		}
		x.ExposureImpact = round(r.Float64()*float64(x.ExposedMachinesCount)/float64(max(1, machines))*4, 2)
	}
	return recs
}
