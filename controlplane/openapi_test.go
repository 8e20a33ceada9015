package controlplane_test

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/licensekit/licensekit/controlplane"
)

// TestOpenAPIMatchesRoutes walks the route table and the served document
// both ways: every route is documented with its permission, and the
// document names nothing the server does not answer.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	h := newHarness(t)
	rec := h.do("GET", "/openapi.json", "", nil)
	if rec.Code != 200 {
		t.Fatalf("openapi: %d", rec.Code)
	}
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
		Comps   struct{ Schemas map[string]any }     `json:"components"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	want := map[string]string{}
	for _, r := range controlplane.Routes() {
		want[strings.ToLower(r.Method)+" "+r.Path] = r.Access
	}
	got := map[string]string{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			got[method+" "+path] = op["x-permission"].(string)
			// every schema referenced exists
			b, _ := json.Marshal(op)
			for _, part := range strings.Split(string(b), `"#/components/schemas/`)[1:] {
				name := part[:strings.IndexByte(part, '"')]
				if doc.Comps.Schemas[name] == nil {
					t.Errorf("%s %s: schema %s missing", method, path, name)
				}
			}
		}
	}
	keys := func(m map[string]string) []string {
		var out []string
		for k, v := range m {
			out = append(out, k+" → "+v)
		}
		sort.Strings(out)
		return out
	}
	if strings.Join(keys(got), "\n") != strings.Join(keys(want), "\n") {
		t.Fatalf("document and route table disagree:\ndoc:\n%s\ntable:\n%s", strings.Join(keys(got), "\n"), strings.Join(keys(want), "\n"))
	}
	// And the server answers each documented route (no 404 from the mux).
	for _, r := range controlplane.Routes() {
		path := strings.NewReplacer("{id}", "x", "{kid}", "x").Replace(r.Path)
		if rec := h.do(r.Method, path, "", nil); rec.Code == 404 && errorBody(rec.Body.String()) == "Route not found" {
			t.Errorf("%s %s is documented but not served", r.Method, r.Path)
		}
	}
}

func errorBody(s string) string {
	var env struct{ Error struct{ Message string } }
	_ = json.Unmarshal([]byte(s), &env)
	return env.Error.Message
}
