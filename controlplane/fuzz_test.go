package controlplane_test

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzDeviceBody sends arbitrary bodies to the device calls: never a
// panic, never a 5xx, always the envelope on failure.
func FuzzDeviceBody(f *testing.F) {
	h := newHarness(f)
	l := h.issue("ten_a", nil)
	for _, s := range []string{`{"token":"` + l.Primary + `","fingerprint":"fp","idempotency_key":"k"}`, `{}`, `[]`, `{"token":1}`,
		`{"token":"a","token":"b"}`, "\x00", `{"fingerprint":"\u0000"}`, `{"token":"` + l.Primary + `","fingerprint":"fp","x":{}}`} {
		f.Add("activate", s)
		f.Add("heartbeat", s)
		f.Add("deactivate", s)
	}
	f.Fuzz(func(t *testing.T, op, body string) {
		if op != "activate" && op != "heartbeat" && op != "deactivate" {
			op = "heartbeat"
		}
		req := httptest.NewRequest("POST", "/licenses/"+l.ID+"/"+op, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.srv.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %q: %d %s", op, body, rec.Code, rec.Body.String())
		}
		if rec.Code >= 400 {
			errorCode(t, rec)
		}
	})
}

// FuzzIssueBody sends arbitrary bodies to POST /licenses.
func FuzzIssueBody(f *testing.F) {
	h := newHarness(f)
	for _, s := range []string{`{"tenant_id":"ten_a"}`, `{"tenant_id":"ten_a","ttl":"90d","audience":["a","b"],"metadata":{"k":"v"}}`,
		`{"tenant_id":"ten_a","tenant_id":"x"}`, `{"audience":7}`, `{"tenant_id":"t","ttl":"9223372036854775807d"}`, `{"tenant_id":"t","max_machines":-1}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest("POST", "/licenses", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+adminSecret)
		rec := httptest.NewRecorder()
		h.srv.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%q: %d %s", body, rec.Code, rec.Body.String())
		}
		if rec.Code >= 400 {
			errorCode(t, rec)
		}
	})
}
