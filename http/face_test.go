package http

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/hebaopay/hebao"
)

func faceBody(image string) string {
	return body(map[string]string{"image": base64.StdEncoding.EncodeToString([]byte(image))})
}

func TestFaceVerification(t *testing.T) {
	a := newAccounts(t)
	s := newTestServer(t, a.cfg)
	const phone = "13800138000"
	alice := a.register(t, phone, "dev-a")
	face := func(body string, status int, code string) {
		t.Helper()
		rec := s.do(t, "POST", "/v1/wallet/face-verification", authJSON(alice.Token), body)
		if rec.Code != status {
			t.Fatalf("face %d, want %d: %s", rec.Code, status, rec.Body)
		}
		if code != "" {
			if p := problemOf(t, rec); p.Code != code {
				t.Errorf("code %s, want %s (%s)", p.Code, code, p.Detail)
			}
		}
	}
	face(faceBody("me"), 422, "real_name_required")
	if rec := s.do(t, "POST", "/v1/wallet/real-name", authJSON(alice.Token), realNameBody("张三", testIDNumber)); rec.Code != 200 {
		t.Fatalf("real name: %d %s", rec.Code, rec.Body)
	}
	face(faceBody("me"), 422, "card_required")
	rec := s.do(t, "POST", "/v1/cards", authJSON(alice.Token), bindBody(sandboxCard, "张三", a.code(t, phone, hebao.PurposeBindCard)))
	if rec.Code != 201 {
		t.Fatalf("bind: %d %s", rec.Code, rec.Body)
	}
	face(`{"image": "not base64!"}`, 400, "invalid_request")
	face(`{"image": ""}`, 400, "invalid_request")
	face(faceBody(strings.Repeat("x", hebao.FaceImageMax+1)), 400, "invalid_request")
	face(faceBody("down"), 503, "unavailable")
	face(faceBody("stranger"), 422, "face_check_failed")
	if got := tierOf(t, s, alice.Token); got != 3 {
		t.Errorf("tier after a failed check: %d", got)
	}
	face(faceBody("me"), 200, "")
	if got := tierOf(t, s, alice.Token); got != 2 {
		t.Errorf("tier after the face check: %d, want 2", got)
	}
	if got := a.actions(); !strings.HasSuffix(got, "card.bind customer.face_check_failed customer.face_check") {
		t.Errorf("audit %s", got)
	}

	cfg := a.cfg
	cfg.Face = &hebao.FaceService{Store: a.store, Keys: cfg.Face.Keys}
	s = newTestServer(t, cfg)
	face(faceBody("me"), 503, "unavailable")
}
