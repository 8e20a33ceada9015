package controlplane

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/licensekit/licensekit/internal/strictjson"
	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/mint"
)

// The files of an offline (air-gapped) activation: the request the
// product writes, and the response the vendor hands back.
const (
	OfflineRequestFormat  = "licensekit.offline-request/v1"
	OfflineResponseFormat = "licensekit.offline-response/v1"
)

// How far a request's created_at may lie from the server's clock: a
// request older than offlineMaxAge is taken for an old one replayed; one
// more than offlineMaxAhead in the future comes from a clock that is off.
const (
	offlineMaxAge   = 30 * day
	offlineMaxAhead = time.Hour
)

// offlineRequest is an offline activation request file.
type offlineRequest struct {
	format, licenseID, token, fingerprint, nonce string
	createdAt                                    time.Time
}

// parseOfflineRequest reads a request file: one JSON object with exactly
// the members format, license_id, token, fingerprint, nonce and
// created_at, each a string, none twice. It checks their form, not what
// they say; every error is a 400 answer.
func parseOfflineRequest(data []byte) (offlineRequest, error) {
	var q offlineRequest
	var created string
	seen := map[string]bool{}
	rd := strictjson.NewReader(data)
	if rd.Peek() != strictjson.Object {
		return q, validationf("the request must be a JSON object (an offline activation request file)")
	}
	err := rd.Object(func(name string) error {
		var dst *string
		switch name {
		case "format":
			dst = &q.format
		case "license_id":
			dst = &q.licenseID
		case "token":
			dst = &q.token
		case "fingerprint":
			dst = &q.fingerprint
		case "nonce":
			dst = &q.nonce
		case "created_at":
			dst = &created
		default:
			return validationf("unknown member %q", clip(name, 40))
		}
		seen[name] = true
		v, err := rd.String()
		if err != nil {
			return validationf("%s must be a string", name)
		}
		*dst = v
		return nil
	})
	if err == nil {
		err = rd.End()
	}
	var ae *apiError
	if errors.As(err, &ae) {
		return q, ae
	}
	if err != nil {
		return q, validationf("invalid JSON: %s", clip(err.Error(), 120))
	}
	if q.format != OfflineRequestFormat { // another file first: the most useful answer
		return q, validationf("format %q is not %q: this is not an offline activation request", clip(q.format, 60), OfflineRequestFormat)
	}
	for _, name := range []string{"license_id", "token", "fingerprint", "nonce", "created_at"} {
		if !seen[name] {
			return q, validationf("the request has no %s", name)
		}
	}
	switch {
	case !validID(q.licenseID):
		return q, validationf("license_id is not a licence id")
	case q.token == "" || len(q.token) > license.MaxTokenSize:
		return q, validationf("token must be 1 to %d bytes", license.MaxTokenSize)
	case !visibleASCII(q.fingerprint, maxFingerprint):
		return q, validationf("fingerprint must be 1 to %d visible ASCII characters", maxFingerprint)
	case !visibleASCII(q.nonce, maxNonce):
		return q, validationf("nonce must be 1 to %d visible ASCII characters", maxNonce)
	}
	t, err := time.Parse(time.RFC3339, created)
	if err != nil || len(created) > 40 {
		return q, validationf("created_at must be an RFC 3339 time such as 2026-12-01T10:00:00Z")
	}
	q.createdAt = t
	return q, nil
}

// offlineResponse writes the response file in its one canonical form:
// format, license_id and lease in this order, no white space, one
// trailing newline. The product refuses any other bytes.
func offlineResponse(licenseID, lease string) []byte {
	b := []byte(`{"format":`)
	b = strconv.AppendQuote(b, OfflineResponseFormat)
	b = append(b, `,"license_id":`...)
	b = strconv.AppendQuote(b, licenseID) // an id: [A-Za-z0-9_.:-], nothing to escape
	b = append(b, `,"lease":`...)
	b = strconv.AppendQuote(b, lease) // a compact JWS: base64url and dots
	return append(b, "}\n"...)
}

// offlineActivate turns an air-gapped machine's request into its response:
// the token is checked as an activation checks it, the machine is bound
// (marked offline), and the answer is a lease with offline true and the
// request's nonce, valid until the licence expires or the offline lease
// TTL runs out, whichever comes first. The same request again gets the
// same binding and a fresh response. Every answered request is audited.
func (s *Server) offlineActivate(w http.ResponseWriter, r *http.Request, p *principal) error {
	id := r.PathValue("id")
	if _, err := s.loadLicense(r, p); err != nil {
		return err // unknown, or another tenant's: before the body is read
	}
	data, err := readBody(w, r, maxDeviceBody)
	if err != nil {
		return err
	}
	q, err := parseOfflineRequest(data)
	if err != nil {
		return err
	}
	if q.licenseID != id {
		return validationf("the request is for licence %s, not %s", q.licenseID, id)
	}
	now := s.now()
	switch {
	case q.createdAt.Before(now.Add(-offlineMaxAge)):
		return validationf("the request was made more than %s ago; have the machine write a new one", formatDuration(offlineMaxAge))
	case q.createdAt.After(now.Add(offlineMaxAhead)):
		return validationf("the request was made more than %s in the future; check the machine's clock", formatDuration(offlineMaxAhead))
	}
	st, err := s.currentSigning(r.Context())
	if err != nil {
		return err
	}
	lic, err := st.verify(q.token, now)
	if err != nil {
		return validationf("invalid licence token: %s", license.Code(err))
	}
	if lic.ID != id {
		return validationf("the token is for another licence")
	}
	set, err := s.loadSettings(r.Context(), false)
	if err != nil {
		return err
	}
	unlock := s.lockLicense(id)
	defer unlock()
	var iat, exp time.Time
	_, err = s.updateLicense(r, id, func(l *License, now time.Time) ([]Event, error) {
		if !p.sees(l.TenantID) || l.Status == StatusDeleted {
			return nil, notFound("License")
		}
		slot := currentSlot(l, q.token)
		switch {
		case slot == "":
			return nil, errKeyReplaced
		case l.Status == StatusRevoked:
			return nil, newError(http.StatusForbidden, CodeRevoked, "License revoked")
		case l.Status == StatusSuspended:
			return nil, newError(http.StatusForbidden, CodeSuspended, "License suspended")
		case l.Status == StatusExpired || !now.Before(l.ExpiresAt):
			return nil, validationf("License expired")
		}
		b, err := bindMachine(l, q.fingerprint, "", now)
		if err != nil {
			return nil, err
		}
		m := &l.Machines[b.idx]
		var prev time.Time
		if !b.fresh {
			prev = s.leasePrev(l.ID, m.Fingerprint, m.LeaseIssuedAt)
		}
		if iat, exp, err = nextLeaseTimes(now, prev, set.offlineTTL); err != nil {
			return nil, err
		}
		if exp.After(l.ExpiresAt) {
			exp = l.ExpiresAt
		}
		if !exp.After(iat) {
			return nil, validationf("License expired")
		}
		// The machine never beats: it is alive until its lease ends, and
		// its seat stays held until the latest lease it holds runs out.
		if b.fresh || exp.After(m.LeaseExpiresAt) {
			m.LeaseExpiresAt = exp
		}
		m.LastHeartbeatAt, m.DueAt, m.LeaseIssuedAt, m.Dead, m.Offline = now, m.LeaseExpiresAt, iat, false, true
		m.KeySlot, m.KeyDigest = slot, tokenDigest(q.token)
		d := map[string]string{"fingerprint": fingerprintPrefix(q.fingerprint), "lease_expires_at": formatTime(exp)}
		if b.note != "" {
			d["note"] = b.note
		} else if !b.changed {
			d["note"] = "bound already"
		}
		return []Event{s.event(r, p, "license.offline_activate", l.ID, l.TenantID, d)}, nil
	})
	if err != nil {
		return err
	}
	signer, err := s.offlineSigner(r.Context(), st, q.token)
	if err != nil {
		return err
	}
	lease, err := signer.Lease(mint.Lease{ID: mint.NewID(mint.LeaseIDPrefix), LicenseID: id, Fingerprint: q.fingerprint,
		Status: license.LeaseActive, IssuedAt: iat, ExpiresAt: exp, Offline: true, Nonce: q.nonce})
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(offlineResponse(id, lease))
	return nil
}

// offlineSigner is the signer of an offline response: the key that signed
// the licence token the request presents, while that key is published,
// rather than the active key. The air-gapped machine trusts that key for
// certain, since it runs the token, and may know no newer one: no keyset
// statement reaches it, and the response has no room for one. A key that
// cannot be opened falls back to the active key, which a machine that
// learnt it can still import.
func (s *Server) offlineSigner(ctx context.Context, st *signingState, token string) (*mint.Signer, error) {
	kid := jwsKID(token)
	published := func(k SigningKey) bool { return k.KID == kid && k.State != SigningRetired }
	if kid == "" || kid == st.signer.KID() || !slices.ContainsFunc(st.keys, published) {
		return st.signer, nil
	}
	full, err := s.store.ListSigningKeys(ctx)
	if err != nil {
		return nil, storeError(err, "Signing key")
	}
	if !slices.ContainsFunc(full, published) {
		return st.signer, nil // retired since the keys were loaded
	}
	signer, err := s.storedSigner(full, kid)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "controlplane: the offline response is signed by the active key",
			slog.String("token_kid", kid), slog.String("err", err.Error()))
		return st.signer, nil
	}
	return signer, nil
}

// jwsKID is the kid of a compact JWS's header, or "" when it has none.
// Callers pass a token that verified.
func jwsKID(jws string) string {
	head, _, ok := strings.Cut(jws, ".")
	if !ok {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return ""
	}
	var h struct {
		KID string `json:"kid"`
	}
	if json.Unmarshal(raw, &h) != nil {
		return ""
	}
	return h.KID
}
