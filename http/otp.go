package http

import (
	"net/http"
	"time"

	"github.com/hebaopay/hebao"
)

// SMSInbox is the development SMS gateway seen from the API: the messages it kept
// for a phone, newest first.
type SMSInbox interface {
	Messages(phone string) []hebao.SMSMessage
}

// sendOTP sends an SMS code: POST /v1/otp {phone, purpose} → 202 {expires_in}.
// The code itself is never in a response or a log line.
func (s *Server) sendOTP(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Phone   string `json:"phone"`
		Purpose string `json:"purpose"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if s.otp == nil {
		return hebao.Errorf(hebao.CodeUnavailable, "no SMS gateway is configured, so codes cannot be sent")
	}
	valid, err := s.otp.Send(r.Context(), req.Phone, hebao.OTPPurpose(req.Purpose))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, struct {
		ExpiresIn int64 `json:"expires_in"`
	}{int64(valid / time.Second)})
}

// devSMSMessage is one message in GET /v1/dev/sms.
type devSMSMessage struct {
	Phone  string    `json:"phone"`
	Text   string    `json:"text"`
	SentAt time.Time `json:"sent_at"`
}

// listDevSMS shows what the development SMS gateway sent to a phone, newest first:
// GET /v1/dev/sms?phone=. It exists only in development mode.
func (s *Server) listDevSMS(w http.ResponseWriter, r *http.Request) error {
	phone := r.URL.Query().Get("phone")
	if err := hebao.ValidatePhone(phone); err != nil {
		return err
	}
	out := []devSMSMessage{}
	for _, m := range s.devSMS.Messages(phone) {
		out = append(out, devSMSMessage{Phone: m.Phone, Text: m.Text, SentAt: m.SentAt.UTC()})
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, struct {
		Messages []devSMSMessage `json:"messages"`
	}{out})
}
