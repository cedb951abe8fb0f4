package defendertest

import (
	"fmt"
	"strings"
)

// apiAudience names the resource an API belongs to; it is also the value of
// the exporter's "api" label, so the names match the contract.
type apiAudience string

const (
	audMDE   apiAudience = "mde"
	audXDR   apiAudience = "xdr"
	audGraph apiAudience = "graph"
)

// cloudSpec lists, per national cloud, the token audiences each API accepts.
// The first entry of each list is the canonical resource; the MDE list also
// carries the windowsatpservice identifier URI that the docs' curl example
// uses for the same WindowsDefenderATP application.
type cloudSpec struct {
	name      string
	audiences map[apiAudience][]string
}

var clouds = map[string]cloudSpec{
	"global": {name: "global", audiences: map[apiAudience][]string{
		audMDE:   {"https://api.securitycenter.microsoft.com", "https://securitycenter.onmicrosoft.com/windowsatpservice"},
		audXDR:   {"https://api.security.microsoft.com"},
		audGraph: {"https://graph.microsoft.com"},
	}},
	"gcc": {name: "gcc", audiences: map[apiAudience][]string{
		audMDE:   {"https://api-gcc.securitycenter.microsoft.us"},
		audXDR:   {"https://api-gcc.security.microsoft.us"},
		audGraph: {"https://graph.microsoft.com"},
	}},
	"gcc-high": {name: "gcc-high", audiences: map[apiAudience][]string{
		audMDE:   {"https://api-gov.securitycenter.microsoft.us"},
		audXDR:   {"https://api-gov.security.microsoft.us"},
		audGraph: {"https://graph.microsoft.us"},
	}},
	"dod": {name: "dod", audiences: map[apiAudience][]string{
		audMDE:   {"https://api-gov.securitycenter.microsoft.us"},
		audXDR:   {"https://api-gov.security.microsoft.us"},
		audGraph: {"https://dod-graph.microsoft.us"},
	}},
}

func lookupCloud(name string) (cloudSpec, error) {
	if name == "" {
		name = "global"
	}
	c, ok := clouds[strings.ToLower(name)]
	if !ok {
		return cloudSpec{}, fmt.Errorf("defendertest: unknown cloud %q (want global, gcc, gcc-high or dod)", name)
	}
	return c, nil
}

// resource maps a requested resource URI to the API it belongs to and its
// canonical spelling (Entra matches identifier URIs case-insensitively and
// puts the registered spelling in the token's aud).
func (c cloudSpec) resource(uri string) (apiAudience, string, bool) {
	for api, list := range c.audiences {
		for _, a := range list {
			if strings.EqualFold(a, uri) {
				return api, a, true
			}
		}
	}
	return "", "", false
}

func (c cloudSpec) accepts(api apiAudience, aud audience) bool {
	for _, a := range c.audiences[api] {
		if aud.contains(a) {
			return true
		}
	}
	return false
}

// Application permissions per resource, as granted in the app registration
// (WindowsDefenderATP, Microsoft Threat Protection, Microsoft Graph). A token
// carries the roles of its resource only, as Entra's do.
var resourceRoles = map[apiAudience][]string{
	audMDE: {
		"Alert.Read.All", "Machine.Read.All", "Ti.Read.All", "Ti.ReadWrite", "Ti.ReadWrite.All", "Vulnerability.Read.All",
		"Score.Read.All", "SecurityRecommendation.Read.All", "Software.Read.All",
		"AdvancedQuery.Read.All",
	},
	audXDR:   {"Incident.Read.All", "AdvancedHunting.Read.All"},
	audGraph: {"ThreatHunting.Read.All", "SecurityEvents.Read.All", "SecurityIdentitiesHealth.Read.All", "SecurityIdentitiesSensors.Read.All"},
}

// AllRoles is every application permission the fake knows; NewApp grants all
// of them, SetAppRoles narrows an app down to test 403 Forbidden.
func AllRoles() []string {
	var out []string
	for _, api := range []apiAudience{audMDE, audXDR, audGraph} {
		out = append(out, resourceRoles[api]...)
	}
	return out
}
