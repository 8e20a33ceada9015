package cmd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/licensekit/licensekit/examples/licensectl/cmd"
	"github.com/licensekit/licensekit/license"
)

// offlinePlane answers POST /licenses/{id}/offline-activation with a
// canned response, to check what licensectl itself does with the files;
// TestActivateOfflineReal runs the call against the real control plane.
func offlinePlane(t *testing.T, response string) (url string, got *[]byte) {
	var body []byte
	mux := http.NewServeMux()
	mux.HandleFunc("POST /licenses/{id}/offline-activation", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer "+adminKey {
			w.WriteHeader(401)
			_, _ = w.Write([]byte(`{"error":{"code":"UNAUTHENTICATED","message":"Missing, unknown, expired or revoked API key"}}`))
			return
		}
		if r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(415)
			_, _ = w.Write([]byte(`{"error":{"code":"UNSUPPORTED_MEDIA_TYPE","message":"Content-Type must be application/json"}}`))
			return
		}
		if r.PathValue("id") != "lic_air" {
			w.WriteHeader(404)
			_, _ = w.Write([]byte(`{"error":{"code":"NOT_FOUND","message":"License not found"}}`))
			return
		}
		body, _ = io.ReadAll(r.Body)
		_, _ = w.Write([]byte(response))
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s.URL, &body
}

const offlineRequest = `{"format":"licensekit.offline-request/v1","license_id":"lic_air","token":"eyJ.x.y","fingerprint":"fp1.air","nonce":"n1","time":"2026-01-01T00:00:00Z"}`
const offlineResponse = `{"format":"licensekit.offline-response/v1","license_id":"lic_air","lease":"eyJ.lease.sig"}`

func TestActivateOffline(t *testing.T) {
	url, got := offlinePlane(t, offlineResponse)
	env := []string{"LICENSECTL_URL=" + url, "LICENSECTL_API_KEY=" + adminKey}
	dir := t.TempDir()
	req := filepath.Join(dir, "req.json")
	if err := os.WriteFile(req, []byte(offlineRequest), 0o600); err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(dir, "resp.json")
	r := want(t, ctl(t, env, "", "licenses", "activate-offline", "lic_air", "--request", req, "--out", out), 0, "activate-offline --out")
	if string(*got) != offlineRequest {
		t.Fatalf("the server got %q, want the request file as is", *got)
	}
	if data, err := os.ReadFile(out); err != nil || string(data) != offlineResponse {
		t.Fatalf("response file: %v %q", err, data)
	}
	if !strings.Contains(r.stderr, "Wrote") {
		t.Errorf("writing a file should say so:\n%s", r)
	}
	r = want(t, ctl(t, env, offlineRequest, "licenses", "activate-offline", "lic_air", "--request", "-"), 0, "activate-offline from stdin to stdout")
	if r.stdout != offlineResponse {
		t.Fatalf("stdout %q, want the response file", r.stdout)
	}

	other := filepath.Join(dir, "other.json")
	_ = os.WriteFile(other, []byte(strings.Replace(offlineRequest, "lic_air", "lic_other", 1)), 0o600)
	wantErr(t, ctl(t, env, "", "licenses", "activate-offline", "lic_air", "--request", other), 4, "a request of another licence", "lic_other")
	notReq := filepath.Join(dir, "license.json")
	_ = os.WriteFile(notReq, []byte(`{"format":"licensekit.keyfile/v1"}`), 0o600)
	wantErr(t, ctl(t, env, "", "licenses", "activate-offline", "lic_air", "--request", notReq), 4, "a key file given as the request", "format")
	_ = os.WriteFile(notReq, []byte(`not json`), 0o600)
	wantErr(t, ctl(t, env, "", "licenses", "activate-offline", "lic_air", "--request", notReq), 4, "a request that is not JSON", "not a JSON object")
	wantErr(t, ctl(t, env, "", "licenses", "activate-offline", "lic_air", "--request", filepath.Join(dir, "missing.json")), 4, "no request file", "--request")
	wantErr(t, ctl(t, env, "", "licenses", "activate-offline", "lic_unknown", "--request", req), 4, "a request for another licence than the argument", `not "lic_unknown"`)
	wantErr(t, ctl(t, []string{"LICENSECTL_URL=" + url, "LICENSECTL_API_KEY=lk_wrong"}, "", "licenses", "activate-offline", "lic_air", "--request", req), 2, "a wrong key", "UNAUTHENTICATED")

	badURL, _ := offlinePlane(t, `{"format":"something-else"}`)
	wantErr(t, ctl(t, []string{"LICENSECTL_URL=" + badURL, "LICENSECTL_API_KEY=" + adminKey}, "", "licenses", "activate-offline", "lic_air", "--request", req), 5, "an answer that is no response file", "format")

	// A server older than the call: not found, with a hint.
	old := http.NewServeMux()
	old.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(404)
		_, _ = w.Write([]byte(`{"error":{"code":"NOT_FOUND","message":"Route not found"}}`))
	})
	oldSrv := httptest.NewServer(old)
	t.Cleanup(oldSrv.Close)
	r = wantErr(t, ctl(t, []string{"LICENSECTL_URL=" + oldSrv.URL, "LICENSECTL_API_KEY=" + adminKey}, "", "licenses", "activate-offline", "lic_air", "--request", req),
		3, "a server without offline activation", "Route not found")
	if !strings.Contains(r.stderr, "does not offer this call") {
		t.Errorf("a missing route should be explained:\n%s", r)
	}
}

// TestActivateOfflineReal answers an offline request with the real control
// plane: the response file is canonical, its lease verifies with the
// published keys and names the machine, and the machine is bound offline.
func TestActivateOfflineReal(t *testing.T) {
	p := startPlane(t)
	admin := p.env(adminKey)
	lic := decode[licenceAnswer](t, want(t, ctl(t, admin, "", "licenses", "issue", "--tenant-id", "ten_abc123", "-o", "json"), 0, "issue")).License
	dir := t.TempDir()
	write := func(name, token, created string) string {
		path := filepath.Join(dir, name)
		body := fmt.Sprintf(`{"format":"licensekit.offline-request/v1","license_id":%q,"token":%q,"fingerprint":"fp1.air","nonce":"NONCE0001","created_at":%q}`,
			lic.ID, token, created)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	now := time.Now().UTC().Format(time.RFC3339)
	req := write("req.json", lic.Primary, now)
	out := filepath.Join(dir, "resp.json")
	want(t, ctl(t, admin, "", "licenses", "activate-offline", lic.ID, "--request", req, "--out", out), 0, "activate-offline")
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		Format    string `json:"format"`
		LicenseID string `json:"license_id"`
		Lease     string `json:"lease"`
	}
	if err := json.Unmarshal(data, &resp); err != nil {
		t.Fatalf("response file %q: %v", data, err)
	}
	if canon := `{"format":"licensekit.offline-response/v1","license_id":"` + lic.ID + `","lease":"` + resp.Lease + "\"}\n"; string(data) != canon {
		t.Fatalf("the response file is not canonical:\n%q", data)
	}
	res, err := http.Get(p.hs.URL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := io.ReadAll(res.Body)
	res.Body.Close()
	ring, err := license.ParseKeyring(jwks)
	if err != nil {
		t.Fatal(err)
	}
	lease, err := license.NewVerifier(ring, license.WithIssuer("acme")).VerifyLease(resp.Lease)
	if err != nil || lease.LicenseID != lic.ID || lease.Fingerprint != "fp1.air" || lease.Nonce != "NONCE0001" {
		t.Fatalf("the offline lease: %+v %v", lease, err)
	}
	if m := show(t, admin, lic.ID).License.Machines; len(m) != 1 || m[0].Fingerprint != "fp1.air" {
		t.Fatalf("bindings after the offline activation: %+v", m)
	}
	// The same request again is answered, to standard output.
	r := want(t, ctl(t, admin, "", "licenses", "activate-offline", lic.ID, "--request", req), 0, "the same request again")
	if !strings.HasPrefix(r.stdout, `{"format":"licensekit.offline-response/v1"`) {
		t.Fatalf("stdout %q", r.stdout)
	}

	// The server's refusals, with its reasons.
	wantErr(t, ctl(t, admin, "", "licenses", "activate-offline", lic.ID, "--request",
		write("old.json", lic.Primary, time.Now().Add(-40*24*time.Hour).UTC().Format(time.RFC3339))), 4, "an old request", "more than 30d ago")
	wantErr(t, ctl(t, admin, "", "licenses", "activate-offline", lic.ID, "--request", write("bad.json", "eyJ.x.y", now)), 4, "a token that is none", "invalid licence token")
	want(t, ctl(t, admin, "", "licenses", "reset", lic.ID, "--slot", "primary"), 0, "reset")
	refused := filepath.Join(dir, "refused.json")
	wantErr(t, ctl(t, admin, "", "licenses", "activate-offline", lic.ID, "--request", req, "--out", refused), 4, "a reset key", "replaced by a reset")
	if _, err := os.Stat(refused); !os.IsNotExist(err) {
		t.Fatalf("a refused request left a response file: %v", err)
	}
}

// TestDeleteAsks types the confirmation as a person at a terminal would.
// It runs in process, because only there can the test say that standard
// input is a terminal.
func TestDeleteAsks(t *testing.T) {
	p := startPlane(t)
	admin := p.env(adminKey)
	id := decode[licenceAnswer](t, want(t, ctl(t, admin, "", "licenses", "issue", "--tenant-id", "ten_abc123", "-o", "json"), 0, "issue")).License.ID
	run := func(typed string) (int, string) {
		var out, errb bytes.Buffer
		env := cmd.Env{Stdin: strings.NewReader(typed), Stdout: &out, Stderr: &errb, IsTerminal: func() bool { return true },
			Getenv: func(k string) string {
				return map[string]string{cmd.EnvURL: p.hs.URL, cmd.EnvAPIKey: adminKey}[k]
			}}
		code := cmd.Run(context.Background(), []string{"licenses", "delete", id}, env)
		return code, errb.String()
	}
	for _, typed := range []string{"", "lic_somethingelse\n", id[:len(id)-1] + "\n"} {
		code, stderr := run(typed)
		if code != cmd.ExitValidation || !strings.Contains(stderr, "Type the licence id") || !strings.Contains(stderr, "nothing was deleted") {
			t.Fatalf("typed %q: exit %d, stderr %s", typed, code, stderr)
		}
		if s := show(t, admin, id).License.Status; s != "active" {
			t.Fatalf("typed %q and the licence is %s", typed, s)
		}
	}
	if code, stderr := run(id + "\n"); code != cmd.ExitOK {
		t.Fatalf("typed the id: exit %d, %s", code, stderr)
	}
	if s := show(t, admin, id).License.Status; s != "deleted" {
		t.Fatalf("after a confirmed delete the licence is %s", s)
	}
	wantErr(t, ctl(t, admin, "", "licenses", "delete", id, "--yes"), 4, "delete twice", "already deleted")
}
