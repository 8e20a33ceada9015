package license_test

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/licensekit/licensekit/license/licensetest"
)

// hostileTransport sits between the product and the control plane. Some
// requests reach the real control plane; the others get a forged or broken
// answer. It remembers when the last genuine lease arrived.
type hostileTransport struct {
	cp     *licensetest.ControlPlane
	forger *licensetest.Issuer // signs with keys the product does not trust
	iss    *licensetest.Issuer // the vendor: signs genuine tokens, abused below
	lic    string
	rnd    *rand.Rand

	mu          sync.Mutex
	genuine     bool      // whether genuine answers get through at all
	lastGenuine time.Time // when the last genuine lease was handed out
	kinds       map[string]int
}

func (h *hostileTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(req.Body)
	req.Body.Close()
	var in struct{ Fingerprint string }
	_ = json.Unmarshal(body, &in)

	h.mu.Lock()
	genuine := h.genuine && h.rnd.IntN(3) == 0
	kind := h.rnd.IntN(10)
	h.mu.Unlock()

	if genuine {
		req.Body = io.NopCloser(bytes.NewReader(body))
		resp, err := h.cp.RoundTrip(req)
		if err == nil && resp.StatusCode == 200 {
			h.mu.Lock()
			h.lastGenuine = time.Now()
			h.kinds["genuine"]++
			h.mu.Unlock()
		}
		return resp, err
	}
	year := licensetest.ExpiresIn(365 * 24 * time.Hour)
	answer := func(status int, b string) (*http.Response, error) {
		h.mu.Lock()
		h.kinds[http.StatusText(status)+"/"+string(rune('a'+kind))]++
		h.mu.Unlock()
		return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(b)), Request: req}, nil
	}
	lease := func(tok string) string {
		return `{"status":"active","lease":"` + tok + `","next_heartbeat_s":3600,"server_time":"2000-01-01T00:00:00Z"}`
	}
	switch kind {
	case 0: // a year-long lease signed by a key the product does not trust
		return answer(200, lease(h.forger.MintLease(licensetest.Subject(h.lic), licensetest.Fingerprint(in.Fingerprint), year)))
	case 1: // the vendor's key, another licence
		return answer(200, lease(h.iss.MintLease(licensetest.Subject("lic_other"), licensetest.Fingerprint(in.Fingerprint), year)))
	case 2: // the vendor's key, another machine
		return answer(200, lease(h.iss.MintLease(licensetest.Subject(h.lic), licensetest.Fingerprint("fp1.someone-else"), year)))
	case 3: // a licence token where a lease belongs
		return answer(200, lease(h.iss.Mint(licensetest.ID(h.lic), year)))
	case 4: // a genuine-looking lease with its signature broken
		tok := h.iss.MintLease(licensetest.Subject(h.lic), licensetest.Fingerprint(in.Fingerprint), year)
		return answer(200, lease(tok[:len(tok)-6]+"AAAAAA"))
	case 5:
		return answer(200, `{"status":"active","lease":`)
	case 6:
		return answer(503, `{"error":{"code":"INTERNAL","message":"later"}}`)
	case 7:
		return answer(403, `{"error":{"code":"SOMETHING","message":"no"}}`)
	case 8:
		return answer(404, `<html>not here</html>`)
	default:
		return answer(429, `{}`)
	}
}

// TestManagerHostileControlPlane drives a product through 40 simulated days
// of answers that are mostly forged or broken, with stretches where no
// genuine answer gets through at all. Invariant at every step: use is
// allowed only within 14 days of the last genuine lease. No forged answer
// may buy a second.
func TestManagerHostileControlPlane(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t)
		h := &hostileTransport{
			cp: r.cp, forger: licensetest.NewIssuer(t, licensetest.IssuerName("acme")), iss: r.iss,
			lic: r.lic, rnd: rand.New(rand.NewPCG(1, 2)), genuine: true, kinds: map[string]int{},
		}
		r.cfg.HTTPClient = &http.Client{Transport: h}
		m := r.open()
		allowedSteps := 0
		for step := range 40 * 24 * 6 { // ten-minute steps
			day := step / (24 * 6)
			h.mu.Lock()
			h.genuine = day < 5 || (day >= 22 && day < 24) // then only forgeries until day 22, and after day 24
			last := h.lastGenuine
			h.mu.Unlock()
			st := m.Status()
			if st.State.Allowed() {
				allowedSteps++
				if last.IsZero() || time.Since(last) > 14*24*time.Hour {
					t.Fatalf("day %d: state %v, %v after the last genuine lease", day, st.State, time.Since(last))
				}
			}
			time.Sleep(10 * time.Minute)
			synctest.Wait()
		}
		st := m.Status()
		if st.State.Allowed() {
			t.Fatalf("after 16 days of forgeries: %v", st.State)
		}
		if allowedSteps == 0 {
			t.Fatal("the product never ran: the test proves nothing")
		}
		t.Logf("answers: %v; allowed in %d of %d steps; final state %v (%v)", h.kinds, allowedSteps, 40*24*6, st.State, st.Err)
	})
}
