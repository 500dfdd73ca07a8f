package main

import (
	"net/http"
	"testing"
)

func TestServePprof(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:6060", ":6060", "192.0.2.1:6060", "localhost:6060", "nonsense"} {
		if _, _, err := servePprof(addr); err == nil {
			t.Errorf("servePprof(%q) served: profiles must stay on a loopback address", addr)
		}
	}
	at, stop, err := servePprof("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	resp, err := http.Get("http://" + at + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("goroutine profile: %d", resp.StatusCode)
	}
}
