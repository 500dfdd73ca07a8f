package http

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
)

// otpMemory is a database of SMS codes in memory: all or nothing like the real
// store, one closure at a time.
type otpMemory struct {
	mu    sync.Mutex
	codes []hebao.OTP
}

func (m *otpMemory) store() *fakeStore {
	return &fakeStore{TransactFn: func(ctx context.Context, fn func(hebao.Tx) error) error {
		m.mu.Lock()
		defer m.mu.Unlock()
		saved := slices.Clone(m.codes)
		if err := fn(otpTx{m: m}); err != nil {
			m.codes = saved
			return err
		}
		return nil
	}}
}

// otpTx has what sending a code needs; anything else panics on the nil Tx.
type otpTx struct {
	hebao.Tx
	m *otpMemory
}

func (t otpTx) OTPs(_ context.Context, phone string, since time.Time) ([]hebao.OTP, error) {
	var out []hebao.OTP
	for _, o := range t.m.codes {
		if o.Phone == phone && !o.SentAt.Before(since) {
			out = append(out, o)
		}
	}
	return out, nil
}

func (t otpTx) CreateOTP(_ context.Context, o hebao.OTP) error {
	t.m.codes = append(t.m.codes, o)
	return nil
}

// devInbox is a development SMS gateway: it keeps messages, or fails with err.
type devInbox struct {
	mu   sync.Mutex
	err  error
	msgs []hebao.SMSMessage
}

func (d *devInbox) Send(_ context.Context, phone, text string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.msgs = append(d.msgs, hebao.SMSMessage{Phone: phone, Text: text, SentAt: otpNow})
	return d.err
}

func (d *devInbox) Messages(phone string) []hebao.SMSMessage {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []hebao.SMSMessage
	for _, m := range slices.Backward(d.msgs) {
		if m.Phone == phone {
			out = append(out, m)
		}
	}
	return out
}

var otpNow = time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)

// otpConfig is a server configuration with SMS codes in memory, in development
// mode when dev is set.
func otpConfig(dev bool) (Config, *devInbox) {
	inbox := &devInbox{}
	mem := &otpMemory{}
	cfg := Config{
		Store: mem.store(),
		OTP:   &hebao.OTPService{Store: mem.store(), SMS: inbox, Key: []byte("an OTP key for the http tests"), Now: func() time.Time { return otpNow }},
	}
	if dev {
		cfg.Dev, cfg.DevSMS = true, inbox
	}
	return cfg, inbox
}

var sixDigits = regexp.MustCompile(`\d{6}`)

func TestSendOTP(t *testing.T) {
	const body = `{"phone": "13800138000", "purpose": "register"}`
	tests := []struct {
		name    string
		setup   func(cfg *Config, inbox *devInbox)
		body    string
		status  int
		want    string // the body of a success
		problem string // the code and detail of a failure
	}{
		{name: "sent", body: body, status: 202, want: `{"expires_in":300}` + "\n"},
		{name: "again at once", body: body, status: 429, setup: func(cfg *Config, _ *devInbox) {
			cfg.OTP.Send(context.Background(), "13800138000", hebao.PurposeRegister)
		}, problem: "rate_limited: a code for register was sent to this phone less than 60 seconds ago; try again in 60 seconds"},
		{name: "malformed JSON", body: `{"phone": "13800138000",`, status: 400, problem: "invalid_request: the request body is not valid JSON: it ends too early"},
		{name: "unknown field", body: `{"phone": "13800138000", "purpose": "login", "code": "123456"}`, status: 400, problem: `invalid_request: unknown field "code"`},
		{name: "phone as a number", body: `{"phone": 13800138000, "purpose": "login"}`, status: 400, problem: `invalid_request: field "phone" must be a string, not number`},
		{name: "bad phone", body: `{"phone": "+8613800138000", "purpose": "login"}`, status: 400, problem: "invalid_request: phone must be a mainland China mobile number: 11 digits starting with 13 to 19"},
		{name: "no purpose", body: `{"phone": "13800138000"}`, status: 400, problem: "invalid_request: purpose must be one of register, login, bind_card, set_payment_password, reset_payment_password, unfreeze, step_up"},
		{name: "no OTP service", body: body, status: 503, setup: func(cfg *Config, _ *devInbox) { cfg.OTP = nil },
			problem: "unavailable: no SMS gateway is configured, so codes cannot be sent"},
		{name: "no gateway", body: body, status: 503, setup: func(cfg *Config, _ *devInbox) { cfg.OTP.SMS = nil },
			problem: "unavailable: no SMS gateway is configured, so codes cannot be sent"},
		{name: "gateway down", body: body, status: 503, setup: func(_ *Config, inbox *devInbox) { inbox.err = errors.New("gateway answered 502") },
			problem: "unavailable: the SMS could not be sent; ask for a new code in 60 seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, inbox := otpConfig(false)
			if tt.setup != nil {
				tt.setup(&cfg, inbox)
			}
			s := newTestServer(t, cfg)
			rec := s.do(t, "POST", "/v1/otp", jsonHeader("X-Request-Id", "otp-1"), tt.body)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.status, rec.Body)
			}
			if tt.problem != "" {
				p := problemOf(t, rec)
				if got := p.Code + ": " + p.Detail; got != tt.problem {
					t.Errorf("problem %q, want %q", got, tt.problem)
				}
				if p.RequestID != "otp-1" {
					t.Errorf("request_id %q", p.RequestID)
				}
			} else if got := rec.Body.String(); got != tt.want {
				t.Errorf("body %q, want %q", got, tt.want)
			}
			// The code is in the SMS, and in no response or log line.
			for _, m := range inbox.msgs {
				code := sixDigits.FindString(m.Text)
				if strings.Contains(rec.Body.String(), code) || strings.Contains(s.logs.String(), code) {
					t.Errorf("the code %s leaked:\nbody %s\nlogs %s", code, rec.Body, s.logs)
				}
			}
		})
	}
}

func TestDevSMS(t *testing.T) {
	cfg, _ := otpConfig(true)
	s := newTestServer(t, cfg)
	for _, p := range []string{"login", "bind_card"} {
		if rec := s.do(t, "POST", "/v1/otp", jsonHeader(), `{"phone": "13800138000", "purpose": "`+p+`"}`); rec.Code != 202 {
			t.Fatalf("send %s: %d %s", p, rec.Code, rec.Body)
		}
	}
	rec := s.do(t, "GET", "/v1/dev/sms?phone=13800138000", nil, "")
	if rec.Code != 200 || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("status %d, Cache-Control %q; body %s", rec.Code, rec.Header().Get("Cache-Control"), rec.Body)
	}
	var got struct {
		Messages []struct {
			Phone  string `json:"phone"`
			Text   string `json:"text"`
			SentAt string `json:"sent_at"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, m := range got.Messages {
		if m.Phone != "13800138000" || m.SentAt != "2026-03-02T04:00:00Z" {
			t.Errorf("message %+v, want phone 13800138000 sent at 2026-03-02T04:00:00Z", m)
		}
		texts = append(texts, sixDigits.ReplaceAllString(m.Text, "NNNNNN"))
	}
	want := []string{
		hebao.OTPText(hebao.PurposeBindCard, "NNNNNN"), // newest first
		hebao.OTPText(hebao.PurposeLogin, "NNNNNN"),
	}
	if diff := cmp.Diff(want, texts); diff != "" {
		t.Errorf("texts (-want +got):\n%s", diff)
	}

	if rec := s.do(t, "GET", "/v1/dev/sms?phone=13900139000", nil, ""); rec.Body.String() != `{"messages":[]}`+"\n" {
		t.Errorf("a phone with no messages: %s", rec.Body)
	}
	for _, target := range []string{"/v1/dev/sms", "/v1/dev/sms?phone=138", "/v1/dev/sms?phone=%2B8613800138000"} {
		if p := problemOf(t, s.do(t, "GET", target, nil, "")); p.Status != 400 || p.Code != "invalid_request" {
			t.Errorf("GET %s: %d %s", target, p.Status, p.Code)
		}
	}
	if strings.Contains(s.logs.String(), "13800138000") {
		t.Errorf("the log shows the phone number:\n%s", s.logs)
	}
}

func TestDevSMSOnlyInDevMode(t *testing.T) {
	cfg, _ := otpConfig(false)
	s := newTestServer(t, cfg)
	rec := s.do(t, "GET", "/v1/dev/sms?phone=13800138000", nil, "")
	if p := problemOf(t, rec); p.Status != 404 || p.Code != "not_found" {
		t.Errorf("without dev: %d %s, want 404 not_found", p.Status, p.Code)
	}
	cfg.DevSMS = &devInbox{}
	if _, err := NewServer(cfg); err == nil {
		t.Error("NewServer took a DevSMS inbox without Dev")
	}
}
