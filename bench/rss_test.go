package main

import (
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
)

// TestRunPeakIsTheChilds: a small child of a large parent measures small
// with runPeak, where wait4's ru_maxrss carries the parent's size over
// the exec.
func TestRunPeakIsTheChilds(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep")
	}
	big := make([]byte, 256<<20)
	for i := range big {
		big[i] = 1 // resident, not just reserved
	}
	cmd := exec.Command(sleep, "0.2")
	peak, err := runPeak(cmd)
	if err != nil {
		t.Fatal(err)
	}
	inherited := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
	runtime.KeepAlive(big)
	if peak <= 0 || peak > 32<<10 {
		t.Errorf("runPeak = %d KiB for sleep, want a few MiB", peak)
	}
	t.Logf("sleep: runPeak %d KiB, ru_maxrss %d KiB", peak, inherited)
}
