package collector

import (
	"errors"
	"strings"
	"testing"

	"github.com/defender-exporter/defender_exporter/config"
	"github.com/defender-exporter/defender_exporter/defender"
	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

// huntingAnswer wraps rows in a runHuntingQuery answer.
func huntingAnswer(schema, rows string) defendertest.Fault {
	return defendertest.Fault{Body: `{"@odata.context":"x","schema":[` + schema + `],"results":[` + rows + `]}`}
}

const machinesSchema = `{"name":"SensorHealthState","type":"String"},{"name":"OSPlatform","type":"String"},{"name":"OnboardingStatus","type":"String"},` +
	`{"name":"ExposureLevel","type":"String"},{"name":"MachineGroup","type":"String"},{"name":"Machines","type":"Int64"}`

// TestBuiltinQueryBadAnswers: an answer that does not fit the query fails
// the collector with the query file, row and column, and never panics.
func TestBuiltinQueryBadAnswers(t *testing.T) {
	tenant, target := fakeTenant(t, postureSize)
	good := `"SensorHealthState":"Active","OSPlatform":"Windows11","OnboardingStatus":"Onboarded","ExposureLevel":"Low","MachineGroup":"HQ"`
	for _, c := range []struct {
		name, collector string
		fault           defendertest.Fault
		want            []string
	}{
		{"missing column", "machines", huntingAnswer(machinesSchema, `{"SensorHealthState":"Active","OSPlatform":"Windows11","OnboardingStatus":"Onboarded","ExposureLevel":"Low","Machines":3}`),
			[]string{"built-in query queries/machines.kql", `row 1: column "MachineGroup" is missing`, "ExposureLevel, Machines, OSPlatform"}},
		{"value as a string", "machines", huntingAnswer(machinesSchema, `{`+good+`,"Machines":"3"}`),
			[]string{"queries/machines.kql", `row 1: column "Machines": want a number, got "3"`}},
		{"label as a number", "machines", huntingAnswer(machinesSchema, `{`+good+`,"Machines":1},{`+strings.Replace(good, `"Windows11"`, `11`, 1)+`,"Machines":2}`),
			[]string{"queries/machines.kql", `row 2: column "OSPlatform": want a string, got 11`}},
		{"null label", "machines", huntingAnswer(machinesSchema, `{`+strings.Replace(good, `"Active"`, `null`, 1)+`,"Machines":3}`),
			[]string{"queries/machines.kql", `column "SensorHealthState": want a string, got null`}},
		{"null value", "recommendations", huntingAnswer(``, `{"ConfigurationCategory":"OS","Recommendations":null,"ExposedMachines":3}`),
			[]string{"queries/recommendations.kql", `column "Recommendations": want a number, got null`}},
		{"object as a bool", "vulnerabilities", huntingAnswer(``, `{"VulnerabilitySeverityLevel":"High","IsExploitAvailable":{"a":1},"Vulnerabilities":1,"ExposedMachines":2}`),
			[]string{"queries/vulnerabilities.kql", `column "IsExploitAvailable": want true, false or null, got {"a":1}`}},
		{"number out of range", "av_health", huntingAnswer(``, `{"AvMode":"0","AvIsSignatureUpToDate":"true","AvIsEngineUpToDate":"true","AvIsPlatformUpToDate":"true","Machines":1e999}`),
			[]string{"queries/av_health.kql", `column "Machines": want a number, got 1e999`}},
		{"renamed column, no rows", "recommendations", huntingAnswer(`{"name":"Category","type":"String"},{"name":"Recommendations","type":"Int64"},{"name":"ExposedMachines","type":"Int64"}`, ``),
			[]string{"queries/recommendations.kql", `column "ConfigurationCategory" is not in the answer's schema, whose columns are Category, Recommendations, ExposedMachines`}},
		{"rows that are not objects", "machines", huntingAnswer(machinesSchema, `["Active","Windows11"]`),
			[]string{"built-in query queries/machines.kql", "decode results row 1"}},
		{"results not a list", "machines", defendertest.Fault{Body: `{"schema":[],"results":{"Machines":1}}`},
			[]string{"built-in query queries/machines.kql", "want an array"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tenant.ClearFaults()
			tenant.SetFault(defendertest.HuntingGraphPath, c.fault)
			err := refreshErr(t, graphCollector(t, c.collector), target)
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got %q, want it to contain %q", err, w)
				}
			}
		})
	}
	tenant.ClearFaults()

	// A boolean label may be null (an unmatched leftouter join): it is "".
	tenant.SetFault(defendertest.HuntingGraphPath, huntingAnswer(``,
		`{"VulnerabilitySeverityLevel":"","IsExploitAvailable":null,"Vulnerabilities":2,"ExposedMachines":5}`))
	ms := refresh(t, graphCollector(t, "vulnerabilities"), target)
	if v := valueOf(t, ms, "defender_vulnerabilities", `public_exploit=""`, `severity=""`); v != 2 {
		t.Errorf("CVEs missing from the catalogue: %v, want 2", v)
	}
}

// TestBuiltinQueryFailureIsTheCollectorsAlone: a failed built-in query
// fails its own refresh; the next one, other graph collectors and the MDE
// collectors of the tenant are untouched.
func TestBuiltinQueryFailureIsTheCollectorsAlone(t *testing.T) {
	tenant, target := fakeTenant(t, postureSize)
	f := huntingAnswer(machinesSchema, `{"Machines":1}`)
	f.Times = 1
	tenant.SetFault(defendertest.HuntingGraphPath, f)
	machines := graphCollector(t, "machines")
	refreshErr(t, machines, target)
	refresh(t, graphCollector(t, "vulnerabilities"), target)
	mde, err := New(collectorConfig(t, "machines"))
	if err != nil {
		t.Fatal(err)
	}
	refresh(t, mde, target)
	if n := len(seriesOf(t, refresh(t, machines, target), "defender_machines")); n == 0 {
		t.Error("the next refresh exported no machines")
	}
}

// TestBuiltinQueriesShareTheHuntingDeferral: built-in queries are hunting
// calls like the user's: a spent CPU quota defers them all, and the ones
// after fail without a request.
func TestBuiltinQueriesShareTheHuntingDeferral(t *testing.T) {
	tenant, target := fakeTenant(t, postureSize)
	tenant.SetFault(defendertest.HuntingGraphPath, defendertest.HuntingCPUQuota())
	err := refreshErr(t, graphCollector(t, "machines"), target)
	if !errors.Is(err, defender.ErrHuntingDeferred) || !strings.Contains(err.Error(), "queries/machines.kql") {
		t.Fatalf("got %v, want a deferral naming the query", err)
	}
	tenant.ClearFaults()
	user := newHunting(t, "graph", huntingQueryConfig("user", sensorHealthKQL, "count_", "SensorHealthState"))
	for _, c := range []Collector{graphCollector(t, "av_health"), user} {
		if err := refreshErr(t, c, target); !errors.Is(err, defender.ErrHuntingDeferred) {
			t.Errorf("got %v, want the deferral", err)
		}
	}
	if n := tenant.Calls(defendertest.HuntingGraphPath); n != 1 {
		t.Errorf("%d hunting calls, want 1: deferred queries send none", n)
	}
}

// TestBuiltinQueryCounts keeps config's count of built-in queries, which
// --config.check counts against the hunting quota, and the planner's
// estimate equal to the queries the collectors run.
func TestBuiltinQueryCounts(t *testing.T) {
	for _, name := range config.CollectorNames {
		want := len(graphQueries[name])
		if got := config.BuiltinHuntingQueries(name, "graph"); got != want {
			t.Errorf("config.BuiltinHuntingQueries(%q, graph) = %d, the collector runs %d", name, got, want)
		}
		if est, ok := estimatedCalls[name]["graph"]; ok && est[defender.FamilyHunting] != want {
			t.Errorf("the planner estimates %d hunting calls for %s on graph, the collector runs %d", est[defender.FamilyHunting], name, want)
		}
		for _, api := range append(Backends(name), "") {
			if n := config.BuiltinHuntingQueries(name, api); api != "graph" && n != 0 {
				t.Errorf("config.BuiltinHuntingQueries(%q, %q) = %d: only the graph back end runs built-in queries", name, api, n)
			}
		}
	}
	for name := range graphQueries {
		if !contains(Backends(name), "graph") {
			t.Errorf("%s has built-in queries but no graph back end", name)
		}
	}
}

func TestMachinesGraphRefusesPerMachine(t *testing.T) {
	cfg := config.DefaultCollector("machines")
	cfg.API, cfg.PerMachine = "graph", true
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "per_machine needs api: mde") {
		t.Errorf("got %v", err)
	}
}
