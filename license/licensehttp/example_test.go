package licensehttp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/licensehttp"
)

// A product mounts the licence API beside its own endpoints, and gates
// those on a capability. Here it runs offline, with the example vendor's
// keys; the key is pasted in through the API.
func ExampleNewHandler() {
	jwks, _ := os.ReadFile("../testdata/example/jwks.json") // //go:embed in a product
	keys, _ := license.ParseKeyring(jwks)
	stateDir, _ := os.MkdirTemp("", "licensehttp-example")
	defer os.RemoveAll(stateDir)
	m, err := license.Open(context.Background(), license.Config{
		Keys: keys, AppID: "acme-appliance", StateDir: stateDir, MachineID: "example-machine",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()

	mux := http.NewServeMux()
	api := licensehttp.NewHandler(m)
	mux.Handle("/v1/license", api)
	mux.Handle("/v1/license/", api)
	kyc := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "kyc records") })
	mux.Handle("GET /v1/kyc", licensehttp.Require(m, "kyc:write")(kyc))

	call := func(method, path, body string) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		var v struct {
			Code    string `json:"code"`
			State   string `json:"state"`
			License *struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			} `json:"license"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &v)
		switch {
		case v.License != nil:
			fmt.Println(rec.Code, v.License.ID, v.License.Status)
		case v.State != "":
			fmt.Println(rec.Code, v.Code, v.State)
		case v.Code != "":
			fmt.Println(rec.Code, v.Code)
		default:
			fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
		}
	}
	kf, _ := license.LoadKeyFile("../testdata/example/license.json")
	call("GET", "/v1/license", "")
	call("GET", "/v1/kyc", "")
	call("POST", "/v1/license/activate", `{"license_key":"`+kf.Primary+`"}`)
	call("GET", "/v1/kyc", "")
	call("POST", "/v1/license/activate", `{"license_key":"`+kf.Primary+`"}`)
	call("POST", "/v1/license/deactivate", `{}`)
	call("GET", "/v1/license", "")
	// Output:
	// 404 not_found
	// 403 forbidden unlicensed
	// 200 lic_01JD2X active
	// 200 kyc records
	// 409 already_activated
	// 200 {"success":true}
	// 404 not_found
}
