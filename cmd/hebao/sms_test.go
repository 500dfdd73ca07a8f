package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hebaopay/hebao/sms"
)

// TestServeWithoutDev: no development inbox route, and with no SMS gateway
// configured the server runs and POST /v1/otp says why it cannot send.
func TestServeWithoutDev(t *testing.T) {
	s := startServer(t, "--data-dir", t.TempDir())
	if out := s.stdout.String(); !strings.Contains(out, "SMS gateway      none: POST /v1/otp answers 503") {
		t.Errorf("the startup text does not say there is no SMS gateway:\n%s", out)
	}
	for _, tt := range []struct {
		method, path, body string
		status             int
		code, detail       string
	}{
		{"GET", "/v1/dev/sms?phone=13800138000", "", 404, "not_found", "there is no route GET /v1/dev/sms"},
		{"POST", "/v1/otp", `{"phone": "13800138000", "purpose": "login"}`, 503, "unavailable", "no SMS gateway is configured, so codes cannot be sent"},
		{"POST", "/v1/otp", `{"phone": "1380013800", "purpose": "login"}`, 400, "invalid_request", "phone must be a mainland China mobile number: 11 digits starting with 13 to 19"},
	} {
		resp, body := s.do(t, tt.method, tt.path, http.Header{"Content-Type": {"application/json"}}, tt.body)
		var p problemDoc
		json.Unmarshal(body, &p)
		if resp.StatusCode != tt.status || p.Code != tt.code || p.Detail != tt.detail {
			t.Errorf("%s %s: %d %s, want %d %s %q", tt.method, tt.path, resp.StatusCode, body, tt.status, tt.code, tt.detail)
		}
	}
	if out := s.stdout.String(); !strings.Contains(out, "face check       none: POST /v1/wallet/face-verification answers 503") {
		t.Errorf("the startup text does not say there is no face check:\n%s", out)
	}
	if resp, _ := s.do(t, "GET", "/readyz", nil, ""); resp.StatusCode != 200 {
		t.Errorf("readyz: %d", resp.StatusCode)
	}
}

// TestServeWithSMSGateway sends a code through the HTTP gateway to a fake SMS service.
func TestServeWithSMSGateway(t *testing.T) {
	type delivery struct {
		signature string
		body      []byte
	}
	got := make(chan delivery, 1)
	service := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- delivery{r.Header.Get("Hebao-Signature"), b}
	}))
	defer service.Close()
	secretFile := filepath.Join(t.TempDir(), "sms-secret")
	if err := os.WriteFile(secretFile, []byte("sms-secret-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	s := startServer(t, "--data-dir", t.TempDir(), "--sms-url", service.URL+"/send?token=hidden", "--sms-secret-file", secretFile)
	if out := s.stdout.String(); !strings.Contains(out, "SMS gateway      "+service.URL+"/send\n") {
		t.Errorf("the startup text does not name the gateway (without its query):\n%s", out)
	}
	resp, body := s.do(t, "POST", "/v1/otp", http.Header{"Content-Type": {"application/json"}}, `{"phone": "13800138000", "purpose": "bind_card"}`)
	if resp.StatusCode != 202 {
		t.Fatalf("POST /v1/otp: %d %s", resp.StatusCode, body)
	}
	d := <-got
	var msg struct{ Phone, Text, ID string }
	if err := json.Unmarshal(d.body, &msg); err != nil || msg.Phone != "13800138000" {
		t.Fatalf("the service got %s (%v)", d.body, err)
	}
	code := regexp.MustCompile(`验证码 (\d{6})，用于绑定银行卡`).FindStringSubmatch(msg.Text)
	if code == nil {
		t.Fatalf("the text %q has no code for binding a card", msg.Text)
	}
	// The signature is over the exact body, with the secret's trailing newline cut.
	ts, _, _ := strings.Cut(strings.TrimPrefix(d.signature, "t="), ",")
	sec, _ := strconv.ParseInt(ts, 10, 64)
	if age := time.Since(time.Unix(sec, 0)); age < -time.Minute || age > time.Minute {
		t.Errorf("the signature's time is %v away from now", age)
	}
	if want := sms.Sign([]byte("sms-secret-0123456789"), time.Unix(sec, 0), d.body); d.signature != want {
		t.Errorf("Hebao-Signature %q, want %q", d.signature, want)
	}
	if strings.Contains(s.stderr.String(), code[1]) || strings.Contains(s.stdout.String(), code[1]) {
		t.Errorf("the code %s is in the server's output", code[1])
	}
}

func TestServeRefusesHalfAnSMSGateway(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "sms-secret")
	os.WriteFile(secretFile, []byte("sms-secret-0123456789"), 0o600)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"URL without secret", nil, []string{"--sms-url", "https://sms.example.com/send"}, "--sms-url needs the gateway's secret"},
		{"secret without URL", map[string]string{"HEBAO_SMS_SECRET": "sms-secret-0123456789"}, nil, "no --sms-url"},
		{"secret file without URL", nil, []string{"--sms-secret-file", secretFile}, "no --sms-url"},
		{"missing secret file", nil, []string{"--sms-url", "https://sms.example.com/send", "--sms-secret-file", secretFile + ".nope"}, "read the SMS gateway secret"},
		{"short secret", map[string]string{"HEBAO_SMS_URL": "https://sms.example.com/send", "HEBAO_SMS_SECRET": "short"}, nil, "at least 16 bytes"},
		{"not a URL", map[string]string{"HEBAO_SMS_SECRET": "sms-secret-0123456789"}, []string{"--sms-url", "sms.example.com"}, "must be an http:// or https:// URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0"}, tt.args...)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			m := &Main{Getenv: func(k string) string { return tt.env[k] }}
			if err := m.Run(ctx, args); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("serve: %v, want an error saying %q", err, tt.want)
			}
		})
	}
}
