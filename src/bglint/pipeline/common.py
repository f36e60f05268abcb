"""What `check` and `audit` share: the user's options, the active rules, the settings rules
read, the documents loaded, and the provenance of the IAM data a report names."""

from pathlib import Path
from typing import NamedTuple

from bglint.errors import InputError
from bglint.evaluate.rules import load_rules, shipped_rules_dir
from bglint.evaluate.subject import Settings
from bglint.findings import Rule
from bglint.iam.catalog import load_catalog
from bglint.load.config import Config
from bglint.load.discover import Loaded, LoadOptions, load_plan, plan_paths
from bglint.load.selection import Selection
from bglint.model import DEFAULT_TAG_KEYS


class CheckOptions(NamedTuple):
    config: Config = Config()
    rules_dirs: tuple[Path, ...] = ()  # from --rules, after the config's
    all_roles: bool = False
    network: str = ""  # --network overrides the config
    app_config: Path | None = None
    jobs: int = 1  # processes for evaluating many documents
    select: tuple[str, ...] = ()  # --select: only rules whose id starts with one of these (empty: all)
    ignore: tuple[str, ...] = ()  # --ignore: not the rules whose id starts with one of these
    cfn_lint: bool = False  # --cfn-lint: cfn-lint's findings on the templates too
    keep_statements: bool = False  # bglint.api asks the roles what they can do after the run


def active_rules(options: CheckOptions) -> tuple[list[Rule], list[InputError]]:
    """Shipped rules (checked by the test suite) plus the user's (validated here)."""
    config = options.config
    rules, _ = load_rules([shipped_rules_dir()], validate=False)
    extra, errors = load_rules([*config.rules_dirs, *options.rules_dirs], validate=True)
    by_id = {rule.id: rule for rule in rules + extra}
    chosen = [
        rule._replace(
            severity=config.severity.get(rule.id, rule.severity),
            overrides=() if rule.id in config.severity else rule.overrides,
        )
        for key, rule in sorted(by_id.items())
        if key not in config.disable and chosen_by(key, options.select, options.ignore)
    ]
    return chosen, errors


def load_documents(paths: list[Path], options: CheckOptions) -> Loaded:
    return load_plan(plan_paths(paths), load_options_of(options))


def load_options_of(options: CheckOptions) -> LoadOptions:
    config = options.config
    selection = Selection(all_roles=options.all_roles, patterns=config.break_glass_roles, levels=config.levels)
    return LoadOptions(
        selection,
        options.network or config.network,
        config.apps,
        options.app_config,
        config.runbook,
        config.app_runbooks,
        limits=config.limits,
    )


def settings_of(config: Config) -> Settings:
    return Settings(
        config.tag_keys or DEFAULT_TAG_KEYS,
        config.subnet_ids,
        config.vpc_ids,
        config.drill_interval_days,
        config.incident_windows,
        config.standing_days,
        config.alarm_in_stack,
    )


def provenance() -> dict[str, dict[str, str]]:
    from bglint.clouds.datafiles import provenance as cloud_provenance
    from bglint.iam.managed import managed_provenance

    return {
        "iam_catalog": load_catalog().provenance,
        "aws_managed_policies": managed_provenance(),
        **cloud_provenance(),
    }


def chosen_by(rule_id: str, select: tuple[str, ...], ignore: tuple[str, ...]) -> bool:
    """--select and --ignore, by rule id or id prefix (`BG00` is BG001-BG009), as in ruff."""
    return (not select or rule_id.startswith(select)) and not (ignore and rule_id.startswith(ignore))
