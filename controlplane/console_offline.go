package controlplane

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// offlineResponseFile is the name the console gives the response it hands
// out for download.
const offlineResponseFile = "license-offline-response.json"

// offlineActivation answers an air-gapped machine's request, uploaded as a
// file or pasted, with the response file as a download. The API call does
// the checks, the binding and the audit.
func (c *consoleUI) offlineActivation(w http.ResponseWriter, r *http.Request, u *consoleUser) error {
	id := r.PathValue("id")
	p := licensePath(id, "/offline-activation")
	if p == "" {
		return notFound("License")
	}
	data, err := offlineUpload(r)
	if err != nil {
		return err
	}
	a, err := c.call(r, u, http.MethodPost, p, nil, json.RawMessage(data))
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Disposition", `attachment; filename="`+offlineResponseFile+`"`)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(a.body.Bytes())
	return nil
}

// offlineUpload returns the request of the form: the uploaded file when
// one was chosen, else the pasted text. It must be one JSON value; the API
// checks the rest.
func offlineUpload(r *http.Request) ([]byte, error) {
	var data []byte
	if r.MultipartForm != nil {
		if fh := r.MultipartForm.File["request_file"]; len(fh) > 0 && fh[0].Size > 0 {
			f, err := fh[0].Open()
			if err != nil {
				return nil, validationf("The uploaded file could not be read")
			}
			defer f.Close()
			if data, err = io.ReadAll(io.LimitReader(f, maxDeviceBody+1)); err != nil {
				return nil, validationf("The uploaded file could not be read")
			}
		}
	}
	if len(data) == 0 {
		data = []byte(strings.TrimSpace(r.PostForm.Get("request")))
	}
	switch {
	case len(data) == 0:
		return nil, validationf("Choose the request file the machine wrote, or paste its contents.")
	case len(data) > maxDeviceBody:
		return nil, newError(http.StatusRequestEntityTooLarge, CodeTooLarge, "The request is larger than an offline activation request can be.")
	case !json.Valid(data):
		return nil, validationf("This is not an offline activation request: it is not JSON.")
	}
	return bytes.TrimSpace(data), nil
}
