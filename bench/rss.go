package main

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// runPeak runs cmd to the end and returns its peak RSS in KiB.
//
// wait4's ru_maxrss is not the child's own on Linux: exec keeps the
// high-water mark of the memory the process had before it, the fork of
// the driver, whose emulator holds every generated bucket. A child's
// figure so never went below the driver's own size at the fork (a `show`
// that makes no call measured exactly what `plan --json` did before it).
// The child's VmHWM in /proc/PID/status counts its memory since exec
// alone; it is read every few milliseconds until the child exits, so
// what grows in the last of them is missed. Without /proc, ru_maxrss.
func runPeak(cmd *exec.Cmd) (int64, error) {
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	var peak atomic.Int64
	stop := make(chan struct{})
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			if kb := vmHWM(strconv.Itoa(cmd.Process.Pid)); kb > peak.Load() {
				peak.Store(kb)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	err := cmd.Wait()
	close(stop)
	<-polled
	if kb := peak.Load(); kb > 0 {
		return kb, err
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss, err
	}
	return 0, err
}

// vmHWM is a process's peak resident set since exec in KiB ("self" is
// this one), 0 when it cannot be read (no /proc, or the process has
// exited).
func vmHWM(proc string) int64 {
	data, err := os.ReadFile("/proc/" + proc + "/status")
	if err != nil {
		return 0
	}
	for _, line := range bytes.Split(data, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			kb, err := strconv.ParseInt(string(bytes.TrimSuffix(bytes.TrimSpace(v), []byte(" kB"))), 10, 64)
			if err == nil {
				return kb
			}
		}
	}
	return 0
}
