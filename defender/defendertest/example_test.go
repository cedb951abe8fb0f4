package defendertest_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/defender-exporter/defender_exporter/defender/defendertest"
)

// A test starts a tenant, registers an app and points MSAL at the fake
// authority; the APIs are then served from the same URL.
func Example() {
	tenant, err := defendertest.New(defendertest.Options{
		Seed: 1,
		Size: defendertest.Size{Machines: 50, Alerts: 120},
		Now:  func() time.Time { return time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		panic(err)
	}
	defer tenant.Close()
	app := tenant.NewApp()

	cred, _ := confidential.NewCredFromSecret(app.Secret)
	client, _ := confidential.New(tenant.URL()+"/"+tenant.TenantID(), app.ClientID, cred,
		confidential.WithInstanceDiscovery(false),
		confidential.WithHTTPClient(&http.Client{Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: tenant.CAPool()},
		}}))
	tok, err := client.AcquireTokenByCredential(context.Background(), []string{"https://api.securitycenter.microsoft.com/.default"})
	if err != nil {
		panic(err)
	}

	req, _ := http.NewRequest(http.MethodGet, tenant.URL()+"/api/machines?$top=10", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := tenant.HTTPClient().Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, tenant.Calls("token"), tenant.Calls("/api/machines"))
	// Output: 200 1 1
}
