"""The pre-commit hook (.pre-commit-hooks.yaml), run for real with `pre-commit try-repo`.

try-repo builds a virtualenv from the hook repository and pip-installs bglint into it from
the package registry, as a user's pre-commit would: this checks the packaging too.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # pre-commit builds the hook environment with pip

ROOT = Path(__file__).resolve().parents[1]
IDENTITY = ("-c", "user.name=bglint tests", "-c", "user.email=tests@bglint.invalid")
# Variables such as GIT_DIR or GIT_INDEX_FILE (set when pytest itself runs from a git hook)
# would point these git commands at the project's own repository.
GIT_ENV = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}

METADATA = 'version = "v2"\n'
STACK = """\
type        = "aws-cloudformation"
name        = "demo-{{{{.nuon.install.id}}}}"
description = "Install stack"
vpc_nested_template_url    = "https://example.com/aws-cloudformation-templates/v0.4.0/{vpc}/stack.yaml"
runner_nested_template_url = "https://example.com/aws-cloudformation-templates/v0.4.0/runner/asg/stack.yaml"
"""
PROVISION = """\
type        = "provision"
name        = "{{.nuon.install.id}}-provision"
description = "Provision the install"

[[policies]]
name     = "{{.nuon.install.id}}-provision"
contents = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::demo-artifacts/*"}]}'
"""
ADMIN_BREAK_GLASS = """\
[[role]]
name                 = "{{.nuon.install.id}}-break-glass"
description          = "Administrator access for incidents"
permissions_boundary = ""

[[role.policies]]
managed_policy_name = "AdministratorAccess"
"""
BUCKET_POLICY = """\
{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
     "Resource": ["arn:aws:s3:::demo-artifacts", "arn:aws:s3:::demo-artifacts/*"]}
  ]
}
"""
BUCKET_BREAK_GLASS = f'''\
[[role]]
name                 = "{{{{.nuon.install.id}}}}-break-glass"
description          = "Read the install's artifacts bucket during an incident"
permissions_boundary = "./break_glass_boundary.json"

[[role.policies]]
name     = "{{{{.nuon.install.id}}}}-break-glass"
contents = """
{BUCKET_POLICY}"""
'''


def _git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, capture_output=True, text=True, check=True)
    return proc.stdout


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A commit of the project's working tree as it is now, git-ignored files left out.

    `try-repo ROOT` would test something else: of local changes it copies only staged and
    modified tracked files, so an uncommitted new file (this hook manifest, a new module) is
    missing, and it fails outright on a repository without commits. A bare repository whose
    work tree is ROOT records the working tree without touching ROOT's own index.
    """
    snapshot = tmp_path_factory.mktemp("hook-repo") / "bglint.git"
    _git(snapshot.parent, "init", "-q", "--bare", str(snapshot))
    work_tree = ("--git-dir", str(snapshot), "--work-tree", str(ROOT))
    _git(ROOT, *work_tree, "add", "-A")
    _git(ROOT, *IDENTITY, *work_tree, "commit", "-q", "-m", "working tree snapshot")
    return snapshot


def _app_repo(tmp_path: Path, files: dict[str, str]) -> Path:
    """A git repository holding apps/demo, committed, then with permissions/provision.toml changed and staged."""
    repo = tmp_path / "repo"
    app = repo / "apps" / "demo"
    for name, text in {**files, "metadata.toml": METADATA, "permissions/provision.toml": PROVISION}.items():
        (app / name).parent.mkdir(parents=True, exist_ok=True)
        (app / name).write_text(text)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, *IDENTITY, "commit", "-q", "-m", "demo app")

    provision = app / "permissions" / "provision.toml"
    provision.write_text(provision.read_text().replace("Provision the install", "Provision the demo install"))
    _git(repo, "add", str(provision))
    # Only this file is staged, so it is the only file pre-commit hands to the hook.
    assert _git(repo, "diff", "--cached", "--name-only").split() == ["apps/demo/permissions/provision.toml"]
    return repo


def _try_repo(repo: Path, hook_repo: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    if importlib.util.find_spec("pre_commit") is None:
        pytest.fail("pre-commit is not installed: pip install -e '.[test]'")
    # try-repo keeps its hook environments in a temporary store of its own; PRE_COMMIT_HOME
    # keeps the rest (its log on errors) out of the user's cache.
    env = {**GIT_ENV, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "bglint", "--verbose"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    output = proc.stdout + proc.stderr
    # pre-commit reports the hook's "duration" only if the hook ran at all (not when it is
    # skipped for lack of matching files).
    assert re.search(r"^- duration: [\d.]+s$", output, re.M), f"the bglint hook did not run:\n{output}"
    return proc


def test_hook_lints_whole_app_when_one_file_changes(hook_repo: Path, tmp_path: Path) -> None:
    # byo-vpc: the customer brings the network, so BG002 (no boundary) is an error.
    repo = _app_repo(
        tmp_path, {"stack.toml": STACK.format(vpc="byo-vpc/default"), "break_glass.toml": ADMIN_BREAK_GLASS}
    )
    proc = _try_repo(repo, hook_repo, tmp_path)
    output = proc.stdout + proc.stderr

    assert proc.returncode != 0, output
    reported = {match.group(1) for match in re.finditer(r"^apps/demo/break_glass\.toml:\d+:\d+: (BG\d+)", output, re.M)}
    assert {"BG001", "BG002"} <= reported, output


def test_hook_passes_clean_app(hook_repo: Path, tmp_path: Path) -> None:
    # vpc/eks: a vendor-managed network.
    repo = _app_repo(
        tmp_path,
        {
            "stack.toml": STACK.format(vpc="vpc/eks"),
            "break_glass.toml": BUCKET_BREAK_GLASS,
            "permissions/break_glass_boundary.json": BUCKET_POLICY,
        },
    )
    proc = _try_repo(repo, hook_repo, tmp_path)
    output = proc.stdout + proc.stderr

    assert proc.returncode == 0, output
    assert re.search(r"^bglint .*Passed$", output, re.M), output


def test_hook_lints_the_app_when_only_its_runbook_changes(hook_repo: Path, tmp_path: Path) -> None:
    """Deleting the runbook's uninstall steps is caught at commit (BG020); a README elsewhere
    is handed over too and skipped, even when it mentions Resources."""
    from runbooks import runbook

    repo = tmp_path / "repo"
    app = repo / "apps" / "demo"
    complete = runbook({"{{.nuon.install.id}}-break-glass": "component"})
    files = {
        ".bglint.yaml": "fail-on: warning\n",
        "apps/demo/metadata.toml": METADATA,
        "apps/demo/stack.toml": STACK.format(vpc="vpc/eks"),
        "apps/demo/break_glass.toml": BUCKET_BREAK_GLASS,
        "apps/demo/permissions/break_glass_boundary.json": BUCKET_POLICY,
        "apps/demo/permissions/provision.toml": PROVISION,
        "apps/demo/RUNBOOK.md": complete,
    }
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, *IDENTITY, "commit", "-q", "-m", "demo app with its runbook")

    (app / "RUNBOOK.md").write_text(
        runbook({"{{.nuon.install.id}}-break-glass": "component"}, drop=("customer-uninstall",))
    )
    (repo / "README.md").write_text("# Demo\n\nResources: [the install's, see apps/demo\n")
    _git(repo, "add", "apps/demo/RUNBOOK.md", "README.md")
    proc = _try_repo(repo, hook_repo, tmp_path)
    output = proc.stdout + proc.stderr

    assert proc.returncode != 0, output
    reported = re.findall(r"^apps/demo/RUNBOOK\.md:\d+:\d+: (BG\d+) .*$", output, re.M)
    assert reported == ["BG020"], output
    assert "uninstall" in re.search(r"^apps/demo/RUNBOOK\.md:.*$", output, re.M).group(0), output  # type: ignore[union-attr]
    assert not re.search(r"^README\.md\S*: error", output, re.M), output
