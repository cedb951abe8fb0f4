package defender

import (
	"strings"
	"testing"
)

func TestResolveEndpoints(t *testing.T) {
	globalScopes := Scopes{
		MDE:   "https://api.securitycenter.microsoft.com/.default",
		XDR:   "https://api.security.microsoft.com/.default",
		Graph: "https://graph.microsoft.com/.default",
	}
	govScopes := Scopes{
		MDE:   "https://api-gov.securitycenter.microsoft.us/.default",
		XDR:   "https://api-gov.security.microsoft.us/.default",
		Graph: "https://graph.microsoft.us/.default",
	}
	dodScopes := govScopes
	dodScopes.Graph = "https://dod-graph.microsoft.us/.default"

	for _, tc := range []struct {
		name          string
		cloud, region string
		override      Endpoints
		want          Endpoints
		wantScopes    Scopes
		wantErr       string
	}{
		{
			name: "empty is global", cloud: "",
			want: Endpoints{
				Authority: "https://login.microsoftonline.com", MDE: "https://api.security.microsoft.com",
				XDR: "https://api.security.microsoft.com", Graph: "https://graph.microsoft.com",
			},
			wantScopes: globalScopes,
		},
		{
			name: "global eu region", cloud: "global", region: "eu",
			want: Endpoints{
				Authority: "https://login.microsoftonline.com", MDE: "https://eu.api.security.microsoft.com",
				XDR: "https://api.security.microsoft.com", Graph: "https://graph.microsoft.com",
			},
			wantScopes: globalScopes,
		},
		{
			name: "global swa region", cloud: "global", region: "swa",
			want: Endpoints{
				Authority: "https://login.microsoftonline.com", MDE: "https://swa.api.security.microsoft.com",
				XDR: "https://api.security.microsoft.com", Graph: "https://graph.microsoft.com",
			},
			wantScopes: globalScopes,
		},
		{
			name: "gcc", cloud: "gcc",
			want: Endpoints{
				Authority: "https://login.microsoftonline.com", MDE: "https://api-gcc.securitycenter.microsoft.us",
				XDR: "https://api-gcc.security.microsoft.us", Graph: "https://graph.microsoft.com",
			},
			wantScopes: Scopes{
				MDE:   "https://api-gcc.securitycenter.microsoft.us/.default",
				XDR:   "https://api-gcc.security.microsoft.us/.default",
				Graph: "https://graph.microsoft.com/.default",
			},
		},
		{
			name: "gcc-high", cloud: "gcc-high",
			want: Endpoints{
				Authority: "https://login.microsoftonline.us", MDE: "https://api-gov.securitycenter.microsoft.us",
				XDR: "https://api-gov.security.microsoft.us", Graph: "https://graph.microsoft.us",
			},
			wantScopes: govScopes,
		},
		{
			name: "dod", cloud: "dod",
			want: Endpoints{
				Authority: "https://login.microsoftonline.us", MDE: "https://api-gov.securitycenter.microsoft.us",
				XDR: "https://api-gov.security.microsoft.us", Graph: "https://dod-graph.microsoft.us",
			},
			wantScopes: dodScopes,
		},
		{
			name: "override changes hosts, never scopes", cloud: "gcc-high",
			override: Endpoints{Authority: "https://127.0.0.1:8443/", MDE: "https://proxy.example:9443/mde/", Graph: "https://g.example"},
			want: Endpoints{
				Authority: "https://127.0.0.1:8443", MDE: "https://proxy.example:9443/mde",
				XDR: "https://api-gov.security.microsoft.us", Graph: "https://g.example",
			},
			wantScopes: govScopes,
		},
		{
			name: "override wins over region", cloud: "global", region: "uk",
			override: Endpoints{MDE: "https://mde.example"},
			want: Endpoints{
				Authority: "https://login.microsoftonline.com", MDE: "https://mde.example",
				XDR: "https://api.security.microsoft.com", Graph: "https://graph.microsoft.com",
			},
			wantScopes: globalScopes,
		},
		{name: "unknown cloud", cloud: "china", wantErr: `unknown cloud "china": want one of global, gcc, gcc-high, dod`},
		{name: "region outside global", cloud: "gcc", region: "eu", wantErr: `region "eu": regions apply only to the global cloud, not "gcc"`},
		{name: "unknown region", cloud: "global", region: "fr", wantErr: `unknown region "fr": want one of us, eu, uk, au, swa, ina, aea`},
		{name: "override in clear text", override: Endpoints{XDR: "http://x.example"}, wantErr: "endpoint xdr: \"http://x.example\": want an https:// URL"},
		{name: "override with query", override: Endpoints{Graph: "https://g.example/?a=b"}, wantErr: "endpoint graph: \"https://g.example/?a=b\": a base URL takes no query or fragment"},
		{name: "override with credentials", override: Endpoints{MDE: "https://u:pw@h.example"}, wantErr: "credentials in the URL are not allowed"},
		{name: "override without host", override: Endpoints{Authority: "https:///x"}, wantErr: "endpoint authority: \"https:///x\": no host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, scopes, err := ResolveEndpoints(tc.cloud, tc.region, tc.override)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "pw") {
					t.Errorf("error shows the URL password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("endpoints = %+v\nwant        %+v", got, tc.want)
			}
			if scopes != tc.wantScopes {
				t.Errorf("scopes = %+v\nwant     %+v", scopes, tc.wantScopes)
			}
		})
	}
}
