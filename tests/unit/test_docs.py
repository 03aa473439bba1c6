"""The docs stay true: every file they cite exists, docs/architecture.md names every module,
and the numbers the README quotes from the benchmark are the benchmark's own."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.helpers import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
CITED = re.compile(r"(?<![\w/.-])((?:app\.py)|(?:chalicelib|local|infra|tests|bench|templates|docs)"
                   r"/[\w/.-]*\w\.(?:py|html|json|js|css|yaml|md))(?![\w.])")
# A quoted figure: **1.26x** ... (bench `ratio.import`)
QUOTED = re.compile(r"\*\*(?P<value>[\d.]+) ?(?P<unit>x|ms|MB|s)\*\*"
                    r"[^()]*?\(bench `(?P<key>[\w.]+)`[,)]")
ARCHITECTURE = ROOT / "docs" / "architecture.md"


def modules() -> list[str]:
    """Every Python module of chalicelib/, local/ and infra/, as a path from the root."""
    found = []
    for package in ("chalicelib", "local", "infra"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name != "__init__.py" and "__pycache__" not in path.parts:
                found.append(path.relative_to(ROOT).as_posix())
    return found


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_file_a_doc_cites_exists(doc: Path):
    missing = sorted({cited for cited in CITED.findall(doc.read_text())
                      if not (ROOT / cited).exists() and "*" not in cited})
    assert not missing, f"{doc.name} cites files that do not exist: {missing}"


def test_the_architecture_names_every_module():
    text = ARCHITECTURE.read_text()
    missing = [module for module in modules()
               if module not in text and module.split("/", 1)[1] not in text]
    assert not missing, f"docs/architecture.md does not name: {missing}"


def test_the_module_check_sees_every_package():
    assert {m.split("/")[0] for m in modules()} == {"chalicelib", "local", "infra"}
    assert "local/__main__.py" in modules()


def test_every_figure_the_readme_quotes_from_the_bench_is_the_benchmarks_own():
    targets = {t["key"]: t for t in
               json.loads((ROOT / "bench" / "results" / "latest.json").read_text())["targets"]}
    quoted = list(QUOTED.finditer((ROOT / "README.md").read_text()))
    assert quoted, "the README quotes no figure of the bench"
    for figure in quoted:
        target = targets[figure["key"]]
        decimals = len(figure["value"].partition(".")[2])
        assert figure["unit"] == target["unit"], figure.group(0)
        assert figure["value"] == f"{target['value']:.{decimals}f}", (
            f"the README says {figure.group(0)!r}; "
            f"bench/results/latest.json says {target['value']}")


def test_the_readme_is_read_in_minutes():
    lines = (ROOT / "README.md").read_text().count("\n")
    assert lines <= 170, f"README.md has {lines} lines: move detail into docs/"


def test_the_cost_at_rest_counts_the_templates_alarms_and_the_total_adds_up():
    """docs/operations.md prices every alarm of infra/template.yaml; its rows add up to the
    total it says (issue 27: the count and the cost had drifted apart)."""
    from infra import template as infra_template

    alarms = sum(r["Type"] == "AWS::CloudWatch::Alarm"
                 for r in infra_template.load()["Resources"].values())
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    at_rest = text.split("**At rest**", 1)[1].split("About **", 1)
    row = re.search(r"\| (\d+) CloudWatch alarms \(\$0\.10 each[^|]*\| \$([\d.]+) \|", at_rest[0])
    assert row, "the alarms' row"
    assert int(row[1]) == alarms and float(row[2]) == round(alarms * 0.10, 2)
    priced = [float(m) for m in re.findall(r"\| \$([\d.]+) \|\n", at_rest[0])]
    assert at_rest[1].startswith(f"${sum(priced):.2f} a month**"), (priced, at_rest[1][:40])
