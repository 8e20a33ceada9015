package controlplane

import (
	"errors"
	"net/http"

	"github.com/licensekit/licensekit/license"
)

// validateAnswer is the answer of POST /licenses/validate.
type validateAnswer struct {
	Valid   bool         `json:"valid"`
	Code    string       `json:"code,omitempty"`
	Message string       `json:"message"`
	License *licenseJSON `json:"license"`
}

// validate checks a licence token as a product would (signature, expiry)
// and with what only the server knows: revoked, suspended, deleted, and
// whether the token is still its slot's current one.
func (s *Server) validate(w http.ResponseWriter, r *http.Request, p *principal) error {
	var q struct {
		Token string `json:"token"`
	}
	if err := decodeBody(w, r, &q); err != nil {
		return err
	}
	if q.Token == "" {
		return validationf("token is required")
	}
	invalid := func(code, msg string) error {
		writeJSON(w, http.StatusOK, validateAnswer{Code: code, Message: msg})
		return nil
	}
	st, err := s.currentSigning(r.Context())
	if err != nil {
		return err
	}
	lic, err := st.verifier.Verify(q.Token)
	if err != nil {
		if errors.Is(err, license.ErrExpired) {
			return invalid(license.Code(err), "License key has expired")
		}
		return invalid(license.Code(err), "License key is invalid: "+license.Code(err))
	}
	l, err := s.store.GetLicense(r.Context(), lic.ID)
	if errors.Is(err, ErrNotFound) || (err == nil && !p.sees(l.TenantID)) {
		return invalid(CodeNotFound, "License not found")
	}
	if err != nil {
		return storeError(err, "License")
	}
	now := s.now()
	out := licenseOut(l, now, false)
	answer := func(valid bool, code, msg string) error {
		writeJSON(w, http.StatusOK, validateAnswer{Valid: valid, Code: code, Message: msg, License: &out})
		return nil
	}
	switch {
	case l.Status == StatusDeleted:
		return answer(false, CodeNotFound, "License keys were deleted")
	case currentSlot(&l, q.Token) == "":
		return answer(false, "KEY_REPLACED", "License key was replaced by a reset or a renewal")
	case l.Status == StatusRevoked:
		return answer(false, CodeRevoked, "License revoked")
	case l.Status == StatusSuspended:
		return answer(false, CodeSuspended, "License suspended")
	case out.Status == StatusExpired:
		return answer(false, license.Code(license.ErrExpired), "License key has expired")
	}
	return answer(true, "", "License is valid")
}
