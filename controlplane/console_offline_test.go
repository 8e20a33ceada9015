package controlplane_test

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// postFile sends the offline activation form as a browser does: multipart,
// with the request file and the session's CSRF token.
func (b *browser) postFile(path, field, name string, file []byte, fields url.Values) page {
	b.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if _, ok := fields["csrf"]; !ok {
		_ = mw.WriteField("csrf", b.csrf)
	}
	for k, vs := range fields {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	fw, err := mw.CreateFormFile(field, name)
	if err != nil {
		b.t.Fatal(err)
	}
	_, _ = fw.Write(file)
	_ = mw.Close()
	req := httptest.NewRequest(http.MethodPost, path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", consoleOrigin)
	return b.send(req)
}

func TestConsoleOfflineActivation(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", map[string]any{"max_machines": 3})
	b := h.signIn(adminSecret)
	wantPage(t, "licence page", b.get("/licensing/licenses/"+l.ID), http.StatusOK,
		"Offline activation", `enctype="multipart/form-data"`, `name="request_file"`, `name="request"`)

	path := "/licensing/licenses/" + l.ID + "/offline-activation"
	check := func(name string, p page, fp string) {
		t.Helper()
		if p.code != http.StatusOK || !strings.Contains(p.hdr.Get("Content-Disposition"), `filename="license-offline-response.json"`) {
			t.Fatalf("%s: %d %v %s", name, p.code, p.hdr, clipBody(p.body))
		}
		var a offlineAnswer
		if err := json.Unmarshal([]byte(p.body), &a); err != nil || a.Format != "licensekit.offline-response/v1" || a.LicenseID != l.ID {
			t.Fatalf("%s: not a response file: %q", name, p.body)
		}
		if c := payload(t, a.Lease); c["fpr"] != fp || c["offline"] != true {
			t.Fatalf("%s: lease claims %v", name, c)
		}
		ev := h.newest()
		if ev["action"] != "license.offline_activate" || ev["actor"] != "key_bootstrap" {
			t.Fatalf("%s: audit %v", name, ev)
		}
	}
	file, _ := json.Marshal(offlineReq(l.ID, l.Primary, "fp1.upload", "n1", h.clock.Now()))
	check("uploaded file", b.postFile(path, "request_file", "license-offline-request.json", file, nil), "fp1.upload")
	pasted, _ := json.Marshal(offlineReq(l.ID, l.Secondary, "fp1.pasted", "n2", h.clock.Now()))
	check("pasted text", b.post(path, url.Values{"request": {"\n" + string(pasted) + "\n"}}), "fp1.pasted")
	// Pasted text next to an empty file input: the text is taken.
	pasted3, _ := json.Marshal(offlineReq(l.ID, l.Primary, "fp1.both", "n3", h.clock.Now()))
	check("empty file, pasted text", b.postFile(path, "request_file", "", nil, url.Values{"request": {string(pasted3)}}), "fp1.both")

	before := h.events()
	for _, c := range []struct {
		name string
		p    page
		want int
		text string
	}{
		{"nothing", b.post(path, nil), 400, "Choose the request file"},
		{"not JSON", b.post(path, url.Values{"request": {"hello"}}), 400, "not JSON"},
		{"a key file", b.post(path, url.Values{"request": {`{"format":"licensekit.keyfile/v1"}`}}), 400, "licensekit.offline-request/v1"},
		{"no CSRF token", b.postFile(path, "request_file", "r.json", file, url.Values{"csrf": {"x"}}), 403, "security token"},
		{"another licence", b.post("/licensing/licenses/lic_unknown/offline-activation", url.Values{"request": {string(file)}}), 404, "not found"},
	} {
		if c.p.code != c.want || !strings.Contains(c.p.body, c.text) {
			t.Errorf("%s: %d, want %d with %q: %s", c.name, c.p.code, c.want, c.text, clipBody(c.p.body))
		}
	}
	if n := h.events(); n != before {
		t.Fatalf("refused uploads wrote %d events", n-before)
	}

	// A key without license.issue sees no form and may not post it.
	ro := h.signIn(h.key("ten_a", "onboarding", "read:licenses"))
	if p := ro.get("/licensing/licenses/" + l.ID); strings.Contains(p.body, "Offline activation") {
		t.Fatal("a read-only key is offered offline activation")
	}
	if p := ro.post(path, url.Values{"request": {string(file)}}); p.code != http.StatusForbidden {
		t.Fatalf("a read-only key posted an offline activation: %d", p.code)
	}
}
