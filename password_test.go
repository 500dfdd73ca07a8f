package hebao_test

import (
	"encoding/base64"
	"regexp"
	"strings"
	"testing"

	"github.com/hebaopay/hebao"
)

// cheap keeps hashing fast in tests; one test below uses the real parameters.
var cheap = hebao.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestValidatePassword(t *testing.T) {
	tests := []struct {
		pw   string
		code string
	}{
		{"abcdefgh", ""},
		{"12345678a", ""},
		{"密码密码密码密码", ""}, // 8 characters, 24 bytes
		{strings.Repeat("x", 64), ""},
		{"abcdefg", "invalid_request"},
		{strings.Repeat("x", 65), "invalid_request"},
		{"12345678", "invalid_request"},
		{"1234567890123", "invalid_request"},
		{"abc\xffdefgh", "invalid_request"},
		{"", "invalid_request"},
	}
	for _, tt := range tests {
		wantCode(t, "ValidatePassword("+tt.pw+")", hebao.ValidatePassword(tt.pw), tt.code)
	}
}

func TestValidateStaffPassword(t *testing.T) {
	for pw, code := range map[string]string{
		"twelve chars":           "",
		"eleven char":            "invalid_request",
		strings.Repeat("a", 128): "",
		strings.Repeat("a", 129): "invalid_request",
	} {
		wantCode(t, "ValidateStaffPassword("+pw+")", hebao.ValidateStaffPassword(pw), code)
	}
}

// TestHashPasswordDefault checks the stored form under the OWASP parameters: a PHC
// string with a 16-byte salt and a 32-byte key, different for each hash.
func TestHashPasswordDefault(t *testing.T) {
	h1, err := hebao.HashPassword(hebao.Argon2Params{}, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := hebao.HashPassword(hebao.DefaultArgon2, "correct horse")
	m := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$`).FindStringSubmatch(h1)
	if m == nil {
		t.Fatalf("hash %q is not the expected PHC string", h1)
	}
	salt, _ := base64.RawStdEncoding.DecodeString(m[1])
	key, _ := base64.RawStdEncoding.DecodeString(m[2])
	if len(salt) != 16 || len(key) != 32 {
		t.Errorf("salt %d bytes, key %d bytes; want 16 and 32", len(salt), len(key))
	}
	if h1 == h2 {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	if strings.Contains(h1, "correct horse") {
		t.Error("the hash contains the password")
	}
	for _, h := range []string{h1, h2} {
		if ok, err := hebao.CheckPassword(h, "correct horse"); !ok || err != nil {
			t.Errorf("CheckPassword(right) = %v, %v", ok, err)
		}
	}
}

func TestCheckPassword(t *testing.T) {
	h, err := hebao.HashPassword(cheap, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(h, "$")
	tests := []struct {
		name, hash, pw string
		ok, err        bool
	}{
		{name: "right", hash: h, pw: "correct horse", ok: true},
		{name: "wrong", hash: h, pw: "correct horsE"},
		{name: "empty", hash: h, pw: ""},
		{name: "not PHC", hash: "plain", pw: "x", err: true},
		{name: "argon2i", hash: strings.Replace(h, "argon2id", "argon2i", 1), pw: "x", err: true},
		{name: "other version", hash: strings.Replace(h, "v=19", "v=16", 1), pw: "x", err: true},
		{name: "trailing params", hash: strings.Replace(h, parts[3], parts[3]+",x=1", 1), pw: "x", err: true},
		{name: "huge memory", hash: strings.Replace(h, parts[3], "m=4194304,t=1,p=1", 1), pw: "x", err: true},
		{name: "bad salt", hash: strings.Replace(h, parts[4], "!!", 1), pw: "x", err: true},
		{name: "short key", hash: strings.Replace(h, parts[5], "AAAA", 1), pw: "x", err: true},
	}
	for _, tt := range tests {
		ok, err := hebao.CheckPassword(tt.hash, tt.pw)
		if ok != tt.ok || (err != nil) != tt.err {
			t.Errorf("%s: CheckPassword = %v, %v; want %v, error %v", tt.name, ok, err, tt.ok, tt.err)
		}
	}
	if _, err := hebao.HashPassword(hebao.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 4, KeyLen: 32}, "x"); err == nil {
		t.Error("a 4-byte salt was accepted")
	}
}
