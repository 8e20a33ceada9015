package controlplane

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/licensekit/licensekit/license"
	"github.com/licensekit/licensekit/license/mint"
)

// Plans and their default ttl.
var plans = []string{license.PlanMonthly, license.PlanYearly, license.PlanCommunity, license.PlanCustom}

var defaultPlanTTLs = map[string]time.Duration{
	license.PlanMonthly:   31 * day,
	license.PlanYearly:    365 * day,
	license.PlanCommunity: 90 * day,
	license.PlanCustom:    DefaultTTL,
}

// Limits on a licence's claims.
const (
	maxAudience     = 16
	maxText         = 256
	maxCapabilities = 256
	maxMetadata     = 64
	maxMetaValue    = 1024
	maxMachines     = 10_000
	maxFingerprint  = 512
)

// strOrList takes a JSON string or an array of strings.
type strOrList []string

// UnmarshalJSON accepts "x" or ["x", …].
func (s *strOrList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("want a string or an array of strings")
	}
	*s = many
	return nil
}

type issueRequest struct {
	TenantID     string            `json:"tenant_id"`
	Audience     strOrList         `json:"audience,omitempty"`
	Subject      string            `json:"subject,omitempty"`
	TenantCtry   string            `json:"tenant_ctry,omitempty"`
	Plan         string            `json:"plan,omitempty"`
	TTL          string            `json:"ttl,omitempty"`
	Capabilities []string          `json:"capabilities,omitempty"`
	Metadata     map[string]string `json:"metadata,omitempty"`
	MaxMachines  *int              `json:"max_machines,omitempty"`
	Fingerprint  string            `json:"fingerprint,omitempty"`
}

// plainText is 1..max characters of valid UTF-8 without control characters.
func plainText(s string, max int) bool {
	if s == "" || len(s) > max || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

func validCountry(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

// check validates the request and fills in defaults for a caller.
func (q *issueRequest) check(p *principal) *apiError {
	if q.TenantID == "" && p.tenant != "" {
		q.TenantID = p.tenant
	}
	switch {
	case q.TenantID == "":
		return validationf("tenant_id is required")
	case !validID(q.TenantID) || len(q.TenantID) > 64:
		return validationf("tenant_id must be 1 to 64 characters of letters, digits, _ . : -")
	case !p.sees(q.TenantID):
		return newError(http.StatusForbidden, CodeForbidden, "This key cannot act for another tenant")
	case len(q.Audience) > maxAudience:
		return validationf("at most %d audience entries", maxAudience)
	case q.Subject != "" && !plainText(q.Subject, maxText):
		return validationf("subject must be 1 to %d characters without control characters", maxText)
	case q.TenantCtry != "" && !validCountry(q.TenantCtry):
		return validationf("tenant_ctry must be an ISO 3166-1 alpha-2 code such as DE")
	case q.Plan != "" && !slices.Contains(plans, q.Plan):
		return validationf("plan must be monthly, yearly, community or custom")
	case len(q.Capabilities) > maxCapabilities:
		return validationf("at most %d capabilities", maxCapabilities)
	case len(q.Metadata) > maxMetadata:
		return validationf("at most %d metadata entries", maxMetadata)
	case q.MaxMachines != nil && (*q.MaxMachines < 1 || *q.MaxMachines > maxMachines):
		return validationf("max_machines must be from 1 to %d", maxMachines)
	case q.Fingerprint != "" && !visibleASCII(q.Fingerprint, maxFingerprint):
		return validationf("fingerprint must be 1 to %d visible ASCII characters", maxFingerprint)
	}
	for _, a := range q.Audience {
		if !plainText(a, maxText) {
			return validationf("each audience entry must be 1 to %d characters without control characters", maxText)
		}
	}
	for i, c := range q.Capabilities {
		if !visibleASCII(c, 128) || slices.Contains(q.Capabilities[:i], c) {
			return validationf("capabilities must be distinct, 1 to 128 visible ASCII characters each")
		}
	}
	for k, v := range q.Metadata {
		if !visibleASCII(k, 64) || (v != "" && !plainText(v, maxMetaValue)) {
			return validationf("metadata keys must be 1 to 64 visible ASCII characters, values at most %d characters without control characters", maxMetaValue)
		}
	}
	return nil
}

func (s *Server) issueLicense(w http.ResponseWriter, r *http.Request, p *principal) error {
	idemKey := r.Header.Get("Idempotency-Key")
	if idemKey != "" && !visibleASCII(idemKey, 255) {
		return validationf("Idempotency-Key must be 1 to 255 visible ASCII characters")
	}
	var q issueRequest
	if err := decodeBody(w, r, &q); err != nil {
		return err
	}
	canon, _ := json.Marshal(q) // before defaults: what the caller sent
	sum := sha256.Sum256(canon)
	reqHash := hex.EncodeToString(sum[:])
	if err := q.check(p); err != nil {
		return err
	}
	if idemKey != "" {
		if done, err := s.replayIssue(w, r, p, idemKey, reqHash); done || err != nil {
			return err
		}
	}
	set, err := s.loadSettings(r.Context(), false)
	if err != nil {
		return err
	}
	ttl := set.planTTL(q.Plan)
	if q.TTL != "" {
		if ttl, err = parseDuration(q.TTL, maxTTL); err != nil {
			return err
		}
	}
	st, err := s.currentSigning(r.Context())
	if err != nil {
		return err
	}
	now := s.now().UTC()
	iat := now.Truncate(time.Second)
	l := License{
		ID: mint.NewID("lic_"), TenantID: q.TenantID, Audience: []string(q.Audience), Subject: q.Subject,
		TenantCountry: q.TenantCtry, Plan: q.Plan, Status: StatusActive, Capabilities: q.Capabilities,
		Metadata: q.Metadata, IssuedAt: iat, ExpiresAt: iat.Add(ttl), MaxMachines: 1, UpdatedAt: now,
	}
	if len(l.Audience) == 0 {
		l.Audience = []string{q.TenantID}
	}
	if l.Subject == "" {
		l.Subject = mint.NewID("sub_")
	}
	if q.MaxMachines != nil {
		l.MaxMachines = *q.MaxMachines
	}
	if err := s.signSlots(st, &l, iat, SlotPrimary, SlotSecondary); err != nil {
		return err
	}
	details := map[string]string{"plan": l.Plan, "expires_at": formatTime(l.ExpiresAt)}
	if q.Fingerprint != "" {
		l.Machines = []Machine{s.preBinding(l, q.Fingerprint, now, set)}
		details["fingerprint"] = fingerprintPrefix(q.Fingerprint)
	}
	var idem *Idempotency
	if idemKey != "" {
		idem = &Idempotency{Actor: p.keyID, Key: idemKey, RequestHash: reqHash, LicenseID: l.ID, CreatedAt: now}
	}
	err = s.store.CreateLicense(r.Context(), l, idem, s.event(r, p, "license.issue", l.ID, l.TenantID, details))
	if errors.Is(err, ErrAlreadyExists) && idem != nil {
		// A retry with the same key won the race: answer what it stored.
		if done, err := s.replayIssue(w, r, p, idemKey, reqHash); done || err != nil {
			return err
		}
	}
	if err != nil {
		return storeError(err, "License")
	}
	writeJSON(w, http.StatusCreated, map[string]any{"license": licenseOut(l, now, true)})
	return nil
}

// replayIssue answers a POST /licenses whose Idempotency-Key this key used
// before: the same licence for the same body, 409 for another.
func (s *Server) replayIssue(w http.ResponseWriter, r *http.Request, p *principal, key, reqHash string) (bool, error) {
	prev, err := s.store.LookupIdempotency(r.Context(), p.keyID, key)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return true, storeError(err, "Idempotency key")
	}
	if prev.RequestHash != reqHash {
		return true, conflictf("Idempotency-Key was used with another request body")
	}
	l, err := s.store.GetLicense(r.Context(), prev.LicenseID)
	if err != nil {
		return true, storeError(err, "License")
	}
	w.Header().Set("Idempotent-Replayed", "true")
	writeJSON(w, http.StatusCreated, map[string]any{"license": licenseOut(l, s.now(), true)})
	return true, nil
}

// signSlots signs the given slots' tokens of l with iat, and records their
// digests.
func (s *Server) signSlots(st *signingState, l *License, iat time.Time, slots ...string) error {
	for _, slot := range slots {
		tok, err := st.signer.License(mint.Claims{
			ID: l.ID, Subject: l.Subject, Audience: l.Audience, TenantID: l.TenantID,
			TenantCountry: l.TenantCountry, Plan: l.Plan, Slot: slot, Capabilities: l.Capabilities,
			Metadata: l.Metadata, IssuedAt: iat, ExpiresAt: l.ExpiresAt,
		})
		if err != nil {
			return validationf("cannot sign these claims: %s", clip(err.Error(), 200))
		}
		if len(tok) > license.MaxTokenSize {
			return validationf("the claims make a token over %d bytes; send fewer capabilities or metadata", license.MaxTokenSize)
		}
		if slot == SlotPrimary {
			l.Primary, l.PrimaryDigest = tok, tokenDigest(tok)
		} else {
			l.Secondary, l.SecondaryDigest = tok, tokenDigest(tok)
		}
	}
	return nil
}

// fingerprintPrefix is what logs and audit details show of a fingerprint.
func fingerprintPrefix(fp string) string {
	if len(fp) > 16 {
		return fp[:16] + "…"
	}
	return fp
}

func (s *Server) showLicense(w http.ResponseWriter, r *http.Request, p *principal) error {
	l, err := s.loadLicense(r, p)
	if err != nil {
		return err
	}
	s.beats.overlay(&l)
	writeJSON(w, http.StatusOK, map[string]any{"license": licenseOut(l, s.now(), true)})
	return nil
}

// loadLicense reads the licence of the path, as the caller may see it: a
// foreign tenant's licence is not found.
func (s *Server) loadLicense(r *http.Request, p *principal) (License, error) {
	id := r.PathValue("id")
	if !validID(id) {
		return License{}, notFound("License")
	}
	l, err := s.store.GetLicense(r.Context(), id)
	if err != nil {
		return License{}, storeError(err, "License")
	}
	if !p.sees(l.TenantID) {
		return License{}, notFound("License")
	}
	return l, nil
}

var licenseStatuses = []string{StatusActive, StatusSuspended, StatusRevoked, StatusExpired, StatusDeleted}

func (s *Server) listLicenses(w http.ResponseWriter, r *http.Request, p *principal) error {
	q := r.URL.Query()
	f := LicenseFilter{TenantID: q.Get("tenant_id"), Status: q.Get("status"), Plan: q.Get("plan"), IDPrefix: q.Get("q")}
	var err error
	if f.Limit, err = parseLimit(q.Get("limit")); err != nil {
		return err
	}
	if f.Cursor, err = parseCursor(q.Get("cursor")); err != nil {
		return err
	}
	switch {
	case f.TenantID != "" && !validID(f.TenantID):
		return validationf("invalid tenant_id")
	case f.Status != "" && !slices.Contains(licenseStatuses, f.Status):
		return validationf("status must be active, suspended, revoked, expired or deleted")
	case f.Plan != "" && !slices.Contains(plans, f.Plan):
		return validationf("plan must be monthly, yearly, community or custom")
	case f.IDPrefix != "" && !validID(f.IDPrefix):
		return validationf("q must be the start of a licence id")
	}
	if ew := q.Get("expiring_within"); ew != "" {
		d, err := parseDuration(ew, maxTTL)
		if err != nil {
			return err
		}
		f.ExpiresBefore = s.now().Add(d)
	}
	if p.tenant != "" {
		if f.TenantID != "" && f.TenantID != p.tenant {
			writeJSON(w, http.StatusOK, map[string]any{"licenses": []licenseJSON{}, "next_cursor": ""})
			return nil
		}
		f.TenantID = p.tenant
	}
	list, next, err := s.store.ListLicenses(r.Context(), f)
	if err != nil {
		return listError(err, "License")
	}
	now := s.now()
	out := make([]licenseJSON, 0, len(list))
	for _, l := range list {
		s.beats.overlay(&l)
		out = append(out, licenseOut(l, now, false))
	}
	writeJSON(w, http.StatusOK, map[string]any{"licenses": out, "next_cursor": next})
	return nil
}

// listError maps a list's store error: an argument the store refused is
// the caller's (a cursor it did not hand out).
func listError(err error, what string) error {
	if errors.Is(err, ErrInvalid) {
		return validationf("invalid cursor or filter")
	}
	return storeError(err, what)
}

func (s *Server) keyFile(w http.ResponseWriter, r *http.Request, p *principal) error {
	slot := r.URL.Query().Get("slot")
	if slot == "" {
		slot = "both"
	}
	if slot != SlotPrimary && slot != SlotSecondary && slot != "both" {
		return validationf("slot must be primary, secondary or both")
	}
	l, err := s.loadLicense(r, p)
	if err != nil {
		return err
	}
	if l.Status == StatusDeleted {
		return notFound("License keys")
	}
	primary, secondary := l.Primary, l.Secondary
	switch slot {
	case SlotPrimary:
		secondary = ""
	case SlotSecondary:
		primary = ""
	}
	file, err := mint.KeyFile(mint.Claims{ID: l.ID, Subject: l.Subject, Audience: l.Audience,
		TenantID: l.TenantID, TenantCountry: l.TenantCountry, ExpiresAt: l.ExpiresAt}, primary, secondary)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Disposition", `attachment; filename="license.json"`)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(file)
	return nil
}
