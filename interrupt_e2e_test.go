package main

// Interrupts through the CLI against a slow emulator: the first stops new
// writes and lets those in flight land, journaled as what they were.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/s3baseline/s3baseline/apply"
	"github.com/s3baseline/s3baseline/fixtures/emulator"
	"github.com/s3baseline/s3baseline/plan"
)

// runInterruptible runs the CLI with stop and abort channels the test
// closes, returning when the run ends.
func runInterruptible(e *env, args ...string) <-chan int {
	done := make(chan int, 1)
	go func() { done <- runEnv(context.Background(), e, append([]string{"s3baseline"}, args...)) }()
	return done
}

// syncBuffer is a bytes.Buffer safe for the run's goroutines and the test.
type syncBuffer struct {
	ch chan struct{}
	b  bytes.Buffer
}

func newSyncBuffer() *syncBuffer {
	s := &syncBuffer{ch: make(chan struct{}, 1)}
	s.ch <- struct{}{}
	return s
}
func (s *syncBuffer) Write(p []byte) (int, error) {
	<-s.ch
	defer func() { s.ch <- struct{}{} }()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string {
	<-s.ch
	defer func() { s.ch <- struct{}{} }()
	return s.b.String()
}

func TestInterruptDuringApply(t *testing.T) {
	srv := startWith(t, e2eScenario(t), emulator.Options{Latency: 40 * time.Millisecond})
	dir := t.TempDir()
	planFile := savePlan(t, srv, filepath.Join(repoTestdata, "e2e.yaml"))
	before := srv.Snapshot()
	srv.ResetCalls()

	journal := filepath.Join(dir, "journal.jsonl")
	stop, abort := make(chan struct{}), make(chan struct{})
	var out, errb = newSyncBuffer(), newSyncBuffer()
	e := &env{stdin: strings.NewReader(""), stdout: out, stderr: errb, now: time.Now, stop: stop, abort: abort}
	done := runInterruptible(e, "apply", planFile, "--endpoint-url", srv.URL(), "--auto-approve", "--allow-impact",
		"--journal", journal, "--concurrency", "2")
	// Interrupt once the first writes went out.
	deadline := time.Now().Add(20 * time.Second)
	for len(srv.WriteCalls()) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("apply made no write in 20 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	var code int
	select {
	case code = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("apply did not end within 30 s of the interrupt")
	}
	if code != exitInterrupted {
		t.Errorf("exit %d, want %d\nstderr: %s", code, exitInterrupted, errb.String())
	}
	if !strings.Contains(errb.String(), "Interrupt received: finishing the writes in flight, starting no new ones") {
		t.Errorf("no interrupt message:\n%s", errb.String())
	}

	// Every write S3 took is journaled, done or unknown, never failed.
	recs, err := apply.ReadJournal(journal)
	if err != nil {
		t.Fatal(err)
	}
	ends := map[string]int{}
	for _, r := range recs {
		if r.Started > 0 {
			ends[r.Status]++
		}
	}
	took := 0
	for _, c := range srv.WriteCalls() {
		if c.Status/100 == 2 && !strings.HasPrefix(c.Operation, "Create") {
			took++
		}
	}
	if ends[apply.RecordFailed] != 0 || ends[apply.RecordDone]+ends[apply.RecordUnknown] != took || took == 0 {
		t.Errorf("the emulator took %d writes; the journal ends them %v", took, ends)
	}
	planned := 0
	p, err := plan.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range p.Buckets {
		planned += len(b.Changes)
	}
	if took >= planned {
		t.Errorf("the interrupt stopped nothing: %d writes of %d changes", took, planned)
	}

	// The same plan file again finishes the rest; none of the first run's
	// writes is called stale.
	r := runCLI(t, "apply", planFile, "--endpoint-url", srv.URL(), "--auto-approve", "--allow-impact", "--journal", filepath.Join(dir, "journal2.jsonl"))
	if strings.Contains(r.stderr, "stale") || r.code == exitInterrupted || r.code == 2 {
		t.Errorf("re-run exited %d:\n%s", r.code, r.stderr)
	}
	after := planJSON(t, srv, "--allow-empty")
	for _, b := range after.Buckets {
		for _, c := range b.Changes {
			if c.Action != plan.NoOp && c.HeldBack == "" {
				t.Errorf("after the re-run %s still has %s %s", b.Name, c.Control, c.Action)
			}
		}
	}

	// Rolling back both journals, newest first, restores the state before.
	for _, j := range []string{filepath.Join(dir, "journal2.jsonl"), journal} {
		if r := runCLI(t, "rollback", j, "--endpoint-url", srv.URL(), "--auto-approve", "--journal", j+".rollback"); r.code != 0 {
			t.Fatalf("rollback %s exited %d: %s", j, r.code, r.stderr)
		}
	}
	restored := comparable(srv.Snapshot())
	withoutCreated(t, journal, &restored)
	withoutCreated(t, filepath.Join(dir, "journal2.jsonl"), &restored)
	if d := cmp.Diff(comparable(before), restored); d != "" {
		t.Errorf("rollback did not restore the state (-before +after):\n%s", d)
	}
}

// TestInterruptAtPrompt: Ctrl-C at the confirmation prompt exits 130 at
// once, nothing written.
func TestInterruptAtPrompt(t *testing.T) {
	srv := startEmulator(t, "e2e")
	stop := make(chan struct{})
	pr, pw := io.Pipe()
	defer pw.Close()
	var out, errb = newSyncBuffer(), newSyncBuffer()
	e := &env{stdin: pr, stdout: out, stderr: errb, now: time.Now, stop: stop}
	done := runInterruptible(e, "apply", "--config", filepath.Join(repoTestdata, "e2e.yaml"), "--endpoint-url", srv.URL())
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "Only 'yes' will be accepted") {
		if time.Now().After(deadline) {
			t.Fatalf("no prompt in 20 s: %s", errb.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	srv.ResetCalls()
	close(stop)
	select {
	case code := <-done:
		if code != exitInterrupted || !strings.Contains(errb.String(), "interrupted at the prompt: nothing was changed") {
			t.Errorf("exit %d, stderr %s", code, errb.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the prompt ignored the interrupt")
	}
	if w := srv.WriteCalls(); len(w) != 0 {
		t.Errorf("%d writes after the interrupt at the prompt", len(w))
	}
}

// cliProcess starts the CLI in a process of its own (TestCLIHelperProcess)
// with main's signal handling.
func cliProcess(t *testing.T, dir string, args ...string) (*exec.Cmd, *syncBuffer, *syncBuffer, io.WriteCloser) {
	t.Helper()
	spec, _ := json.Marshal(map[string]any{"Dir": dir, "Args": args})
	cmd := exec.Command(os.Args[0], "-test.run=^TestCLIHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), cliHelperEnv+"="+string(spec))
	out, errb := newSyncBuffer(), newSyncBuffer()
	cmd.Stdout, cmd.Stderr = out, errb
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, out, errb, stdin
}

// TestSIGINT: the real signals, sent to a process: SIGINT at the prompt
// exits 130 at once; SIGTERM during apply lets the writes in flight finish.
func TestSIGINT(t *testing.T) {
	srv := startOpsEmulator(t, 40*time.Millisecond)
	planFile := savePlan(t, srv, filepath.Join(repoTestdata, "e2e.yaml"))
	wait := func(cmd *exec.Cmd) int {
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if ee, ok := err.(*exec.ExitError); ok {
				return ee.ExitCode()
			}
			if err != nil {
				t.Fatal(err)
			}
			return 0
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatal("the process did not end within 30 s of the signal")
			return -1
		}
	}

	cmd, out, errb, stdin := cliProcess(t, t.TempDir(), "apply", "--config", filepath.Join(repoTestdata, "e2e.yaml"), "--endpoint-url", srv.URL())
	defer stdin.Close()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "Only 'yes' will be accepted") {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("no prompt in 30 s: %s", errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	srv.ResetCalls()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := wait(cmd); code != exitInterrupted || !strings.Contains(errb.String(), "interrupted at the prompt") {
		t.Errorf("SIGINT at the prompt: exit %d, stderr %s", code, errb.String())
	}
	if w := srv.WriteCalls(); len(w) != 0 {
		t.Errorf("%d writes after SIGINT at the prompt", len(w))
	}

	dir := t.TempDir()
	cmd, _, errb, stdin = cliProcess(t, dir, "apply", planFile, "--endpoint-url", srv.URL(), "--auto-approve", "--journal", filepath.Join(dir, "j.jsonl"), "--concurrency", "2")
	defer stdin.Close()
	for len(srv.WriteCalls()) < 2 {
		if time.Now().After(deadline.Add(30 * time.Second)) {
			_ = cmd.Process.Kill()
			t.Fatalf("no write in time: %s", errb.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := wait(cmd); code != exitInterrupted || !strings.Contains(errb.String(), "Interrupt received: finishing the writes in flight, starting no new ones") {
		t.Errorf("SIGTERM during apply: exit %d, stderr %s", code, errb.String())
	}
	recs, err := apply.ReadJournal(filepath.Join(dir, "j.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Status == apply.RecordFailed {
			t.Errorf("a write journaled failed after SIGTERM: %+v", r)
		}
	}
}
