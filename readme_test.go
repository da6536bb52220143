package main

// The README's commands, run as printed: the built binaries, the emulator,
// bash. What the test supplies is only what a reader's own terminal would:
// the clone's layout and the emulators the README tells them to start.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/s3baseline/s3baseline/baselines"
)

// readmeMinRunnable is how many runnable blocks the README has at least, so
// that losing the markers cannot make TestREADMERunnableBlocks pass by
// running nothing.
const readmeMinRunnable = 8

// readmeMustRun are commands some runnable block must contain: the
// walkthrough the README promises works as written.
var readmeMustRun = []struct{ what, re string }{
	{"the emulator quick start (a plan against the emulator)", `(?m)^s3baseline plan .*--endpoint-url "\$S3EMU_URL"`},
	{"show of a saved plan", `(?m)^s3baseline show plan\.json`},
	{"apply of a plan file with a journal", `(?m)^s3baseline apply plan\.json .*--journal `},
	{"rollback of that journal", `(?m)^s3baseline rollback journal\.jsonl `},
	{"baselines show of the custom baseline example", `(?m)^s3baseline baselines show pci\.yaml`},
	{"a --detailed-exitcode run", `(?m)^s3baseline plan .*--detailed-exitcode`},
}

// readmeEmulators are the emulators the README tells the reader to start
// (its own, not runnable, blocks: they run until stopped), each with the
// variable its commands name it by. The test starts the same scenario on a
// free port instead of the printed one and sets the variable to that.
var readmeEmulators = []struct {
	start  string // as printed in the README
	envVar string
	args   []string
}{
	{"s3emu -scenario demo &", "S3EMU_URL", []string{"-scenario", "demo"}},
	{"s3emu -org-scenario e2e -addr 127.0.0.1:4567 &", "S3EMU_ORG_URL", []string{"-org-scenario", "e2e"}},
}

// readmeBlock is a marked fenced block of the README.
type readmeBlock struct {
	line int    // README line of the block's first content line
	file string // for <!-- file: NAME -->: the file it is written to
	text string
}

var (
	readmeFileMarker = regexp.MustCompile(`^<!-- file: (\S+) -->$`)
	// readmeRepoPath finds words of a command that may name a file of the
	// clone (fixtures/demo/s3baseline.yaml).
	readmeRepoPath = regexp.MustCompile(`[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+`)
)

// parseREADMEBlocks returns the runnable blocks (<!-- runnable --> right
// before a ```sh fence) and the file blocks (<!-- file: NAME --> right before
// any fence) in order. A marker not followed by its fence is an error, so a
// marker can never be silently ignored.
func parseREADMEBlocks(data []byte) (runnable, files []readmeBlock, err error) {
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		var file string
		switch m := readmeFileMarker.FindStringSubmatch(l); {
		case l == "<!-- runnable -->":
		case m != nil:
			file = m[1]
		default:
			continue
		}
		marker := i + 1
		if i+1 >= len(lines) {
			return nil, nil, fmt.Errorf("README.md:%d: %s is not followed by a fenced block", marker, l)
		}
		fence := strings.TrimSpace(lines[i+1])
		if file == "" && fence != "```sh" || file != "" && !strings.HasPrefix(fence, "```") {
			return nil, nil, fmt.Errorf("README.md:%d: %s must be followed immediately by a ```sh block, not %q", marker, l, fence)
		}
		start := i + 2
		end := start
		for end < len(lines) && strings.TrimSpace(lines[end]) != "```" {
			end++
		}
		if end == len(lines) {
			return nil, nil, fmt.Errorf("README.md:%d: the block after %s is not closed", marker, l)
		}
		b := readmeBlock{line: start + 1, file: file, text: strings.Join(lines[start:end], "\n") + "\n"}
		if file != "" {
			if !filepath.IsLocal(file) {
				return nil, nil, fmt.Errorf("README.md:%d: %q is not a path inside the working directory", marker, file)
			}
			files = append(files, b)
		} else {
			runnable = append(runnable, b)
		}
		i = end
	}
	return runnable, files, nil
}

// TestREADMERunnableBlocks runs every runnable shell block of the README, in
// order, with `bash -euo pipefail`, exactly as printed, against the
// emulator, the way a reader on a fresh clone would after `make build`:
//
//   - the working directory is laid out like the clone's root: bin/s3baseline
//     and bin/s3emu (built with go build), the repository files the blocks
//     name (fixtures/demo/s3baseline.yaml, ...) and the files the README
//     gives in full (<!-- file: NAME --> blocks, written out from the README
//     itself);
//   - the emulators the README says to start run with the same scenario on
//     free ports, and the variable the README exports for each (S3EMU_URL)
//     holds its address: the only value that differs from the printed one;
//   - nothing of the machine's AWS setup is inherited (no AWS_* variable), and
//     no other s3baseline is on the PATH, so the README's own exports have to
//     provide credentials, region and PATH;
//   - as in the reader's shell, the working directory, the emulators' state
//     and the `export`/`unset` lines of earlier blocks carry over to later
//     blocks.
//
// A block that exits non-zero fails the test with its README line and its
// output; blocks expecting exit 2 say so themselves (`|| test $? -eq 2`).
func TestREADMERunnableBlocks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binaries and runs the README against the emulator")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not found: the README's blocks are bash")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not found on PATH: cannot build the binaries")
	}
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	runnable, files, err := parseREADMEBlocks(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(runnable) < readmeMinRunnable {
		t.Fatalf("README.md has %d runnable blocks (<!-- runnable --> before a ```sh block), want at least %d", len(runnable), readmeMinRunnable)
	}
	var all strings.Builder
	for _, b := range runnable {
		all.WriteString(b.text)
	}
	for _, m := range readmeMustRun {
		if !regexp.MustCompile(m.re).MatchString(all.String()) {
			t.Errorf("no runnable block of README.md has %s (%s)", m.what, m.re)
		}
	}
	for _, e := range readmeEmulators {
		if !bytes.Contains(data, []byte(e.start)) || !bytes.Contains(data, []byte("export "+e.envVar+"=")) {
			t.Errorf("README.md no longer starts an emulator with %q and exports %s: update readmeEmulators", e.start, e.envVar)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// The clone's root, after make build.
	work := t.TempDir()
	build := exec.CommandContext(ctx, goTool, "build", "-o", filepath.Join(work, "bin")+string(filepath.Separator), ".", "./fixtures/cmd/s3emu")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, b := range runnable {
		for _, p := range readmeRepoPath.FindAllString(b.text, -1) {
			if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
				continue
			}
			content, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			writeWorkFile(t, work, p, content)
		}
	}
	for _, f := range files {
		writeWorkFile(t, work, f.file, []byte(f.text))
	}

	env := readmeEnv(os.Environ())
	for _, e := range readmeEmulators {
		url := startS3emu(t, filepath.Join(work, "bin", "s3emu"), e.args...)
		env = append(env, e.envVar+"="+url)
	}

	// The export and unset lines of the blocks run so far: what stays set
	// in the reader's shell.
	var prelude strings.Builder
	for _, b := range runnable {
		bctx, bcancel := context.WithTimeout(ctx, time.Minute)
		cmd := exec.CommandContext(bctx, bash, "-euo", "pipefail", "-c", prelude.String()+b.text)
		cmd.Dir = work
		cmd.Env = env
		cmd.Stdin = strings.NewReader("")
		out, err := cmd.CombinedOutput()
		bcancel()
		if err != nil {
			t.Fatalf("README.md:%d: the runnable block failed (%v):\n%s\n--- its output:\n%s", b.line, err, indent(b.text), out)
		}
		t.Logf("README.md:%d: ok\n%s\n--- the end of its output:\n%s", b.line, indent(b.text), indent(lastLines(string(out), 3)))
		sc := bufio.NewScanner(strings.NewReader(b.text))
		for sc.Scan() {
			if l := strings.TrimSpace(sc.Text()); strings.HasPrefix(l, "export ") || strings.HasPrefix(l, "unset ") {
				prelude.WriteString(l + "\n")
			}
		}
	}
}

// readmeEnv is the test's environment without anything of the machine's AWS
// setup, the variables the README sets itself, or a PATH directory holding
// another s3baseline or s3emu.
func readmeEnv(environ []string) []string {
	var env []string
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "AWS_"), strings.HasPrefix(k, "S3EMU_"), k == "NO_COLOR":
			continue
		case k == "PATH":
			var keep []string
			for _, dir := range filepath.SplitList(v) {
				if fileExists(filepath.Join(dir, "s3baseline")) || fileExists(filepath.Join(dir, "s3emu")) {
					continue
				}
				keep = append(keep, dir)
			}
			kv = "PATH=" + strings.Join(keep, string(filepath.ListSeparator))
		}
		env = append(env, kv)
	}
	return env
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func writeWorkFile(t *testing.T, work, rel string, content []byte) {
	t.Helper()
	p := filepath.Join(work, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
}

// startS3emu runs the built emulator on a free loopback port and returns its
// URL, read from -ready-file as make demo does.
func startS3emu(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ready := filepath.Join(t.TempDir(), "url")
	var log bytes.Buffer
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0", "-ready-file", ready}, args...)...)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start s3emu: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	deadline := time.After(10 * time.Second)
	for {
		if b, err := os.ReadFile(ready); err == nil && len(bytes.TrimSpace(b)) > 0 {
			return string(bytes.TrimSpace(b))
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("s3emu %s exited before it listened (%v):\n%s", strings.Join(args, " "), err, log.String())
		case <-deadline:
			t.Fatalf("s3emu %s did not write %s within 10s", strings.Join(args, " "), ready)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// TestREADMECatalogue keeps the README's control tables equal to the
// catalogue they are generated from (go test -run TestREADMECatalogue
// -update rewrites them).
func TestREADMECatalogue(t *testing.T) {
	const begin, end = "<!-- catalogue:begin -->\n", "<!-- catalogue:end -->"
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	i, j := strings.Index(text, begin), strings.Index(text, end)
	if i < 0 || j < i {
		t.Fatalf("README.md has no %q ... %q markers", strings.TrimSpace(begin), end)
	}
	want := baselines.CatalogueMarkdown()
	if got := text[i+len(begin) : j]; got != want {
		if *update {
			if err := os.WriteFile("README.md", []byte(text[:i+len(begin)]+want+text[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("README.md's control tables are not the catalogue's; run go test -run TestREADMECatalogue -update\n--- README\n%s\n--- catalogue\n%s", got, want)
	}
}
