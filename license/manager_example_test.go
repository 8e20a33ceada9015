package license_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/licensetest"
)

// A product's start-up: open the manager once, then ask it on every
// request. Offline mode needs no control plane: the key file decides.
func ExampleOpen() {
	jwks, _ := os.ReadFile("testdata/example/jwks.json") // //go:embed in a product
	keys, _ := license.ParseKeyring(jwks)
	stateDir, _ := os.MkdirTemp("", "licensekit-example")
	defer os.RemoveAll(stateDir)

	m, err := license.Open(context.Background(), license.Config{
		Keys:      keys,
		KeyFile:   "testdata/example/license.json",
		AppID:     "acme-appliance",
		StateDir:  stateDir,
		MachineID: "example-machine", // normally read from the OS
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()

	st := m.Status()
	fmt.Println(st.State, st.License.ID)
	fmt.Println(m.Require("kyc:write"))
	fmt.Println(license.Code(m.Require("billing:admin")))
	// Output:
	// active lic_01JD2X
	// <nil>
	// CAPABILITY_NOT_GRANTED
}

// Online, the manager activates the licence on this machine and keeps a
// signed lease fresh; OnChange hears of each transition. Here the control
// plane is licensetest's, in memory.
func ExampleOpen_online() {
	var tb licensetest.Standalone // an Example's stand-in for testing.TB
	defer tb.Close()
	iss := licensetest.NewIssuer(&tb, licensetest.IssuerName("acme"))
	cp := licensetest.NewControlPlane(iss)
	dir, _ := os.MkdirTemp("", "licensekit-example")
	defer os.RemoveAll(dir)
	keyFile := dir + "/license.json"
	_ = os.WriteFile(keyFile, iss.KeyFile(licensetest.Tokens(licensetest.Capabilities("kyc:write"))), 0o600)

	changes := make(chan license.State, 8)
	m, err := license.Open(context.Background(), license.Config{
		Keys:       iss.Keyring(),
		KeyFile:    keyFile,
		AppID:      "acme-appliance",
		ServerURL:  cp.URL(),
		HTTPClient: cp.Client(),
		StateDir:   dir,
		MachineID:  "example-machine",
		OnChange:   func(s license.Status) { changes <- s.State },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	fmt.Println("before activation:", license.Code(m.Require("kyc:write")))
	select {
	case s := <-changes:
		fmt.Println("then:", s, m.Require("kyc:write"))
	case <-time.After(10 * time.Second):
		fmt.Println("no activation")
	}
	fmt.Println("grace left:", m.Status().GraceLeft(time.Now()).Round(time.Hour))
	// Output:
	// before activation: NOT_ACTIVATED
	// then: active <nil>
	// grace left: 336h0m0s
}
