package licensehttp

import (
	"net/http"

	"github.com/licensekit/licensekit/license"
)

// Forbidden is the body of the 403 that [Require] answers.
type Forbidden struct {
	Code       string `json:"code"`       // always "forbidden"
	Message    string `json:"message"`    // a sentence for people
	State      string `json:"state"`      // the manager's state, e.g. "locked"
	Reason     string `json:"reason"`     // the machine code of the refusal, e.g. "REVOKED" or "CAPABILITY_NOT_GRANTED"
	Capability string `json:"capability"` // the capability asked for
}

// Require returns middleware that lets a request through to next only
// while m allows use and the licence grants capability ([license.Manager.Require],
// which takes no lock and does no I/O). Otherwise it answers 403 with a
// [Forbidden] body naming the state and the reason's code.
func Require(m *license.Manager, capability string) func(next http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			err := m.Require(capability)
			if err == nil {
				next.ServeHTTP(w, r)
				return
			}
			msg := "This product's licence does not allow this request: " + err.Error()
			w.Header().Set("Cache-Control", "no-store")
			writeJSON(w, http.StatusForbidden, Forbidden{Code: "forbidden", Message: msg,
				State: m.Status().State.String(), Reason: license.Code(err), Capability: capability})
		})
	}
}
