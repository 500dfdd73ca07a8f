package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hebaopay/hebao"
)

// cardKeyFile writes a new card keyring to a temporary file and returns its path.
func cardKeyFile(t *testing.T) string {
	t.Helper()
	b, err := hebao.GenerateKeyring()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "card-keys.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestServeRefusesWithoutCardKeyring: outside development mode, no keyring or a bad
// one stops serve before it listens, with a message saying what to do.
func TestServeRefusesWithoutCardKeyring(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"current": "k1", "keys": {}, "lookup_key": ""}`), 0o600)
	for _, tt := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"none", nil, nil, "--card-key-file or HEBAO_CARD_KEY_FILE"},
		{"missing file", nil, []string{"--card-key-file", filepath.Join(dir, "nope.json")}, "read the card keyring"},
		{"missing file from the environment", map[string]string{"HEBAO_CARD_KEY_FILE": filepath.Join(dir, "nope.json")}, nil, "read the card keyring"},
		{"not a keyring", nil, []string{"--card-key-file", bad}, "card keyring " + bad},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := t.TempDir()
			args := append([]string{"serve", "--data-dir", data, "--addr", "127.0.0.1:0"}, tt.args...)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			m := &Main{Getenv: func(k string) string { return tt.env[k] }}
			if err := m.Run(ctx, args); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("serve: %v, want an error saying %q", err, tt.want)
			}
			if _, err := os.Stat(filepath.Join(data, devCardKeyFile)); err == nil {
				t.Error("serve without --dev generated a card keyring")
			}
		})
	}
}

// TestServeDevCardKeyring: --dev generates the keyring into the data dir once, owner
// only, and keeps it across restarts; a named file is used as it is.
func TestServeDevCardKeyring(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, "--data-dir", dir, "--dev")
	path := filepath.Join(dir, devCardKeyFile)
	first, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no development keyring: %v", err)
	}
	if _, err := hebao.ParseKeyring(first); err != nil {
		t.Fatalf("the development keyring does not parse: %v", err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %04o, want 0600", fi.Mode().Perm())
	}
	if out := s.stdout.String(); !strings.Contains(out, "card keyring     "+path) {
		t.Errorf("the startup text does not name the card keyring:\n%s", out)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	startServer(t, "--data-dir", dir, "--dev").stop()
	if again, _ := os.ReadFile(path); string(again) != string(first) {
		t.Error("a restart replaced the development keyring")
	}

	named := cardKeyFile(t)
	s = startServer(t, "--data-dir", t.TempDir(), "--card-key-file", named)
	if out := s.stdout.String(); !strings.Contains(out, "card keyring     "+named) {
		t.Errorf("the startup text does not name the given keyring:\n%s", out)
	}
}
