package license_test

// The snippets of the README's "A product's first ten minutes", each
// runnable, so that what a newcomer copies compiles and does what the
// README says.

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/licensehttp"
	"github.com/licensekit/licensekit/license/licensetest"
)

// vendorJWKS is the vendor's public keys, as GET /.well-known/jwks.json
// of its control plane serves them. A product embeds its own vendor's.
//
//go:embed testdata/example/jwks.json
var vendorJWKS []byte

// Offline: the key file alone decides, on this machine, with no network.
func Example_readmeOffline() {
	ctx := context.Background()
	stateDir, _ := os.MkdirTemp("", "readme-example") // a product leaves StateDir empty
	defer os.RemoveAll(stateDir)

	keys, err := license.ParseKeyring(vendorJWKS) // a JWKS, or PEM "PUBLIC KEY" blocks
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := license.Open(ctx, license.Config{
		Keys:      keys,
		Issuer:    "acme",                          // the control plane's --issuer
		KeyFile:   "testdata/example/license.json", // the customer's downloaded key file
		AppID:     "acme-appliance",
		StateDir:  stateDir,          // empty: license.DefaultStateDir
		MachineID: "example-machine", // empty: the operating system's machine id
	})
	if err != nil {
		fmt.Println("configuration:", err) // only configuration errors fail Open
		return
	}
	defer m.Close()

	// On every request: no lock, no I/O, no allocation.
	if err := m.Require("kyc:write"); err != nil {
		fmt.Println("refused:", license.Code(err))
		return
	}
	st := m.Status()
	fmt.Println(st.State, st.License.ID, st.License.ExpiresAt.Year())

	err = m.Require("billing:admin")
	fmt.Println(license.Code(err), errors.Is(err, license.ErrCapability))
	// Output:
	// active lic_01JD2X 2100
	// CAPABILITY_NOT_GRANTED true
}

// Online: the same Config with ServerURL. The manager activates the
// licence on this machine, then beats and keeps the newest signed lease on
// disk. Here the control plane is licensetest's, on a loopback port.
func Example_readmeOnline() {
	var tb licensetest.Standalone // stands in for a *testing.T outside a test
	defer tb.Close()
	iss := licensetest.NewIssuer(&tb, licensetest.IssuerName("acme"))
	srv := licensetest.NewControlPlane(iss).NewServer()
	keyFile := iss.WriteKeyFile("", licensetest.Tokens(licensetest.Capabilities("kyc:write")))
	ctx := context.Background()

	changed := make(chan license.Status, 8)
	m, err := license.Open(ctx, license.Config{
		Keys:      iss.Keyring(), // a product: license.ParseKeyring(vendorJWKS)
		Issuer:    "acme",
		KeyFile:   keyFile,
		AppID:     "acme-appliance",
		ServerURL: srv.URL, // e.g. "https://licensing.example.com"; empty: offline
		StateDir:  tb.TempDir(),
		MachineID: "example-machine",
		OnChange:  func(s license.Status) { changed <- s }, // transitions only
	})
	if err != nil {
		fmt.Println("configuration:", err)
		return
	}
	defer m.Close()

	fmt.Println(m.Status().State, license.Code(m.Require("kyc:write")))
	select {
	case s := <-changed:
		fmt.Println(s.State, m.Require("kyc:write"), s.GraceDeadline.Sub(s.LastContact).Round(time.Hour))
	case <-time.After(10 * time.Second):
		fmt.Println("no answer from the control plane")
	}
	// Output:
	// inactive NOT_ACTIVATED
	// active <nil> 336h0m0s
}

// The product's licence API and a capability-gated endpoint, with
// package licensehttp.
func Example_readmeHTTP() {
	stateDir, _ := os.MkdirTemp("", "readme-example")
	defer os.RemoveAll(stateDir)
	keys, _ := license.ParseKeyring(vendorJWKS)
	m, err := license.Open(context.Background(), license.Config{
		Keys: keys, Issuer: "acme", KeyFile: "testdata/example/license.json",
		AppID: "acme-appliance", StateDir: stateDir, MachineID: "example-machine",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()

	reports := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "reports") })
	mux := http.NewServeMux()
	api := licensehttp.NewHandler(m) // activate, show, deactivate, validate
	mux.Handle("/v1/license", api)
	mux.Handle("/v1/license/", api)
	mux.Handle("GET /v1/reports", licensehttp.Require(m, "kyc:read")(reports))
	mux.Handle("GET /v1/billing", licensehttp.Require(m, "billing:admin")(reports))

	for _, path := range []string{"/v1/license", "/v1/reports", "/v1/billing"} {
		rec := httptest.NewRecorder()
		// The licence API answers only on loopback names (or those given
		// to licensehttp.WithHosts), against DNS rebinding.
		mux.ServeHTTP(rec, httptest.NewRequest("GET", "http://localhost"+path, nil))
		fmt.Println(path, rec.Code)
	}
	// Output:
	// /v1/license 200
	// /v1/reports 200
	// /v1/billing 403
}

// A product's own tests: licensetest mints keys and key files and runs the
// reference control plane in memory. In a test, pass t instead of &tb.
func Example_readmeTesting() {
	var tb licensetest.Standalone
	defer tb.Close()
	iss := licensetest.NewIssuer(&tb, licensetest.IssuerName("acme")) // fresh keys
	cp := licensetest.NewControlPlane(iss)                            // no socket: works inside testing/synctest
	cfg := license.Config{
		Issuer:    "acme",
		KeyFile:   iss.WriteKeyFile("", licensetest.Tokens(licensetest.Capabilities("kyc:write"))),
		AppID:     "acme-appliance",
		StateDir:  tb.TempDir(),
		MachineID: "test-machine",
	}
	iss.Configure(&cfg) // Keys; fails at once if cfg.Issuer is not the issuer's name
	cp.Configure(&cfg)  // ServerURL and HTTPClient

	changed := make(chan license.State, 8)
	cfg.OnChange = func(s license.Status) { changed <- s.State }
	m, err := license.Open(context.Background(), cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	select {
	case s := <-changed:
		fmt.Println(s, m.Require("kyc:write"), cp.Count("activate"))
	case <-time.After(10 * time.Second):
		fmt.Println("no activation")
	}
	// Then: cp.SetDown(true) for an outage, cp.Suspend(id), cp.Revoke(id),
	// cp.Fail(licensetest.Fault{Status: 503}), and synctest to let days pass.

	// Output:
	// active <nil> 1
}
