package license_test

import (
	"context"
	"fmt"
	"os"

	"github.com/licensekit/licensekit/license"
)

// A product that receives its licence key at run time (from its own UI or
// API, as package licensehttp does) installs it with Activate, and
// removes it with Deactivate. The activated key is kept in the state
// directory, so the product is still licensed after a restart.
func ExampleManager_Activate() {
	jwks, _ := os.ReadFile("testdata/example/jwks.json") // //go:embed in a product
	keys, _ := license.ParseKeyring(jwks)
	kf, _ := license.LoadKeyFile("testdata/example/license.json")
	key := kf.Primary // what the customer pastes
	stateDir, _ := os.MkdirTemp("", "licensekit-example")
	defer os.RemoveAll(stateDir)
	cfg := license.Config{Keys: keys, AppID: "acme-appliance", StateDir: stateDir, MachineID: "example-machine"}

	m, err := license.Open(context.Background(), cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Status().State)
	if _, err := m.Activate(context.Background(), "not-a-key"); err != nil {
		fmt.Println(license.Code(err))
	}
	lic, err := m.Activate(context.Background(), key)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Status().State, lic.ID, lic.Has("kyc:write"))
	_, err = m.Activate(context.Background(), key)
	fmt.Println(license.Code(err))
	m.Close()

	m, _ = license.Open(context.Background(), cfg) // a restart
	fmt.Println(m.Status().State, m.Status().License.ID)
	fmt.Println(m.Deactivate(context.Background()), m.Status().State)
	m.Close()
	// Output:
	// unlicensed
	// MALFORMED
	// active lic_01JD2X true
	// ALREADY_ACTIVATED
	// active lic_01JD2X
	// <nil> unlicensed
}

// Fingerprint is what a customer quotes to the vendor to have a licence
// bound to this machine. It is a keyed hash: it never reveals the machine
// id, and two products on one machine get different ones.
func ExampleManager_Fingerprint() {
	jwks, _ := os.ReadFile("testdata/example/jwks.json")
	keys, _ := license.ParseKeyring(jwks)
	stateDir, _ := os.MkdirTemp("", "licensekit-example")
	defer os.RemoveAll(stateDir)
	open := func(app string) *license.Manager {
		m, err := license.Open(context.Background(), license.Config{Keys: keys, AppID: app, StateDir: stateDir, MachineID: "example-machine"})
		if err != nil {
			panic(err)
		}
		return m
	}
	a, b := open("acme-appliance"), open("acme-terminal")
	defer a.Close()
	defer b.Close()
	fmt.Println(a.Fingerprint() != "", a.Fingerprint() == b.Fingerprint())
	// Output: true false
}
