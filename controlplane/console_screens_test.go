package controlplane_test

import (
	"net/http"
	"testing"
)

// Every screen renders for super_admin, with its labels and buttons.
func TestConsoleScreens(t *testing.T) {
	h := newHarness(t)
	l := h.issue("ten_a", map[string]any{"capabilities": []string{"kyc:write"}, "metadata": map[string]string{"environment": "production"}})
	b := h.signIn(adminSecret)
	for _, tc := range []struct {
		path  string
		texts []string
	}{
		{"/licensing/", []string{"<h1>Licenses</h1>", l.ID, ">License ID</label>", ">Tenant ID</label>", ">Status</label>", ">Plan</label>", ">Expiring within</label>", ">Filter</button>", "Sign out"}},
		{"/licensing/license-new", []string{`<label for="tenant_id">Tenant ID</label>`, `<label for="audience">Audience</label>`, `<label for="subject">Subject</label>`,
			`<label for="tenant_ctry">Country</label>`, `<label for="plan">Plan</label>`, `<label for="ttl">TTL</label>`, `<label for="capabilities">Capabilities</label>`,
			`<label for="metadata">Metadata</label>`, `<label for="max_machines">Max machines</label>`, ">Issue license</button>"}},
		{"/licensing/licenses/" + l.ID, []string{"Claims", "kyc:write", "environment", "production", l.Primary, l.Secondary, ">Suspend</button>", ">Revoke</a>",
			">Reset primary</a>", ">Reset secondary</a>", ">Renew</button>", ">Rebind</button>", ">Delete</a>", ">Check</button>",
			">Download primary</a>", ">Download secondary</a>", ">Download both</a>", "Machines", "Audit events", "license.issue"}},
		{"/licensing/heartbeats", []string{"<h1>Heartbeats</h1>", "alive", "overdue", "dead", ">Save directives</button>", ">Run sweep</button>"}},
		{"/licensing/signing", []string{"<h1>Signing Keys</h1>", ">Create signing key</button>", "EdDSA", "badge-active"}},
		{"/licensing/settings", []string{`<label for="s-grace">Grace</label>`, `<label for="s-heartbeat_interval">Heartbeat interval</label>`, "Monthly TTL", "Offline lease TTL", ">Save settings</button>", `value="14d"`}},
		{"/licensing/keys", []string{"<h1>API keys</h1>", ">Create key</button>", `<label for="k-name">Name</label>`, `<label for="k-role">Role</label>`, "key_bootstrap", "lk_key_bootstrap_…"}},
		{"/licensing/audit", []string{"<h1>Audit</h1>", "license.issue", "console.login", ">Action</label>", ">Since</label>"}},
	} {
		p := b.get(tc.path)
		wantPage(t, tc.path, p, http.StatusOK, tc.texts...)
	}
}
