// Package strictjson is a small, allocation-light JSON reader for the
// attacker-controlled documents inside licence tokens: JWS headers and
// claims.
//
// It accepts exactly RFC 8259 JSON and is stricter than encoding/json in
// the ways that matter for signed tokens:
//
//   - duplicate object members are an error ([ErrDuplicate]), at every depth,
//     compared after unescaping, so {"exp":1,"\u0065xp":2} is refused;
//   - invalid UTF-8 and unescaped control characters are an error, never
//     silently replaced;
//   - nesting deeper than [MaxDepth] is an error ([ErrDepth]);
//   - nothing but white space may follow the top-level value.
//
// The reader is pull-based: the caller walks an object with
// [Reader.Object] and reads each member's value with the typed methods, or
// skips it with [Reader.Skip]. The caller decides what a wrong type means.
package strictjson
