package controlplane

import (
	"net/http"
	"strconv"
	"strings"
)

// openAPIDocument builds the OpenAPI 3.1 document from the route table, so
// the two cannot disagree.
func openAPIDocument(routes []route) map[string]any {
	paths := map[string]any{}
	for _, rt := range routes {
		item, _ := paths[rt.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.path] = item
		}
		op := map[string]any{
			"operationId": operationID(rt),
			"summary":     rt.summary,
			"responses":   responses(rt),
		}
		var params []any
		for _, name := range pathParams(rt.path) {
			params = append(params, map[string]any{"name": name, "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, name := range rt.query {
			params = append(params, map[string]any{"name": name, "in": "query", "required": false, "schema": map[string]any{"type": "string"}})
		}
		if rt.method == http.MethodPost && rt.path == "/licenses" {
			params = append(params, map[string]any{"name": "Idempotency-Key", "in": "header", "required": false, "schema": map[string]any{"type": "string"}})
		}
		if params != nil {
			op["parameters"] = params
		}
		if rt.body != "" {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": ref(rt.body)}}}
		}
		switch rt.access {
		case accessPublic, accessDevice:
			op["security"] = []any{}
		default:
			op["security"] = []any{map[string]any{"bearer": []any{}}}
		}
		op["x-permission"] = accessName(rt)
		item[strings.ToLower(rt.method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "licensekit control plane", "version": "1",
			"description": "Issue, bind, heartbeat, suspend, revoke and rebind licences. Errors are {\"error\":{\"code\",\"message\"}}."},
		"paths": paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
			"schemas":         schemas(),
		},
	}
}

// accessName is what the document says a route needs.
func accessName(rt route) string {
	switch rt.access {
	case accessPublic:
		return "public"
	case accessDevice:
		return "device"
	case accessAnyKey:
		return "any key"
	}
	return string(rt.perm)
}

func operationID(rt route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.method))
	for _, seg := range strings.Split(rt.path, "/") {
		seg = strings.Trim(seg, "{}")
		for _, part := range strings.FieldsFunc(seg, func(r rune) bool { return r == '-' || r == '.' || r == '_' }) {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

func pathParams(p string) []string {
	var out []string
	for _, seg := range strings.Split(p, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			out = append(out, strings.Trim(seg, "{}"))
		}
	}
	return out
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

func responses(rt route) map[string]any {
	out := map[string]any{
		strconv.Itoa(rt.status): map[string]any{"description": "success", "content": map[string]any{
			"application/json": map[string]any{"schema": ref(rt.answer)}}},
	}
	codes := []int{500}
	switch rt.access {
	case accessDevice:
		codes = append(codes, 400, 403, 404, 409, 413, 415, 429)
	case accessAnyKey, accessPerm:
		codes = append(codes, 400, 401, 403, 404, 409, 413, 415, 429)
	}
	for _, c := range codes {
		out[strconv.Itoa(c)] = map[string]any{"description": http.StatusText(c), "content": map[string]any{
			"application/json": map[string]any{"schema": ref("Error")}}}
	}
	return out
}

func obj(props map[string]any, required ...string) map[string]any {
	o := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

var (
	str     = map[string]any{"type": "string"}
	strs    = map[string]any{"type": "array", "items": str}
	integer = map[string]any{"type": "integer"}
	boolean = map[string]any{"type": "boolean"}
	strMap  = map[string]any{"type": "object", "additionalProperties": str}
	nullStr = map[string]any{"type": []any{"string", "null"}}
)

func list(name, item string) map[string]any {
	return obj(map[string]any{name: map[string]any{"type": "array", "items": ref(item)}, "next_cursor": str})
}

func schemas() map[string]any {
	machine := obj(map[string]any{"license_id": str, "tenant_id": str, "fingerprint": str, "activated_at": str,
		"last_heartbeat_at": str, "lease_expires_at": str, "state": map[string]any{"enum": []any{"alive", "overdue", "dead"}},
		"released_at": str, "offline": boolean})
	lic := obj(map[string]any{"id": str, "tenant_id": str, "audience": strs, "subject": str, "tenant_ctry": str,
		"plan": str, "status": map[string]any{"enum": []any{"active", "suspended", "revoked", "expired", "deleted"}},
		"capabilities": strs, "metadata": strMap, "issued_at": str, "expires_at": str, "max_machines": integer,
		"machines":   map[string]any{"type": "array", "items": ref("Machine")},
		"directives": obj(map[string]any{"heartbeat_interval": nullStr, "grace": nullStr}),
		"updated_at": str, "primary": str, "secondary": str})
	key := obj(map[string]any{"id": str, "tenant_id": str, "name": str, "role": str, "scopes": strs, "permissions": strs,
		"masked": str, "created_at": str, "created_by": str, "expires_at": str, "revoked_at": str, "secret": str})
	settings := obj(map[string]any{"grace": str, "heartbeat_interval": str, "offline_lease_ttl": str, "plan_ttls": strMap,
		"pinned_by_flags": strs, "updated_at": str})
	return map[string]any{
		"Error":   obj(map[string]any{"error": obj(map[string]any{"code": str, "message": str}, "code", "message")}, "error"),
		"License": lic, "Machine": machine, "Key": key,
		"LicenseAnswer": obj(map[string]any{"license": ref("License")}, "license"),
		"LicenseList":   list("licenses", "License"),
		"MachineList":   list("machines", "Machine"),
		"KeyAnswer":     obj(map[string]any{"key": ref("Key")}, "key"),
		"KeyList":       list("keys", "Key"),
		"KeyRequest": obj(map[string]any{"tenant_id": str, "name": str, "role": map[string]any{"enum": []any{"onboarding", "support", "super_admin"}},
			"scopes": map[string]any{"oneOf": []any{str, strs}}, "expires": str}, "name"),
		"IssueRequest": obj(map[string]any{"tenant_id": str, "audience": map[string]any{"oneOf": []any{str, strs}},
			"subject": str, "tenant_ctry": str, "plan": map[string]any{"enum": []any{"monthly", "yearly", "community", "custom"}},
			"ttl": str, "capabilities": strs, "metadata": strMap, "max_machines": integer, "fingerprint": str}),
		"KeyFile": obj(map[string]any{"format": str, "aud": map[string]any{"oneOf": []any{str, strs}}, "sub": str, "tid": str,
			"tenant_ctry": str, "primary": str, "secondary": str}),
		"ValidateRequest":   obj(map[string]any{"token": str}, "token"),
		"ValidateAnswer":    obj(map[string]any{"valid": boolean, "code": str, "message": str, "license": map[string]any{"oneOf": []any{ref("License"), map[string]any{"type": "null"}}}}),
		"RebindRequest":     obj(map[string]any{"fingerprint": str, "from": str}, "fingerprint"),
		"ResetRequest":      obj(map[string]any{"slot": map[string]any{"enum": []any{"primary", "secondary"}}}, "slot"),
		"RenewRequest":      obj(map[string]any{"ttl": str}),
		"DirectivesRequest": obj(map[string]any{"heartbeat_interval": nullStr, "grace": nullStr}),
		"DeviceRequest":     obj(map[string]any{"token": str, "fingerprint": str, "idempotency_key": str, "nonce": str}, "token", "fingerprint"),
		"LeaseAnswer": obj(map[string]any{"status": map[string]any{"enum": []any{"active", "suspended", "revoked"}}, "lease": str, "next_heartbeat_s": integer, "server_time": str,
			"license_key": str, "keyset": str}),
		"OfflineRequest": obj(map[string]any{"format": map[string]any{"const": OfflineRequestFormat}, "license_id": str, "token": str,
			"fingerprint": str, "nonce": str, "created_at": str}, "format", "license_id", "token", "fingerprint", "nonce", "created_at"),
		"OfflineResponse": obj(map[string]any{"format": map[string]any{"const": OfflineResponseFormat}, "license_id": str, "lease": str},
			"format", "license_id", "lease"),
		"KeysetAnswer":     obj(map[string]any{"keyset": str}, "keyset"),
		"DeactivateAnswer": obj(map[string]any{"success": boolean, "seat_held_until": str}),
		"SweepAnswer": obj(map[string]any{"expired": strs, "dead": map[string]any{"type": "array", "items": obj(map[string]any{
			"license_id": str, "fingerprint": str})}}),
		"Settings":          settings,
		"SettingsAnswer":    obj(map[string]any{"settings": ref("Settings")}, "settings"),
		"SettingsRequest":   obj(map[string]any{"grace": str, "heartbeat_interval": str, "offline_lease_ttl": str, "plan_ttls": strMap}),
		"SigningKey":        obj(map[string]any{"kid": str, "alg": str, "state": str, "public_jwk": map[string]any{"type": "object"}, "created_at": str, "activated_at": str, "retired_at": str}),
		"SigningKeyAnswer":  obj(map[string]any{"signing_key": ref("SigningKey")}, "signing_key"),
		"SigningKeyList":    list("signing_keys", "SigningKey"),
		"SigningKeyRequest": obj(map[string]any{"alg": map[string]any{"enum": []any{"EdDSA", "ES256", "ES384", "RS256", "PS256"}}}),
		"JWKS":              map[string]any{"type": "object", "properties": map[string]any{"keys": map[string]any{"type": "array", "items": map[string]any{"type": "object"}}}},
		"Event": obj(map[string]any{"seq": integer, "time": str, "actor": str, "action": str, "target": str,
			"tenant_id": str, "request_id": str, "details": strMap}),
		"EventList": list("events", "Event"),
		"Health":    obj(map[string]any{"status": str}),
		"OpenAPI":   map[string]any{"type": "object"},
	}
}

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request, _ *principal) error {
	writeJSON(w, http.StatusOK, s.openapi)
	return nil
}
