package main

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hashicorp/go-multierror"
	"github.com/urfave/cli/v2"

	"github.com/s3baseline/s3baseline/apply"
	"github.com/s3baseline/s3baseline/plan"
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

// writeReport writes --report, when asked, for a finished plan or apply;
// a report that cannot be written makes the run fail.
func writeReport(c *cli.Context, e *env, command string, started time.Time, p *plan.Plan, outcomes []apply.Outcome, journal string, err error) error {
	path := c.String("report")
	if path == "" || p == nil {
		return err
	}
	r := report.Build(p, outcomes, report.Run{
		Command: command, ToolVersion: version, StartedAt: started, FinishedAt: e.now(),
		ExitCode: exitCode(err), Journal: journal,
	})
	if werr := report.WriteFile(path, r); werr != nil {
		if err == nil {
			return werr
		}
		e.logError(werr.Error())
	}
	return err
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
