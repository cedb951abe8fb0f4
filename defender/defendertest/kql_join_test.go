package defendertest

import (
	"strings"
	"testing"
)

// The operators and functions the exporter's built-in posture queries use:
// join, extend, member access into dynamic columns, tostring, arg_max with
// listed columns, and bool columns compared with 1 and 0.

func TestKQLJoin(t *testing.T) {
	d := kqlData(t)
	// Every exposed CVE of the catalogue finds its catalogue entry.
	res := mustRun(t, d, `DeviceTvmSoftwareVulnerabilities
		| distinct CveId, DeviceId
		| summarize Devices = count() by CveId
		| join kind=inner (DeviceTvmSoftwareVulnerabilitiesKB | project CveId, VulnerabilitySeverityLevel, IsExploitAvailable) on CveId`)
	if got := colNames(res); got != "CveId:string,Devices:long,CveId1:string,VulnerabilitySeverityLevel:string,IsExploitAvailable:bool" {
		t.Fatalf("columns %s", got)
	}
	exposed := map[string]*Vulnerability{}
	for i := range d.Vulnerabilities {
		if v := &d.Vulnerabilities[i]; v.ExposedMachines > 0 {
			exposed[v.ID] = v
		}
	}
	if len(res.rows) != len(exposed) || len(exposed) == 0 {
		t.Fatalf("%d joined rows, want one per exposed CVE (%d)", len(res.rows), len(exposed))
	}
	for _, row := range res.rows {
		v := exposed[row[0].(string)]
		if v == nil || row[2] != v.ID || row[1] != v.ExposedMachines || row[3] != v.Severity || row[4] != v.PublicExploit {
			t.Errorf("row %v does not match the catalogue entry %+v", row, v)
		}
	}

	// leftouter keeps the unmatched left rows with empty strings and nulls.
	res = mustRun(t, d, `DeviceInfo | summarize arg_max(Timestamp, DeviceName) by DeviceId
		| join kind=leftouter (DeviceTvmInfoGathering | summarize arg_max(Timestamp, AdditionalFields) by DeviceId) on DeviceId
		| where isempty(DeviceId1)`)
	unmatched := 0
	for _, m := range d.Machines {
		if !onboarded(&m) {
			unmatched++
		}
	}
	if len(res.rows) != unmatched || unmatched == 0 {
		t.Fatalf("%d unmatched rows, want one per machine without antivirus data (%d)", len(res.rows), unmatched)
	}
	if row := res.rows[0]; row[len(row)-1] != nil || row[3] != "" {
		t.Errorf("unmatched row %v: want \"\" for strings and null for the rest", row)
	}
	// inner drops them.
	res = mustRun(t, d, `DeviceInfo | summarize arg_max(Timestamp, DeviceName) by DeviceId
		| join kind=inner (DeviceTvmInfoGathering | summarize arg_max(Timestamp, AdditionalFields) by DeviceId) on DeviceId
		| count`)
	if got := res.rows[0][0].(int64); got != int64(len(d.AVInfo)) {
		t.Errorf("inner join: %d rows, want %d", got, len(d.AVInfo))
	}
}

func TestKQLDynamicAndExtend(t *testing.T) {
	d := kqlData(t)
	want := map[string]int64{}
	for _, x := range d.AVInfo {
		want[x.AVMode]++
	}
	res := mustRun(t, d, `DeviceTvmInfoGathering
		| summarize arg_max(Timestamp, AdditionalFields) by DeviceId
		| extend AvMode = tostring(AdditionalFields.AvMode), Signature = tostring(AdditionalFields.AvIsSignatureUptoDate)
		| extend Both = tostring(AdditionalFields)
		| summarize count() by AvMode`)
	if got := counts(t, res); len(got) != len(want) {
		t.Fatalf("by AvMode %v, want %v", got, want)
	} else {
		for k, n := range want {
			if got[k] != n {
				t.Errorf("AvMode %q: %d, want %d", k, got[k], n)
			}
		}
	}
	res = mustRun(t, d, `DeviceTvmInfoGathering | take 1 | extend S = tostring(AdditionalFields.AvIsSignatureUptoDate), N = tostring(AdditionalFields.Missing), J = tostring(AdditionalFields)`)
	row := res.rows[0]
	if row[6] != "true" || row[7] != "" || !strings.HasPrefix(row[8].(string), `{"AvEngineVersion":`) {
		t.Errorf("tostring of a boolean member, a missing member and an object: %q %q %q", row[6], row[7], row[8])
	}
	if _, err := runOn(t, d, `DeviceInfo | extend X = DeviceName.Foo`); err == nil || !strings.Contains(err.Error(), "needs a dynamic value") {
		t.Errorf("member access on a string: %v", err)
	}
}

func TestKQLBoolComparesWithOneAndZero(t *testing.T) {
	d := kqlData(t)
	var want int64
	for _, x := range d.Recommendations {
		if strings.HasPrefix(x.ID, "scid-") {
			want += x.ExposedMachinesCount
		}
	}
	latest := `DeviceTvmSecureConfigurationAssessment | summarize arg_max(Timestamp, IsApplicable, IsCompliant) by DeviceId, ConfigurationId`
	res := mustRun(t, d, latest+` | where IsApplicable == 1 and IsCompliant == 0 | count`)
	if got := res.rows[0][0].(int64); got != want || want == 0 {
		t.Errorf("non-compliant latest assessments %d, want the recommendations' exposed machines %d", got, want)
	}
	res = mustRun(t, d, latest+` | where IsCompliant != 1 | count`)
	if got := res.rows[0][0].(int64); got != want {
		t.Errorf("IsCompliant != 1: %d, want %d", got, want)
	}
	// Older assessments that failed make the count without arg_max larger.
	res = mustRun(t, d, `DeviceTvmSecureConfigurationAssessment | where IsApplicable == 1 and IsCompliant == 0 | count`)
	if got := res.rows[0][0].(int64); got <= want {
		t.Errorf("every assessment: %d failing, want more than the latest ones (%d)", got, want)
	}
}

func TestKQLArgMaxListedColumns(t *testing.T) {
	d := kqlData(t)
	res := mustRun(t, d, `DeviceInfo | summarize arg_max(Timestamp, SensorHealthState, MachineGroup) by DeviceId`)
	if got := colNames(res); got != "DeviceId:string,Timestamp:datetime,SensorHealthState:string,MachineGroup:string" {
		t.Fatalf("columns %s", got)
	}
	byID := map[string]*Machine{}
	for i := range d.Machines {
		byID[d.Machines[i].ID] = &d.Machines[i]
	}
	for _, row := range res.rows {
		m := byID[row[0].(string)]
		if row[2] != m.HealthStatus || row[3] != m.RBACGroupName {
			t.Errorf("device %s: latest report %v, want health %s group %q", m.ID, row, m.HealthStatus, m.RBACGroupName)
		}
	}
	for q, want := range map[string]string{
		`DeviceInfo | summarize arg_max(Timestamp) by DeviceId`:                      "arg_max(Col, *) and arg_max(Col, Col, ...)",
		`DeviceInfo | summarize arg_max(Timestamp, Nope) by DeviceId`:                "Failed to resolve scalar expression named 'Nope'",
		`DeviceInfo | join (DeviceInfo) on DeviceId`:                                 "needs kind=inner or kind=leftouter",
		`DeviceInfo | join kind=fullouter (DeviceInfo) on DeviceId`:                  "kind 'fullouter'",
		`DeviceInfo | join kind=inner (DeviceInfo | project X = OSBuild) on OSBuild`: "Failed to resolve scalar expression named 'OSBuild'",
	} {
		if _, err := runOn(t, d, q); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", q, err, want)
		}
	}
}
