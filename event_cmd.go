package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/s3baseline/s3baseline/apply"
	"github.com/s3baseline/s3baseline/event"
	"github.com/s3baseline/s3baseline/lock"
	"github.com/s3baseline/s3baseline/plan"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
	"github.com/s3baseline/s3baseline/settings"
)

// The event command: one EventBridge event, one bucket (or account) planned
// and, with --mode apply, fixed, under the same config, guards, lock and
// journal as a scheduled run. It always plans from the bucket as it is when
// the run holds the lock, never from what the event says, so an event
// older than the bucket's state, or one of several for the same bucket, is
// not acted on blindly: the second of two finds the bucket fixed.

func eventCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "event",
		Usage:     "act on one EventBridge event (a CloudTrail-recorded call that can weaken a bucket or the account): plan that bucket or account alone, and with --mode apply fix it",
		ArgsUsage: "[FILE|-]",
		Before:    setLogFormat(e),
		Flags: append(append(connectionFlags(), configFlags()...),
			&cli.StringFlag{Name: "mode", Value: "plan", Usage: "`plan` (say what drifted: exit 2) or apply (fix it)"},
			&cli.StringFlag{Name: "role-name", Usage: "the `ROLE` to assume in the event's account when it is not the caller's (an organization's events forwarded to one bus)"},
			&cli.StringFlag{Name: "journal", Usage: "journal `FILE` or s3://BUCKET/PREFIX (as for apply)"},
			lockFlag(),
			&cli.DurationFlag{Name: "lock-wait", Value: 2 * time.Minute, Usage: "wait up to `DURATION` for the account's lock when another run holds it (then plan the bucket as that run left it)"},
			&cli.BoolFlag{Name: "allow-impact", Usage: "also apply changes that would cut off current access (as for apply)"},
			&cli.StringFlag{Name: "dead-letter", Usage: "write an event that cannot be handled, with why, under `DIR` or s3://BUCKET/PREFIX"},
			reportFlag(),
		),
		Action: reported(e, "event", func(c *cli.Context, rr *runReport) error {
			if c.NArg() > 1 {
				return fmt.Errorf("event takes at most one argument, the event file (or - for stdin); got %d", c.NArg())
			}
			mode := c.String("mode")
			if mode != "plan" && mode != "apply" {
				return fmt.Errorf("--mode %q: want plan or apply", mode)
			}
			data, err := readEvent(c, e)
			if err != nil {
				return err
			}
			ev, err := event.Parse(data)
			if errors.Is(err, event.ErrNotHandled) {
				e.info("event ignored: " + err.Error())
				return nil
			}
			if err != nil {
				return deadLetter(c, e, rr, data, fmt.Errorf("event: %w", err))
			}
			if ev.ErrorCode != "" {
				e.info(fmt.Sprintf("event ignored: the %s call failed (%s), so it changed nothing", ev.Call.Name, ev.ErrorCode), "event", ev.ID)
				return nil
			}
			prov, err := newProvider(c, e)
			if err != nil {
				return err
			}
			rr.prov = prov
			id, err := prov.Identity(c.Context)
			if err != nil {
				return err
			}
			target, role := prov, event.RoleName(id.ARN)
			if ev.Account != id.Account {
				if role = c.String("role-name"); role == "" {
					return deadLetter(c, e, rr, data, fmt.Errorf("event %s is from account %s, the credentials are for %s: give --role-name, the role to assume there", ev.ID, ev.Account, id.Account))
				}
				if target, err = prov.ForAccount(c.Context, ev.Account, role, ""); err != nil {
					return err
				}
			}
			if ev.ByRole(id.Account, event.RoleName(id.ARN)) || ev.ByRole(ev.Account, role) {
				e.info(fmt.Sprintf("event ignored: %s was made by s3baseline's own role (%s)", ev.Call.Name, ev.Actor), "event", ev.ID)
				return nil
			}
			what := "account " + ev.Account
			if ev.Bucket != "" {
				what = fmt.Sprintf("bucket %q", ev.Bucket)
			}
			e.info(fmt.Sprintf("event %s: %s by %s on %s", ev.ID, ev.Call.Name, ev.Actor, what), "event", ev.ID, "call", ev.Call.Name)

			rc := regionChecker(c.Context, target)
			cfg, err := loadScope(c, e, rc)
			if err != nil {
				return err
			}
			if mode == "apply" {
				unlock, err := lockAccountsWait(c, e, prov, "event", []string{ev.Account}, c.Duration("lock-wait"))
				if err != nil {
					return err
				}
				defer unlock()
			}
			opts := plan.Options{Config: cfg, RegionChecker: rc, Concurrency: workers(c), Now: e.now(), ToolVersion: version}
			if ev.Bucket != "" {
				// Bucket names hold no glob characters (Parse checks).
				opts.Buckets = []string{ev.Bucket}
			}
			rec := &recordingObserver{Provider: target, seen: map[string]settings.BucketState{}}
			p, err := plan.Build(c.Context, rec, opts)
			if err != nil {
				return err
			}
			rr.plan = p
			if ev.Bucket != "" && len(p.Buckets) == 0 {
				e.info(fmt.Sprintf("event ignored: bucket %q is not in scope (it does not exist, or is outside the config's regions: %v)", ev.Bucket, cfg.Regions), "event", ev.ID)
				return nil
			}
			if err := plan.Render(e.stdout, p, plan.RenderOptions{Color: useColor(c, e.stdout)}); err != nil {
				return err
			}
			if p.Empty() {
				msg := "nothing to do: " + what + " is at its baseline"
				for _, b := range p.Buckets {
					for _, x := range b.Exempt {
						msg += fmt.Sprintf("; %s is exempt (%s)", x.Control, x.Reason)
					}
				}
				e.info(msg, "event", ev.ID)
				return planOutcome(e, p, false)
			}
			if mode == "plan" {
				return planOutcome(e, p, true)
			}
			return journaled(c, e, rr, prov, "event", func(ctx context.Context, j *apply.Journal) ([]apply.Outcome, error) {
				return apply.Apply(ctx, target, p, apply.Options{
					Stop: e.stop, Config: p.Scope.Settings, Journal: j, Concurrency: workers(c),
					AllowImpact: c.Bool("allow-impact"), Now: e.now, Observed: rec.states(),
				})
			})
		}),
	}
}

// recordingObserver is the provider, keeping each bucket's state as the
// plan observed it, for apply to start from (apply.Options.Observed): the
// plan was made this instant, under the lock, by this process.
type recordingObserver struct {
	*awsprovider.Provider
	mu   sync.Mutex
	seen map[string]settings.BucketState
}

func (r *recordingObserver) ObserveBucket(ctx context.Context, ref settings.BucketRef, aspects []settings.Aspect) settings.BucketState {
	st := r.Provider.ObserveBucket(ctx, ref, aspects)
	r.mu.Lock()
	defer r.mu.Unlock()
	// A bucket observed in steps (its tags first, then what its baseline
	// needs) is kept as the sum of them.
	prev, ok := r.seen[ref.Name]
	if !ok {
		r.seen[ref.Name] = st
		return st
	}
	for _, a := range st.Observed {
		prev.CopyAspect(&st, a)
		if !prev.Has(a) {
			prev.Observed = append(prev.Observed, a)
		}
	}
	for a, msg := range st.Errors {
		if prev.Errors == nil {
			prev.Errors = map[settings.Aspect]string{}
		}
		prev.Errors[a] = msg
	}
	r.seen[ref.Name] = prev
	return st
}

func (r *recordingObserver) states() map[string]settings.BucketState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.seen)
}

// readEvent reads the event from the file argument, or stdin for "-" or
// none.
func readEvent(c *cli.Context, e *env) ([]byte, error) {
	name := c.Args().First()
	if name == "" || name == "-" {
		data, err := io.ReadAll(io.LimitReader(e.stdin, maxEventSize+1))
		if err != nil {
			return nil, fmt.Errorf("read event from stdin: %w", err)
		}
		if len(data) > maxEventSize {
			return nil, fmt.Errorf("event on stdin: larger than %d bytes, EventBridge's limit", maxEventSize)
		}
		return data, nil
	}
	st, err := os.Stat(name)
	if err != nil {
		return nil, fmt.Errorf("read event: %w", err)
	}
	if st.Size() > maxEventSize {
		return nil, fmt.Errorf("event %s: larger than %d bytes, EventBridge's limit", name, maxEventSize)
	}
	return os.ReadFile(name)
}

// maxEventSize is EventBridge's largest event (AWS-doc "Amazon EventBridge
// quotas": 256 KB).
const maxEventSize = 256 * 1024

// deadLetter keeps an event that could not be handled, with why, where
// --dead-letter says, and returns cause (the run still fails).
func deadLetter(c *cli.Context, e *env, rr *runReport, data []byte, cause error) error {
	where := c.String("dead-letter")
	if where == "" {
		return cause
	}
	rec := struct {
		ReceivedAt time.Time       `json:"received_at"`
		Error      string          `json:"error"`
		Event      json.RawMessage `json:"event,omitempty"`
		Raw        string          `json:"raw,omitempty"`
	}{ReceivedAt: e.now().UTC(), Error: oneLine(cause.Error())}
	if json.Valid(data) {
		rec.Event = data
	} else {
		rec.Raw = string(data)
	}
	body, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return errors.Join(cause, err)
	}
	sum := sha256.Sum256(data)
	name := e.now().UTC().Format("20060102T150405.000000000Z") + "-" + hex.EncodeToString(sum[:6]) + ".json"
	var werr error
	if strings.HasPrefix(where, "s3://") {
		u, err := lock.ParseS3URI(where)
		if err != nil {
			return errors.Join(cause, fmt.Errorf("--dead-letter: %w", err))
		}
		prov := rr.prov
		if prov == nil {
			prov, werr = newProvider(c, e)
		}
		if werr == nil {
			_, werr = prov.PutObject(context.WithoutCancel(c.Context), u.Bucket, u.Prefix+name, body, awsprovider.PutCondition{IfNoneMatch: true})
		}
		where = "s3://" + u.Bucket + "/" + u.Prefix + name
	} else {
		if werr = os.MkdirAll(where, 0o700); werr == nil {
			where = filepath.Join(where, name)
			werr = os.WriteFile(where, body, 0o600)
		}
	}
	if werr != nil {
		return fmt.Errorf("%w (and the dead letter was not written: %v)", cause, werr)
	}
	return fmt.Errorf("%w (dead letter: %s)", cause, where)
}
