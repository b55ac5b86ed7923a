"""The documents hold together: every relative link of the README and of docs/ resolves to a file
and, with a #fragment, to a heading of that file (GitHub's anchors); every study document has the
common headings that the report's front page links; the README stays one screen of essentials."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)
STUDY_HEADINGS = [
    "What it computes",
    "How to run it",
    "Outputs",
    "Controls",
    "What differs from the paper",
    "Results",
]


def slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces → '-'."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    out = set()
    for m in re.finditer(r"^#{1,6} +(.+?) *#*$", text, re.M):
        s = slug(m.group(1))
        n = seen.get(s, 0)
        out.add(s if n == 0 else f"{s}-{n}")
        seen[s] = n + 1
    return out


def links(path: Path) -> list[str]:
    return LINK.findall(FENCE.sub("", path.read_text(encoding="utf-8")))


def test_slug_matches_github():
    assert slug("How a tiny encoder gets there (measured, not assumed)") == (
        "how-a-tiny-encoder-gets-there-measured-not-assumed"
    )
    assert slug("Running on a real cluster: edit `slurm/config.yaml`") == (
        "running-on-a-real-cluster-edit-slurmconfigyaml"
    )
    assert slug("The default run's time") == "the-default-runs-time"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_resolves(doc):
    broken = []
    for target in links(doc):
        if re.match(r"^[a-z]+:", target):  # http:, https:, mailto:
            continue
        file, _, frag = target.partition("#")
        dest = (doc.parent / file).resolve() if file else doc
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif frag and dest.suffix == ".md" and frag not in anchors(dest):
            broken.append(f"{target}: no heading #{frag} in {dest.relative_to(REPO)}")
    assert not broken, f"{doc.relative_to(REPO)}: " + "; ".join(broken)


def test_study_documents_share_the_skeleton_the_report_links():
    studies = sorted((REPO / "docs" / "studies").glob("*.md"))
    assert {p.stem for p in studies} >= {
        "zero-shot", "translate-train", "lms", "interpolation", "metaxl", "iwda", "comparison"
    }  # fmt: skip
    report = (REPO / "report" / "workflow.rst").read_text()
    for p in studies:
        assert p.stem in report, f"report/workflow.rst does not link {p.name}"
        have = anchors(p)
        missing = [h for h in STUDY_HEADINGS if slug(h) not in have]
        assert not missing, f"{p.name} lacks the headings {missing}"
    for h in STUDY_HEADINGS:
        assert f"#{slug(h)}>" in report


def test_readme_is_one_screen_of_essentials():
    text = (REPO / "README.md").read_text()
    assert len(text.splitlines()) <= 250
    for section in ("## Quick start", "## Use it for your study", "## Everyday commands"):
        assert section in text


def _recipe_blocks() -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text.split("## Use it for your study")[1].split("\n## ")[0]
    return re.findall(r"```yaml\n(.*?)```", section, re.S)


def test_readme_recipes_are_the_example_files():
    """The README shows configs/examples/*.yaml verbatim (below their comment header)."""
    for block, name in zip(_recipe_blocks(), ["encoder", "dataset"], strict=True):
        lines = (REPO / "configs" / "examples" / f"{name}.yaml").read_text().splitlines(True)
        body = "".join(line for line in lines if not line.startswith("#"))
        assert block == body, f"README's {name} recipe differs from configs/examples/{name}.yaml"


@pytest.mark.parametrize(
    ("base", "recipe", "expect"),
    [
        ("config.yaml", "encoder.yaml", {"ner": "xlmr", "sentiment": "xlmr"}),
        (
            "configs/real-e5.yaml",
            "dataset.yaml",
            {"my_pos": "e5", "my_ner": "e5", "my_reviews": "e5"},
        ),  # fmt: skip
    ],
)
def test_recipes_merge_into_a_valid_plan(base, recipe, expect):
    """A recipe after a ready-made config (Snakemake merges --configfile files in order) gives a
    config that the schema, the plan and every study accept, with the recipe's tasks/encoder."""
    yaml = pytest.importorskip("yaml")
    from snakemake.utils import update_config

    from xlt.config import validate
    from xlt.studies import load

    cfg = yaml.safe_load((REPO / base).read_text())
    update_config(cfg, yaml.safe_load((REPO / "configs" / "examples" / recipe).read_text()))
    validate(cfg, REPO / "schemas" / "config.schema.yaml")
    plan = load(cfg).plan
    assert {t: plan.tasks[t].encoder for t in expect} == expect
