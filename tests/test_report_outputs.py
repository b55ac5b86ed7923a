"""What the report shows: every Markdown table's HTML twin (read inline in the report), and
figures that read alone (legends outside the data, a caution on figures from too little data,
the comparison figure naming its methods and references, the front page's headline)."""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from xlt.figures import caution, legend_outside, pyplot, save, too_few
from xlt.tables import html_path, markdown_html, to_markdown, write_markdown, write_table

sys.path.insert(0, str(Path(__file__).parent))


def cells(page: str, tag: str = "td") -> list[str]:
    return re.findall(rf"<{tag}(?: [^>]*)?>(.*?)</{tag}>", page)


def test_markdown_table_becomes_an_html_page_with_title_numbers_and_notes():
    df = pd.DataFrame({"lang": ["de", "zh<x>"], "F1": [71.234, math.nan], "cell": ["1.0 ± 0.2", "n/a"]})  # fmt: skip
    md = to_markdown(df, "Zero-shot: ner", "Mean over **3** seeds; `En-Dev` picks & more.")
    page = markdown_html(md)
    assert page.startswith("<!DOCTYPE html>") and "<title>Zero-shot: ner</title>" in page
    assert "<h3>Zero-shot: ner</h3>" in page
    assert cells(page, "th") == ["lang", "F1", "cell"]
    assert cells(page) == ["de", "71.2", "1.0 ± 0.2", "zh&lt;x&gt;", "–", "n/a"]  # escaped
    # numeric columns right-aligned, text columns not
    assert "<td class=num>71.2</td>" in page and "<td>de</td>" in page
    assert "<p>Mean over <b>3</b> seeds; <code>En-Dev</code> picks &amp; more.</p>" in page


def test_several_blocks_keep_their_headings_and_tables():
    a = to_markdown(pd.DataFrame({"x": [1.0]}), "method: zero-shot")
    b = to_markdown(pd.DataFrame({"y": ["a"]}), "method: mtl")
    page = markdown_html(f"### LMS runs\n\n{a}\n{b}\nClosing note.\n")
    assert re.findall(r"<h3>(.*?)</h3>", page) == ["LMS runs", "method: zero-shot", "method: mtl"]
    assert page.count("<table>") == 2 and "<p>Closing note.</p>" in page
    assert "<title>LMS runs</title>" in page


def test_write_table_and_write_markdown_write_the_html_twin(tmp_path):
    df = pd.DataFrame({"lang": ["de"], "mean": [50.0]})
    write_table(df, tmp_path / "t.csv", tmp_path / "t.md", "T", "n")
    assert html_path(tmp_path / "t.md") == tmp_path / "t.html"
    assert cells((tmp_path / "t.html").read_text()) == ["de", "50.0"]
    write_markdown(tmp_path / "u.md", "### U\n\n| a |\n|---|\n| 1 |\n")
    assert (tmp_path / "u.md").read_text().startswith("### U")
    assert "<td class=num>1</td>" in (tmp_path / "u.html").read_text()
    write_table(df, tmp_path / "v.csv", None)
    assert not (tmp_path / "v.html").exists()
    assert not list(tmp_path.glob(".*tmp"))


def test_legend_outside_covers_no_panel_and_save_keeps_it_and_the_caution(tmp_path):
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(4, 2))
    for ax in axes:
        ax.plot([0, 1], [0, 1], label="a")
        ax.plot([0, 1], [1, 0], label="b")
    leg = legend_outside(fig, axes)
    assert [t.get_text() for t in leg.get_texts()] == ["a", "b"]  # one entry per label
    note = caution(fig, too_few(2, 10, "meta-train models", "τ means little"))
    fig.tight_layout()
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legend_box = leg.get_window_extent(renderer)
    for ax in axes:
        assert not legend_box.overlaps(ax.get_window_extent(renderer))
        assert not note.get_window_extent(renderer).overlaps(ax.get_window_extent(renderer))
    assert note.get_text().startswith("Caution: 2 meta-train models, fewer than 10")
    path = tmp_path / "f.png"
    width_in = fig.get_figwidth()
    save(fig, path, dpi=100)
    import matplotlib.image as mpimg

    img = mpimg.imread(path)
    # the saved image grew to hold the legend on the right and the caution on top
    assert img.shape[1] > width_in * 100 and img.shape[0] > 2 * 100


def test_too_few():
    assert too_few(10, 10, "models", "x") is None
    assert too_few(3, 10, "models at most", "τ means little") == (
        "3 models at most, fewer than 10: τ means little."
    )


def test_comparison_figure_names_methods_and_references_and_front_page_headline(tmp_path, monkeypatch):  # fmt: skip
    import matplotlib.figure
    from test_comparison import STUDY, study_pool

    from xlt.studies.comparison import report as cmp

    texts: list[str] = []
    original = matplotlib.figure.Figure.savefig

    def spy(self, *args, **kwargs):
        texts.extend(t.get_text() for ax in self.axes for t in ax.get_yticklabels())
        texts.extend(t.get_text() for ax in self.axes for t in ax.texts)
        texts.extend(t.get_text() for t in self.texts)
        for ax in self.axes:
            for child in ax.child_axes:
                texts.extend(t.get_text() for t in child.get_yticklabels())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", spy)
    table_path = tmp_path / "pool.parquet"
    study_pool().to_parquet(table_path, index=False)
    out = {"csv": tmp_path / "c.csv", "md": tmp_path / "c.md", "figure": tmp_path / "c.png",
           "headline": tmp_path / "h.csv"}  # fmt: skip
    df = cmp.write_outputs(table_path, tmp_path / "absent.npz", None, {**STUDY, "task": "sentiment"}, out)  # fmt: skip
    # every method named on the figure (not a number), with its targets where not all
    for method, targets in zip(df["method"], df["targets"], strict=True):
        name = method if targets == 3 else f"{method} [{targets} of 3 targets]"
        assert name in texts, name
    # each row's reference named at its right; the reference row says so
    assert "reference" in texts and "vs Zero-shot (En-Dev)" in texts
    # rows on a single seed: the figure says so
    assert any(t.startswith("Caution: 1 seed(s)") for t in texts)
    # the front page's headline: per method its average and its paired difference with p
    head = pd.read_csv(out["headline"], dtype=str)
    assert list(head.columns) == ["method", "target data", "avg accuracy (%)", "Δ to reference"]
    assert head.iloc[0].tolist()[:2] == ["Zero-shot (En-Dev)", "none"]
    assert head.iloc[0, 3] == "reference"
    row = df.iloc[1]
    assert head.iloc[1, 2] == cmp.pm(row["avg"], row["avg_sd"])
    assert head.iloc[1, 3] == f"{row['delta']:+.1f} (p {cmp.p_text(row['p'], row['n'])})"


def test_comparison_figure_colours_only_the_target_data(tmp_path, monkeypatch):
    from test_comparison import STUDY, study_pool

    from xlt.studies.comparison import report as cmp

    table = study_pool()
    scores, df = cmp.build(table, {**STUDY, "task": "sentiment"})
    colours: dict[str, set] = {}
    plt = pyplot()
    real_subplots = plt.subplots
    made = []

    def subplots(*a, **k):
        fig, axes = real_subplots(*a, **k)
        made.append(axes)
        return fig, axes

    monkeypatch.setattr(plt, "subplots", subplots)
    cmp.figure(scores, df, {**STUDY, "task": "sentiment"}, tmp_path / "f.png")
    ax = made[0][0]
    for container in ax.containers:  # one errorbar per row, labelled by its resources
        line = container.lines[0]
        colours.setdefault(container.get_label(), set()).add(line.get_color())
    assert set(colours) == set(df["resources"])
    assert all(len(c) == 1 for c in colours.values())  # one colour per kind of target data
    assert len({next(iter(c)) for c in colours.values()}) == len(colours)  # and one kind per colour
    # the IWDA stage-1 zero-shot model used no target data: the zero-shot colour
    iwda_zero = df.loc[df["method"] == "Zero-shot (IWDA stage 1)", "resources"].item()
    assert iwda_zero == "none"


@pytest.mark.parametrize("n_models", [[2], [2, 4, 16]])
def test_lms_kendall_figure_cautions_below_ten_meta_train_models(n_models, tmp_path, monkeypatch):
    from xlt.studies.lms import experiments as ex

    rows = []
    for size in n_models:
        for t in ("de", "zh"):
            rows.append({"method": "zero-shot", "n_models": str(size), "target": t,
                         "score": 50.0, "kendall": -1.0, "n_ranked": 12})  # fmt: skip
    rows += [{"method": "zero-shot", "n_models": "En-Dev", "target": t, "score": 50.0,
              "kendall": 0.2, "n_ranked": 12} for t in ("de", "zh")]  # fmt: skip
    monkeypatch.setattr(ex, "nmodels_records", lambda pool, doc: pd.DataFrame(rows))
    seen = []
    monkeypatch.setattr(ex, "caution", lambda fig, text: seen.append(text))
    ex.kendall_figure(None, {}, tmp_path / "k.png")
    assert (tmp_path / "k.png").read_bytes()[:4] == b"\x89PNG"
    if max(n_models) < 10:
        assert seen and "2 meta-train models at most, fewer than 10" in seen[0]
    else:
        assert seen == []


def test_interpolation_variance_figure_cautions_below_three_seeds(tmp_path, monkeypatch):
    from xlt.studies.interpolation import report as ip

    agg = pd.DataFrame([{"pair": "en-de", "direction": d, "split": "dev", "role": r, "lang": "de",
                         "alpha": a, "mean": 1.0, "ci95": 0.1, "variance": 0.01, "seeds": 2}
                        for d in ("src", "tgt") for r in ("source", "target")
                        for a in np.linspace(0, 1, 3)])  # fmt: skip
    monkeypatch.setattr(ip, "aggregate", lambda t1: agg)
    monkeypatch.setattr(ip, "table_1d", lambda f: f)
    monkeypatch.setattr(ip, "frame", lambda docs: pd.DataFrame({"split": ["dev"]}))
    seen = []
    monkeypatch.setattr(ip, "caution", lambda fig, text: seen.append(text))
    ip.figure_variance([], "pos", tmp_path / "v.png")
    assert seen == ["2 seed(s) per point, fewer than 3: a variance over so few seeds says little."]
