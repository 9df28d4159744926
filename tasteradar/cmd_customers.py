"""``tasteradar customers import|link|show`` and ``tasteradar forget``: thin shells over :mod:`customers`."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import click

from tasteradar.clikit import BadInput, friendly_errors, runtime, shared_options

_KINDS = ["crm", "handles"]
_MAP_HELP = (
    "Fill a field from a column (repeat). CRM fields: customer_id, broad_segment, plan, contract, "
    "tenure_months, monthly_charge, total_charges, churned; handles fields: customer_id, platform, handle, "
    "consent, consent_source, consent_date. Known headers (the demo's crm.csv, the IBM telco churn table) "
    "need none."
)


@click.group(name="customers")
@shared_options
def customers_group() -> None:
    """Import the CRM, link customers' opted-in handles to authors, show what a customer posted."""


def import_summary(report) -> str:
    """One line saying what a CRM import did."""
    noun = "customers" if report.kind == "crm" else "handles"
    return (
        f"{report.name} ({report.kind}): {report.imported:,} {noun} new, {report.updated:,} updated, "
        f"{report.quarantined:,} rows quarantined, from {report.rows:,} rows."
    )


@customers_group.command(name="import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--map", "mapping", multiple=True, metavar="COLUMN=FIELD", help=_MAP_HELP)
@click.option(
    "--kind", type=click.Choice(_KINDS), default=None,
    help="The file form: crm (customers) or handles. Default: told from the header.",
)  # fmt: skip
@shared_options
@friendly_errors
def import_command(path: Path, mapping: tuple[str, ...], kind: str | None) -> None:
    """Import a CRM CSV (customers) or a handles CSV (customer_id, platform, handle, consent,
    consent_source, consent_date) into the database.

    Import the customers before their handles. Bad rows (a non-numeric charge, a consent that is not
    yes/no, a handle of an unknown customer ...) go to quarantine with their reason; the rest lands.
    Importing a file again updates the rows it holds. Example:
    tasteradar customers import crm.csv && tasteradar customers import handles.csv
    """
    from customers.importer import CustomerImportError, import_customers
    from store import open_db

    db = open_db(runtime().database_path())
    try:
        report = import_customers(db, path, mapping=mapping, kind=kind)
    except CustomerImportError as error:
        raise BadInput(str(error)) from error
    finally:
        db.close()
    click.echo(import_summary(report))
    for reason in report.reasons:
        click.echo(f"  quarantined {_plain(reason)}")
    if report.quarantined > len(report.reasons):
        click.echo(f"  ... and {report.quarantined - len(report.reasons):,} more (see the quarantine table)")
    if report.kind == "handles":
        click.echo("Run `tasteradar customers link` to link the opted-in handles to their accounts.")


@customers_group.command(name="link")
@shared_options
@friendly_errors
def link_command() -> None:
    """Link authors to customers through handles the customers opted in; audit every decision.

    A handle recorded without consent never links (the attempt is audited as refused), nor does a handle
    claimed by two customers. Withdrawn consent removes the link. Safe to run again: nothing changes twice.
    """
    from customers.stage import run_customers, summary
    from store import open_db

    db = open_db(runtime().existing_database_path())
    try:
        click.echo(summary(run_customers(db)))
    finally:
        db.close()


@customers_group.command(name="churn")
@click.option("--crm-only", is_flag=True, help="Leave the social signals out (the CRM-only baseline).")
@shared_options
@friendly_errors
def churn_command(crm_only: bool) -> None:
    """Fit the churn model on customers whose churn is known and score every opted-in customer.

    Social signals (switching intent, falling sentiment, competitor praise) come from linked posts only;
    run `tasteradar customers link` first. Prints the cross-validated AUC and Brier score; each run stores a
    new model version and replaces the scores.
    """
    from customers.churn import ChurnError, run_churn
    from store import open_db

    own_brand = runtime().config().brand.name
    db = open_db(runtime().existing_database_path())
    try:
        click.echo(run_churn(db, own_brand=own_brand, crm_only=crm_only).summary())
    except ChurnError as error:
        raise BadInput(f"churn model not fitted: {error}") from None
    finally:
        db.close()


@customers_group.command(name="show")
@click.argument("customer_id", metavar="ID")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@shared_options
@friendly_errors
def show_command(customer_id: str, fmt: str) -> None:
    """Show one customer: CRM fields, linked accounts, their posts with sentiment, weekly sentiment,
    topics, needs, intents, churn risk with its factors, and micro-segment.

    Only posts of accounts linked through an opted-in handle appear. Example:
    tasteradar customers show NM-000013 --format json
    """
    from customers.view import UnknownCustomerError, customer_view
    from store import open_db

    db = open_db(runtime().existing_database_path(), readonly=True)
    try:
        view = customer_view(db, customer_id)
    except UnknownCustomerError as error:
        raise click.ClickException(str(error)) from error
    finally:
        db.close()
    if fmt == "json":
        click.echo(json.dumps(view.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo("\n".join(render_text(view)))


def _plain(text: object) -> str:
    """``text`` on one line with control and format characters (terminal escapes) made visible."""
    return "".join(
        " "
        if char in "\n\r\t"
        else f"\\x{ord(char):02x}"
        if unicodedata.category(char) in ("Cc", "Cf")
        else char
        for char in str(text)
    )


def _crm_lines(view) -> list[str]:
    churned = {None: "unknown", True: "yes", False: "no"}[view.churned]
    lines = [
        f"customer {_plain(view.customer_id)}",
        f"  segment {_plain(view.broad_segment or '-')}, plan {_plain(view.plan or '-')}, "
        f"contract {_plain(view.contract or '-')}",
        f"  tenure {view.tenure_months if view.tenure_months is not None else '-'} months, "
        f"monthly {view.monthly_charge if view.monthly_charge is not None else '-'}, "
        f"total {view.total_charges if view.total_charges is not None else '-'}, churned {churned}",
    ]
    if view.churn is not None:
        factors = ", ".join(
            _plain(json.dumps(factor, ensure_ascii=False)) for factor in view.churn.factors[:5]
        )
        lines.append(
            f"  churn risk {view.churn.risk:.2f} (model {view.churn.model_version}): {factors or '-'}"
        )
    if view.segment is not None:
        lines.append(f"  micro-segment {view.segment.segment_id}: {_plain(view.segment.name)}")
    return lines


def render_text(view) -> list[str]:
    """The lines ``customers show`` prints for a :class:`~customers.view.CustomerView`."""
    from customers.view import need_counts

    lines = _crm_lines(view)
    lines.append(f"linked accounts ({len(view.accounts)}):")
    lines += [f"  {a.platform} @{_plain(a.handle or '?')} since {a.linked_at}" for a in view.accounts]
    if view.sentiment_weekly:
        weeks = ", ".join(
            f"{w.week} {round(w.mean, 2) + 0.0:+.2f} ({w.posts})" for w in view.sentiment_weekly
        )
        lines.append(f"sentiment by week: {weeks}")
    if view.topics:
        lines.append(
            "topics: " + ", ".join(f"{_plain(t.label or t.topic_id)} ({t.posts})" for t in view.topics)
        )
    if view.needs:
        lines.append("needs: " + "; ".join(f"{_plain(phrase)} ({n})" for phrase, n in need_counts(view)))
    if view.intents:
        lines.append("intents: " + "; ".join(_intent(intent) for intent in view.intents))
    lines.append(f"posts ({len(view.posts)}):")
    lines += [
        f"  {post.created_at} {post.platform} [{post.sentiment or '-'}] {_plain(post.text)}"
        for post in view.posts
    ]
    return lines


def _intent(intent) -> str:
    brands = " -> ".join(_plain(brand) for brand in (intent.from_brand, intent.to_brand) if brand)
    return f"{intent.intent}" + (f" ({brands})" if brands else "")


@click.command(name="forget")
@click.option(
    "--customer", "customer_id", metavar="ID", help="Erase this CRM customer and their linked accounts."
)
@click.option(
    "--handle", metavar="PLATFORM:HANDLE", help="Erase this account, e.g. x:@someone or reddit:u/someone."
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@shared_options
@friendly_errors
def forget_command(customer_id: str | None, handle: str | None, yes: bool) -> None:
    """Erase a person everywhere: their posts and everything derived from them (annotations, embeddings,
    topic and segment assignments, the search index), their accounts, links, CRM record, churn score,
    segment and export memberships; then reclaim the freed space so nothing of theirs stays in the file.

    Give exactly one of --customer ID or --handle PLATFORM:HANDLE. The audit keeps only counts.
    """
    from customers.forget import NothingToForget, forget_customer, forget_handle
    from store import open_db

    if (customer_id is None) == (handle is None):
        raise click.UsageError("give exactly one of --customer ID or --handle PLATFORM:HANDLE")
    platform, name = _split_handle(handle) if handle is not None else ("", "")
    target = f"customer {customer_id}" if customer_id is not None else f"account {platform}:{name}"
    path = runtime().existing_database_path()
    if not yes:
        click.confirm(
            f"Erase {target} and everything derived from it from {path}? This cannot be undone", abort=True
        )
    db = open_db(path)
    try:
        report = (
            forget_customer(db, customer_id) if customer_id is not None else forget_handle(db, platform, name)
        )
    except NothingToForget as error:
        raise click.ClickException(str(error)) from error
    finally:
        db.close()
    click.echo(
        f"Forgot {target}: {report.customers} customer record(s), {report.authors} account(s), "
        f"{report.posts:,} post(s), {report.reposts:,} repost(s) of them, {report.handles} CRM handle(s), "
        f"{report.quarantined} quarantined row(s); freed space reclaimed."
    )


def _split_handle(value: str) -> tuple[str, str]:
    """``PLATFORM:HANDLE`` as its two parts; a usage error when either is missing."""
    platform, sep, name = value.partition(":")
    if not sep or not platform.strip() or not name.strip():
        raise click.UsageError(f"--handle {value!r}: expected PLATFORM:HANDLE, for example x:@someone")
    return platform.strip(), name.strip()
