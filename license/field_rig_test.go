package license_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/mint"
)

// vendor is a hand-made control plane for the field operations: it signs
// with license/mint and answers device calls in memory, so that synctest
// can run months of a fleet in milliseconds.
type vendor struct {
	t    testing.TB
	keys []*mint.Key // keys[0] is the one products embed

	mu         sync.Mutex
	active     int             // index of the signing key
	down       map[string]bool // machine fingerprint → unreachable
	licenseKey string          // delivered with every answer when set
	keyset     string          // delivered with every answer when set
	presented  map[string][]string
	leaseTTL   time.Duration
}

func newVendor(t testing.TB, n int) *vendor {
	t.Helper()
	v := &vendor{t: t, down: map[string]bool{}, presented: map[string][]string{}, leaseTTL: 14 * 24 * time.Hour}
	for range n {
		k, err := mint.GenerateKey(license.EdDSA)
		if err != nil {
			t.Fatal(err)
		}
		v.keys = append(v.keys, k)
	}
	return v
}

func (v *vendor) signer(i int) *mint.Signer {
	s, err := mint.NewSigner(v.keys[i], mint.WithIssuer("acme"))
	if err != nil {
		v.t.Fatal(err)
	}
	return s
}

// embedded is the keyring products are built with: the first key only.
func (v *vendor) embedded() *license.Keyring {
	data, err := mint.JWKS(v.keys[0])
	if err != nil {
		v.t.Fatal(err)
	}
	kr, err := license.ParseKeyring(data)
	if err != nil {
		v.t.Fatal(err)
	}
	return kr
}

func claims(id string) mint.Claims {
	return mint.Claims{ID: id, Subject: "sub_1", Audience: []string{"Acme Bank"}, TenantID: "ten_1",
		TenantCountry: "DE", Capabilities: []string{"kyc:read"}, ExpiresAt: time.Now().Add(3 * 365 * 24 * time.Hour)}
}

// keyFile writes a key file of licence id signed with key i.
func (v *vendor) keyFile(dir, id string, i int) (path, primary string) {
	file, primary, _, err := v.signer(i).IssueKeyFile(claims(id))
	if err != nil {
		v.t.Fatal(err)
	}
	path = filepath.Join(dir, id+".json")
	if err := os.WriteFile(path, file, 0o600); err != nil {
		v.t.Fatal(err)
	}
	return path, primary
}

// token mints one licence token with key i, changed by edit.
func (v *vendor) token(i int, c mint.Claims) string {
	tok, err := v.signer(i).License(c)
	if err != nil {
		v.t.Fatal(err)
	}
	return tok
}

// statement signs a keyset statement with key by listing keys.
func (v *vendor) statement(by int, iat time.Time, keys ...int) string {
	var jwks []json.RawMessage
	for _, i := range keys {
		j, err := v.keys[i].PublicJWK()
		if err != nil {
			v.t.Fatal(err)
		}
		jwks = append(jwks, j)
	}
	return v.signRaw(by, license.TypeKeyset, map[string]any{"iss": "acme", "iat": iat.Unix(), "jti": "ks_" + strconv.FormatInt(iat.UnixNano(), 36), "keys": jwks})
}

// signRaw signs claims under typ with key i.
func (v *vendor) signRaw(i int, typ string, claims any) string {
	payload, err := json.Marshal(claims)
	if err != nil {
		v.t.Fatal(err)
	}
	tok, err := v.signer(i).SignCompact(map[string]any{"typ": typ}, payload)
	if err != nil {
		v.t.Fatal(err)
	}
	return tok
}

// offlineResponse answers an offline request as the control plane would,
// changed by edit.
func (v *vendor) offlineResponse(req []byte, ttl time.Duration, edit func(*mint.Lease, *license.OfflineResponse)) []byte {
	q, err := license.ParseOfflineRequest(req)
	if err != nil {
		v.t.Fatal(err)
	}
	l := mint.Lease{LicenseID: q.LicenseID, Fingerprint: q.Fingerprint, Status: license.LeaseActive,
		IssuedAt: time.Now(), ExpiresAt: time.Now().Add(ttl), Offline: true, Nonce: q.Nonce}
	r := &license.OfflineResponse{LicenseID: q.LicenseID}
	signer := 0
	if edit != nil {
		edit(&l, r)
		if l.ID == "unknown-key" {
			signer, l.ID = len(v.keys)-1, ""
		}
	}
	if r.Lease, err = v.signer(signer).Lease(l); err != nil {
		v.t.Fatal(err)
	}
	return r.Marshal()
}

func (v *vendor) set(fn func(v *vendor)) {
	v.mu.Lock()
	defer v.mu.Unlock()
	fn(v)
}

func (v *vendor) presentedBy(fpr string) []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.presented[fpr]...)
}

// RoundTrip answers activate and heartbeat with a lease signed by the
// active key, carrying the request's nonce, and the delivered key and
// keyset when set.
func (v *vendor) RoundTrip(req *http.Request) (*http.Response, error) {
	var body struct{ Token, Fingerprint, Nonce string }
	if err := json.NewDecoder(req.Body).Decode(&body); err != nil {
		return nil, err
	}
	req.Body.Close()
	parts := strings.Split(req.URL.Path, "/") // /licenses/{id}/{op}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.down[body.Fingerprint] {
		return nil, errors.New("vendor: unreachable")
	}
	v.presented[body.Fingerprint] = append(v.presented[body.Fingerprint], body.Token)
	now := time.Now()
	lease, err := v.signer(v.active).Lease(mint.Lease{LicenseID: parts[2], Fingerprint: body.Fingerprint,
		Status: license.LeaseActive, IssuedAt: now, ExpiresAt: now.Add(v.leaseTTL), Nonce: body.Nonce})
	if err != nil {
		return nil, err
	}
	answer := map[string]any{"status": "active", "lease": lease, "next_heartbeat_s": 3600}
	if v.licenseKey != "" {
		answer["license_key"] = v.licenseKey
	}
	if v.keyset != "" {
		answer["keyset"] = v.keyset
	}
	data, _ := json.Marshal(answer)
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(data)), Request: req}, nil
}

// machine is the Config of one product machine of the vendor's fleet.
func (v *vendor) machine(t *testing.T, keyFile, id string, online bool) license.Config {
	cfg := license.Config{
		Keys: v.embedded(), KeyFile: keyFile, AppID: "acme-appliance", Issuer: "acme",
		StateDir: filepath.Join(t.TempDir(), "state"), MachineID: id,
	}
	if online {
		cfg.ServerURL = "http://vendor.test"
		cfg.HTTPClient = &http.Client{Transport: v}
	}
	return cfg
}

func mustOpen(t *testing.T, cfg license.Config) *license.Manager {
	t.Helper()
	m, err := license.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func fieldState(t *testing.T, m *license.Manager, want license.State, code string) {
	t.Helper()
	s := m.Status()
	if s.State != want || license.Code(s.Err) != code {
		t.Fatalf("state %s (%v), want %s (%q)", s.State, s.Err, want, code)
	}
}

// fieldClock is the wall clock of a machine: the bubble's time plus an
// offset, which a test moves to make months pass (or to set the clock
// back) without a watchdog tick for every five minutes of it.
type fieldClock struct{ off atomic.Int64 }

func (c *fieldClock) now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *fieldClock) advance(d time.Duration) { c.off.Add(int64(d)) }

type mintClaims = mint.Claims

func leaseFor(id string) mint.Lease {
	return mint.Lease{LicenseID: id, Fingerprint: "fp1.x", Status: license.LeaseActive, IssuedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
}
