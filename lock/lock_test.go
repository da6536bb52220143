package lock

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestHeldErrorMessage(t *testing.T) {
	started := time.Date(2026, 12, 4, 1, 2, 3, 0, time.UTC)
	h := Holder{Host: "h", PID: 123, Command: "apply", Account: account, Started: started, Expires: started.Add(time.Hour), Token: "t"}
	cases := map[string]struct {
		err  *HeldError
		want string
	}{
		"file": {
			&HeldError{Account: account, Holder: h, Where: ".s3baseline/locks/111122223333.lock", Lease: time.Hour},
			"account 111122223333 is locked by apply on host h (pid 123) since 2026-12-04T01:02:03Z, lease until 2026-12-04T02:02:03Z; " +
				"lock file .s3baseline/locks/111122223333.lock: wait for that run to end, or, if that process is gone, remove the lock file",
		},
		"object": {
			&HeldError{Account: account, Holder: h, Where: "s3://b/locks/111122223333.lock", Lease: time.Hour},
			"account 111122223333 is locked by apply on host h (pid 123) since 2026-12-04T01:02:03Z, lease until 2026-12-04T02:02:03Z; " +
				"lock object s3://b/locks/111122223333.lock: wait for that run to end, or, if it is gone, delete the lock object (or wait for its lease to end)",
		},
		"unreadable file": {
			&HeldError{Account: account, Where: "l/111122223333.lock", Unreadable: "empty", Modified: started, Lease: time.Hour},
			"account 111122223333 is locked by a lock that cannot be read (empty), written 2026-12-04T01:02:03Z; " +
				"lock file l/111122223333.lock: it counts as stale after 2026-12-04T02:02:03Z; remove it sooner only if no run is going",
		},
		"no command": {
			&HeldError{Account: account, Holder: Holder{Host: "h", PID: 1, Started: started, Expires: started}, Where: "l"},
			"account 111122223333 is locked by a run on host h (pid 1) since 2026-12-04T01:02:03Z, lease until 2026-12-04T01:02:03Z; " +
				"lock file l: wait for that run to end, or, if that process is gone, remove the lock file",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() =\n%s\nwant\n%s", got, tc.want)
			}
			wrapped := fmt.Errorf("apply: %w", tc.err)
			var held *HeldError
			if !errors.Is(wrapped, ErrHeld) || !errors.As(wrapped, &held) {
				t.Error("a wrapped HeldError does not match ErrHeld / *HeldError")
			}
		})
	}
}
