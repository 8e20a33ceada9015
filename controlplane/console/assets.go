package console

import "embed"

// FS holds the console's assets: templates/*.html (one page each, plus
// layout.html around them) and static/ (the style sheet and the script).
//
//go:embed templates/*.html static/*
var FS embed.FS
