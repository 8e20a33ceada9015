package cmd

import (
	"errors"
	"fmt"
	"net/http"
)

// Exit codes: what a script can rely on.
const (
	ExitOK         = 0 // success
	ExitError      = 1 // a generic failure; the control plane could not be reached or did not answer in time
	ExitAuth       = 2 // the API key is missing, unknown, expired or revoked (401), or lacks the permission (403)
	ExitNotFound   = 3 // the licence, key or other object does not exist (404)
	ExitValidation = 4 // a bad flag or argument, a request the server refused (400, 409, 413, 415), an invalid token
	ExitServer     = 5 // the server failed (5xx) or answered something that is not the API's JSON
)

// Sentinel errors; every error a command returns wraps one of them, or is
// an [*APIError].
var (
	// ErrUsage: a flag, an argument or a file given to licensectl is wrong.
	ErrUsage = errors.New("licensectl: invalid usage")
	// ErrConnection: the control plane could not be reached or did not answer in time.
	ErrConnection = errors.New("licensectl: cannot reach the control plane")
	// ErrNotAPI: the answer is not the control plane's JSON (a proxy, a web page, another service).
	ErrNotAPI = errors.New("licensectl: not an answer of the control plane")
	// ErrInvalidToken: validate or verify found the licence token invalid.
	ErrInvalidToken = errors.New("licensectl: licence key is not valid")
	// ErrNoAPIKey: the command needs an API key and none was given.
	ErrNoAPIKey = errors.New("licensectl: no API key")
	// ErrAborted: a confirmation was refused or could not be asked.
	ErrAborted = errors.New("licensectl: not confirmed")
)

// APIError is an error answer of the control plane: its HTTP status and
// the code and message of its error envelope.
type APIError struct {
	Status     int    // HTTP status
	Code       string // e.g. "NOT_FOUND"
	Message    string // e.g. "License not found"
	RetryAfter string // the Retry-After header of a 429, or ""
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("%s: %s (HTTP %d)", e.Code, e.Message, e.Status)
	if e.RetryAfter != "" {
		msg += "; retry after " + e.RetryAfter + " s"
	}
	return msg
}

// hint is a remedy for the error, or "".
func (e *APIError) hint() string {
	switch e.Status {
	case http.StatusUnauthorized:
		return "check --api-key or LICENSECTL_API_KEY: the key may be unknown, expired or revoked"
	case http.StatusForbidden:
		if e.Code == "FORBIDDEN" {
			return "the API key lacks the permission: licences need admin:tenants (reading: read:licenses), API keys admin:keys, signing keys and settings admin:signing, the audit read:events"
		}
	case http.StatusNotFound:
		if e.Message == "Route not found" {
			return "the server does not offer this call: it may be older than licensectl"
		}
	}
	return ""
}

// ExitCode is the exit code for an error a command returned.
func ExitCode(err error) int {
	var ae *APIError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ae):
		return statusExit(ae.Status)
	case errors.Is(err, ErrUsage), errors.Is(err, ErrInvalidToken), errors.Is(err, ErrAborted):
		return ExitValidation
	case errors.Is(err, ErrNoAPIKey):
		return ExitAuth
	case errors.Is(err, ErrNotAPI):
		return ExitServer
	}
	return ExitError
}

// statusExit maps an HTTP status of an error envelope to an exit code.
func statusExit(status int) int {
	switch {
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		return ExitAuth
	case status == http.StatusNotFound:
		return ExitNotFound
	case status == http.StatusBadRequest, status == http.StatusConflict,
		status == http.StatusRequestEntityTooLarge, status == http.StatusUnsupportedMediaType:
		return ExitValidation
	case status >= 500:
		return ExitServer
	}
	return ExitError // 405, 429 and other statuses the API does not use for a verdict
}

// usagef is an ErrUsage with a message.
func usagef(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUsage, fmt.Sprintf(format, args...))
}
