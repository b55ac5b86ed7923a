"""`python -m xlt.results_compare`: two sets of results documents, cell by cell, against a tolerance;
the comparisons quoted in docs/ are generated blocks that must match the documents they name."""

from __future__ import annotations

from pathlib import Path

import pytest

from xlt import results_compare as rc

REPO = Path(__file__).resolve().parents[1]


def doc(path: Path, pos: dict[str, float], ner: dict[str, float]) -> Path:
    """A results document as xlt.results_doc writes one: headings, pipe tables, notes between."""
    lines = ["# Results: `configs/x.yaml`", "", "| run | |", "|---|---|", "| commit | `abc` |", ""]
    for title, cells in (("Zero-shot transfer: pos_ud", pos), ("Zero-shot transfer: ner_wikiann", ner)):  # fmt: skip
        lines += [f"### {title}", "", "| lang | role | candidates | mean | sd |", "|---|---|---|---|---|"]  # fmt: skip
        lines += [f"| {lang} | {'source' if lang == 'en' else 'target'} | 2 | {v} | 0.1 |" for lang, v in cells.items()]  # fmt: skip
        lines += ["", "Test accuracy (%) of zero-shot candidates.", ""]
    lines += ["### Comparison", "", "| method | de |", "|---|---|", "| MetaXL | 50.0 |", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def docs(tmp_path):
    a1 = doc(tmp_path / "a1.md", {"en": 90.0, "de": 80.0}, {"en": 70.0, "de": 60.0})
    a2 = doc(tmp_path / "a2.md", {"en": 91.0, "de": 81.0}, {"en": 70.0, "de": 63.0})
    b = doc(tmp_path / "b.md", {"en": 90.2, "de": 80.0}, {"en": 70.5, "de": 60.0})
    return a1, a2, b


def test_reads_every_lang_and_mean_table_and_skips_the_others(docs):
    tables = rc.read_tables(docs[0])
    assert tables["Zero-shot transfer: pos_ud"][1] == {"lang": "de", "role": "target", "candidates": "2", "mean": "80.0", "sd": "0.1"}  # fmt: skip
    assert set(rc.scores([docs[0]])) == {("Zero-shot transfer: pos_ud", "en"), ("Zero-shot transfer: pos_ud", "de"), ("Zero-shot transfer: ner_wikiann", "en"), ("Zero-shot transfer: ner_wikiann", "de")}  # fmt: skip


def test_a_side_is_the_mean_over_its_documents_and_each_table_has_its_tolerance(docs):
    a1, a2, b = docs
    out = rc.compare([("pooled", [a1, a2], [b]), ("one", [a1], [b])], ["0.5", "ner_wikiann=1.0"])
    rows = {tuple(c.strip() for c in line.split("|")[1:3]): line for line in out.splitlines()[2:] if line.startswith("| ")}  # fmt: skip
    assert out.splitlines()[0] == "| table | lang | role | pooled | one | tolerance |"
    assert rows[("pos_ud", "en")] == "| pos_ud | en | source | +0.30 | -0.20 | 0.5 |"
    assert rows[("pos_ud", "de")] == "| pos_ud | de | target | +0.50 | +0.00 | 0.5 |"
    assert rows[("ner_wikiann", "en")] == "| ner_wikiann | en | source | -0.50 | -0.50 | 1 |"
    assert rows[("ner_wikiann", "de")] == "| ner_wikiann | de | target | **+1.50** | +0.00 | 1 |"
    assert "- pooled: mean over" in out and "**within tolerance 3 of 4**; outside: ner_wikiann de (+1.50)." in out  # fmt: skip
    assert "- one: mean over" in out and "**within tolerance 4 of 4**." in out


def test_bad_input_is_named(docs, tmp_path):
    with pytest.raises(rc.CompareError, match="missing.md: no such results document"):
        rc.compare([("x", [tmp_path / "missing.md"], [docs[2]])])
    with pytest.raises(rc.CompareError, match="expected NUMBER or TABLE=NUMBER"):
        rc.compare([("x", [docs[0]], [docs[2]])], tolerance=["pos=half"])
    (tmp_path / "empty.md").write_text("# nothing\n")
    with pytest.raises(rc.CompareError, match="empty.md: no table with `lang` and `mean`"):
        rc.compare([("x", [tmp_path / "empty.md"], [docs[2]])])
    with pytest.raises(rc.CompareError, match="nothing to compare"):
        rc.compare([])


def test_a_block_is_regenerated_and_a_stale_one_fails_the_check(docs, tmp_path, capsys):
    args = "--diff 'fp32 − bf16' a1.md,a2.md b.md --tolerance 0.5"
    page = tmp_path / "page.md"
    page.write_text(f"Reading.\n\n<!-- results-compare {args} -->\ntyped by hand\n<!-- /results-compare -->\n\nMore.\n")  # fmt: skip
    assert rc.main(["--check", str(page)], root=tmp_path) == 1
    assert "is stale: run python -m xlt.results_compare --update" in capsys.readouterr().out
    assert "typed by hand" in page.read_text()  # a check writes nothing
    assert rc.main(["--update", str(page)], root=tmp_path) == 0
    text = page.read_text()
    assert "typed by hand" not in text and "| pos_ud | en | source | +0.30 | 0.5 |" in text
    assert "- fp32 − bf16: mean over `a1.md`, `a2.md` minus mean over `b.md`" in text
    assert text.endswith("\n\nMore.\n")
    assert rc.main(["--check", str(page)], root=tmp_path) == 0
    # a block naming a missing document or with bad arguments: the page and the block are named,
    # and the page is left as it was
    for args in ("--diff x missing.md b.md", "--diff only-a-label"):
        bad = tmp_path / "bad.md"
        bad.write_text(f"<!-- results-compare {args} -->\nold\n<!-- /results-compare -->\n")
        assert rc.main(["--update", str(bad)], root=tmp_path) == 1
        err = capsys.readouterr().err
        assert f"{bad}: " in err and ("missing.md: no such results document" in err or "unreadable arguments" in err)  # fmt: skip
        assert "\nold\n" in bad.read_text()


def test_the_comparisons_in_the_documents_are_current():
    """Every results-compare block under docs/ equals what its arguments generate now."""
    pages = [p for p in sorted((REPO / "docs").rglob("*.md")) if "<!-- results-compare" in p.read_text()]  # fmt: skip
    assert pages, "docs/real-data.md quotes the bf16 parity as a results-compare block"
    stale = {str(p.relative_to(REPO)): rc.refresh(p, REPO, write=False) for p in pages}
    assert not any(stale.values()), f"stale blocks (python -m xlt.results_compare --update FILE): {stale}"  # fmt: skip
