package http

import (
	"encoding/base64"
	"net/http"

	"github.com/hebaopay/hebao"
)

// setRealName records the caller's real name and resident ID number and raises the
// wallet to tier 3: POST /v1/wallet/real-name {name, id_number} → 200 {wallet_id,
// tier}. Neither value is ever echoed back or logged.
// Errors: invalid_request, id_number_invalid, conflict, unavailable.
func (s *Server) setRealName(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	var req struct {
		Name     string `json:"name"`
		IDNumber string `json:"id_number"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if s.identity == nil {
		return notConfigured("real-name verification")
	}
	wal, err := s.identity.SetRealName(r.Context(), sess.CustomerID, req.Name, req.IDNumber)
	if err != nil {
		return err
	}
	return writeTier(w, wal)
}

// verifyFace checks the caller's face and raises the wallet to tier 2:
// POST /v1/wallet/face-verification {image} (base64, at most 48 KiB decoded) →
// 200 {wallet_id, tier}. The image is neither stored nor logged.
// Errors: invalid_request, real_name_required, card_required, face_check_failed,
// unavailable.
func (s *Server) verifyFace(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	var req struct {
		Image string `json:"image"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	image, err := base64.StdEncoding.DecodeString(req.Image)
	if err != nil {
		return invalid("image must be the photo in standard base64")
	}
	if s.face == nil {
		return notConfigured("the face check")
	}
	wal, err := s.face.Verify(r.Context(), sess.CustomerID, image)
	if err != nil {
		return err
	}
	return writeTier(w, wal)
}

// setPaymentPassword sets the caller's payment password: PUT
// /v1/wallet/payment-password {password, otp} → 204. otp is a code sent for purpose
// set_payment_password. The password is never echoed or logged.
// Errors: invalid_request, payment_password_weak, otp_invalid, otp_expired,
// unavailable.
func (s *Server) setPaymentPassword(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	var req struct {
		Password string `json:"password"`
		OTP      string `json:"otp"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if s.payPasswords == nil {
		return notConfigured("payment passwords")
	}
	if err := s.payPasswords.Set(r.Context(), sess.CustomerID, req.Password, req.OTP); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// resetPaymentPassword sets a new payment password with an SMS code and the ID
// number, and unlocks payments: POST /v1/wallet/payment-password/reset {otp,
// id_number, password} → 204. otp is a code sent for purpose reset_payment_password.
// Errors: invalid_request, id_number_invalid, real_name_required,
// payment_password_weak, otp_invalid, otp_expired, unavailable.
func (s *Server) resetPaymentPassword(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	var req struct {
		OTP      string `json:"otp"`
		IDNumber string `json:"id_number"`
		Password string `json:"password"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if s.payPasswords == nil {
		return notConfigured("payment passwords")
	}
	if err := s.payPasswords.Reset(r.Context(), sess.CustomerID, req.OTP, req.IDNumber, req.Password); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// writeTier answers a step that changed the wallet's tier: 200 {wallet_id, tier}.
func writeTier(w http.ResponseWriter, wal hebao.Wallet) error {
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, struct {
		WalletID string `json:"wallet_id"`
		Tier     int    `json:"tier"`
	}{wal.ID, wal.Tier})
}
