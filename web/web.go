// Package web is Hebao's web app: the customer wallet at /, the merchant portal at
// /merchant, the staff console at /staff and, in development mode, the demo shop and
// till at /demo/shop and /demo/till. Its pages are plain HTML, CSS and JavaScript
// embedded in the binary: no build step, no Node.js, no CDN. They talk to the same
// JSON API as any client.
package web

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var static embed.FS

// Options configure the web app.
type Options struct {
	// Dev serves the demo shop and till (development mode only).
	Dev bool
}

// Patterns are the request patterns the web app answers; the HTTP server mounts
// Handler on each.
var Patterns = []string{"GET /{$}", "GET /assets/", "GET /merchant", "GET /staff", "GET /demo/shop", "GET /demo/till"}

// pages maps a page path to its file under static.
var pages = map[string]string{
	"/":          "index.html",
	"/merchant":  "merchant.html",
	"/staff":     "staff.html",
	"/demo/shop": "demo-shop.html",
	"/demo/till": "demo-till.html",
}

// Handler serves the pages and their assets.
func Handler(o Options) http.Handler {
	root, err := fs.Sub(static, "static")
	if err != nil {
		panic(err)
	}
	assets := http.FileServerFS(root)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The pages load nothing from elsewhere: scripts, styles and images come from
		// this server only.
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		if r.URL.Path == "/assets/env.json" {
			// What the pages need to know of the server: whether it runs in development
			// mode (then the wallet app shows the development SMS inbox).
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			if o.Dev {
				_, _ = w.Write([]byte(`{"dev":true}` + "\n"))
			} else {
				_, _ = w.Write([]byte(`{"dev":false}` + "\n"))
			}
			return
		}
		if strings.HasPrefix(r.URL.Path, "/assets/") {
			if strings.HasSuffix(r.URL.Path, "/") {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Cache-Control", "no-cache")
			assets.ServeHTTP(w, r)
			return
		}
		p := path.Clean(r.URL.Path)
		file, ok := pages[p]
		if !ok || (strings.HasPrefix(p, "/demo/") && !o.Dev) {
			http.NotFound(w, r)
			return
		}
		b, err := fs.ReadFile(root, file)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(b)
	})
}
