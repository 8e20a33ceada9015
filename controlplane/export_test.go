package controlplane

import "context"

// RouteInfo is one row of the route table, for the tests.
type RouteInfo struct {
	Method, Path string
	Access       string // "public", "device", "any key", or the permission
}

// Routes returns the route table, for the tests.
func Routes() []RouteInfo {
	var out []RouteInfo
	for _, rt := range routeTable() {
		out = append(out, RouteInfo{Method: rt.method, Path: rt.path, Access: accessName(rt)})
	}
	return out
}

// KeyPerms returns the permissions of a key, for the tests.
func KeyPerms(tenant, role string, scopes []string) []string {
	return keyPerms(tenant, role, scopes).list()
}

// FlushBeats writes the waiting heartbeat bookkeeping, for the tests.
func (s *Server) FlushBeats() error { return s.beats.flush(context.Background()) }
