// Command s3baseline brings every S3 bucket of an AWS account to a chosen
// security baseline (low, medium or high, following NIST SP 800-53) with a
// Terraform-style plan / apply workflow.
//
// This file is wiring only: flags, the order things are called in, and how
// errors become exit codes. The work lives in baselines/, plan/ and
// providers/aws/.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/s3baseline/s3baseline/apply"
	"github.com/s3baseline/s3baseline/baselines"
	"github.com/s3baseline/s3baseline/plan"
	"github.com/s3baseline/s3baseline/progress"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
	"github.com/s3baseline/s3baseline/regions"
	"github.com/s3baseline/s3baseline/settings"
)

// version is the tool's version; release builds set it with -ldflags.
var version = "0.1.0"

// Exit codes of the contract.
const (
	exitOK      = 0
	exitError   = 1
	exitChanges = 2 // plan --detailed-exitcode found changes
)

// exitInterrupted is the exit code of a run stopped by Ctrl-C or SIGTERM
// (128 + SIGINT, as shells report it).
const exitInterrupted = 130

func main() {
	if inLambda(os.Args) {
		lambdaMain()
		return
	}
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, now: time.Now}
	e.stop, e.abort = interrupts()
	os.Exit(runEnv(context.Background(), e, os.Args))
}

// interrupts turns Ctrl-C and SIGTERM into the two stages of stopping: the
// first closes stop (start nothing new: a prompt or a plan ends, an apply
// lets its writes in flight finish), the second closes abort (cut off the
// writes in flight too), a third exits at once.
func interrupts() (stop, abort <-chan struct{}) {
	s, a := make(chan struct{}), make(chan struct{})
	sigs := make(chan os.Signal, 3)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		close(s)
		<-sigs
		close(a)
		<-sigs
		os.Exit(exitInterrupted)
	}()
	return s, a
}

// env is what a command needs from the outside world; tests hand in their own.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	now            func() time.Time
	// logger is set by --log-format json; nil writes text lines.
	logger *slog.Logger
	// stderrMu keeps text lines on stderr whole (textLine).
	stderrMu sync.Mutex
	// tuneProvider, when set, adjusts the provider's options after the
	// flags (tests lower the retry backoff with it); nil in the tool.
	tuneProvider func(*awsprovider.Options)
	// stop closes at the first interrupt, abort at the second (see
	// interrupts); nil channels never close.
	stop, abort <-chan struct{}
}

// interrupted reports whether the first interrupt came.
func (e *env) interrupted() bool {
	select {
	case <-e.stop:
		return true
	default:
		return false
	}
}

// untilStop is ctx cancelled at the first interrupt: what every command
// but apply's writes runs under.
func (e *env) untilStop(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-e.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// writeContext is what apply's and rollback's writes run under: the first
// interrupt does not cancel it (it only stops new writes, through
// Options.Stop), the second does. It says what is happening on each.
func (e *env) writeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		select {
		case <-e.stop:
		case <-wctx.Done():
			return
		}
		e.info("Interrupt received: finishing the writes in flight, starting no new ones (interrupt again to abort them)")
		select {
		case <-e.abort:
			e.info("Second interrupt: aborting the writes in flight; the journal records their outcome as unknown")
			cancel()
		case <-wctx.Done():
		}
	}()
	return wctx, cancel
}

// exitError carries an exit code that is not simply "error" together with
// what should be printed (nothing, when the command printed it already).
type codeError struct {
	code int
	msg  string
}

func (e *codeError) Error() string { return e.msg }

// runEnv executes one command line with the outside world e and returns
// the process exit code. Every error is printed as one line prefixed with
// "s3baseline: ".
func runEnv(ctx context.Context, e *env, args []string) int {
	app := newApp(e)
	ctx, cancel := e.untilStop(ctx)
	defer cancel()
	err := app.RunContext(ctx, reorderArgs(app, args))
	if err == nil {
		return exitOK
	}
	code := exitError
	var ce *codeError
	if errors.As(err, &ce) {
		if ce.msg != "" {
			e.logError(ce.msg)
		}
		code = ce.code
	} else {
		e.logError(err.Error())
	}
	if e.interrupted() && code == exitError {
		return exitInterrupted
	}
	return code
}

// oneLine folds an error onto one line, because scripts read stderr line by
// line: several joined errors (a config with three mistakes) become "; "
// separated, and runs of white space one space.
func oneLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "; ")
}

func newApp(e *env) *cli.App {
	app := &cli.App{
		Name:    "s3baseline",
		Usage:   "bring every S3 bucket to a NIST SP 800-53 security baseline (plan / apply)",
		Version: version,
		Writer:  e.stdout, ErrWriter: e.stderr, Reader: e.stdin,
		HideHelpCommand: true,
		// Errors are printed once, by run, as one line.
		ExitErrHandler: func(*cli.Context, error) {},
		Commands: []*cli.Command{
			planCommand(e),
			applyCommand(e),
			showCommand(e),
			rollbackCommand(e),
			eventCommand(e),
			baselinesCommand(e),
			reportCommand(e),
			{
				Name:  "version",
				Usage: "print the version",
				Action: func(c *cli.Context) error {
					fmt.Fprintf(e.stdout, "s3baseline %s\n", version)
					return nil
				},
			},
		},
		OnUsageError: usageError,
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return fmt.Errorf("unknown command %q; see s3baseline --help", c.Args().First())
			}
			return cli.ShowAppHelp(c)
		},
	}
	onUsageErrors(app.Commands)
	return app
}

// onUsageErrors makes every command's usage errors one line (urfave/cli
// prints the whole help text after them otherwise).
func onUsageErrors(cmds []*cli.Command) {
	for _, c := range cmds {
		c.OnUsageError = usageError
		onUsageErrors(c.Subcommands)
	}
}

// Go's flag package names a flag with one dash in its errors.
var (
	flagUndefined = regexp.MustCompile(`^flag provided but not defined: -+(.+)$`)
	flagNoValue   = regexp.MustCompile(`^flag needs an argument: -+(.+)$`)
	flagBadValue  = regexp.MustCompile(`^invalid value "(.*)" for flag -+([^:]+): (.*)$`)
)

// usageError is a command line that does not parse, as one line with
// where to look: "plan: unknown flag --bukcet; see s3baseline plan --help".
func usageError(c *cli.Context, err error, _ bool) error {
	msg := err.Error()
	if m := flagUndefined.FindStringSubmatch(msg); m != nil {
		msg = "unknown flag --" + m[1]
	} else if m := flagNoValue.FindStringSubmatch(msg); m != nil {
		msg = "flag --" + m[1] + " needs a value"
	} else if m := flagBadValue.FindStringSubmatch(msg); m != nil {
		msg = fmt.Sprintf("--%s: invalid value %q: %s", m[2], m[1], m[3])
	}
	var path []string // the command's names from the top, "baselines show"
	for _, cc := range c.Lineage() {
		if cc.Command != nil && cc.Command.Name != "" && cc.Command.Name != c.App.Name {
			path = append([]string{cc.Command.Name}, path...)
		}
	}
	path = slices.Compact(path)
	name := strings.Join(path, " ")
	if name == "" {
		return fmt.Errorf("%s; see s3baseline --help", msg)
	}
	return fmt.Errorf("%s: %s; see s3baseline %s --help", name, msg, name)
}

// Connection flags: every command that talks to AWS.
func connectionFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "profile", Usage: "shared config `PROFILE` (default: the standard credential chain)"},
		&cli.StringFlag{Name: "endpoint-url", Usage: "send every AWS call to `URL` (an emulator or S3-compatible service); AWS_ENDPOINT_URL* work too"},
		&cli.StringFlag{Name: "concurrency", Value: "auto", Usage: "buckets observed or changed at once: auto (find it: grow while latency stays flat, halve on throttling, per service and region) or a fixed `N`"},
		&cli.DurationFlag{Name: "call-timeout", Value: awsprovider.DefaultCallTimeout, Usage: "give up on an AWS call that gets no answer within `DURATION` (throttled calls keep retrying)"},
		&cli.BoolFlag{Name: "no-color", Usage: "no colour in the text output"},
		logFlag(),
	}
}

// Scope flags: plan, and apply without a plan file.
func scopeFlags() []cli.Flag {
	return append(configFlags(),
		&cli.StringSliceFlag{Name: "bucket", Usage: "only buckets whose name matches `GLOB` (repeatable)"},
		&cli.StringSliceFlag{Name: "region", Usage: "only buckets whose home region is `REGION` (repeatable)"},
		&cli.BoolFlag{Name: "allow-empty", Usage: "let a --bucket, --region, config region or config rule that matches no bucket pass (a note, not an error)"},
	)
}

// configFlags name the baseline and config (loadScope reads them).
func configFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "baseline", Usage: "default baseline: low, medium, high or a baseline `FILE`"},
		&cli.StringFlag{Name: "config", Usage: "config `FILE` (default ./s3baseline.yaml when present)"},
	}
}

// journaled opens the run's journal (kind names a default one), runs do
// with it under the writes' context, and reports the outcomes: what apply
// and an event-driven run share once their locks are held.
func journaled(c *cli.Context, e *env, rr *runReport, prov *awsprovider.Provider, kind string, do func(ctx context.Context, j *apply.Journal) ([]apply.Outcome, error)) error {
	j, err := openJournal(c, e, prov, kind)
	if err != nil {
		return err
	}
	defer j.Close()
	signJournal(c, prov, j)
	rr.journal = j.Path()
	e.info(fmt.Sprintf("Journal: %s (undo with: s3baseline rollback %s)", j.Path(), j.Path()), "journal", j.Path())
	wctx, cancelWrites := e.writeContext(c.Context)
	defer cancelWrites()
	outcomes, err := do(wctx, j)
	rr.outcomes = outcomes
	printOutcomes(e, outcomes)
	e.logOutcomes(outcomes)
	if err != nil {
		return reportErrors(e, err)
	}
	return nil
}

func planCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "plan",
		Usage:     "observe every bucket in scope and show what the baseline would change",
		ArgsUsage: " ",
		Before:    setLogFormat(e),
		Flags: append(append(append(scopeFlags(), orgFlags()...), connectionFlags()...),
			&cli.StringFlag{Name: "out", Usage: "save the plan to `FILE` for apply"},
			&cli.StringFlag{Name: "sign-key", Usage: "sign the saved plan with the KMS HMAC key `KEY` (id, alias or ARN; kms:GenerateMac)"},
			&cli.BoolFlag{Name: "json", Usage: "print the plan document as JSON instead of text"},
			&cli.BoolFlag{Name: "detailed-exitcode", Usage: "exit 0 when nothing changes, 2 when something would"},
			summaryFlag(),
			&cli.BoolFlag{Name: "org-policies", Usage: "with --accounts, from the management account: report whether the root's S3 policy and resource control policies enforce Block Public Access and TLS in every account, and suggest them"},
			reportFlag(),
		),
		Action: reported(e, "plan", func(c *cli.Context, rr *runReport) error {
			if c.NArg() > 0 {
				return fmt.Errorf("plan takes no arguments, got %q", c.Args().First())
			}
			if c.IsSet("sign-key") && !c.IsSet("out") {
				return errors.New("--sign-key signs the saved plan: give --out FILE too")
			}
			prov, err := newProvider(c, e)
			if err != nil {
				return err
			}
			rr.prov = prov
			rc := regionChecker(c.Context, prov)
			cfg, err := loadScope(c, e, rc)
			if err != nil {
				return err
			}
			if c.String("accounts") == "" {
				return streamPlan(c, e, rr, prov, cfg, rc)
			}
			p, err := buildPlan(c, e, prov, cfg, rc, nil)
			if err != nil {
				return err
			}
			rr.plan = p
			if key := c.String("sign-key"); key != "" {
				if err := plan.Sign(c.Context, prov, key, p); err != nil {
					return err
				}
			}
			if out := c.String("out"); out != "" {
				if err := plan.WriteFile(out, p); err != nil {
					return err
				}
			}
			if c.Bool("json") {
				err = plan.Write(e.stdout, p)
			} else {
				err = plan.Render(e.stdout, p, renderOptions(c, e))
				if err == nil && c.String("out") != "" {
					fmt.Fprintf(e.stdout, "\nSaved the plan to %s (review it again with: s3baseline show %s).\n", c.String("out"), c.String("out"))
				}
			}
			if err != nil {
				return err
			}
			return planOutcome(e, p, c.Bool("detailed-exitcode"))
		}),
	}
}

// streamPlan plans one account with the plan streamed (plan.Sink): the
// plan file is written bucket by bucket as they are observed, and the text
// or JSON for stdout into a temporary file, so that no part of the run
// holds the whole estate. stdout gets it at the end, as before: a scope
// filter or rule that matched no bucket refuses the plan, and that is
// known only once every bucket has been seen. The file is put in place
// only then, too.
func streamPlan(c *cli.Context, e *env, rr *runReport, prov *awsprovider.Provider, cfg *baselines.Config, rc *regions.Checker) error {
	spool, err := os.CreateTemp("", "s3baseline-plan-*.out")
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	defer func() {
		spool.Close()
		os.Remove(spool.Name())
	}()
	shown := bufio.NewWriterSize(spool, 256<<10)
	var sinks plan.Sinks
	var file *plan.FileSink
	if out := c.String("out"); out != "" {
		var sign func(string) (*plan.Signature, error)
		if key := c.String("sign-key"); key != "" {
			sign = func(sum string) (*plan.Signature, error) { return plan.SignChecksum(c.Context, prov, key, sum) }
		}
		if file, err = plan.CreateFile(out, sign); err != nil {
			return err
		}
		defer file.Abort()
		sinks = append(sinks, file)
	}
	if c.Bool("json") {
		sinks = append(sinks, plan.NewDocumentWriter(shown))
	} else {
		sinks = append(sinks, plan.NewTextRenderer(shown, renderOptions(c, e)))
	}
	p, err := buildPlan(c, e, prov, cfg, rc, sinks)
	if err != nil {
		return err
	}
	rr.plan = p
	if file != nil {
		if err := file.Commit(); err != nil {
			return err
		}
	}
	if err := shown.Flush(); err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	if _, err := io.Copy(e.stdout, spool); err != nil {
		return err
	}
	if out := c.String("out"); out != "" && !c.Bool("json") {
		fmt.Fprintf(e.stdout, "\nSaved the plan to %s (review it again with: s3baseline show %s).\n", out, out)
	}
	return planOutcome(e, p, c.Bool("detailed-exitcode"))
}

func reportFlag() cli.Flag {
	return &cli.StringFlag{Name: "report", Usage: "write the run report (JSON: per account and bucket what drifted, was fixed or failed, and the exit code) to `FILE` or s3://BUCKET/KEY, on every way out of the run"}
}

// planOutcome maps a finished plan to the exit code of the contract: bucket
// errors win over changes, because a plan that could not see everything
// must not look like a clean "changes pending".
func planOutcome(e *env, p *plan.Plan, detailed bool) error {
	n := 0
	for _, a := range p.Sections() {
		for _, msg := range a.Errors {
			e.logError(fmt.Sprintf("account %s: %s", a.Account, msg), "account", a.Account)
			n++
		}
		for b := range a.EachBucket() {
			for _, msg := range b.Errors {
				e.logError(fmt.Sprintf("bucket %q (%s): %s", b.Name, b.Region, msg), "account", a.Account, "bucket", b.Name, "region", b.Region)
				n++
			}
		}
	}
	if n > 0 {
		return &codeError{code: exitError}
	}
	if detailed && !p.Empty() {
		return &codeError{code: exitChanges}
	}
	return nil
}

func applyCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "apply",
		Usage:     "apply a reviewed plan file, or plan, confirm and apply",
		ArgsUsage: "[PLANFILE]",
		Before:    setLogFormat(e),
		Flags: append(append(append(append(scopeFlags(), orgFlags()...), connectionFlags()...),
			&cli.BoolFlag{Name: "auto-approve", Usage: "apply without asking (scheduled runs)"},
			&cli.StringFlag{Name: "journal", Usage: "journal `FILE`, or s3://BUCKET/PREFIX for one object per record under PREFIX/journal-<UTC time>-<pid>/ (default ./.s3baseline/journal-<UTC time>-<pid>.jsonl)"},
			lockFlag(),
			&cli.BoolFlag{Name: "allow-impact", Usage: "also apply changes the plan warns would cut off current access (website, public or cross-account readers, CloudFormation drift)"},
			reportFlag(),
		), signatureFlags()...),
		Action: reported(e, "apply", func(c *cli.Context, rr *runReport) error {
			if c.NArg() > 1 {
				return fmt.Errorf("apply takes at most one argument, the plan file; got %d", c.NArg())
			}
			prov, err := newProvider(c, e)
			if err != nil {
				return err
			}
			rr.prov = prov
			var p *plan.Plan
			// trusted: the plan is this process's own, or its signature
			// was verified (apply.Options.Trusted).
			trusted := false
			if c.NArg() == 1 {
				for _, f := range []string{"baseline", "config", "bucket", "region", "allow-empty", "accounts", "role-name", "shard"} {
					if c.IsSet(f) {
						return fmt.Errorf("--%s cannot be used with a plan file: the plan carries its scope and settings", f)
					}
				}
				// Only the buckets with something to do are kept whole: the
				// compliant ones are counted, not read again.
				if p, err = plan.OpenFile(c.Args().First(), plan.ReadOptions{Keep: func(b *plan.BucketPlan) bool { return !b.Compliant() }}); err != nil {
					return err
				}
				if trusted, err = checkSignature(c, e, prov, p, c.Args().First()); err != nil {
					return err
				}
			} else {
				if c.IsSet("require-signature") {
					return errors.New("--require-signature checks a plan file: give one (apply PLANFILE)")
				}
				rc := regionChecker(c.Context, prov)
				cfg, err := loadScope(c, e, rc)
				if err != nil {
					return err
				}
				if p, err = buildPlan(c, e, prov, cfg, rc, nil); err != nil {
					return err
				}
				trusted = true
				if err := plan.Render(e.stdout, p, plan.RenderOptions{Color: useColor(c, e.stdout)}); err != nil {
					return err
				}
				rr.plan = p
				if p.Empty() {
					return planOutcome(e, p, false)
				}
				if !c.Bool("auto-approve") {
					if yes, err := confirm(e, "Apply these changes? Only 'yes' will be accepted: "); err != nil {
						return err
					} else if !yes {
						return errors.New("apply cancelled")
					}
				}
			}
			rr.plan = p
			if p.Empty() {
				fmt.Fprintln(e.stdout, "No changes. Nothing to apply.")
				return planOutcome(e, p, false)
			}
			if len(p.Accounts) == 0 {
				id, err := prov.Identity(c.Context)
				if err != nil {
					return err
				}
				if id.Account != p.Account {
					return fmt.Errorf("the plan is for account %s but the credentials are for account %s", p.Account, id.Account)
				}
			}
			unlock, err := lockAccounts(c, e, prov, "apply", planAccounts(p))
			if err != nil {
				return err
			}
			defer unlock()
			return journaled(c, e, rr, prov, "journal", func(ctx context.Context, j *apply.Journal) ([]apply.Outcome, error) {
				report, done := progressReporter(e, "apply")
				defer done()
				return applyPlan(ctx, c, prov, p, apply.Options{
					Stop:        e.stop,
					Config:      p.Scope.Settings,
					Journal:     j,
					Concurrency: workers(c),
					AllowImpact: c.Bool("allow-impact"),
					Now:         e.now,
					Progress:    report,
					Trusted:     trusted,
				})
			})
		}),
	}
}

func rollbackCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "rollback",
		Usage:     "restore every setting a journal says was changed to its recorded before-state",
		ArgsUsage: "JOURNAL",
		Before:    setLogFormat(e),
		Flags: append(connectionFlags(),
			&cli.StringFlag{Name: "role-name", Usage: "the `ROLE` to assume in the journal's other accounts (an organization apply's journal)"},
			&cli.BoolFlag{Name: "auto-approve", Usage: "roll back without asking"},
			&cli.BoolFlag{Name: "force", Usage: "also restore settings someone changed since the apply (policies and notifications are restored by statement either way)"},
			&cli.StringFlag{Name: "journal", Usage: "journal `FILE` or s3://BUCKET/PREFIX of the rollback's own writes (default ./.s3baseline/rollback-<UTC time>-<pid>.jsonl)"},
			lockFlag(),
			&cli.StringFlag{Name: "sign-key", Usage: "verify the journal's signature with the KMS HMAC key `KEY` (kms:VerifyMac), and sign the rollback's own journal with it"},
			&cli.BoolFlag{Name: "require-signature", Usage: "refuse a journal that is not signed (needs --sign-key)"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return errors.New("rollback needs exactly one argument: the journal file or s3:// journal")
			}
			var prov *awsprovider.Provider
			connect := func() (*awsprovider.Provider, error) {
				if prov != nil {
					return prov, nil
				}
				var err error
				prov, err = newProvider(c, e)
				return prov, err
			}
			records, err := readJournal(c.Context, connect, c.Args().First())
			if err != nil {
				return err
			}
			if err := checkJournalSignature(c, e, connect, records, c.Args().First()); err != nil {
				return err
			}
			steps := apply.PlanRollback(records)
			if len(steps) == 0 {
				fmt.Fprintln(e.stdout, "Nothing to roll back: the journal records no changes.")
				return nil
			}
			fmt.Fprintf(e.stdout, "Rollback of %s, newest first:\n", c.Args().First())
			for _, s := range steps {
				fmt.Fprintf(e.stdout, "  %s\n", s.Description)
			}
			if !c.Bool("auto-approve") {
				if yes, err := confirm(e, "\nRoll back these changes? Only 'yes' will be accepted: "); err != nil {
					return err
				} else if !yes {
					return errors.New("rollback cancelled")
				}
			}
			if _, err := connect(); err != nil {
				return err
			}
			id, err := prov.Identity(c.Context)
			if err != nil {
				return err
			}
			unlock, err := lockAccounts(c, e, prov, "rollback", journalAccounts(steps, id.Account))
			if err != nil {
				return err
			}
			defer unlock()
			j, err := openJournal(c, e, prov, "rollback")
			if err != nil {
				return err
			}
			defer j.Close()
			signJournal(c, prov, j)
			e.info(fmt.Sprintf("Journal of the rollback: %s", j.Path()), "journal", j.Path())
			wctx, cancelWrites := e.writeContext(c.Context)
			defer cancelWrites()
			if err := rollbackAll(wctx, prov, c.String("role-name"), steps, j, apply.RollbackOptions{Force: c.Bool("force"), Stop: e.stop}); err != nil {
				return reportErrors(e, err)
			}
			fmt.Fprintln(e.stdout, "Rollback complete.")
			return nil
		},
	}
}

// journalPath is --journal, or a new file under ./.s3baseline named by the
// UTC time, so that runs never append to each other's journals.
func journalPath(c *cli.Context, e *env, kind string) string {
	if p := c.String("journal"); p != "" {
		return p
	}
	// Nanoseconds and the pid: two runs started in one second (a
	// scheduled one and a manual one) still get a journal each.
	return fmt.Sprintf(".s3baseline/%s-%s-%d.jsonl", kind, e.now().UTC().Format("20060102T150405.000000000Z"), os.Getpid())
}

// confirm asks on stdout and reads one line: only "yes" is yes. An
// interrupt at the prompt ends the run at once, exit 130.
func confirm(e *env, prompt string) (bool, error) {
	fmt.Fprint(e.stdout, prompt)
	answer := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(e.stdin).ReadString('\n')
		answer <- line
	}()
	select {
	case line := <-answer:
		fmt.Fprintln(e.stdout)
		return strings.TrimSpace(line) == "yes", nil
	case <-e.stop:
		fmt.Fprintln(e.stdout)
		return false, &codeError{code: exitInterrupted, msg: "interrupted at the prompt: nothing was changed"}
	}
}

func printOutcomes(e *env, outcomes []apply.Outcome) {
	counts := map[string]int{}
	writes, held := 0, 0
	for _, o := range outcomes {
		counts[o.Status]++
		writes += o.Writes
		line := fmt.Sprintf("  bucket %q (%s): %s, %d writes", o.Bucket, o.Region, o.Status, o.Writes)
		switch {
		case o.Control != "":
			line = fmt.Sprintf("  account %s %s: %s, %d writes", o.Account, o.Control, o.Status, o.Writes)
		case o.Bucket == "":
			line = fmt.Sprintf("  account %s: %s, nothing applied", o.Account, o.Status)
		}
		// The reasons go to stderr, one line per control: here the names.
		if len(o.Held) > 0 {
			line += "; held back: " + joinIDs(o.Held)
		}
		if len(o.Stale) > 0 {
			line += "; stale: " + joinIDs(o.Stale)
		}
		if len(o.Failed) > 0 {
			line += "; failed: " + joinIDs(o.Failed)
		}
		held += len(o.Held)
		fmt.Fprintln(e.stdout, line)
	}
	fmt.Fprintf(e.stdout, "\nApply finished: %d writes; %d applied, %d stale, %d failed, %d skipped; %d %s held back.\n",
		writes, counts["applied"], counts["stale"], counts["failed"], counts["skipped"], held, plural(held, "control", "controls"))
}

func joinIDs(ids []settings.ControlID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = string(id)
	}
	return strings.Join(s, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func showCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "show a saved plan",
		ArgsUsage: "PLANFILE",
		Before:    setLogFormat(e),
		Flags: append(append(connectionFlags(),
			&cli.BoolFlag{Name: "json", Usage: "print the plan document as JSON"},
			summaryFlag(),
		), signatureFlags()...),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return errors.New("show needs exactly one argument: the plan file")
			}
			var prov *awsprovider.Provider
			if c.IsSet("sign-key") {
				var err error
				if prov, err = newProvider(c, e); err != nil {
					return err
				}
			}
			return showPlan(c, e, prov, c.Args().First())
		},
	}
}

// showPlan prints a plan file without holding it whole (plan.OpenFile):
// its signature is checked before anything is shown, and the text or JSON
// goes to a temporary file first, so that a plan refused part of the way
// through (a change the tool could not have planned) shows nothing.
func showPlan(c *cli.Context, e *env, prov *awsprovider.Provider, path string) error {
	spool, err := os.CreateTemp("", "s3baseline-show-*.out")
	if err != nil {
		return fmt.Errorf("show: %w", err)
	}
	defer func() {
		spool.Close()
		os.Remove(spool.Name())
	}()
	shown := bufio.NewWriterSize(spool, 256<<10)
	var sink plan.Sink
	p, err := plan.OpenFile(path, plan.ReadOptions{
		Verified: func(h *plan.Plan) error {
			if _, err := checkSignature(c, e, prov, h, path); err != nil {
				return err
			}
			if len(h.Accounts) > 0 {
				// An organization plan's sections are read whole.
				return nil
			}
			if c.Bool("json") {
				sink = plan.NewDocumentWriter(shown)
			} else {
				sink = plan.NewTextRenderer(shown, renderOptions(c, e))
			}
			return sink.Head(h)
		},
		Bucket: func(_ *plan.AccountPlan, b *plan.BucketPlan) error {
			if sink == nil {
				return nil
			}
			return sink.Bucket(b)
		},
		Keep: func(*plan.BucketPlan) bool { return sink == nil },
	})
	if err != nil {
		return err
	}
	switch {
	case sink != nil:
		err = sink.Tail(p)
	case c.Bool("json"):
		err = plan.Write(shown, p)
	default:
		err = plan.Render(shown, p, renderOptions(c, e))
	}
	if err == nil {
		err = shown.Flush()
	}
	if err == nil {
		_, err = spool.Seek(0, io.SeekStart)
	}
	if err != nil {
		return fmt.Errorf("show: %w", err)
	}
	_, err = io.Copy(e.stdout, spool)
	return err
}

// summaryFlag is --summary of plan and show.
func summaryFlag() cli.Flag {
	return &cli.BoolFlag{Name: "summary", Usage: "print only the per-control summary and the totals, not each bucket"}
}

// renderOptions are the text plan's options from the flags.
func renderOptions(c *cli.Context, e *env) plan.RenderOptions {
	return plan.RenderOptions{Color: useColor(c, e.stdout), Summary: c.Bool("summary")}
}

// signatureFlags check a signed plan file (apply, show).
func signatureFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "sign-key", Usage: "verify the plan's signature with the KMS HMAC key `KEY` (the key you trust, not the one the plan names; kms:VerifyMac); apply also signs its journal with it (kms:GenerateMac)"},
		&cli.BoolFlag{Name: "require-signature", Usage: "refuse a plan that is not signed (needs --sign-key)"},
	}
}

// checkSignature verifies p's signature with --sign-key. A signed plan read
// without --sign-key is let through with a note: the operator did not ask
// for the check, and the key the plan names proves nothing. verified is
// whether the signature was checked and holds: the plan is then the one
// the holder of the operator's key signed, nobody else's edit.
func checkSignature(c *cli.Context, e *env, prov *awsprovider.Provider, p *plan.Plan, path string) (verified bool, err error) {
	unchecked := ""
	if p.Signature != nil {
		unchecked = fmt.Sprintf("The plan is signed (with key %s), but no --sign-key was given: the signature was not checked.", p.Signature.KeyID)
	}
	key, err := verifyKey(c, e, unchecked)
	if key == "" || err != nil {
		return false, err
	}
	if err := plan.VerifySignature(c.Context, prov, key, p, c.Bool("require-signature"), path); err != nil {
		return false, err
	}
	if p.Signature == nil {
		e.info(fmt.Sprintf("%s is not signed: nothing to verify with %s (give --require-signature to refuse unsigned plans).", path, key))
		return false, nil
	}
	e.info(fmt.Sprintf("Signature verified with key %s.", key))
	return true, nil
}

// signJournal makes every record of j carry an HMAC with --sign-key.
func signJournal(c *cli.Context, prov *awsprovider.Provider, j *apply.Journal) {
	key := c.String("sign-key")
	if key == "" {
		return
	}
	// Records after an interrupt are signed too: not c.Context.
	ctx := context.WithoutCancel(c.Context)
	j.SignWith(func(msg []byte) ([]byte, error) { return prov.GenerateMac(ctx, key, msg) })
}

// checkJournalSignature verifies a journal read for rollback with
// --sign-key, as checkSignature does a plan's.
func checkJournalSignature(c *cli.Context, e *env, connect func() (*awsprovider.Provider, error), recs []apply.Record, path string) error {
	signed := slices.ContainsFunc(recs, func(r apply.Record) bool { return r.MAC != "" })
	unchecked := ""
	if signed {
		unchecked = "The journal is signed, but no --sign-key was given: the signature was not checked."
	}
	key, err := verifyKey(c, e, unchecked)
	if key == "" || err != nil {
		return err
	}
	prov, err := connect()
	if err != nil {
		return err
	}
	verify := func(msg, mac []byte) (bool, error) { return prov.VerifyMac(c.Context, key, msg, mac) }
	if err := apply.VerifyJournal(recs, verify, c.Bool("require-signature"), path); err != nil {
		return err
	}
	if signed {
		e.info(fmt.Sprintf("Journal signature verified with key %s.", key))
	}
	return nil
}

// verifyKey is --sign-key, the key to verify a plan or journal with. ""
// means there is nothing to verify: --require-signature without a key is
// an error, and a signed document read without one is let through with
// unchecked said (when not "").
func verifyKey(c *cli.Context, e *env, unchecked string) (string, error) {
	key := c.String("sign-key")
	if key != "" {
		return key, nil
	}
	if c.Bool("require-signature") {
		return "", errors.New("--require-signature needs --sign-key KEY: the key to verify the signature with")
	}
	if unchecked != "" {
		e.info(unchecked)
	}
	return "", nil
}

func baselinesCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "baselines",
		Usage: "list the built-in baselines or show one",
		Action: func(c *cli.Context) error {
			return listBaselines(e)
		},
		Subcommands: []*cli.Command{
			{
				Name:   "list",
				Usage:  "list the built-in baselines",
				Action: func(c *cli.Context) error { return listBaselines(e) },
			},
			{
				Name:      "show",
				Usage:     "show the controls of a baseline (a built-in name or a baseline file)",
				ArgsUsage: "NAME",
				Flags:     []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print the baseline as JSON"}},
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return errors.New("baselines show needs exactly one argument: a baseline name or file")
					}
					b, err := baselines.Resolve(c.Args().First(), ".")
					if err != nil {
						return err
					}
					if c.Bool("json") {
						return baselines.WriteJSON(e.stdout, b)
					}
					return baselines.Render(e.stdout, b)
				},
			},
			{
				Name:    "catalogue",
				Aliases: []string{"catalog"},
				Usage:   "show every control the tool knows: its mode in each built-in, its NIST SP 800-53 mapping and where that comes from, its Security Hub and CIS ids, and its fix",
				Flags:   []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print the catalogue as JSON"}},
				Action: func(c *cli.Context) error {
					if c.Bool("json") {
						return baselines.WriteCatalogueJSON(e.stdout)
					}
					return baselines.RenderCatalogue(e.stdout)
				},
			},
		},
	}
}

func listBaselines(e *env) error {
	for _, name := range baselines.BuiltinNames() {
		b, _ := baselines.Builtin(name)
		fmt.Fprintf(e.stdout, "%-8s %s\n", b.Name, b.Description)
	}
	return nil
}

// regionChecker checks the region names of the flags and the config
// against the known list and the account's enabled regions
// (account:ListRegions, asked once and only when a name is given); where
// the account's list cannot be read, the known list alone decides.
func regionChecker(ctx context.Context, prov *awsprovider.Provider) *regions.Checker {
	return regions.NewChecker(func() ([]string, error) { return prov.EnabledRegions(ctx) })
}

// loadScope reads the config (explicit, or ./s3baseline.yaml when present)
// and applies --baseline over its default.
func loadScope(c *cli.Context, e *env, rc *regions.Checker) (*baselines.Config, error) {
	path := c.String("config")
	if path == "" {
		if _, err := os.Stat("s3baseline.yaml"); err == nil {
			path = "s3baseline.yaml"
		}
	}
	cfg := baselines.DefaultConfig()
	if path != "" {
		var err error
		if cfg, err = baselines.LoadConfigWith(path, baselines.LoadOptions{Regions: rc}); err != nil {
			return nil, err
		}
		for _, w := range cfg.Warnings {
			e.warn(w)
		}
	}
	if name := c.String("baseline"); name != "" {
		b, err := baselines.Resolve(name, ".")
		if err != nil {
			return nil, fmt.Errorf("--baseline: %w", err)
		}
		cfg.Baseline = b
	}
	if cfg.Baseline == nil {
		return nil, errors.New("no baseline: pass --baseline low|medium|high|FILE or set baseline: in s3baseline.yaml")
	}
	if err := cfg.CheckSettings(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func newProvider(c *cli.Context, e *env) (*awsprovider.Provider, error) {
	n, auto, err := concurrencyFlag(c)
	if err != nil {
		return nil, err
	}
	o := awsprovider.Options{
		Profile:     c.String("profile"),
		EndpointURL: c.String("endpoint-url"),
		Concurrency: n,
		Adaptive:    auto,
		CallTimeout: c.Duration("call-timeout"),
		Logger:      e.sdkLog,
	}
	if e.tuneProvider != nil {
		e.tuneProvider(&o)
	}
	return awsprovider.New(c.Context, o)
}

// concurrencyFlag reads --concurrency: N (1 to 1024), or auto, which is
// awsprovider.AdaptiveMax workers whose calls the provider's adaptive
// window bounds.
func concurrencyFlag(c *cli.Context) (n int, auto bool, err error) {
	v := c.String("concurrency")
	if v == "auto" {
		return awsprovider.AdaptiveMax, true, nil
	}
	n, err = strconv.Atoi(v)
	if err != nil || n < 1 || n > 1024 {
		return 0, false, fmt.Errorf("--concurrency %q: want a number from 1 to 1024, or auto", v)
	}
	return n, false, nil
}

// workers is --concurrency as a number of workers (valid once newProvider
// accepted it).
func workers(c *cli.Context) int {
	n, _, _ := concurrencyFlag(c)
	return max(1, n)
}

// progressReporter returns a Progress callback that draws "plan: 1200/10000
// buckets (12%), 240/s, ETA 37s" on stderr, and the function that clears it
// when the run is over, but only when stderr is a terminal: scripts, CI and
// tests get nil and a no-op, and so not one byte more on stderr.
func progressReporter(e *env, label string) (report func(done, total, errors int), done func()) {
	if !progress.IsTerminal(e.stderr) {
		return nil, func() {}
	}
	r := progress.New(e.stderr, label)
	return r.Update, r.Finish
}

// useColor: colour only for a terminal, never with --no-color or NO_COLOR.
func useColor(c *cli.Context, w io.Writer) bool {
	if c.Bool("no-color") || os.Getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// reorderArgs moves a subcommand's flags in front of its positional
// arguments, so that `show plan.json --json` works like `show --json
// plan.json` (Go's flag package, and so urfave/cli v2, stops at the first
// positional argument). It knows which flags take a value from the
// command's own flag definitions.
func reorderArgs(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := []string{args[0]}
	rest := args[1:]
	cmds := app.Commands
	for len(rest) > 0 {
		var cmd *cli.Command
		for _, c := range cmds {
			if c.HasName(rest[0]) {
				cmd = c
				break
			}
		}
		if cmd == nil {
			break
		}
		out = append(out, rest[0])
		rest = rest[1:]
		if len(cmd.Subcommands) > 0 && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
			cmds = cmd.Subcommands
			continue
		}
		takesValue := map[string]bool{}
		for _, f := range cmd.Flags {
			_, isBool := f.(*cli.BoolFlag)
			for _, n := range f.Names() {
				takesValue[n] = !isBool
			}
		}
		var flags, positional []string
		for i := 0; i < len(rest); i++ {
			a := rest[i]
			if a == "--" {
				positional = append(positional, rest[i:]...)
				break
			}
			if !strings.HasPrefix(a, "-") || a == "-" {
				positional = append(positional, a)
				continue
			}
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && takesValue[name] && i+1 < len(rest) {
				flags = append(flags, rest[i+1])
				i++
			}
		}
		return append(append(out, flags...), positional...)
	}
	return append(out, rest...)
}
