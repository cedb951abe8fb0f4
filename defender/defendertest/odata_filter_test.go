package defendertest

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// filterFixture is a handful of hand-made alerts, so each expected match set
// can be read off the table.
func filterFixture() []Alert {
	at := func(s string) Time {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic(err)
		}
		return TimeOf(t)
	}
	return []Alert{
		{ID: "a1", Severity: "High", Status: "New", Category: "Execution", DetectionSource: "WindowsDefenderAtp",
			IncidentID: 10, AlertCreationTime: at("2024-01-01T00:00:00Z"), LastUpdateTime: at("2024-01-01T00:00:00Z")},
		{ID: "a2", Severity: "Low", Status: "Resolved", Category: "", DetectionSource: "WindowsDefenderAv",
			IncidentID: 11, AlertCreationTime: at("2024-01-02T03:04:05Z"), LastUpdateTime: at("2024-01-05T00:00:00Z"), AssignedTo: "O'Brien"},
		{ID: "a3", Severity: "Medium", Status: "InProgress", Category: "Malware", DetectionSource: "",
			IncidentID: 0, AlertCreationTime: at("2024-02-01T00:00:00Z"), LastUpdateTime: at("2024-02-01T12:00:00Z")},
	}
}

func TestFilterParser(t *testing.T) {
	alerts := filterFixture()
	good := []struct {
		filter string
		want   string // matching IDs
	}{
		{"", "a1,a2,a3"},
		{"severity eq 'High'", "a1"},
		{"SEVERITY EQ 'high'", "a1"}, // names, operators and values ignore case
		{"severity ne 'high'", "a2,a3"},
		{"status eq 'New' or status eq 'InProgress'", "a1,a3"},
		{"status ne 'Resolved' and severity eq 'Medium'", "a3"},
		{"(severity eq 'High' or severity eq 'Low') and status eq 'Resolved'", "a2"},
		{"severity eq 'High' or severity eq 'Low' and status eq 'Resolved'", "a1,a2"}, // and binds tighter
		{"not (status eq 'Resolved')", "a1,a3"},
		{"not status eq 'Resolved'", "a1,a3"},
		{"alertCreationTime gt 2024-01-01T00:00:00Z", "a2,a3"},
		{"alertCreationTime ge 2024-01-01T00:00:00Z", "a1,a2,a3"},
		{"alertCreationTime lt 2024-01-02Z", "a1"},
		{"alertCreationTime le 2024-01-02T03:04:05.0000000Z", "a1,a2"},
		{"alertCreationTime ge 2024-01-02T04:04:05+01:00", "a2,a3"},
		{"lastUpdateTime ge 2024-01-05", "a2,a3"},
		{"2024-01-15T00:00:00Z lt alertCreationTime", "a3"}, // literal on the left
		{"incidentId eq 10", "a1"},
		{"incidentId gt 10", "a2"},
		{"incidentId ge 10.5", "a2"},
		{"incidentId eq null", "a3"},
		{"incidentId ne null", "a1,a2"},
		{"category eq null", "a2"},
		{"detectionSource ne null", "a1,a2"},
		{"category gt null", ""},
		{"assignedTo eq 'O''Brien'", "a2"},
		{"id eq 'a2' or id eq 'a3'", "a2,a3"},
		{"startswith(detectionSource,'windowsdefender')", "a1,a2"},
		{"endswith(detectionSource, 'Av')", "a2"},
		{"contains(category,'ecu')", "a1"},
		{"investigationId eq null and lastEventTime eq null", "a1,a2,a3"},
		{"  severity   eq   'High'  ", "a1"},
		{"((((severity eq 'High'))))", "a1"},
	}
	for _, c := range good {
		t.Run(c.filter, func(t *testing.T) {
			pred, err := compileFilter(c.filter, alertFields)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for i := range alerts {
				if pred(&alerts[i]) {
					got = append(got, alerts[i].ID)
				}
			}
			if s := strings.Join(got, ","); s != c.want {
				t.Fatalf("matched %q, want %q", s, c.want)
			}
		})
	}

	bad := []struct {
		filter  string
		mention string // the error must name this
	}{
		{"title eq 'x'", "title"},
		{"nosuch eq 1", "nosuch"},
		{"severity eq", "end"},
		{"severity 'High'", "operator"},
		{"severity like 'High'", "like"},
		{"severity eq 'High", "unterminated"},
		{"(severity eq 'High'", "')'"},
		{"severity eq 'High')", ")"},
		{"severity eq 'High' and", "end"},
		{"severity eq High", "'High'"},
		{"severity eq 3", "Edm.String"},
		{"alertCreationTime ge '2024-01-01T00:00:00Z'", "Edm.DateTimeOffset"},
		{"alertCreationTime ge 2024-13-01T00:00:00Z", "datetime"},
		{"incidentId eq '10'", "Edm.Int64"},
		{"severity eq status", "two properties"},
		{"'a' eq 'b'", "two literals"},
		{"startswith(incidentId,'1')", "string property"},
		{"startswith(severity, 3)", "string literal"},
		{"severity eq 'High' & status eq 'New'", "&"},
		{"1.2.3 eq incidentId", "1.2.3"},
		{strings.Repeat("(", 100) + "severity eq 'High'" + strings.Repeat(")", 100), "nested"},
		{strings.Repeat("x", maxFilterLen+1), "longer"},
	}
	for _, c := range bad {
		t.Run("bad/"+c.filter[:min(len(c.filter), 40)], func(t *testing.T) {
			_, err := compileFilter(c.filter, alertFields)
			var fe *filterError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v, want a filterError", err)
			}
			if !strings.Contains(err.Error(), c.mention) {
				t.Fatalf("error %q does not mention %q", err, c.mention)
			}
		})
	}
}

func TestMachineFilterFields(t *testing.T) {
	machines := []Machine{
		{ID: "m1", MachineTags: []string{"Production", "PCI"}, RBACGroupID: 0, OnboardingStatus: "onboarded"},
		{ID: "m2", MachineTags: nil, RBACGroupID: 3401, OnboardingStatus: "Onboarded"},
	}
	for filter, want := range map[string]string{
		"machineTags eq 'pci'":                  "m1",
		"machineTags ne 'pci'":                  "m2",
		"machineTags eq null":                   "m2",
		"rbacGroupId eq 0":                      "m1", // 0 is a value here, not null
		"rbacGroupId gt 0":                      "m2",
		"onboardingStatus eq 'Onboarded'":       "m1,m2",
		"healthStatus eq null":                  "m1,m2",
		"lastSeen lt 2020-01-01T00:00:00Z":      "",
		"computerDnsName ne 'x' and id ne 'm1'": "m2",
	} {
		pred, err := compileFilter(filter, machineFields)
		if err != nil {
			t.Fatalf("%s: %v", filter, err)
		}
		var got []string
		for i := range machines {
			if pred(&machines[i]) {
				got = append(got, machines[i].ID)
			}
		}
		if s := strings.Join(got, ","); s != want {
			t.Errorf("%s: matched %q, want %q", filter, s, want)
		}
	}
	if _, err := compileFilter("machineTags gt 'a'", machineFields); err == nil {
		t.Error("ordering on a collection accepted")
	}
}

// FuzzFilter checks that no $filter input makes the parser or a compiled
// predicate panic, and that every rejection is a filterError.
func FuzzFilter(f *testing.F) {
	for _, s := range []string{
		"severity eq 'High'", "alertCreationTime ge 2024-01-01T00:00:00Z and status ne 'Resolved'",
		"not (incidentId eq null)", "startswith(id,'da')", "(((", "'", "''''", "eq eq eq", "1e400 lt incidentId",
		"incidentId gt -9223372036854775809.5", "lastUpdateTime le 2018-08-01Z", "machineTags eq 'x'",
		"category eq null or detectionSource eq null", ")", ",", "-", ".", "2024-01-01T", "a/b eq 1",
	} {
		f.Add(s)
	}
	alerts := filterFixture()
	machines := []Machine{{ID: "m1", MachineTags: []string{"x"}}, {}}
	f.Fuzz(func(t *testing.T, src string) {
		pred, err := compileFilter(src, alertFields)
		if err != nil {
			var fe *filterError
			if !errors.As(err, &fe) {
				t.Fatalf("%q: error of type %T", src, err)
			}
		} else {
			for i := range alerts {
				pred(&alerts[i])
			}
		}
		if pred, err := compileFilter(src, machineFields); err == nil {
			for i := range machines {
				pred(&machines[i])
			}
		}
	})
}
