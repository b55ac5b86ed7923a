"""Readers of the new task kinds: QA (SQuAD JSON), relations (KBP37/RELX), sentence pairs
(XNLI), two-file sentiment (UMSAB) and dependency trees (CoNLL-U). Real files (skipped when
absent) are counted against the published figures; hand-made broken inputs check that every
error names the file, the line and the fix."""

from __future__ import annotations

import functools
import gzip
import json
import os
import re
from collections import Counter
from pathlib import Path

import pytest

from xlt.data.prepare import prepare_split
from xlt.data.readers import READER_KINDS, READERS, ReadReport, read_file
from xlt.io import DataError, read_jsonl

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("XLT_SHARED_DATA", REPO.parent / "shared" / "data"))

KBP37_LABELS = ["no_relation"] + [
    f"{rel}({a},{b})"
    for rel in (
        "org:alternate_names",
        "org:city_of_headquarters",
        "org:country_of_headquarters",
        "org:founded",
        "org:founded_by",
        "org:members",
        "org:stateorprovince_of_headquarters",
        "org:subsidiaries",
        "org:top_members/employees",
        "per:alternate_names",
        "per:cities_of_residence",
        "per:countries_of_residence",
        "per:country_of_birth",
        "per:employee_of",
        "per:origin",
        "per:spouse",
        "per:stateorprovinces_of_residence",
        "per:title",
    )
    for a, b in (("e1", "e2"), ("e2", "e1"))
]
XQUAD_LANGS = ["ar", "de", "el", "en", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh"]
XNLI_LANGS = ["ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi"]
XNLI_LANGS += ["zh"]
UMSAB_LANGS = ["ar", "de", "en", "es", "fr", "hi", "it", "pt"]


def shared(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    return path


@functools.cache
def _read_cached(fmt: str, path: Path, options: tuple[tuple[str, object], ...]) -> list[dict]:
    return read_file(fmt, path, lang=path.parent.name, split=path.stem, **dict(options))


def real(fmt: str, *parts: str, **options: object) -> list[dict]:
    return _read_cached(fmt, shared(*parts), tuple(sorted(options.items())))


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def raises_at(path: Path, line: int | None, match: str = "", fix: str = ""):
    """A DataError whose message starts with ``path line N:`` and holds ``match`` and ``fix``."""
    where = f"{path} line {line}: " if line is not None else f"{path}: "
    pattern = "^" + re.escape(where) + ".*" + re.escape(match)
    if fix:
        pattern += r".*\(.*" + re.escape(fix)
    return pytest.raises(DataError, match=pattern)


def test_every_format_is_registered_with_its_kinds() -> None:
    assert set(READERS) == set(READER_KINDS)
    assert READER_KINDS["conllu"] == ("tagging", "parsing")
    assert READER_KINDS["squad"] == ("qa",) and READER_KINDS["kbp37"] == ("relation",)
    assert READER_KINDS["xnli"] == READER_KINDS["umsab"] == ("classification",)


# --------------------------------------------------------------------------------------------
# QA: SQuAD v1.1 JSON


def squad_doc(*qas: dict, context: str = "Ada Lovelace wrote the first program in 1843.") -> dict:
    return {"version": "1.1", "data": [{"title": "t", "paragraphs": [{"context": context, "qas": list(qas)}]}]}  # fmt: skip


def qa(qid: str, *answers: tuple[str, int], question: str = "When?") -> dict:
    return {
        "id": qid,
        "question": question,
        "answers": [{"text": t, "answer_start": s} for t, s in answers],
    }


def test_squad_one_record_per_question(tmp_path: Path) -> None:
    doc = squad_doc(
        qa("a", ("1843", 40)), qa("b", ("Ada Lovelace", 0), ("Ada", 0), question="Who?")
    )
    path = write(tmp_path, "en/dev.json", json.dumps(doc, indent=1))
    assert read_file("squad", path, lang="en", split="dev") == [
        {
            "id": "a",
            "context": doc["data"][0]["paragraphs"][0]["context"],
            "question": "When?",
            "answers": {"text": ["1843"], "answer_start": [40]},
            "lang": "en",
        },
        {
            "id": "b",
            "context": doc["data"][0]["paragraphs"][0]["context"],
            "question": "Who?",
            "answers": {"text": ["Ada Lovelace", "Ada"], "answer_start": [0, 0]},
            "lang": "en",
        },
    ]
    gz = tmp_path / "en" / "dev.json.gz"
    gz.write_bytes(gzip.compress(("\ufeff" + json.dumps(doc)).encode()))  # gzip and BOM
    assert len(read_file("squad", gz, lang="en", split="dev")) == 2


def test_squad_answer_mismatch_names_line_question_and_offsets(tmp_path: Path) -> None:
    doc = squad_doc(qa("a", ("1843", 40)), qa("b", ("Lovelace", 3)))
    text = json.dumps(doc, indent=1)
    path = write(tmp_path, "dev.json", text)
    line = text[: text.index('"id": "b"')].count("\n") + 1
    assert line > 10  # pretty-printed: the question's own line, not line 1
    with raises_at(
        path,
        line,
        "question 'b': answer 'Lovelace' expected at answer_start 3, but the context there "
        "reads ' Lovelac'",
        "0-based character (not byte) offset in the context; the text occurs at [4]",
    ):
        read_file("squad", path, lang="en", split="dev")


@pytest.mark.parametrize(
    ("doc", "line", "message", "fix"),
    [
        (
            '{"data": [\n{"paragraphs": [}\n]}',
            2,
            "not valid JSON (Expecting value at column 17)",
            "SQuAD v1.1 JSON",
        ),  # fmt: skip
        ('{"version": "1.1"}', 1, "no 'data' list at the top", "SQuAD v1.1 JSON"),
        ('{"data": [{"title": "x"}]}', None, "data[0] has no 'paragraphs' list", "SQuAD v1.1"),
        (
            '{"data": [{"paragraphs": [{"context": "x"}]}]}',
            None,
            "data[0].paragraphs[0] needs 'context' (a string) and 'qas' (a list)",
            "SQuAD",
        ),  # fmt: skip
        (
            json.dumps(squad_doc(qa("a"))),
            1,
            "question 'a' has no answer",
            "no unanswerable questions",
        ),  # fmt: skip
        (
            json.dumps(squad_doc({**qa("a"), "is_impossible": True})),
            1,
            "question 'a' is marked is_impossible (SQuAD 2.0)",
            "drop unanswerable questions",
        ),  # fmt: skip
        (
            json.dumps(squad_doc({"id": "a", "answers": []})),
            1,
            "data[0].paragraphs[0].qas[0] lacks ['question']",
            "SQuAD v1.1 JSON",
        ),  # fmt: skip
        (
            json.dumps(squad_doc({**qa("a"), "answers": [{"text": "x"}]})),
            1,
            "question 'a': 'answers' must be a list of",
            "SQuAD",
        ),  # fmt: skip
    ],
)
def test_squad_errors(tmp_path: Path, doc: str, line: int | None, message: str, fix: str) -> None:
    path = write(tmp_path, "bad.json", doc)
    with raises_at(path, line, message, fix):
        read_file("squad", path, lang="en", split="dev")


def test_squad_stripped_answers_are_refused(tmp_path: Path) -> None:
    doc = squad_doc(qa("a", ("", 0)), qa("b", ("", 0)))
    path = write(tmp_path, "dev.json", json.dumps(doc))
    with raises_at(path, None, "all 2 answers of its 2 questions are empty", "gold answers"):
        read_file("squad", path, lang="en", split="dev")
    one = write(tmp_path, "one.json", json.dumps(squad_doc(qa("a", ("1843", 40)), qa("b", ("", 0)))))  # fmt: skip
    with raises_at(one, 1, "question 'b': an answer text is empty"):
        read_file("squad", one, lang="en", split="dev")


def test_squad_repeated_ids_are_renamed_and_counted(tmp_path: Path, caplog) -> None:
    doc = squad_doc(qa("7", ("1843", 40)), qa("7", ("Ada", 0)), qa("7", ("first", 23)))
    path = write(tmp_path, "train.json", json.dumps(doc))
    report = ReadReport()
    records = read_file("squad", path, lang="en", split="train", report=report)
    assert [r["id"] for r in records] == ["7", "7~2", "7~3"]
    assert report.as_dict()["warnings"]["renamed_duplicate_id"] == 2
    assert f"{path} line 1: question id '7' repeats (first at line 1): renamed '7~2'" in caplog.text


def test_squad_takes_no_label_set(tmp_path: Path) -> None:
    path = write(tmp_path, "dev.json", json.dumps(squad_doc(qa("a", ("1843", 40)))))
    with pytest.raises(ValueError, match="no label set"):
        read_file("squad", path, lang="en", split="dev", labels=["x"])


def test_tydiqa_english_train() -> None:
    records = real("squad", "tydiqa", "en", "train.json")
    assert len(records) == 3696
    assert len({r["id"] for r in records}) == 3696  # the copy repeats ids: renamed, all unique
    assert all(len(r["answers"]["text"]) == 1 for r in records)
    assert records[0]["question"] == "When was quantum field theory developed?"
    assert records[0]["answers"] == {"text": ["1920s"], "answer_start": [159]}
    report = ReadReport()
    read_file(
        "squad", shared("tydiqa", "en", "train.json"), lang="en", split="train", report=report
    )
    assert report.counts == Counter({"renamed_duplicate_id": 3696 - 89})  # 89 distinct ids


@pytest.mark.parametrize("lang", ["ar", "en", "sw"])
def test_tydiqa_dev_copy_has_no_gold_answers(lang: str) -> None:
    path = shared("tydiqa", lang, "dev.json")
    with raises_at(path, None, "answers were stripped from this copy", "google-research"):
        read_file("squad", path, lang=lang, split="dev")


def test_xquad_all_languages_parallel() -> None:
    ids = None
    for lang in XQUAD_LANGS:
        records = real("squad", "xquad", lang, "test.json")
        assert len(records) == 1190, lang
        assert all(r["lang"] == lang for r in records)
        if ids is None:
            ids = [r["id"] for r in records]
        assert [r["id"] for r in records] == ids  # the same questions, translated
    zh = real("squad", "xquad", "zh", "test.json")
    assert sum(len(r["answers"]["text"]) for r in zh) >= 1190


# --------------------------------------------------------------------------------------------
# relations: KBP37 / RELX


KBP = (
    '0\t" <e1> Thom Yorke </e1> of <e2> Radiohead </e2> sang . "\n'
    "per:employee_of(e1,e2)\n\n\n"
    '1\t"Die <e2> Bank </e2> in <e1>Sacramento,</e1>Kalifornien."\n'
    "org:city_of_headquarters(e2,e1) \n\n"
)


def test_kbp37_tokens_spans_and_labels(tmp_path: Path) -> None:
    path = write(tmp_path, "en/train.txt", KBP)
    assert read_file("kbp37", path, lang="en", split="train", labels=KBP37_LABELS) == [
        {
            "id": "0",
            "tokens": ["Thom", "Yorke", "of", "Radiohead", "sang", "."],
            "head": [0, 2],
            "tail": [3, 4],
            "label": "per:employee_of(e1,e2)",
        },
        {
            "id": "1",
            "tokens": ["Die", "Bank", "in", "Sacramento,", "Kalifornien."],
            "head": [3, 4],  # e1, although it comes second
            "tail": [1, 2],
            "label": "org:city_of_headquarters(e2,e1)",  # trailing space stripped
        },
    ]


@pytest.mark.parametrize(
    ("sentence", "message"),
    [
        ("<e1> A </e1> met B .", "no <e2> ... </e2> marker pair"),
        ("A met <e2> B </e2> .", "no <e1> ... </e1> marker pair"),
        ("</e1> A <e1> met <e2> B </e2>", "</e1> without an open <e1> before it"),
        ("<e1> A <e2> B </e2> </e1>", "<e2> opens inside <e1>: entities may not nest"),
        ("<e1> A <e2> B </e1> C </e2>", "<e2> opens inside <e1>"),
        ("<e1> A </e1> <e1> B </e1> <e2> C </e2>", "<e1> appears twice"),
        ("<e1> A </e1> met <e2> B", "<e2> is never closed"),
        ("<e1> A </e1> met <e2> </e2>", "entity <e2> </e2> encloses no word"),
    ],
)
def test_kbp37_marker_errors(tmp_path: Path, sentence: str, message: str) -> None:
    text = KBP + f'2\t"{sentence}"\nno_relation\n\n'
    path = write(tmp_path, "bad.txt", text)
    with raises_at(path, 8, message, "<e1>" if "encloses" not in message else "empty_entities"):
        read_file("kbp37", path, lang="en", split="dev")


def test_kbp37_empty_entities_can_be_skipped_and_counted(tmp_path: Path) -> None:
    path = write(
        tmp_path, "x.txt", KBP + '2\t" At <e1> </e1> in <e2> Oslo </e2> . "\nno_relation\n'
    )
    report = ReadReport()
    records = read_file("kbp37", path, lang="en", split="dev", empty_entities="skip", report=report)
    assert [r["id"] for r in records] == ["0", "1"]
    assert report.as_dict()["warnings"]["skipped_empty_entity"] == 1
    with pytest.raises(ValueError, match=r"empty_entities must be one of \['error', 'skip'\]"):
        read_file("kbp37", path, lang="en", split="dev", empty_entities="drop")


@pytest.mark.parametrize(
    ("text", "line", "message", "fix"),
    [
        (KBP + "no tab here\nno_relation\n", 8, "expected id<TAB>", "separated by a tab"),
        (KBP + '2\t"<e1> A </e1> <e2> B </e2>"\n', 8, "no label line after the sentence", "blank"),
        (KBP + '2\t"<e1> A </e1> <e2> B </e2>"\nno_relation\nx\n', 10, "a third line", "blank"),
        (
            KBP.replace("per:employee_of(e1,e2)", "per:employer(e1,e2)"),
            2,
            "label 'per:employer(e1,e2)' is not in the label set",
            "add it to the dataset's labels",
        ),  # fmt: skip
        (
            KBP + '0\t"<e1> A </e1> <e2> B </e2>"\nno_relation\n',
            8,
            "duplicate id '0' (first seen at line 1)",
            "",
        ),  # fmt: skip
    ],
)
def test_kbp37_block_errors(tmp_path: Path, text: str, line: int, message: str, fix: str) -> None:
    path = write(tmp_path, "bad.txt", text)
    with raises_at(path, line, message, fix):
        read_file("kbp37", path, lang="en", split="dev", labels=KBP37_LABELS)


KBP37_COUNTS = {"train": (15917, 110), "dev": (1724, 10), "test": (3405, 26)}


@pytest.mark.parametrize("split", list(KBP37_COUNTS))
def test_kbp37_real_counts_and_labels(split: str) -> None:
    path = shared("kbp37", "en", f"{split}.txt")
    blocks, empty = KBP37_COUNTS[split]
    assert path.read_text().count("\t") == blocks
    report = ReadReport()
    records = read_file(
        "kbp37", path, lang="en", split=split, labels=KBP37_LABELS, empty_entities="skip", report=report
    )  # fmt: skip
    assert len(records) + report.counts["skipped_empty_entity"] == blocks
    assert report.counts["skipped_empty_entity"] == empty
    assert {r["label"] for r in records} == set(KBP37_LABELS)  # all 37 labels occur
    for rec in records[:200]:
        assert all(not re.fullmatch(r"</?e[12]>", t) for t in rec["tokens"])


def test_kbp37_real_empty_entity_is_an_error_by_default() -> None:
    path = shared("kbp37", "en", "train.txt")
    with raises_at(path, 549, "entity <e1> </e1> encloses no word", "{empty_entities: skip}"):
        read_file("kbp37", path, lang="en", split="train")


def test_kbp37_real_first_block() -> None:
    rec = real("kbp37", "kbp37", "en", "train.txt", empty_entities="skip")[0]
    assert rec["tokens"][rec["head"][0] : rec["head"][1]] == ["Thom", "Yorke"]
    assert rec["tokens"][rec["tail"][0] : rec["tail"][1]] == ["Radiohead"]
    assert rec["label"] == "per:employee_of(e1,e2)"


@pytest.mark.parametrize("lang", ["de", "en", "es", "fr", "tr"])
def test_relx_real(lang: str) -> None:
    path = shared("relx", lang, "test.txt")
    report = ReadReport()
    records = read_file(
        "kbp37", path, lang=lang, split="test", labels=KBP37_LABELS, empty_entities="skip", report=report
    )  # fmt: skip
    assert len(records) + report.counts["skipped_empty_entity"] == 502
    assert report.counts["skipped_empty_entity"] == (0 if lang == "es" else 1)
    # parallel: the same relation type; the direction follows the markers, which RELX numbers
    # by position (e1 first), so it flips where a translation reorders the two entities
    en = {r["id"]: r["label"] for r in real("kbp37", "relx", "en", "test.txt", empty_entities="skip")}  # fmt: skip
    assert all(r["head"][0] < r["tail"][0] for r in records)
    flips = 0
    for rec in records:
        if rec["id"] in en:
            assert rec["label"].split("(")[0] == en[rec["id"]].split("(")[0]
            flips += rec["label"] != en[rec["id"]]
    assert flips == {"de": 14, "en": 0, "es": 12, "fr": 4, "tr": 125}[lang]


# --------------------------------------------------------------------------------------------
# sentence pairs: XNLI


XNLI = "A man sleeps.\tNobody sleeps.\tcontradiction\r\nA man sleeps.\tA man rests.\tentailment\r\n"


def test_xnli_pairs_with_line_ids(tmp_path: Path) -> None:
    path = write(tmp_path, "en/test.tsv", XNLI + "A man sleeps.\tHe dreams.\tneutral\r\n\r\n")
    assert read_file("xnli", path, lang="en", split="test") == [
        {
            "id": "test-l000001",
            "text": "A man sleeps.",
            "text_pair": "Nobody sleeps.",
            "label": "contradiction",
        },  # fmt: skip
        {
            "id": "test-l000002",
            "text": "A man sleeps.",
            "text_pair": "A man rests.",
            "label": "entailment",
        },  # fmt: skip
        {
            "id": "test-l000003",
            "text": "A man sleeps.",
            "text_pair": "He dreams.",
            "label": "neutral",
        },  # fmt: skip
    ]


@pytest.mark.parametrize(
    ("line", "message", "fix"),
    [
        (
            "A man sleeps.\tcontradiction",
            "expected 3 columns (premise, hypothesis, label), found 2",
            "single tabs",
        ),  # fmt: skip
        (
            "A man sleeps.\tHe dreams.\tcontradictory",
            "label 'contradictory' is not one of ['contradiction', 'entailment', 'neutral']",
            "label_map",
        ),  # fmt: skip
        ("premise\thypothesis\tlabel", "label 'label' is not one of", "no header line is expected"),
        (" \tHe dreams.\tneutral", "empty premise or hypothesis", "sentence pair"),
        ("", "blank line 3 inside the file", "shifts every later line"),
    ],
)
def test_xnli_errors(tmp_path: Path, line: str, message: str, fix: str) -> None:
    text = XNLI + line + "\r\n" + ("A.\tB.\tneutral\r\n" if not line else "")
    path = write(tmp_path, "bad.tsv", text)
    with raises_at(path, 3 if line else 4, message, fix):
        read_file("xnli", path, lang="de", split="dev")


def test_xnli_config_labels_replace_the_default_set(tmp_path: Path) -> None:
    path = write(tmp_path, "x.tsv", "P.\tH.\tcontradictory\n")
    labels = ["entailment", "neutral", "contradiction", "contradictory"]  # labels + label_map keys
    assert read_file("xnli", path, lang="en", split="train", labels=labels)[0]["label"] == "contradictory"  # fmt: skip


@pytest.mark.parametrize(("split", "size"), [("dev", 2490), ("test", 5010)])
def test_xnli_real_counts(split: str, size: int) -> None:
    for lang in XNLI_LANGS:
        records = real("xnli", "xnli", lang, f"{split}.tsv")
        assert len(records) == size, lang
        assert records[-1]["id"] == f"{split}-l{size:06d}"
        assert Counter(r["label"] for r in records) == {
            label: size // 3 for label in ("entailment", "neutral", "contradiction")
        }
    en, de = real("xnli", "xnli", "en", f"{split}.tsv"), real("xnli", "xnli", "de", f"{split}.tsv")
    assert [r["label"] for r in en] == [r["label"] for r in de]  # parallel line by line


# --------------------------------------------------------------------------------------------
# two-file sentiment: UMSAB


def umsab(tmp_path: Path, texts: str, labels: str, split: str = "train") -> Path:
    write(tmp_path, f"en/{split}_labels.txt", labels)
    return write(tmp_path, f"en/{split}_text.txt", texts)


def test_umsab_labels_beside_the_text(tmp_path: Path) -> None:
    path = umsab(tmp_path, "so bad \nok i\\u2019m fine\ngreat!", "0\n1\n2")
    assert read_file("umsab", path, lang="en", split="train") == [
        {"id": "train-l000001", "text": "so bad", "label": "negative"},
        {"id": "train-l000002", "text": "ok i\\u2019m fine", "label": "neutral"},  # as written
        {"id": "train-l000003", "text": "great!", "label": "positive"},
    ]


def test_umsab_errors(tmp_path: Path) -> None:
    short = umsab(tmp_path, "a\nb\nc\n", "0\n1\n")
    gold = tmp_path / "en" / "train_labels.txt"
    with raises_at(short, None, f"3 lines, but its labels file {gold} has 2", "same order"):
        read_file("umsab", short, lang="en", split="train")
    bad = umsab(tmp_path, "a\nb\n", "0\n3\n", split="dev")
    with raises_at(tmp_path / "en" / "dev_labels.txt", 2, "label '3' is not one of 0..2", "2 = positive"):  # fmt: skip
        read_file("umsab", bad, lang="en", split="dev")
    empty = umsab(tmp_path, "a\n \nc\n\n", "0\n1\n2\n", split="test")  # one blank line at the end
    with raises_at(empty, 2, "empty text", "both files"):
        read_file("umsab", empty, lang="en", split="test")
    alone = write(tmp_path, "fr/test_text.txt", "a\n")
    with raises_at(tmp_path / "fr" / "test_labels.txt", None, f"labels file of {alone} not found", "gold_file"):  # fmt: skip
        read_file("umsab", alone, lang="fr", split="test")
    odd = write(tmp_path, "fr/tweets.txt", "a\n")
    with raises_at(odd, None, "has no '_text'", "gold_file"):
        read_file("umsab", odd, lang="fr", split="test")
    write(tmp_path, "gold/fr-test.txt", "2\n")
    gold_file = str(tmp_path / "gold" / "{lang}-{split}.txt")
    assert read_file("umsab", odd, lang="fr", split="test", gold_file=gold_file)[0]["label"] == "positive"  # fmt: skip


UMSAB_COUNTS = {"train": 1839, "val": 324, "test": 870}


@pytest.mark.parametrize("lang", UMSAB_LANGS)
def test_umsab_real_counts(lang: str) -> None:
    for split, size in UMSAB_COUNTS.items():
        records = real("umsab", "umsab", lang, f"{split}_text.txt")
        assert len(records) == size, (lang, split)
        if split == "train":
            assert Counter(r["label"] for r in records) == {"negative": 613, "neutral": 613, "positive": 613}  # fmt: skip


# --------------------------------------------------------------------------------------------
# dependency trees: CoNLL-U with kind parsing


CONLLU = """\
# sent_id = s1
1-2\tdon't\t_\t_\t_\t_\t_\t_\t_\t_
1\tdo\tdo\tAUX\t_\t_\t3\taux\t_\t_
2\tn't\tnot\tPART\t_\t_\t3\tadvmod\t_\t_
3\tgo\tgo\tVERB\t_\t_\t0\troot\t_\t_
3.1\tgone\tgo\tVERB\t_\t_\t_\t_\t3:conj\t_
4\t.\t.\tPUNCT\t_\t_\t3\tpunct\t_\t_

1\tHi\thi\tINTJ\t_\t_\t0\troot\t_\t_
"""


def test_conllu_parsing_records(tmp_path: Path) -> None:
    path = write(tmp_path, "x.conllu", CONLLU)
    assert read_file("conllu", path, lang="en", split="dev", kind="parsing") == [
        {
            "id": "s1",
            "tokens": ["do", "n't", "go", "."],
            "heads": [3, 3, 0, 3],  # word IDs: the range line 1-2 and node 3.1 shift nothing
            "deprels": ["aux", "advmod", "root", "punct"],
            "tags": ["AUX", "PART", "VERB", "PUNCT"],
        },
        {"id": "en-dev-1", "tokens": ["Hi"], "heads": [0], "deprels": ["root"], "tags": ["INTJ"]},
    ]
    with raises_at(path, 3, "dependency relation 'aux' is not in the label set", "labels"):
        read_file("conllu", path, lang="en", split="dev", kind="parsing", labels=["root"])
    with pytest.raises(ValueError, match="tagging or parsing records, not 'qa'"):
        read_file("conllu", path, lang="en", split="dev", kind="qa")


@pytest.mark.parametrize(
    ("line", "row", "at", "message", "fix"),
    [
        (
            3,
            "1\tdo\tdo\tAUX\t_\t_\t7\taux\t_\t_",
            3,
            "word 1 'do' has HEAD 7, but the sentence has 4 words",
            "same sentence",
        ),  # fmt: skip
        (3, "1\tdo\tdo\tAUX\t_\t_\t1\taux\t_\t_", 3, "word 1 'do' is its own head", "column 7"),
        (
            3,
            "1\tdo\tdo\tAUX\t_\t_\t_\taux\t_\t_",
            3,
            "HEAD '_' is not a word index",
            "annotated for syntax",
        ),  # fmt: skip
        (3, "1\tdo\tdo\tAUX\t_\t_\t3\t_\t_\t_", 3, "DEPREL '_' is empty", "column 8"),
        (3, "1\tdo\tdo\tAUX\t_\t_\t0\troot\t_\t_", 5, "2 words have HEAD 0", "exactly one root"),
        (
            3,
            "1\tdo\tdo\tAUX\t_\t_\t0\taux\t_\t_",
            3,
            "word 1 'do' has HEAD 0 and DEPREL 'aux'",
            "DEPREL root",
        ),  # fmt: skip
        (3, "2\tdo\tdo\tAUX\t_\t_\t3\taux\t_\t_", 3, "word ID 2 follows word 0", "count 1, 2, 3"),
        (7, "4\t.\t.\tPUNCT\t_\t_\t2\tpunct\t_\t_\n5\tx\tx\tX\t_\t_\t4\tdep\t_\t_", 7, "", ""),
    ],
)
def test_conllu_parsing_errors(
    tmp_path: Path, line: int, row: str, at: int, message: str, fix: str
) -> None:
    lines = CONLLU.splitlines()
    lines[line - 1] = row
    path = write(tmp_path, "bad.conllu", "\n".join(lines) + "\n")
    if not message:  # a well-formed variant: the edit keeps a tree
        assert read_file("conllu", path, lang="en", split="dev", kind="parsing")[0]["heads"][-1] == 4  # fmt: skip
        return
    with raises_at(path, at, message, fix):
        read_file("conllu", path, lang="en", split="dev", kind="parsing")
    assert read_file("conllu", path, lang="en", split="dev")  # tagging ignores the tree columns


def test_conllu_parsing_cycle_names_the_words(tmp_path: Path) -> None:
    text = "# sent_id = c\n" + "".join(
        f"{i}\t{w}\t_\tX\t_\t_\t{h}\t{r}\t_\t_\n"
        for i, w, h, r in [
            (1, "a", 0, "root"),
            (2, "b", 3, "dep"),
            (3, "c", 4, "dep"),
            (4, "d", 2, "dep"),
        ]
    )
    path = write(tmp_path, "cycle.conllu", text)
    with raises_at(path, 3, "the heads form a cycle: 2 'b' -> 3 'c' -> 4 'd' -> 2 'b'", "reach the root"):  # fmt: skip
        read_file("conllu", path, lang="en", split="dev", kind="parsing")


UD_FILES = ["en/train", "en/dev", "en/test", "vi/train", "de/dev", "zh/test", "fa/dev", "es/dev"]


@pytest.mark.parametrize("name", UD_FILES)
def test_ud_real_trees(name: str) -> None:
    lang, split = name.split("/")
    path = shared("ud", lang, f"{split}.conllu")
    trees = read_file("conllu", path, lang=lang, split=split, kind="parsing")
    tags = real("conllu", "ud", lang, f"{split}.conllu")
    assert [t["tokens"] for t in trees] == [t["tokens"] for t in tags]
    assert [t["tags"] for t in trees] == [t["tags"] for t in tags]
    assert all(r["heads"].count(0) == 1 for r in trees)
    # heads are word IDs: an independent pass over the raw lines finds the same head words
    raw: list[list[tuple[str, str]]] = [[]]
    for line in path.read_text(encoding="utf-8").splitlines():
        cols = line.split("\t")
        if not line.strip():
            raw.append([]) if raw[-1] else None
        elif cols[0].isdigit():
            raw[-1].append((cols[0], cols[6]))
    raw = [s for s in raw if s]
    for tree, words in zip(trees, raw, strict=True):
        ids = [i for i, _ in words]
        for head, (_, raw_head) in zip(tree["heads"], words, strict=True):
            assert raw_head == "0" or raw_head in ids  # never a range or an empty node
            assert head == int(raw_head)


def test_ud_english_has_ranges_that_heads_skip() -> None:
    path = shared("ud", "en", "dev.conllu")
    text = path.read_text(encoding="utf-8")
    assert re.search(r"^\d+-\d+\t", text, re.M) and re.search(r"^\d+\.\d+\t", text, re.M)


# --------------------------------------------------------------------------------------------
# through prepare_split: the dataset's task_type picks the record kind


def test_prepare_parsing_and_kind_mismatches(tmp_path: Path) -> None:
    path = write(tmp_path, "en/dev.conllu", CONLLU)
    cfg = {
        "task_type": "parsing",
        "format": "conllu",
        "languages": {"en": ["dev"]},
        "source": {"file": str(tmp_path / "{lang}" / "{split}.conllu")},
        "label_map": {"advmod": "dep"},
        "labels": ["aux", "dep", "root", "punct"],
    }
    prov = prepare_split("ud", cfg, "en", "dev", tmp_path / "o.jsonl", tmp_path)
    out = read_jsonl(tmp_path / "o.jsonl", "parsing", cfg["labels"])
    assert out[0]["deprels"] == ["aux", "dep", "root", "punct"] and prov["n_written"] == 2
    assert out[0]["tags"][1] == "PART"  # the label map renames relations, not UPOS
    with pytest.raises(ValueError, match="options.kind is 'tagging' but task_type is 'parsing'"):
        prepare_split("ud", {**cfg, "options": {"kind": "tagging"}}, "en", "dev", tmp_path / "p.jsonl", tmp_path)  # fmt: skip
    with pytest.raises(ValueError, match="format 'xnli' gives classification records but task_type is 'qa'"):  # fmt: skip
        prepare_split("ud", {**cfg, "task_type": "qa", "format": "xnli"}, "en", "dev", tmp_path / "q.jsonl", tmp_path)  # fmt: skip
    assert path.exists() and not (tmp_path / "p.jsonl").exists()


def test_jsonl_infers_the_new_kinds(tmp_path: Path) -> None:
    recs = {
        "qa": {
            "id": "1",
            "context": "abc",
            "question": "q?",
            "answers": {"text": ["b"], "answer_start": [1]},
        },  # fmt: skip
        "relation": {"id": "1", "tokens": ["a", "b"], "head": [0, 1], "tail": [1, 2], "label": "r"},
        "parsing": {"id": "1", "tokens": ["a", "b"], "heads": [0, 1], "deprels": ["root", "dep"]},
    }
    for kind, rec in recs.items():
        path = write(tmp_path, f"{kind}.jsonl", json.dumps(rec) + "\n")
        assert read_file("jsonl", path, lang="en", split="dev") == [rec]
        empty = {"context": ""} if kind == "qa" else {"tokens": []}
        broken = write(tmp_path, f"b-{kind}.jsonl", json.dumps({**rec, **empty}) + "\n")
        with pytest.raises(DataError, match=re.escape(f"{broken} line 1: ")):
            read_file("jsonl", broken, lang="en", split="dev")
