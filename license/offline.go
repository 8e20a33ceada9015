package license

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"strconv"
	"time"

	"github.com/licensekit/licensekit/internal/strictjson"
)

// The formats of air-gapped activation: the request a product writes and
// the response the vendor's control plane turns it into.
const (
	OfflineRequestFormat  = "licensekit.offline-request/v1"
	OfflineResponseFormat = "licensekit.offline-response/v1"
)

// MaxOfflineFile bounds an offline activation request or response.
const MaxOfflineFile = 64 << 10

// OfflineRequest is an air-gapped machine's activation request. It is not
// signed (the product holds no private key): the control plane checks
// everything in it.
type OfflineRequest struct {
	LicenseID   string    // license_id: the licence's jti
	Token       string    // token: the licence token the machine holds
	Fingerprint string    // fingerprint: this machine's, as a lease's fpr holds it
	Nonce       string    // nonce: 26 characters from crypto/rand; the response must carry it
	CreatedAt   time.Time // created_at: the machine's clock when it wrote the request
}

// OfflineResponse is a parsed offline activation response. Its lease is
// not verified by [ParseOfflineResponse]; [Manager.ImportOffline] does.
type OfflineResponse struct {
	LicenseID string // license_id
	Lease     string // lease: the lease JWS, offline: true, answering the request's nonce
}

// Marshal renders the request in its file form: compact JSON, one
// trailing newline.
func (q *OfflineRequest) Marshal() []byte {
	b, _ := json.Marshal(struct {
		Format      string `json:"format"`
		LicenseID   string `json:"license_id"`
		Token       string `json:"token"`
		Fingerprint string `json:"fingerprint"`
		Nonce       string `json:"nonce"`
		CreatedAt   string `json:"created_at"`
	}{OfflineRequestFormat, q.LicenseID, q.Token, q.Fingerprint, q.Nonce, q.CreatedAt.UTC().Format(time.RFC3339)})
	return append(b, '\n')
}

// ParseOfflineRequest reads an offline activation request strictly: at
// most [MaxOfflineFile] bytes, a JSON object with exactly the members
// format, license_id, token, fingerprint, nonce and created_at (none
// unknown, none repeated, all non-empty strings), the format
// [OfflineRequestFormat] and created_at an RFC 3339 time. Errors wrap
// [ErrMalformed]. It never panics.
func ParseOfflineRequest(data []byte) (*OfflineRequest, error) {
	m, err := readMembers(data, "format", "license_id", "token", "fingerprint", "nonce", "created_at")
	if err != nil {
		return nil, err
	}
	if m["format"] != OfflineRequestFormat {
		return nil, fail(ErrMalformed, "offline request: format is not "+OfflineRequestFormat)
	}
	at, err := time.Parse(time.RFC3339, m["created_at"])
	if err != nil {
		return nil, fail(ErrMalformed, "offline request: created_at is not an RFC 3339 time")
	}
	return &OfflineRequest{LicenseID: m["license_id"], Token: m["token"], Fingerprint: m["fingerprint"],
		Nonce: m["nonce"], CreatedAt: at}, nil
}

// ParseOfflineResponse reads an offline activation response. The file
// must be byte for byte the one canonical form of what it holds —
// {"format":…,"license_id":…,"lease":…} in this order, no white space,
// one trailing newline — so that a response edited in any byte is
// refused even where JSON would not care. Errors wrap [ErrMalformed]. It
// never panics.
func ParseOfflineResponse(data []byte) (*OfflineResponse, error) {
	m, err := readMembers(data, "format", "license_id", "lease")
	if err != nil {
		return nil, err
	}
	if m["format"] != OfflineResponseFormat {
		return nil, fail(ErrMalformed, "offline response: format is not "+OfflineResponseFormat)
	}
	r := &OfflineResponse{LicenseID: m["license_id"], Lease: m["lease"]}
	if !bytes.Equal(data, r.Marshal()) {
		return nil, fail(ErrMalformed, "offline response is not in its canonical form (edited?)")
	}
	return r, nil
}

// Marshal renders the response in its one canonical form.
func (r *OfflineResponse) Marshal() []byte {
	b := []byte(`{"format":`)
	b = strconv.AppendQuote(b, OfflineResponseFormat)
	b = append(b, `,"license_id":`...)
	b = strconv.AppendQuote(b, r.LicenseID)
	b = append(b, `,"lease":`...)
	b = strconv.AppendQuote(b, r.Lease)
	return append(b, "}\n"...)
}

// readMembers reads a JSON object whose members are exactly names, each
// a non-empty string.
func readMembers(data []byte, names ...string) (map[string]string, error) {
	if len(data) > MaxOfflineFile {
		return nil, fail(ErrMalformed, "offline file larger than 64 KiB")
	}
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
	}
	got := make(map[string]string, len(names))
	r := strictjson.NewReader(data)
	if r.Peek() != strictjson.Object {
		return nil, fail(ErrMalformed, "offline file is not a JSON object")
	}
	err := r.Object(func(name string) error {
		if !want[name] {
			return errors.New("unknown member " + strconv.Quote(name))
		}
		s, err := r.String()
		if err != nil {
			return errors.New("member " + name + " is not a string")
		}
		got[name] = s
		return nil
	})
	if err == nil {
		err = r.End()
	}
	if err != nil {
		return nil, fail(ErrMalformed, "offline file: "+err.Error())
	}
	for _, n := range names {
		if got[n] == "" {
			return nil, fail(ErrMalformed, "offline file: member "+n+" is missing or empty")
		}
	}
	return got, nil
}

// OfflineRequest writes this machine's offline activation request for
// the licence in use, for an air-gapped machine: carry it to the vendor,
// who turns it into a response (console, licensectl or the control
// plane's API), and import that with [Manager.ImportOffline] or
// Config.OfflineResponse. The request's nonce becomes the pending one in
// the licence's state (it survives a restart); only a response carrying
// it is imported, and writing a new request replaces it. It fails with
// [ErrUnlicensed] when no licence is in use, and with [ErrConfig] when
// the state cannot be written.
func (m *Manager) OfflineRequest() ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lic == nil || m.store == nil {
		return nil, orUnlicensed(m.licErr)
	}
	q := &OfflineRequest{LicenseID: m.lic.ID, Token: m.token(), Fingerprint: m.fp.String(),
		Nonce: rand.Text(), CreatedAt: m.now().Truncate(time.Second)}
	prev := m.st
	m.st.OfflineNonce, m.st.OfflineRequestedAt = q.Nonce, q.CreatedAt
	if err := m.store.Save(m.st); err != nil {
		m.st = prev
		return nil, failWith(ErrConfig, "keeping the pending offline request in the state directory: "+err.Error(), err)
	}
	m.dirty = false
	return q.Marshal(), nil
}

// ImportOffline imports an offline activation response: the file must be
// in its canonical form (see [ParseOfflineResponse]); its license_id that
// of the licence in use and of its lease's sub; the lease must verify
// with the manager's keys, name exactly this machine's fingerprint, carry
// offline: true and the nonce of the pending request. It then becomes the
// licence's newest lease (every rule of lease order and of the clock
// applies) and the pending request is cleared, so the same response
// imported again changes nothing (and returns nil). Without a control
// plane the manager is then active until the lease's exp, and locked
// (ErrGraceExpired) after it.
//
// A refusal changes nothing and wraps its sentinel: [ErrMalformed] for a
// file that is not a canonical response, [ErrClaims] for another licence,
// [ErrFingerprint] for another machine, [ErrOfflineResponse] for a lease
// that is not offline or answers no pending request (a response replayed),
// [ErrSignature] or [ErrUnknownKey] for a lease the keys do not vouch for,
// [ErrUnlicensed] when no licence is in use.
func (m *Manager) ImportOffline(resp []byte) error {
	r, err := ParseOfflineResponse(resp)
	if err != nil {
		return err
	}
	m.mu.Lock()
	err = m.importOffline(r)
	_, changed := m.evaluate()
	m.mu.Unlock()
	m.poke()
	if changed {
		m.notify()
	}
	return err
}

// importOfflineFile imports Config.OfflineResponse at Open, when set and
// present. Why it was not imported is kept for Status. Called by Open
// before m is shared.
func (m *Manager) importOfflineFile() {
	m.importErr = nil
	if m.cfg.OfflineResponse == "" {
		return
	}
	data, err := os.ReadFile(m.cfg.OfflineResponse)
	if err == nil && len(data) > MaxOfflineFile {
		err = fail(ErrMalformed, "offline response larger than 64 KiB")
	}
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			m.importErr = err
		}
		return
	}
	r, err := ParseOfflineResponse(data)
	if err == nil {
		err = m.importOffline(r)
	}
	if err != nil {
		m.importErr = err
		m.log.Warn("licensekit: the offline response was not imported", "path", m.cfg.OfflineResponse, "err", err)
	}
}

// importOffline applies a parsed response. m.mu must be held.
func (m *Manager) importOffline(r *OfflineResponse) error {
	if m.lic == nil || m.store == nil {
		return orUnlicensed(m.licErr)
	}
	if cur := m.st.Lease; cur != nil && cur.Token == r.Lease {
		return nil // imported already
	}
	if r.LicenseID != m.lic.ID {
		return fail(ErrClaims, "offline response is for licence "+quote(r.LicenseID)+", not "+quote(m.lic.ID))
	}
	l, err := m.verifier().VerifyLease(r.Lease)
	switch {
	case err != nil:
		return err
	case l.LicenseID != r.LicenseID:
		return fail(ErrClaims, "the offline lease is for licence "+quote(l.LicenseID))
	case l.Fingerprint != m.fp.String():
		return fail(ErrFingerprint, "the offline lease names another fingerprint than this machine's")
	case !l.Offline:
		return fail(ErrOfflineResponse, "the lease is not an offline lease")
	case m.st.OfflineNonce == "":
		return fail(ErrOfflineResponse, "no offline request is pending on this machine (replayed?)")
	case subtle.ConstantTimeCompare([]byte(l.Nonce), []byte(m.st.OfflineNonce)) != 1:
		return fail(ErrOfflineResponse, "the response answers another request than the pending one")
	case !l.IssuedAt.After(m.newestIssued()):
		return fail(ErrOfflineResponse, "the lease is not newer than the newest lease this machine holds")
	}
	now := m.now()
	gl := toGraceLease(r.Lease, l)
	gl.ReceivedAt = now
	next := m.st
	next.Lease = gl
	next.Revoked = l.Status == LeaseRevoked
	next.Suspended, next.ClockTampered = false, false
	next.HighWater, next.Charged = now, 0
	next.ActivationKey = ""
	next.OfflineNonce, next.OfflineRequestedAt = "", time.Time{}
	if err := m.store.Save(next); err != nil {
		return failWith(ErrConfig, "keeping the offline lease in the state directory: "+err.Error(), err)
	}
	m.st, m.dirty = next, false
	m.importErr = nil
	if l.IssuedAt.After(m.newestLease) {
		m.newestLease = l.IssuedAt
	}
	m.definitive = nil
	m.log.Info("licensekit: offline activation imported", "license", m.lic.ID,
		"until", l.ExpiresAt.UTC().Format(time.RFC3339))
	return nil
}
