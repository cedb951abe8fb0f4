package collector

import "testing"

func TestGraphLabel(t *testing.T) {
	for in, want := range map[string]string{
		"":                          "",
		"high":                      "High",
		"inProgress":                "InProgress",
		"truePositive":              "TruePositive",
		"unknownFutureValue":        "UnknownFutureValue",
		"Active":                    "Active",         // already upper-case, as in Microsoft's own incident example
		"DefenseEvasion":            "DefenseEvasion", // category is a plain string
		"microsoftDefenderForCloud": "MicrosoftDefenderForCloud",
		"élevé":                     "Élevé",
		"3rdParty":                  "3rdParty",
		"\xffbroken":                "\xffbroken",
	} {
		if got := graphLabel(in); got != want {
			t.Errorf("graphLabel(%q) = %q, want %q", in, got, want)
		}
		var c labelCache
		if got := c.get(in); got != want || c.get(in) != want {
			t.Errorf("labelCache.get(%q) = %q, want %q", in, got, want)
		}
	}
}
