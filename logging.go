package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/go-multierror"
	"github.com/urfave/cli/v2"

	"github.com/s3baseline/s3baseline/apply"
	"github.com/s3baseline/s3baseline/lock"
	"github.com/s3baseline/s3baseline/plan"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
	"github.com/s3baseline/s3baseline/report"
)

// Logs: stderr carries one line per failure (and a few notes). With
// --log-format json each line is a JSON object (time, level, msg and the
// account, bucket, region and control it is about) for a log pipeline; the
// text form is the contract's "s3baseline: ..." line.

func logFlag() cli.Flag {
	return &cli.StringFlag{Name: "log-format", Value: "text", Usage: "stderr lines as `text` or json (one JSON object per line)"}
}

// setLogFormat is every AWS command's Before: it picks the log form.
func setLogFormat(e *env) cli.BeforeFunc {
	return func(c *cli.Context) error {
		switch f := c.String("log-format"); f {
		case "text", "":
		case "json":
			e.logger = slog.New(slog.NewJSONHandler(e.stderr, nil))
		default:
			return fmt.Errorf("--log-format: %q is not text or json", f)
		}
		return nil
	}
}

// logError writes one failure line.
func (e *env) logError(msg string, attrs ...any) {
	if e.logger != nil {
		e.logger.Error(oneLine(msg), attrs...)
		return
	}
	e.textLine("s3baseline: " + oneLine(msg))
}

// textLine writes one text line to stderr. Lines come from several
// goroutines (the SDK logs from the workers' calls), so one at a time.
func (e *env) textLine(line string) {
	e.stderrMu.Lock()
	defer e.stderrMu.Unlock()
	fmt.Fprintln(e.stderr, line)
}

// sdkLog takes a line the AWS SDK logged (providers/aws Options.Logger):
// a warning becomes one of our lines, JSON with --log-format json, so that
// every stderr line has one form; a debug line (the SDK writes them only
// when asked to) is a debug record, which the JSON handler's level drops.
func (e *env) sdkLog(level, msg string) {
	if e.logger != nil {
		if level == "WARN" {
			e.logger.Warn(msg, "source", "aws-sdk")
		} else {
			e.logger.Debug(msg, "source", "aws-sdk")
		}
		return
	}
	if level == "WARN" {
		e.textLine("s3baseline: aws sdk warning: " + msg)
	}
}

// warn writes a warning: to stderr as text, or as a JSON warning line.
func (e *env) warn(msg string) {
	if e.logger != nil {
		e.logger.Warn(msg)
		return
	}
	e.textLine("s3baseline: warning: " + msg)
}

// info writes a note: to stderr as text, or as a JSON info line.
func (e *env) info(msg string, attrs ...any) {
	if e.logger != nil {
		e.logger.Info(msg, attrs...)
		return
	}
	line := msg
	for i := 0; i+1 < len(attrs); i += 2 {
		line += fmt.Sprintf(" %v=%v", attrs[i], attrs[i+1])
	}
	e.textLine(line)
}

// errorAttrs are the structured fields of an apply or rollback error.
func errorAttrs(err error) []any {
	var be *apply.BucketError
	var ae *apply.AccountError
	switch {
	case errors.As(err, &ae):
		return []any{"account", ae.Account, "control", string(ae.Control)}
	case errors.As(err, &be):
		return []any{"bucket", be.Bucket, "region", be.Region}
	}
	return nil
}

// logOutcomes logs each bucket and account change outcome as a JSON info
// line; the text form prints them on stdout instead (printOutcomes).
func (e *env) logOutcomes(outcomes []apply.Outcome) {
	if e.logger == nil {
		return
	}
	for _, o := range outcomes {
		attrs := []any{"account", o.Account, "status", o.Status, "writes", o.Writes}
		msg := "bucket"
		switch {
		case o.Control != "":
			msg = "account control"
			attrs = append(attrs, "control", string(o.Control))
		case o.Bucket == "":
			msg = "account"
		default:
			attrs = append(attrs, "bucket", o.Bucket, "region", o.Region)
		}
		if o.Err != nil {
			attrs = append(attrs, "error", oneLine(o.Err.Error()))
		}
		e.logger.Info(msg+" "+o.Status, attrs...)
	}
}

// exitCode is the process exit code an Action's error becomes.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ce *codeError
	if errors.As(err, &ce) {
		return ce.code
	}
	return exitError
}

// runReport is what a plan or apply run learned, for its --report: the
// plan once there is one, the outcomes and journal once applied, the
// provider once there is one (for a report in S3).
type runReport struct {
	command  string
	started  time.Time
	prov     *awsprovider.Provider
	plan     *plan.Plan
	outcomes []apply.Outcome
	journal  string
}

// reported wraps a plan or apply action so that --report is written on
// every way out of it: a run that failed before it had a plan (a bad
// config, no credentials, a dead endpoint) still replaces the previous
// report, with its error and exit code, so an old report never looks
// current.
func reported(e *env, command string, action func(c *cli.Context, rr *runReport) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		rr := &runReport{command: command, started: e.now()}
		err := action(c, rr)
		return writeReport(c, e, rr, err)
	}
}

// writeReport writes --report (a file, or an s3:// object) when asked; a
// report that cannot be written makes the run fail.
func writeReport(c *cli.Context, e *env, rr *runReport, err error) error {
	path := c.String("report")
	if path == "" {
		return err
	}
	run := report.Run{
		Command: rr.command, ToolVersion: version, StartedAt: rr.started, FinishedAt: e.now(),
		ExitCode: exitCode(err), Journal: rr.journal,
	}
	if e.interrupted() && run.ExitCode == exitError {
		run.ExitCode = exitInterrupted
	}
	if err != nil {
		run.Error = oneLine(err.Error())
	}
	werr := putReport(c, e, rr, path, report.Build(rr.plan, rr.outcomes, run))
	if werr == nil {
		return err
	}
	if err == nil {
		return werr
	}
	e.logError(werr.Error())
	return err
}

// putReport writes r to path. A file that cannot be replaced is removed,
// so that the previous run's report does not stand in for this one.
func putReport(c *cli.Context, e *env, rr *runReport, path string, r *report.Report) error {
	if !strings.HasPrefix(path, "s3://") {
		if err := report.WriteFile(path, r); err != nil {
			if rerr := os.Remove(path); rerr == nil {
				return fmt.Errorf("%w (the previous report was removed)", err)
			}
			return err
		}
		return nil
	}
	u, err := lock.ParseS3URI(path)
	if err != nil {
		return fmt.Errorf("--report: %w", err)
	}
	key := strings.TrimSuffix(u.Prefix, "/")
	if key == "" {
		return fmt.Errorf("--report %s: name the object: s3://BUCKET/KEY", path)
	}
	prov := rr.prov
	if prov == nil {
		if prov, err = newProvider(c, e); err != nil {
			return fmt.Errorf("report %s not written: %w", path, err)
		}
	}
	data, err := report.Marshal(r)
	if err != nil {
		return err
	}
	if _, err := prov.PutObject(context.WithoutCancel(c.Context), u.Bucket, key, data, awsprovider.PutCondition{}); err != nil {
		return fmt.Errorf("report %s not written: %w", path, err)
	}
	return nil
}

// reportErrors prints each failure of a multi-error on its own line and
// turns it into exit code 1.
func reportErrors(e *env, err error) error {
	var me *multierror.Error
	if errors.As(err, &me) {
		for _, one := range me.Errors {
			var inner *multierror.Error
			if errors.As(one, &inner) {
				_ = reportErrors(e, inner)
				continue
			}
			e.logError(one.Error(), errorAttrs(one)...)
		}
		return &codeError{code: exitError}
	}
	return err
}
