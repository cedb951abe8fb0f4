package defender

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// API is a token audience and base URL; its value is the "api" label.
type API string

const (
	APIMDE   API = "mde"   // Defender for Endpoint (WindowsDefenderATP)
	APIXDR   API = "xdr"   // Defender XDR (Microsoft Threat Protection)
	APIGraph API = "graph" // Microsoft Graph
	// APIEntra labels the calls MSAL makes to the authority.
	APIEntra API = "entra"
)

// Family is a group of endpoints that share Defender's rate limits; the
// client keeps one call budget per family.
type Family string

const (
	FamilyMDE       Family = "mde"       // alerts, machines, machine actions, indicators, investigations, TVM, scores
	FamilyAVInfo    Family = "avinfo"    // /api/deviceavinfo
	FamilyIncidents Family = "incidents" // XDR /api/incidents
	FamilyHunting   Family = "hunting"   // advanced hunting, all three APIs
	// FamilyGraph is Graph's /security endpoints other than hunting:
	// alerts_v2, incidents, secureScores, identities.
	FamilyGraph Family = "graph"
)

// Request describes one call, or the first page of a listing.
type Request struct {
	API    API
	Family Family
	// Endpoint is the path template used as the "endpoint" label, e.g.
	// "/api/machines/{id}/alerts"; it defaults to Path, which is then
	// expected to hold no ids.
	Endpoint string
	Path     string // appended to the API's base URL
	Query    url.Values
	// PageSize is the page size asked for (List); 0 = the server's default,
	// and only @odata.nextLink is followed.
	PageSize int
	// PageSizeParam is the query parameter that carries PageSize: "$top"
	// (default) or "pageSize" for the export APIs.
	PageSizeParam string
	// NotFoundIsEmpty turns a 404 into an empty result (/api/machines
	// answers 404 when no machine matches).
	NotFoundIsEmpty bool
	Method          string // default GET
	Body            []byte // sent as application/json

	// NextLinkOnly says the API sends @odata.nextLink whenever more
	// remain, $top or not (Graph): a full page without one is the last,
	// and List never pages with $skip on its own (Graph's security API
	// refuses a large $skip).
	NextLinkOnly bool
}

func (r *Request) method() string {
	if r.Method == "" {
		return http.MethodGet
	}
	return r.Method
}

func (r *Request) endpoint() string {
	if r.Endpoint == "" {
		return r.Path
	}
	return r.Endpoint
}

func (r *Request) validate() error {
	switch {
	case r.API != APIMDE && r.API != APIXDR && r.API != APIGraph:
		return fmt.Errorf("request %s: unknown API %q", r.endpoint(), r.API)
	case r.Family == "":
		return fmt.Errorf("request %s: no Family", r.endpoint())
	case !strings.HasPrefix(r.Path, "/"):
		return fmt.Errorf("request %s: Path %q must start with /", r.endpoint(), r.Path)
	case strings.ContainsAny(r.Path, "?#"):
		return fmt.Errorf("request %s: Path %q: put the query in Query", r.endpoint(), r.Path)
	case r.PageSize < 0:
		return fmt.Errorf("request %s: negative PageSize", r.endpoint())
	}
	return nil
}

// encodeQuery is url.Values.Encode, except that OData's "$" stays readable
// in keys and a space is %20, not "+": OData servers read "+" in $filter
// literally in some versions, and %20 is unambiguous everywhere.
func encodeQuery(v url.Values) string {
	if len(v) == 0 {
		return ""
	}
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		ek := queryEscape(k)
		for _, val := range v[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(ek)
			b.WriteByte('=')
			b.WriteString(queryEscape(val))
		}
	}
	return b.String()
}

func queryEscape(s string) string {
	s = url.QueryEscape(s)
	s = strings.ReplaceAll(s, "+", "%20")
	return strings.ReplaceAll(s, "%24", "$")
}
