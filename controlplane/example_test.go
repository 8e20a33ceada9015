package controlplane_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/licensekit/licensekit/controlplane"
	"github.com/licensekit/licensekit/controlplane/memstore"
)

// A control plane over the in-memory store: issue a licence with the
// bootstrap admin key.
func ExampleNew() {
	cp, err := controlplane.New(context.Background(), controlplane.Config{
		Store:    memstore.New(),
		Issuer:   "acme",
		AdminKey: "example-admin-secret-0123",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cp.Close()

	req := httptest.NewRequest("POST", "/licenses", strings.NewReader(`{"tenant_id":"ten_abc123","plan":"yearly"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer example-admin-secret-0123")
	rec := httptest.NewRecorder()
	cp.ServeHTTP(rec, req)
	fmt.Println(rec.Code, strings.Contains(rec.Body.String(), `"status":"active"`))
	// Output: 201 true
}
