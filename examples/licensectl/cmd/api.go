package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// one makes a call whose answer wraps one object in member ({"license":
// {...}}), decodes that object into v and returns the whole answer.
func (a *app) one(ctx context.Context, method, path string, query url.Values, body any, member string, v any) (json.RawMessage, error) {
	return a.oneH(ctx, method, path, query, body, nil, member, v)
}

// oneH is [app.one] with extra request headers.
func (a *app) oneH(ctx context.Context, method, path string, query url.Values, body any, hdr http.Header, member string, v any) (json.RawMessage, error) {
	cl, err := a.client()
	if err != nil {
		return nil, err
	}
	data, _, err := cl.call(ctx, method, path, query, body, hdr)
	if err != nil {
		return nil, err
	}
	if err := decodeMember(data, member, v); err != nil {
		return nil, err
	}
	return data, nil
}

// decodeMember decodes the member of a JSON object into v; an answer
// without it is not the API's.
func decodeMember(data []byte, member string, v any) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return fmt.Errorf("%w: the answer is not a JSON object", ErrNotAPI)
	}
	raw, ok := obj[member]
	if !ok || string(raw) == "null" {
		return fmt.Errorf("%w: the answer has no %q", ErrNotAPI, member)
	}
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%w: %q in the answer: %s", ErrNotAPI, member, clean(err.Error(), 120))
	}
	return nil
}

// page is a list the API answered, or all of its pages.
type page struct {
	member string
	items  []json.RawMessage
	next   string
}

// MarshalJSON writes {"<member>": [...], "next_cursor": "..."}.
func (p *page) MarshalJSON() ([]byte, error) {
	items := p.items
	if items == nil {
		items = []json.RawMessage{}
	}
	return json.Marshal(map[string]any{p.member: items, "next_cursor": p.next})
}

// decodeItems decodes every item of a page.
func decodeItems[T any](p *page) ([]T, error) {
	out := make([]T, 0, len(p.items))
	for _, raw := range p.items {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("%w: an item of %q: %s", ErrNotAPI, p.member, clean(err.Error(), 120))
		}
		out = append(out, v)
	}
	return out, nil
}

// list gets a list; with all it follows next_cursor to the end.
func (a *app) list(ctx context.Context, path string, query url.Values, member string, all bool) (*page, error) {
	cl, err := a.client()
	if err != nil {
		return nil, err
	}
	p := &page{member: member}
	seen := map[string]bool{}
	for {
		data, _, err := cl.call(ctx, "GET", path, query, nil, nil)
		if err != nil {
			return nil, err
		}
		var ans map[string]json.RawMessage
		if err := json.Unmarshal(data, &ans); err != nil {
			return nil, fmt.Errorf("%w: the answer is not a JSON object", ErrNotAPI)
		}
		var items []json.RawMessage
		if err := json.Unmarshal(ans[member], &items); err != nil || items == nil {
			return nil, fmt.Errorf("%w: the answer has no list %q", ErrNotAPI, member)
		}
		var next string
		if raw, ok := ans["next_cursor"]; ok {
			if err := json.Unmarshal(raw, &next); err != nil {
				return nil, fmt.Errorf("%w: next_cursor is not a string", ErrNotAPI)
			}
		}
		p.items = append(p.items, items...)
		p.next = next
		if !all || next == "" {
			return p, nil
		}
		if seen[next] {
			return nil, fmt.Errorf("%w: the server repeated a cursor", ErrNotAPI)
		}
		seen[next] = true
		if query == nil {
			query = url.Values{}
		}
		query.Set("cursor", next)
	}
}

// morePages tells the person at the terminal that a list goes on.
func (a *app) morePages(p *page) {
	if p.next != "" && !a.json() {
		a.info("More results: add --all, or --cursor %s for the next page.", clean(p.next, 200))
	}
}

// emit prints an answer: as JSON, or through the table function.
func (a *app) emit(raw any, tableFn func(t *table)) error {
	if a.json() {
		return writeJSON(a.env.Stdout, raw)
	}
	t := newTable(a.env.Stdout)
	tableFn(t)
	return t.flush()
}
