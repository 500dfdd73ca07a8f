package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLoadKeysCreates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new-dir", "keys.json")
	k, err := loadKeys(path, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Ledger) != keySize {
		t.Fatalf("ledger key has %d bytes, want %d", len(k.Ledger), keySize)
	}

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("key file mode %04o, want 0600", got)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]string
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("key file %s: %v", b, err)
	}
	want := map[string]string{"ledger_key": base64.StdEncoding.EncodeToString(k.Ledger)}
	if diff := cmp.Diff(want, raw); diff != "" {
		t.Errorf("key file (-want +got):\n%s", diff)
	}
	if w := keyFileWarning(path); w != "" {
		t.Errorf("warning for a new key file: %s", w)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("the key file's directory holds %d entries, want only the key file", len(entries))
	}

	// Loading again reads the same key, and never makes a new one.
	again, err := loadKeys(path, true)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(k, again); diff != "" {
		t.Errorf("second load (-first +second):\n%s", diff)
	}
	if again, err = loadKeys(path, false); err != nil || !cmp.Equal(k, again) {
		t.Errorf("load without create: %v, %v", again, err)
	}
}

func TestLoadKeysMissingWithoutCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	_, err := loadKeys(path, false)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("err = %v, want one naming the missing file", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a key file was created: %v", err)
	}
}

func TestLoadKeysConcurrentCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	const n = 8
	got := make([]*keys, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { got[i], errs[i] = loadKeys(path, true) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !cmp.Equal(got[0], got[i]) {
			t.Fatalf("process %d got another key than process 0", i)
		}
	}
}

func TestLoadKeysRejectsBadFiles(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"not JSON", "ledger_key=abc", "is not valid"},
		{"not base64", `{"ledger_key": "***"}`, "is not valid"},
		{"short key", `{"ledger_key": "` + base64.StdEncoding.EncodeToString(make([]byte, 16)) + `"}`, "must be 32 bytes"},
		{"no key", `{}`, "must be 32 bytes"},
		{"empty file", ``, "is not valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keys.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := loadKeys(path, true)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			if b, _ := os.ReadFile(path); string(b) != tt.content {
				t.Error("a bad key file was replaced")
			}
		})
	}
}

func TestKeyFileWarning(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	if _, err := loadKeys(path, true); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if w := keyFileWarning(path); !strings.Contains(w, "chmod 600") {
		t.Errorf("warning = %q", w)
	}
}

func TestOTPKey(t *testing.T) {
	// From: printf 'hebao otp key v1' | openssl dgst -sha256 -mac HMAC -macopt hexkey:0707…07
	ledger := bytes.Repeat([]byte{7}, 32)
	want := "f2cd2ea52abdf34c7694820e59e8a53a025f9331d2cd7314abd39dc5cae5c6c8"
	if got := hex.EncodeToString(otpKey(ledger)); got != want {
		t.Errorf("otpKey = %s, want %s", got, want)
	}
	if bytes.Equal(otpKey(ledger), ledger) || bytes.Equal(otpKey(ledger), otpKey(bytes.Repeat([]byte{8}, 32))) {
		t.Error("otpKey does not depend on the ledger key as it should")
	}
}
