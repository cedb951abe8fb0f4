package defender

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Endpoints are the base URLs of one cloud: the Entra authority host (the
// tenant id is appended to it) and the API bases, all "https://host[:port]"
// without a trailing slash.
type Endpoints struct {
	Authority, MDE, XDR, Graph string
}

// Scopes are the token scopes ("<audience>/.default") asked for per API.
// They follow the cloud, never an endpoint override: a proxy or a regional
// host serves the same resource.
type Scopes struct {
	MDE, XDR, Graph string
}

type cloud struct {
	endpoints Endpoints
	scopes    Scopes
}

// clouds holds each cloud's hosts and token audiences. The hosts are those
// of Microsoft's US Government pages for Defender for Endpoint and XDR; GCC
// tenants sign in and use Graph in the commercial cloud. The US Government
// token audiences are not in those pages: they follow the API hosts, as
// third-party tools do, which is why every endpoint can be overridden.
var clouds = map[string]cloud{
	"global": {
		endpoints: Endpoints{
			Authority: "https://login.microsoftonline.com",
			MDE:       "https://api.security.microsoft.com",
			XDR:       "https://api.security.microsoft.com",
			Graph:     "https://graph.microsoft.com",
		},
		scopes: Scopes{
			MDE:   "https://api.securitycenter.microsoft.com/.default",
			XDR:   "https://api.security.microsoft.com/.default",
			Graph: "https://graph.microsoft.com/.default",
		},
	},
	"gcc": {
		endpoints: Endpoints{
			Authority: "https://login.microsoftonline.com",
			MDE:       "https://api-gcc.securitycenter.microsoft.us",
			XDR:       "https://api-gcc.security.microsoft.us",
			Graph:     "https://graph.microsoft.com",
		},
		scopes: Scopes{
			MDE:   "https://api-gcc.securitycenter.microsoft.us/.default",
			XDR:   "https://api-gcc.security.microsoft.us/.default",
			Graph: "https://graph.microsoft.com/.default",
		},
	},
	"gcc-high": {
		endpoints: Endpoints{
			Authority: "https://login.microsoftonline.us",
			MDE:       "https://api-gov.securitycenter.microsoft.us",
			XDR:       "https://api-gov.security.microsoft.us",
			Graph:     "https://graph.microsoft.us",
		},
		scopes: Scopes{
			MDE:   "https://api-gov.securitycenter.microsoft.us/.default",
			XDR:   "https://api-gov.security.microsoft.us/.default",
			Graph: "https://graph.microsoft.us/.default",
		},
	},
	"dod": {
		endpoints: Endpoints{
			Authority: "https://login.microsoftonline.us",
			MDE:       "https://api-gov.securitycenter.microsoft.us",
			XDR:       "https://api-gov.security.microsoft.us",
			Graph:     "https://dod-graph.microsoft.us",
		},
		scopes: Scopes{
			MDE:   "https://api-gov.securitycenter.microsoft.us/.default",
			XDR:   "https://api-gov.security.microsoft.us/.default",
			Graph: "https://dod-graph.microsoft.us/.default",
		},
	},
}

// Clouds lists the accepted cloud names, for help texts and error messages.
var Clouds = []string{"global", "gcc", "gcc-high", "dod"}

// Regions lists the regional MDE hosts of the global cloud ("" = none):
// United States, Europe, United Kingdom, Australia, Switzerland (swa),
// India (ina) and Australia East (aea), as Microsoft Learn's API pages list
// them. The config package keeps the same list; a test in package main
// holds the two together.
var Regions = []string{"us", "eu", "uk", "au", "swa", "ina", "aea"}

// ResolveEndpoints returns the base URLs and token scopes for a cloud
// ("" means global), a region (global cloud only: picks
// https://{region}.api.security.microsoft.com for MDE) and per-field
// overrides. An override replaces the host of one endpoint and wins over the
// region; the scopes always stay those of the cloud.
func ResolveEndpoints(cloudName, region string, override Endpoints) (Endpoints, Scopes, error) {
	if cloudName == "" {
		cloudName = "global"
	}
	cl, ok := clouds[cloudName]
	if !ok {
		return Endpoints{}, Scopes{}, fmt.Errorf("unknown cloud %q: want one of %s", cloudName, strings.Join(Clouds, ", "))
	}
	ep := cl.endpoints
	if region != "" {
		if cloudName != "global" {
			return Endpoints{}, Scopes{}, fmt.Errorf("region %q: regions apply only to the global cloud, not %q", region, cloudName)
		}
		if !slices.Contains(Regions, region) {
			return Endpoints{}, Scopes{}, fmt.Errorf("unknown region %q: want one of %s", region, strings.Join(Regions, ", "))
		}
		ep.MDE = "https://" + region + ".api.security.microsoft.com"
	}
	for _, f := range []struct {
		name     string
		override string
		field    *string
	}{
		{"authority", override.Authority, &ep.Authority},
		{"mde", override.MDE, &ep.MDE},
		{"xdr", override.XDR, &ep.XDR},
		{"graph", override.Graph, &ep.Graph},
	} {
		if f.override == "" {
			continue
		}
		base, err := normalizeBase(f.override)
		if err != nil {
			return Endpoints{}, Scopes{}, fmt.Errorf("endpoint %s: %w", f.name, err)
		}
		*f.field = base
	}
	return ep, cl.scopes, nil
}

// normalizeBase checks that s is an absolute https URL without query,
// fragment or credentials, and drops a trailing slash. A path prefix is
// kept (a reverse proxy may serve the API under one).
func normalizeBase(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%q is not a URL: %w", s, err)
	}
	switch {
	case u.Scheme != "https":
		return "", fmt.Errorf("%q: want an https:// URL (a bearer token never travels in clear text)", s)
	case u.Host == "":
		return "", fmt.Errorf("%q: no host", s)
	case u.User != nil:
		return "", fmt.Errorf("%q: credentials in the URL are not allowed", u.Redacted())
	case u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("%q: a base URL takes no query or fragment", s)
	}
	return strings.TrimRight(u.String(), "/"), nil
}
