package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestServeFaceFlags(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "face-secret")
	os.WriteFile(secretFile, []byte("face-secret-0123456789\n"), 0o600)
	for _, tt := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"URL without secret", nil, []string{"--face-url", "https://face.example.com/check"}, "--face-url needs the service's secret"},
		{"secret without URL", map[string]string{"HEBAO_FACE_SECRET": "face-secret-0123456789"}, nil, "no --face-url"},
		{"missing secret file", nil, []string{"--face-url", "https://face.example.com/check", "--face-secret-file", secretFile + ".nope"}, "read the face-check secret"},
		{"short secret", map[string]string{"HEBAO_FACE_URL": "https://face.example.com/check", "HEBAO_FACE_SECRET": "short"}, nil, "at least 16 bytes"},
		{"not a URL", nil, []string{"--face-url", "face.example.com", "--face-secret-file", secretFile}, "must be an http:// or https:// URL"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--card-key-file", cardKeyFile(t)}, tt.args...)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			m := &Main{Getenv: func(k string) string { return tt.env[k] }}
			if err := m.Run(ctx, args); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("serve: %v, want an error saying %q", err, tt.want)
			}
		})
	}
	s := startServer(t, "--data-dir", t.TempDir(), "--face-url", "https://face.example.com/check?key=hidden", "--face-secret-file", secretFile)
	if out := s.stdout.String(); !strings.Contains(out, "face check       https://face.example.com/check\n") {
		t.Errorf("the startup text does not name the face service (without its query):\n%s", out)
	}
}
