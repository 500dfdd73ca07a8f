package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// The pages come with a policy that loads nothing from elsewhere; env.json tells
// the pages whether the server is in development mode; the demo pages exist only
// then; unknown paths and directory listings are 404.
func TestHandler(t *testing.T) {
	prod, dev := Handler(Options{}), Handler(Options{Dev: true})
	for _, p := range []string{"/", "/merchant", "/staff", "/assets/app.js", "/assets/app.css"} {
		res, body := get(t, prod, p)
		if res.StatusCode != 200 || body == "" {
			t.Errorf("%s: %d", p, res.StatusCode)
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("%s: CSP %q", p, csp)
		}
	}
	if _, body := get(t, prod, "/assets/env.json"); strings.TrimSpace(body) != `{"dev":false}` {
		t.Errorf("production env.json: %s", body)
	}
	if _, body := get(t, dev, "/assets/env.json"); strings.TrimSpace(body) != `{"dev":true}` {
		t.Errorf("development env.json: %s", body)
	}
	for _, p := range []string{"/demo/shop", "/demo/till"} {
		if res, _ := get(t, prod, p); res.StatusCode != 404 {
			t.Errorf("%s without --dev: %d", p, res.StatusCode)
		}
		if res, _ := get(t, dev, p); res.StatusCode != 200 {
			t.Errorf("%s with --dev: %d", p, res.StatusCode)
		}
	}
	for _, p := range []string{"/assets/", "/assets/screens/", "/nope", "/assets/nope.js"} {
		if res, _ := get(t, dev, p); res.StatusCode != 404 {
			t.Errorf("%s: %d, want 404", p, res.StatusCode)
		}
	}
}
