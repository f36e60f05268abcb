"""Coverage-guided fuzz target for bglint's loaders (atheris, i.e. libFuzzer for Python).

Run it with fuzz/run.sh, which installs atheris and seeds the corpus. The first byte of an
input picks the target; the rest is the file's bytes, decoded as bglint decodes files:

    0 YAML   1 JSON   2 TOML   3 a template, loaded, modelled and checked by every rule
    4 a JSON policy document (PolicyReader)   5 an app's break_glass.toml (schema + roles)

Any exception other than InputError is a crash: libFuzzer saves the input under
fuzz/crashes/, and a regression test for it belongs in tests/test_hostile.py.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import atheris  # type: ignore[import-untyped]  # installed by run.sh only; no type stubs

with atheris.instrument_imports():
    from bglint.errors import InputError
    from bglint.evaluate.engine import document_findings
    from bglint.evaluate.rules import load_rules, shipped_rules_dir
    from bglint.evaluate.subject import Settings
    from bglint.load.cloudformation.detect import is_template, load_template_text
    from bglint.load.cloudformation.template import load_template_roles
    from bglint.load.nuon.app import load_app
    from bglint.load.nuon.schema import validate_config
    from bglint.load.policy import PolicyReader
    from bglint.load.selection import Selection
    from bglint.model import Location, NetworkContext, NetworkKind
    from bglint.parse.json_pos import load_json
    from bglint.parse.toml_pos import load_toml
    from bglint.parse.yaml_pos import load_yaml
    from bglint.pipeline.check import permission_views

RULES = load_rules([shipped_rules_dir()], validate=False)[0]
CONTEXT = NetworkContext(NetworkKind.CUSTOMER_MANAGED, "fuzz")
TARGETS = 6
APP = Path(tempfile.mkdtemp(prefix="bglint-fuzz-")) / "app"


def check_template(text: str) -> None:
    data = load_template_text(text, "t.yaml")
    if is_template(data):
        doc, _errors = load_template_roles(data, "t.yaml", Selection(all_roles=True), CONTEXT)
        document_findings(doc, RULES, Settings())
        permission_views([doc], None, Settings())


def check_policy(text: str) -> None:
    reader = PolicyReader("p.json", lambda pos, logical: Location("p.json", pos[0], pos[1], logical))
    reader.statements(load_json(text, "p.json"), "policy")


def check_app(text: str) -> None:
    validate_config(load_toml(text, "break_glass.toml"), "break_glass", "break_glass.toml")
    (APP / "break_glass.toml").write_text(text, encoding="utf-8")
    doc, _errors = load_app(APP, "app", Selection(), None)
    document_findings(doc, RULES, Settings())


def test_one_input(data: bytes) -> None:
    if not data:
        return
    target, raw = data[0] % TARGETS, data[1:]
    try:
        text = raw.decode("utf-8")  # as bglint.parse.files.read_text does; it refuses NUL too
    except UnicodeDecodeError:
        return
    if "\x00" in text:
        return
    try:
        if target == 0:
            load_yaml(text, "t.yaml")
        elif target == 1:
            load_json(text, "t.json")
        elif target == 2:
            load_toml(text, "t.toml")
        elif target == 3:
            check_template(text)
        elif target == 4:
            check_policy(text)
        else:
            check_app(text)
    except InputError:
        pass


def write_seeds(corpus: Path, examples: Path) -> int:
    """The repository's examples and test-like files, each prefixed with the byte of its target."""
    corpus.mkdir(parents=True, exist_ok=True)
    count = 0
    for path in sorted(examples.rglob("*")):
        if not path.is_file() or path.suffix not in (".yaml", ".yml", ".json", ".toml"):
            continue
        body = path.read_bytes()
        kinds = {".toml": (2, 5), ".json": (1, 3, 4)}.get(path.suffix, (0, 3))
        for kind in kinds:
            (corpus / f"seed-{kind}-{count}").write_bytes(bytes([kind]) + body)
            count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--seed-from", type=Path)
    parser.add_argument("--seed-into", type=Path)
    known, rest = parser.parse_known_args()
    if known.seed_from and known.seed_into:
        print(f"{write_seeds(known.seed_into, known.seed_from)} seeds written to {known.seed_into}")
        return
    (APP / "permissions").mkdir(parents=True, exist_ok=True)
    (APP / "metadata.toml").write_text('version = "v2"\n', encoding="utf-8")
    (APP / "permissions" / "p.json").write_text(
        '{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}'
    )
    atheris.Setup([sys.argv[0], *rest], test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
