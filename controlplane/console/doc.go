// Package console holds the admin console's templates, style sheet and
// script, embedded in the binary so that the control plane serves its
// console with nothing to install and nothing fetched from elsewhere.
//
// The pages are server-rendered by package controlplane with html/template,
// which escapes every value for the context it lands in; no value is ever
// marked as safe HTML. The script only adds copy buttons and confirmation
// niceties: every page works without it, and the Content-Security-Policy
// the console sends allows no inline script at all.
//
// This package's tests drive the console in a real headless Chromium.
package console
