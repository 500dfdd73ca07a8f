package main

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserStaffSignsOut: "Sign out" in the console ends the session on the
// server, so the token it held is refused afterwards even if it had been copied.
func TestBrowserStaffSignsOut(t *testing.T) {
	srv, dev := startStaffServer(t)
	b := newBrowser(t, srv)
	b.staffSignIn(dev.Agent)
	token := get(b, "read the console's token", chromedp.Evaluate[string](`sessionStorage.getItem('hebao.staff.token') || ''`))
	if token == "" {
		t.Fatal("the console keeps no token after signing in")
	}
	if st := apiJSON(t, srv, "GET", "/v1/agent/tickets", token, "", nil, nil); st != 200 {
		t.Fatalf("the token before signing out: %d", st)
	}
	b.click("#signout")
	b.waitFor("#signin")
	if left := get(b, "read the token after signing out", chromedp.Evaluate[string](`sessionStorage.getItem('hebao.staff.token') || ''`)); left != "" {
		t.Error("the console still keeps the token after signing out")
	}
	if st := apiJSON(t, srv, "GET", "/v1/agent/tickets", token, "", nil, nil); st != 401 {
		t.Errorf("the token after signing out: %d, want 401", st)
	}
}
