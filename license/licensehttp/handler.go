package licensehttp

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/licensekit/licensekit/license"
)

// DefaultPrefix is where the calls live unless [WithPrefix] says otherwise.
const DefaultPrefix = "/v1/license"

// Handler serves the licence API of one [license.Manager]. Build it with
// [NewHandler]; it is safe for concurrent use.
type Handler struct {
	m      *license.Manager
	prefix string
	inner  http.Handler
}

// Option configures a [Handler].
type Option func(*Handler)

// WithPrefix serves the calls under prefix instead of [DefaultPrefix]:
// GET prefix, POST prefix+"/activate", and so on. A trailing slash is
// dropped.
func WithPrefix(prefix string) Option {
	return func(h *Handler) { h.prefix = strings.TrimRight(prefix, "/") }
}

// NewHandler returns the handler of m's licence API. Mount it on both the
// prefix and the prefix with a trailing slash (see the package example);
// paths under the prefix that name no call get 404.
func NewHandler(m *license.Manager, opts ...Option) *Handler {
	h := &Handler{m: m, prefix: DefaultPrefix}
	for _, o := range opts {
		o(h)
	}
	h.inner = http.NewCrossOriginProtection().Handler(http.HandlerFunc(h.route))
	return h
}

// ServeHTTP answers one call.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	h.inner.ServeHTTP(w, r)
}

func (h *Handler) route(w http.ResponseWriter, r *http.Request) {
	var call func(http.ResponseWriter, *http.Request)
	allow := []string{http.MethodPost}
	switch r.URL.Path {
	case h.prefix:
		call, allow = h.get, []string{http.MethodGet, http.MethodHead}
	case h.prefix + "/activate":
		call = h.activate
	case h.prefix + "/deactivate":
		call = h.deactivate
	case h.prefix + "/validate":
		call = h.validate
	default:
		writeError(w, http.StatusNotFound, "not_found", "No such call", "")
		return
	}
	if !contains(allow, r.Method) {
		list := strings.Join(allow, ", ")
		w.Header().Set("Allow", list)
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "Method "+clip(r.Method)+" is not allowed here; use "+list, "")
		return
	}
	call(w, r)
}

func (h *Handler) get(w http.ResponseWriter, _ *http.Request) {
	st := h.m.Status()
	if st.License == nil {
		writeError(w, http.StatusNotFound, "not_found", "No active license found", "")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"license": h.object(st)})
}

func (h *Handler) activate(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	key, err := decodeKeyRequest(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", message(err), "")
		return
	}
	_, err = h.m.Activate(r.Context(), key)
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, map[string]any{"license_key": key, "license": h.object(h.m.Status())})
	case errors.Is(err, license.ErrAlreadyActivated):
		writeError(w, http.StatusConflict, "already_activated", "License already activated", license.CodeAlreadyActivated)
	case errors.Is(err, license.ErrClosed):
		writeError(w, http.StatusServiceUnavailable, "unavailable", "The licence manager is shutting down", license.CodeClosed)
	case errors.Is(err, license.ErrConfig):
		writeError(w, http.StatusInternalServerError, "internal", "The licence key could not be kept on this machine", license.CodeConfig)
	default:
		writeError(w, http.StatusBadRequest, "invalid_license_key", keyMessage(err), license.Code(err))
	}
}

func (h *Handler) deactivate(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	if _, err := decodeObject(body, nil, true); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", message(err), "")
		return
	}
	err := h.m.Deactivate(r.Context())
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, map[string]any{"success": true})
	case errors.Is(err, license.ErrUnlicensed):
		writeError(w, http.StatusNotFound, "not_found", "No active license found", "")
	case errors.Is(err, license.ErrUnavailable):
		writeError(w, http.StatusServiceUnavailable, "unavailable",
			"The control plane could not be reached to release this machine; nothing changed, try again", license.CodeUnavailable)
	case errors.Is(err, license.ErrClosed):
		writeError(w, http.StatusServiceUnavailable, "unavailable", "The licence manager is shutting down", license.CodeClosed)
	default:
		writeError(w, http.StatusInternalServerError, "internal",
			"The licence was deactivated, but this machine could not record it", license.Code(err))
	}
}

func (h *Handler) validate(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	key, err := decodeKeyRequest(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", message(err), "")
		return
	}
	lic, err := h.m.Validate(key)
	if err != nil {
		writeJSON(w, http.StatusOK, map[string]any{"valid": false, "message": keyMessage(err), "license": nil})
		return
	}
	obj := licenseObject(lic, "active")
	obj.Machine = h.m.Fingerprint()
	writeJSON(w, http.StatusOK, map[string]any{"valid": true, "message": "License is valid", "license": obj})
}

// readBody reads a POST body: JSON only, at most MaxBodySize bytes. On
// failure it has answered, and returns false.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if ct := r.Header.Get("Content-Type"); ct != "" || r.ContentLength != 0 {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "Send the body as Content-Type: application/json", "")
			return nil, false
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodySize))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "too_large", "The request body is larger than 64 KiB", "")
		} else {
			writeError(w, http.StatusBadRequest, "bad_request", "The request body could not be read", "")
		}
		return nil, false
	}
	return body, true
}

// message is the answer's text for a decoding error.
func message(err error) string {
	return strings.TrimPrefix(err.Error(), errBadRequest.Error()+": ")
}

// keyMessage says in a sentence why a licence key was refused.
func keyMessage(err error) string {
	switch license.Code(err) {
	case license.CodeMalformed:
		return "Invalid license key format"
	case license.CodeExpired:
		return "License key has expired"
	case license.CodeNotYetValid:
		return "License key is not yet valid"
	case license.CodeSignature:
		return "License key signature is invalid"
	case license.CodeUnknownKey:
		return "License key is signed by an unknown key"
	case license.CodeAlgorithm:
		return "License key uses an algorithm that is not allowed"
	case license.CodeClaims:
		return "License key has invalid claims"
	case license.CodeFingerprint:
		return "License key is bound to another machine"
	}
	return "License key is invalid"
}

type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Reason  string `json:"reason,omitempty"`
}

func writeError(w http.ResponseWriter, status int, code, msg, reason string) {
	writeJSON(w, status, errorBody{Code: code, Message: msg, Reason: reason})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil { // cannot happen with these types
		status, data = http.StatusInternalServerError, []byte(`{"code":"internal","message":"encoding the answer failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n'))
}
