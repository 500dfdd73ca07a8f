package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"syscall"
	"testing"
	"time"
)

// childEnv, set to 1 in the environment of this package's test binary, makes the
// binary run the program with its arguments (`serve …`) instead of the tests. A test
// starts real server processes that way — from its own binary, with nothing to build —
// so that it can kill one with SIGKILL.
const childEnv = "HEBAO_TEST_CHILD_SERVE"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(runChild(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// runChild runs the program as main does, until it returns, SIGINT or SIGTERM
// arrives, or its standard input ends: the test that started it holds the other end,
// so a child never outlives its test, and closing it is a clean stop. The
// environment is not read: a test's variables (HEBAO_TEST_POSTGRES, …) are not the
// program's.
func runChild(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	m := &Main{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: func(string) string { return "" }}
	if err := m.Run(ctx, args); err != nil {
		fmt.Fprintln(os.Stderr, "hebao:", err)
		return 1
	}
	return 0
}

// serverProcess is `hebao serve` running in a process of its own.
type serverProcess struct {
	name   string
	url    string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *syncBuffer // standard output and error: the startup text and the log
	exited chan struct{}
	err    error // of Wait, once exited is closed
	killed bool
}

// runningAt finds the address in the startup text (Main.greet).
var runningAt = regexp.MustCompile(`Hebao is running at (http://\S+)`)

// startProcess starts `hebao serve --addr 127.0.0.1:0 args…` in a new process and
// waits until it says where it listens. The process is stopped cleanly, or killed,
// when the test ends; if the test failed, the end of its log is shown.
func startProcess(t *testing.T, name string, args ...string) *serverProcess {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	p := &serverProcess{name: name, cmd: cmd, out: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		if err := p.stop(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if t.Failed() {
			t.Logf("the end of %s's output:\n%s", name, tail(p.out.String(), 6000))
		}
	})
	deadline := time.After(60 * time.Second)
	for {
		if m := runningAt.FindStringSubmatch(p.out.String()); m != nil {
			p.url = m[1]
			return p
		}
		select {
		case <-p.exited:
			t.Fatalf("%s ended before serving: %v\n%s", name, p.err, tail(p.out.String(), 6000))
		case <-deadline:
			t.Fatalf("%s did not start within 60s\n%s", name, tail(p.out.String(), 6000))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// kill ends the process with SIGKILL — no shutdown, no deferred function, its
// connections cut by the kernel — and waits until it is gone.
func (p *serverProcess) kill() error {
	p.killed = true
	if err := p.cmd.Process.Kill(); err != nil {
		return err
	}
	<-p.exited
	return nil
}

// stop stops the process cleanly, as Ctrl-C would, and reports a failure if it
// did not exit 0 (under -race, a data race found in it exits 66); one that has not
// stopped 40 seconds later is killed. Of a process already gone, it reports how it
// ended unless the test killed it.
func (p *serverProcess) stop() error {
	select {
	case <-p.exited:
		if p.err != nil && !p.killed {
			return fmt.Errorf("ended by itself: %v", p.err)
		}
		return nil
	default:
	}
	p.stdin.Close()
	select {
	case <-p.exited:
	case <-time.After(40 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
		return errors.New("did not stop within 40s of being asked to; killed")
	}
	if p.err != nil {
		return fmt.Errorf("a clean stop ended with %v", p.err)
	}
	return nil
}

// tail is the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
