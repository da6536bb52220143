package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/hashicorp/go-multierror"
	"github.com/urfave/cli/v2"

	"github.com/s3baseline/s3baseline/accounts"
	"github.com/s3baseline/s3baseline/apply"
	"github.com/s3baseline/s3baseline/baselines"
	"github.com/s3baseline/s3baseline/plan"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
	"github.com/s3baseline/s3baseline/regions"
)

// Organization scope: --accounts lists the accounts through AWS
// Organizations and the tool assumes --role-name in each; --shard splits
// them for a job engine. One plan document holds a section per account.

// orgFlags are the organization scope flags of plan and apply.
func orgFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "accounts", Usage: "plan the organization's accounts: `all` (every ACTIVE account) or comma-separated ids; needs --role-name"},
		&cli.StringFlag{Name: "role-name", Usage: "the `ROLE` assumed in each account with --accounts (no default: name the role you granted)"},
		&cli.StringFlag{Name: "shard", Usage: "with --accounts, only shard `INDEX/COUNT` of the accounts (0-based, e.g. $(JOB_COMPLETION_INDEX)/4)"},
		&cli.IntFlag{Name: "account-concurrency", Usage: "with --accounts, accounts planned or applied at once (default: a quarter of --concurrency, 128 with auto); their bucket reads and writes share --concurrency's workers"},
	}
}

// orgWorkers shares the --concurrency budget among the accounts an
// organization plan or apply works on at once: how many accounts are under
// way, the bucket workers of each, and the budget's slots
// (plan.Options.Slots, apply.Options.Slots) that every account's bucket
// reads and writes take. An account spends much of its time in
// calls made one after another (assuming its role, its account settings,
// its bucket list, its account controls) and holds no slot then, so
// splitting the budget evenly among a few accounts left most of it idle
// (32 accounts of 16 workers each: 0.22 of the latency bound, 500 accounts
// of 20 buckets behind 40 ms). By default a quarter as many accounts as
// the budget has workers are under way, each with up to 16 bucket workers,
// and the slots keep the bucket reads of all of them within the budget.
// Measured there on 2 CPUs (emulator in the same process): 128 accounts at
// once 28.7 s, 256 29.4 s, 500 41 s (its CPU 77 s against 50 s: the
// machine, not the network, was the limit), 64 37.7 s; the old split 43.7 s.
// --account-concurrency N sets the accounts under way; a few of them still
// get the whole budget between them.
func orgWorkers(c *cli.Context, accounts int) (parallel, perAccount int, slots plan.Slots) {
	budget := workers(c)
	parallel = max(1, budget/4)
	if n := c.Int("account-concurrency"); n > 0 {
		parallel = n
	}
	parallel = max(1, min(parallel, accounts))
	perAccount = max(min(plan.DefaultConcurrency, budget), budget/parallel)
	return parallel, perAccount, plan.NewSlots(budget)
}

// eachParallel runs fn(i) for i in [0, n) on at most workers goroutines,
// starting none once ctx is done.
func eachParallel(ctx context.Context, workers, n int, fn func(i int)) {
	sem := make(chan struct{}, max(1, workers))
	var wg sync.WaitGroup
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(i)
		}()
	}
	wg.Wait()
}

// buildPlan plans the scope: the caller's account, or with --accounts each
// selected account through its role, sequentially (shards are the unit of
// parallelism across accounts, the bucket pool within one).
//
// sink, when set, receives a one-account plan as it is made (plan.Sink),
// and the plan returned holds its buckets Slim; an organization plan is
// made whole and sink is not used.
func buildPlan(c *cli.Context, e *env, prov *awsprovider.Provider, cfg *baselines.Config, rc *regions.Checker, sink plan.Sink) (*plan.Plan, error) {
	opts := plan.Options{
		Config: cfg, Buckets: c.StringSlice("bucket"), Regions: c.StringSlice("region"), RegionChecker: rc,
		Concurrency: workers(c), Now: e.now(), ToolVersion: version, Sink: sink,
	}
	// Checked once here, so that a bad flag is one line rather than one
	// failed section per account.
	if err := plan.CheckScope(opts); err != nil {
		return nil, err
	}
	if c.Bool("org-policies") && c.String("accounts") == "" {
		return nil, errors.New("--org-policies reads the organization's root policies: give --accounts too, from the management account")
	}
	p, shard, err := planScope(c, e, prov, opts)
	if err != nil {
		return nil, err
	}
	if c.Bool("org-policies") {
		if err := orgPolicies(c.Context, e, prov, p); err != nil {
			return nil, err
		}
	}
	return p, checkUnmatched(c, e, p, shard)
}

// orgPolicies adds the findings of the organization's root policies to the
// caller's (the management account's) section, or prints them when that
// account is not planned.
func orgPolicies(ctx context.Context, e *env, prov *awsprovider.Provider, p *plan.Plan) error {
	g, err := prov.OrgGuardrails(ctx)
	if err != nil {
		return fmt.Errorf("--org-policies: %w", err)
	}
	id, err := prov.Identity(ctx)
	if err != nil {
		return fmt.Errorf("--org-policies: %w", err)
	}
	findings, notes := plan.OrgPolicyFindings(g)
	for _, n := range notes {
		e.info("organization: " + n)
	}
	for _, a := range p.Sections() {
		if a.Account == id.Account {
			a.Findings = append(a.Findings, findings...)
			p.Summary = plan.Summarize(p)
			return nil
		}
	}
	for _, f := range findings {
		e.info(fmt.Sprintf("organization: %s %s: %s", f.Control, f.Subject, f.Detail))
	}
	return nil
}

// checkUnmatched fails the run when a scope filter or config rule matched
// no bucket (a typo would otherwise plan nothing and look compliant),
// one line each, unless --allow-empty. With --shard a shard sees part of
// the organization only, so there it is a note: another shard may match.
func checkUnmatched(c *cli.Context, e *env, p *plan.Plan, shard accounts.Shard) error {
	lines := p.UnmatchedLines()
	if len(lines) == 0 {
		return nil
	}
	switch {
	case c.Bool("allow-empty"):
		for _, l := range lines {
			e.info("note: " + l + " (allowed by --allow-empty)")
		}
		return nil
	case shard.Count > 1:
		for _, l := range lines {
			e.info("note: " + l + " in shard " + shard.String() + " (another shard may match it)")
		}
		return nil
	}
	// The plan is not shown, so neither are the accounts that could not
	// be planned: say them here, or they would go unmentioned.
	for _, a := range p.Sections() {
		if a.Caller == "" {
			for _, msg := range a.Errors {
				e.logError(fmt.Sprintf("account %s: %s", a.Account, msg), "account", a.Account)
			}
		}
	}
	for _, l := range lines {
		e.logError(l + " (pass --allow-empty if that is expected)")
	}
	return &codeError{code: exitError}
}

// planScope plans the caller's account, or each selected account of the
// organization; it returns the shard it planned (zero without --shard).
func planScope(c *cli.Context, e *env, prov *awsprovider.Provider, opts plan.Options) (*plan.Plan, accounts.Shard, error) {
	cfg := opts.Config
	var shard accounts.Shard
	spec := c.String("accounts")
	if spec == "" {
		for _, f := range []string{"role-name", "shard"} {
			if c.IsSet(f) {
				return nil, shard, fmt.Errorf("--%s needs --accounts", f)
			}
		}
		report, done := progressReporter(e, "plan")
		opts.Progress = report
		defer done()
		p, err := plan.Build(c.Context, prov, opts)
		return p, shard, err
	}
	opts.Sink = nil
	sp, err := accounts.ParseSpec(spec)
	if err != nil {
		return nil, shard, err
	}
	role := c.String("role-name")
	if role == "" {
		return nil, shard, errors.New("--accounts needs --role-name: the role s3baseline assumes in each account (there is no default, so that no run silently uses an admin role)")
	}
	if s := c.String("shard"); s != "" {
		if shard, err = accounts.ParseShard(s); err != nil {
			return nil, shard, err
		}
	}
	org, err := prov.OrganizationAccounts(c.Context)
	if err != nil {
		return nil, shard, err
	}
	selected, skipped, err := accounts.Select(org, sp)
	if err != nil {
		return nil, shard, err
	}
	for _, s := range skipped {
		e.info("account skipped: not active", "account", s)
	}
	mine := shard.Of(selected)
	// Accounts are planned several at once (each through its own role,
	// credentials and throttling), in the order of mine in the document.
	parallel, perAccount, slots := orgWorkers(c, len(mine))
	opts.Concurrency, opts.Slots = perAccount, slots
	plans := make([]*plan.Plan, len(mine))
	errs := make([]error, len(mine))
	eachParallel(c.Context, parallel, len(mine), func(i int) {
		a := mine[i]
		sub, err := prov.ForAccount(c.Context, a.ID, role, "")
		if err == nil {
			o := opts
			if parallel == 1 {
				report, done := progressReporter(e, "plan "+a.ID)
				o.Progress = report
				defer done()
			}
			var p *plan.Plan
			if p, err = plan.Build(c.Context, sub, o); err == nil {
				p.Name = a.Name
				plans[i] = p
				return
			}
		}
		errs[i] = err
	})
	if err := c.Context.Err(); err != nil {
		return nil, shard, err
	}
	var parts []*plan.Plan
	var failed []plan.AccountPlan
	for i, a := range mine {
		if plans[i] != nil {
			parts = append(parts, plans[i])
			continue
		}
		err := errs[i]
		if err == nil {
			err = errors.New("not planned")
		}
		failed = append(failed, plan.AccountPlan{Account: a.ID, Name: a.Name, Errors: []string{oneLine(err.Error())}})
	}
	scope := plan.Scope{Config: cfg.Path, Buckets: opts.Buckets, Regions: opts.Regions, ConfigRegions: cfg.Regions, Settings: cfg}
	if len(parts) > 0 {
		scope = parts[0].Scope
	}
	scope.Accounts = strings.Split(spec, ",")
	scope.RoleName = role
	scope.Shard = shard.String()
	p := plan.Organization(parts, failed, scope)
	if len(parts) == 0 {
		p.ToolVersion, p.CreatedAt = version, e.now().UTC()
		p.Baseline = plan.BaselineRef{Name: cfg.Baseline.Name, Digest: cfg.Baseline.Digest()}
	}
	return p, shard, nil
}

// applyPlan applies a plan: directly for one account, section by section
// with each account's role for an organization plan. All sections share
// the journal, whose records name their account.
func applyPlan(ctx context.Context, c *cli.Context, prov *awsprovider.Provider, p *plan.Plan, o apply.Options) ([]apply.Outcome, error) {
	if len(p.Accounts) == 0 {
		return apply.Apply(ctx, prov, p, o)
	}
	// Sections are applied several at once, each with its account's role
	// and all within one budget (orgWorkers); the journal is shared (its
	// records name their account), outcomes and errors come in the plan's
	// order.
	outs := make([][]apply.Outcome, len(p.Accounts))
	secErrs := make([]error, len(p.Accounts))
	parallel, perAccount, slots := orgWorkers(c, len(p.Accounts))
	o.Concurrency, o.Slots = perAccount, slots
	eachParallel(ctx, parallel, len(p.Accounts), func(i int) {
		sec := p.Accounts[i]
		if len(sec.Errors) > 0 && sec.Caller == "" {
			secErrs[i] = fmt.Errorf("account %s: not planned, so not applied: %s", sec.Account, strings.Join(sec.Errors, "; "))
			return
		}
		sp := p.Section(i)
		if sp.Empty() {
			return
		}
		sub, err := prov.ForAccount(ctx, sec.Account, p.Scope.RoleName, "")
		if err != nil {
			err = fmt.Errorf("account %s: %w", sec.Account, err)
			// An outcome with neither bucket nor control is the account's
			// own: the report shows it as the account's error.
			outs[i], secErrs[i] = []apply.Outcome{{Account: sec.Account, Status: apply.StatusFailed, Err: err}}, err
			return
		}
		outs[i], secErrs[i] = apply.Apply(ctx, sub, sp, o)
	})
	var all []apply.Outcome
	var errs *multierror.Error
	for i := range p.Accounts {
		all = append(all, outs[i]...)
		if secErrs[i] != nil {
			errs = multierror.Append(errs, secErrs[i])
		}
	}
	return all, errs.ErrorOrNil()
}

// rollbackAll restores the journal's steps account by account: the
// caller's own with its credentials, any other through --role-name.
func rollbackAll(ctx context.Context, prov *awsprovider.Provider, role string, steps []apply.RollbackStep, j *apply.Journal, opts apply.RollbackOptions) error {
	id, err := prov.Identity(ctx)
	if err != nil {
		return err
	}
	var order []string
	byAccount := map[string][]apply.RollbackStep{}
	for _, s := range steps {
		a := s.Record.Account
		if a == "" {
			a = id.Account
		}
		if _, ok := byAccount[a]; !ok {
			order = append(order, a)
		}
		byAccount[a] = append(byAccount[a], s)
	}
	var errs *multierror.Error
	for _, a := range order {
		p := prov
		if a != id.Account {
			if role == "" {
				errs = multierror.Append(errs, fmt.Errorf("account %s: the journal has changes in it; pass --role-name to roll them back through that role", a))
				continue
			}
			if p, err = prov.ForAccount(ctx, a, role, ""); err != nil {
				errs = multierror.Append(errs, fmt.Errorf("account %s: %w", a, err))
				continue
			}
		}
		if err := apply.Rollback(ctx, p, byAccount[a], j, opts); err != nil {
			errs = multierror.Append(errs, err)
		}
	}
	return errs.ErrorOrNil()
}
