package http

import (
	"strings"
	"testing"

	"github.com/hebaopay/hebao"
)

func TestPaymentPasswordRoutes(t *testing.T) {
	a := newAccounts(t)
	s := newTestServer(t, a.cfg)
	const phone = "13800138000"
	alice := a.register(t, phone, "dev-a")
	send := func(method, target, body string, status int, code string) {
		t.Helper()
		rec := s.do(t, method, target, authJSON(alice.Token), body)
		if rec.Code != status {
			t.Fatalf("%s %s: %d, want %d: %s", method, target, rec.Code, status, rec.Body)
		}
		if code != "" {
			if p := problemOf(t, rec); p.Code != code {
				t.Errorf("%s %s: code %s, want %s", method, target, p.Code, code)
			}
		}
	}
	set := func(pw, otp string) string { return body(map[string]string{"password": pw, "otp": otp}) }
	reset := func(otp, id, pw string) string {
		return body(map[string]string{"otp": otp, "id_number": id, "password": pw})
	}
	send("PUT", "/v1/wallet/payment-password", set("123456", a.code(t, phone, hebao.PurposeSetPaymentPassword)), 422, "payment_password_weak")
	send("PUT", "/v1/wallet/payment-password", set("12345", "123456"), 400, "invalid_request")
	send("PUT", "/v1/wallet/payment-password", `{"password": "528471"}`, 400, "invalid_request")
	send("PUT", "/v1/wallet/payment-password", set("528471", a.code(t, phone, hebao.PurposeSetPaymentPassword)), 204, "")
	send("POST", "/v1/wallet/payment-password/reset", reset(a.code(t, phone, hebao.PurposeResetPaymentPassword), testIDNumber, "640193"), 422, "real_name_required")
	if rec := s.do(t, "POST", "/v1/wallet/real-name", authJSON(alice.Token), realNameBody("张三", testIDNumber)); rec.Code != 200 {
		t.Fatal(rec.Body)
	}
	send("POST", "/v1/wallet/payment-password/reset", reset(a.code(t, phone, hebao.PurposeResetPaymentPassword), testIDNumber2, "640193"), 422, "id_number_invalid")
	send("POST", "/v1/wallet/payment-password/reset", reset(a.code(t, phone, hebao.PurposeResetPaymentPassword), testIDNumber, "491231"), 422, "payment_password_weak")
	send("POST", "/v1/wallet/payment-password/reset", reset(a.code(t, phone, hebao.PurposeResetPaymentPassword), testIDNumber, "640193"), 204, "")
	if err := a.cfg.PaymentPasswords.Check(t.Context(), alice.Wallet.ID, "640193"); err != nil {
		t.Errorf("the reset password does not check: %v", err)
	}
	if rec := s.do(t, "PUT", "/v1/wallet/payment-password", bearerHeader(a.admin), set("528471", "123456")); rec.Code != 403 {
		t.Errorf("staff token: %d", rec.Code)
	}
	for _, secret := range []string{"528471", "640193"} {
		if strings.Contains(s.logs.String(), secret) {
			t.Errorf("the log holds a payment password")
		}
	}
}
