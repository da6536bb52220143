package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

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
	}
}

// buildPlan plans the scope: the caller's account, or with --accounts each
// selected account through its role, sequentially (shards are the unit of
// parallelism across accounts, the bucket pool within one).
func buildPlan(c *cli.Context, e *env, prov *awsprovider.Provider, cfg *baselines.Config, rc *regions.Checker) (*plan.Plan, error) {
	opts := plan.Options{
		Config: cfg, Buckets: c.StringSlice("bucket"), Regions: c.StringSlice("region"), RegionChecker: rc,
		Concurrency: c.Int("concurrency"), Now: e.now(), ToolVersion: version,
	}
	// Checked once here, so that a bad flag is one line rather than one
	// failed section per account.
	if err := plan.CheckScope(opts); err != nil {
		return nil, err
	}
	p, shard, err := planScope(c, e, prov, opts)
	if err != nil {
		return nil, err
	}
	return p, checkUnmatched(c, e, p, shard)
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
	var parts []*plan.Plan
	var failed []plan.AccountPlan
	for _, a := range mine {
		sub, err := prov.ForAccount(c.Context, a.ID, role, "")
		if err == nil {
			report, done := progressReporter(e, "plan "+a.ID)
			opts.Progress = report
			var p *plan.Plan
			p, err = plan.Build(c.Context, sub, opts)
			done()
			if err == nil {
				p.Name = a.Name
				parts = append(parts, p)
				continue
			}
		}
		if c.Context.Err() != nil {
			return nil, shard, c.Context.Err()
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
func applyPlan(ctx context.Context, e *env, prov *awsprovider.Provider, p *plan.Plan, o apply.Options) ([]apply.Outcome, error) {
	if len(p.Accounts) == 0 {
		return apply.Apply(ctx, prov, p, o)
	}
	var all []apply.Outcome
	var errs *multierror.Error
	for i, sec := range p.Accounts {
		if len(sec.Errors) > 0 && sec.Caller == "" {
			errs = multierror.Append(errs, fmt.Errorf("account %s: not planned, so not applied: %s", sec.Account, strings.Join(sec.Errors, "; ")))
			continue
		}
		sp := p.Section(i)
		if sp.Empty() {
			continue
		}
		sub, err := prov.ForAccount(ctx, sec.Account, p.Scope.RoleName, "")
		if err != nil {
			err = fmt.Errorf("account %s: %w", sec.Account, err)
			// An outcome with neither bucket nor control is the account's
			// own: the report shows it as the account's error.
			all = append(all, apply.Outcome{Account: sec.Account, Status: apply.StatusFailed, Err: err})
			errs = multierror.Append(errs, err)
			continue
		}
		outs, err := apply.Apply(ctx, sub, sp, o)
		all = append(all, outs...)
		if err != nil {
			errs = multierror.Append(errs, err)
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
