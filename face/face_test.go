package face

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/sms"
)

func TestDev(t *testing.T) {
	for image, want := range map[string]bool{"": false, "x": true} {
		if got, err := (Dev{}).Verify(t.Context(), "cus_1", "张三", []byte(image)); got != want || err != nil {
			t.Errorf("Dev.Verify(%q) = %v, %v", image, got, err)
		}
	}
}

func TestHTTPVerifier(t *testing.T) {
	secret := []byte("face-secret-0123456789")
	now := time.Unix(1_780_000_000, 0)
	var answer string
	var status int
	var got struct {
		signature string
		body      []byte
	}
	service := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.signature = r.Header.Get("Hebao-Signature")
		got.body, _ = io.ReadAll(r.Body)
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	defer service.Close()
	v, err := NewHTTPVerifier(service.URL+"/check", secret, 0, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		answer string
		status int
		match  bool
		code   string
	}{
		{`{"match": true}`, 200, true, ""},
		{`{"match": false}`, 200, false, ""},
		{`{}`, 200, false, hebao.CodeUnavailable},
		{`{"match": true}`, 500, false, hebao.CodeUnavailable},
		{`{"match": true}`, 302, false, hebao.CodeUnavailable},
	} {
		answer, status = tt.answer, tt.status
		match, err := v.Verify(t.Context(), "cus_1", "张三", []byte("face"))
		if match != tt.match || hebao.ErrorCode(err) != tt.code {
			t.Errorf("answer %d %s: %v, %v; want %v, %q", tt.status, tt.answer, match, err, tt.match, tt.code)
		}
		if err != nil && strings.Contains(err.Error(), "张三") {
			t.Errorf("the error holds the name: %v", err)
		}
	}
	var req map[string]string
	if err := json.Unmarshal(got.body, &req); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]string{"customer_id": "cus_1", "name": "张三", "image": "ZmFjZQ=="}, req); d != "" {
		t.Errorf("request (-want +got):\n%s", d)
	}
	if want := sms.Sign(secret, now, got.body); got.signature != want {
		t.Errorf("signature %q, want %q", got.signature, want)
	}
	if _, err := NewHTTPVerifier("ftp://x", secret, 0, nil); err == nil {
		t.Error("an ftp URL was accepted")
	}
	if _, err := NewHTTPVerifier(service.URL, []byte("short"), 0, nil); err == nil {
		t.Error("a short secret was accepted")
	}
}
