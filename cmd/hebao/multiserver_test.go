package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hebaopay/hebao/sqldb/sqldbtest"
)

// listen opens the customer's event stream on s and returns the data of its
// events as they come.
func listen(t *testing.T, s *server, token string) <-chan string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", s.url+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 {
		t.Fatalf("events: %d", resp.StatusCode)
	}
	events := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				events <- data
			}
		}
		close(events)
	}()
	return events
}

// TestLiveNotificationAcrossServers: two servers share one PostgreSQL database
// (and, as development servers must, one data directory with its keys). A pays B
// through server 1 while B's app listens on server 2: B hears of it within a
// second. A, listening on server 1, hears of its own transfer exactly once,
// though server 1 both dispatched it and heard the announcement.
func TestLiveNotificationAcrossServers(t *testing.T) {
	url := sqldbtest.PostgresSchema(t) // fails under CI=true without HEBAO_TEST_POSTGRES
	dir := t.TempDir()
	s1 := startServer(t, "--dev", "--data-dir", dir, "--db", url)
	s2 := startServer(t, "--dev", "--data-dir", dir, "--db", url)
	c1 := e2e{t, s1}
	const payPassword = "528471"
	a := demoPayer(c1, "13700137001", "王五", "11010519491231002X", payPassword)
	var b struct {
		Token string `json:"token"`
	}
	c1.call("POST", "/v1/customers", "", `{"phone": "13700137002", "otp": "`+c1.code("13700137002", "register")+`", "password": "Pa55word-of-b", "device_id": "phone-b"}`, 201, &b)

	onS2 := listen(t, s2, b.Token)
	onS1 := listen(t, s1, a)
	status, raw := c1.money("/v1/transfers", a, "across-1", `{"to_phone": "13700137002", "amount": 1234, "payment_password": "`+payPassword+`"}`)
	sent := time.Now()
	if status != 201 {
		t.Fatalf("transfer: %d %s", status, raw)
	}
	var n struct {
		Kind   string `json:"kind"`
		Amount int64  `json:"amount"`
	}
	select {
	case data := <-onS2:
		if json.Unmarshal([]byte(data), &n) != nil || n.Kind != "transfer_in.succeeded" || n.Amount != 1234 {
			t.Errorf("B's event on server 2: %q", data)
		}
		t.Logf("server 2 pushed the transfer made on server 1 %v after the POST returned", time.Since(sent))
	case <-time.After(time.Second):
		t.Fatal("B, listening on server 2, heard nothing within 1s of a transfer made on server 1")
	}
	select {
	case data := <-onS1:
		if json.Unmarshal([]byte(data), &n) != nil || n.Kind != "transfer_out.succeeded" {
			t.Errorf("A's event on server 1: %q", data)
		}
	case <-time.After(time.Second):
		t.Fatal("A, listening on server 1, heard nothing within 1s of its transfer")
	}
	select {
	case data := <-onS1:
		t.Errorf("A heard a second event: %q", data)
	case <-time.After(300 * time.Millisecond):
	}
}
