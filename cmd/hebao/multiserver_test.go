package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hebaopay/hebao/sqldb/sqldbtest"
)

// listen opens the customer's event stream on s and returns the data of its
// events as they come; the channel closes when the stream ends.
func listen(t *testing.T, s *server, token string) <-chan string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", s.url+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
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

// TestLiveNotificationAcrossServers: two development servers share one PostgreSQL
// database, each with its own data directory but the same keys. The second finds
// the first one's seed in the database and writes the same dev.json, and a code
// sent through one is in the other's development SMS inbox. A pays B through
// server 1 while B's app listens on server 2: B hears of it within a second. A,
// listening on server 1, hears of its own transfer exactly once, though server 1
// both dispatched it and heard the announcement.
func TestLiveNotificationAcrossServers(t *testing.T) {
	url := sqldbtest.PostgresSchema(t) // fails under CI=true without HEBAO_TEST_POSTGRES
	dir1, dir2 := t.TempDir(), t.TempDir()
	s1 := startServer(t, "--dev", "--data-dir", dir1, "--db", url)
	s2 := startServer(t, "--dev", "--data-dir", dir2, "--db", url,
		"--key-file", filepath.Join(dir1, "keys.json"), "--card-key-file", filepath.Join(dir1, "card-keys.json"))
	dev1, err1 := os.ReadFile(filepath.Join(dir1, "dev.json"))
	dev2, err2 := os.ReadFile(filepath.Join(dir2, "dev.json"))
	if err1 != nil || err2 != nil || string(dev1) != string(dev2) {
		t.Errorf("the second server's dev.json differs from the first's: %v %v\n%s\n%s", err1, err2, dev1, dev2)
	}
	c1, c2 := e2e{t, s1}, e2e{t, s2}
	const payPassword = "528471"
	a := demoPayer(c1, "13700137001", "王五", "11010519491231002X", payPassword)
	var b struct {
		Token string `json:"token"`
	}
	c2.call("POST", "/v1/otp", "", `{"phone": "13700137002", "purpose": "register"}`, 202, nil)
	var inbox struct {
		Messages []struct{ Text string } `json:"messages"`
	}
	c1.call("GET", "/v1/dev/sms?phone=13700137002", "", "", 200, &inbox)
	if len(inbox.Messages) != 1 || smsCode.FindStringSubmatch(inbox.Messages[0].Text) == nil {
		t.Fatalf("server 1's inbox has %+v of the code server 2 sent", inbox.Messages)
	}
	code := smsCode.FindStringSubmatch(inbox.Messages[0].Text)[1]
	c1.call("POST", "/v1/customers", "", `{"phone": "13700137002", "otp": "`+code+`", "password": "Pa55word-of-b", "device_id": "phone-b"}`, 201, &b)

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
