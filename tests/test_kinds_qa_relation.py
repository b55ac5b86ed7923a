"""The extractive-QA and relation-classification task kinds on the model side: QA windows and the
mapping of answers to characters and back (hand-made long contexts in en, zh, ar and ja; the
synthetic world's zh and ar), the relation markers and the entity-start model (marker positions,
a deterministic embedding resize, saving and reloading), learning on tiny encoders, the metric
behind the common interface, and bad input through ``prepare_split``."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch

from xlt.data.prepare import prepare_split
from xlt.encoder import PretrainConfig, TinyBertConfig, pretrain, read_texts, train_tokenizer
from xlt.finetune import FinetuneConfig, finetune, run_candidate
from xlt.io import DataError, read_jsonl
from xlt.metrics import example_stats, qa_scores, score_from_stats, scores
from xlt.tasks import TaskSpec, build_model, encode, get_kind, infer_labels, load_tokenizer
from xlt.tasks.entity_start import EntityStartModel
from xlt.tasks.qa import answer_tokens, decode_answers
from xlt.tasks.relation import MARKERS, fit_window, marked_words, marker_ids
from xlt.world import RELATION_LABELS, WorldConfig, generate

QA = TaskSpec("qa", ())
RE = TaskSpec("relation", RELATION_LABELS)
SIZE = TinyBertConfig(vocab_size=1000, hidden_size=64, layers=2, heads=2, intermediate_size=128)

# hand-made passages with an answer each; long enough for several windows at max_length 48
LONG = {
    "en": (
        "The museum opened in 1891 after a decade of planning. " * 3
        + "Its first director, Margaret Hale, bought the collection of Roman coins. "
        + "Visitors came from many towns to see them, and the hall was enlarged twice. " * 3,
        "Who bought the collection of Roman coins?",
        "Margaret Hale",
    ),
    "zh": (
        "这座博物馆建于一八九一年。" * 4
        + "第一任馆长是王芳，她买下了罗马钱币。"
        + "游客从各地来参观。" * 4,
        "谁买下了罗马钱币？",
        "王芳",
    ),
    "ar": (
        "افتتح المتحف في عام ١٨٩١ بعد تخطيط طويل . " * 3
        + "اشترت المديرة الأولى مريم حسن مجموعة العملات الرومانية . "
        + "جاء الزوار من مدن كثيرة لرؤيتها . " * 3,
        "من اشترى مجموعة العملات الرومانية ؟",
        "مريم حسن",
    ),
    "ja": (
        "この博物館は千八百九十一年に開館した。" * 3
        + "初代館長は山田花子で、彼女が古銭を買った。"
        + "多くの町から客が来た。" * 3,
        "古銭を買ったのは誰ですか？",
        "山田花子",
    ),
}


def qa_record(lang: str, i: int = 0) -> dict:
    context, question, answer = LONG[lang]
    start = context.index(answer)
    return {"id": f"{lang}{i}", "context": context, "question": question,
            "answers": {"text": [answer], "answer_start": [start]}}  # fmt: skip


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict:
    """A synthetic world (en, de, zh, ar: QA and relations) and a tiny encoder pretrained on it,
    whose tokenizer also saw the hand-made passages."""
    torch.set_num_threads(1)  # a shared machine: one thread is faster than two fighting
    root = tmp_path_factory.mktemp("kinds")
    generate(
        WorldConfig(languages=("en", "de", "zh", "ar"), sizes={"train": 1200, "dev": 80, "test": 40},
                    unlabelled=600, parallel=10, datasets=("synth-qa", "synth-relation", "synth-text")),
        root / "data",
    )  # fmt: skip
    files = sorted((root / "data" / "synth-text").glob("*/train.jsonl"))
    corpora = [list(read_texts(f)) for f in files]
    hand = [t for c, q, _ in LONG.values() for t in (c, q)] * 3
    train_tokenizer([t for c in corpora for t in c] + hand, SIZE.vocab_size, root / "tok")
    pretrain(root / "tok", corpora, SIZE, PretrainConfig(steps=60, batch_size=16, lr=2e-3, seq_len=64), root / "enc")  # fmt: skip
    return {"data": root / "data", "enc": str(root / "enc")}


def oracle_logits(feats) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Start and end logits that point at each window's training target (nowhere when the
    window does not hold the answer)."""
    starts, ends = [], []
    for ids, (s, e) in zip(feats.input_ids, feats.targets, strict=True):
        a, b = np.full(len(ids), -5.0), np.full(len(ids), -5.0)
        if (s, e) != (0, 0):
            a[s], b[e] = 5.0, 5.0
        starts.append(a)
        ends.append(b)
    return starts, ends


# --------------------------------------------------------------------------------------------
# QA: windows, targets, decoding


@pytest.mark.parametrize("lang", sorted(LONG))
def test_long_passages_are_windowed_and_answers_survive_the_round_trip(tiny, lang):
    tok = load_tokenizer(QA, tiny["enc"])
    rec = qa_record(lang)
    feats = encode(TaskSpec("qa", (), doc_stride=12), tok, [rec], 48)
    assert len(feats) >= 3 and all(len(ids) <= 48 for ids in feats.input_ids)
    assert set(feats.extra["example"]) == {0}
    # the windows cover every character of the passage (spaces aside), in overlapping steps
    covered = set()
    for offs in feats.extra["offsets"]:
        spans = [o for o in offs if o is not None]
        covered |= {c for s, e in spans for c in range(s, e)}
    context = rec["context"]
    assert {i for i, ch in enumerate(context) if not ch.isspace()} <= covered
    # each window holding the whole answer points at it; its characters are the answer
    answer = rec["answers"]["text"][0]
    hits = [w for w, t in enumerate(feats.targets) if t != (0, 0)]
    assert hits
    for w in hits:
        s, e = feats.targets[w]
        offs = feats.extra["offsets"][w]
        assert context[offs[s][0] : offs[e][1]] == answer
    assert decode_answers(feats, *oracle_logits(feats), max_answer_length=30) == [answer]
    # a window that cuts the answer off has the [CLS] target
    assert answer_tokens([None, (0, 4), (5, 9)], 5, 12) == (0, 0)
    assert answer_tokens([None, (0, 4), (5, 9)], start=5, end=9) == (2, 2)


@pytest.mark.parametrize("lang", ["zh", "ar", "en"])
def test_synthetic_answers_map_to_tokens_and_back(tiny, lang):
    tok = load_tokenizer(QA, tiny["enc"])
    recs = read_jsonl(tiny["data"] / "synth-qa" / lang / "train.jsonl")
    feats = encode(QA, tok, recs, 96)
    answers = decode_answers(feats, *oracle_logits(feats), max_answer_length=30)
    gold = [r["answers"]["text"][0] for r in recs]
    assert answers == gold
    assert scores("qa", [[g] for g in gold], answers, lang)["exact_match"] == 100.0


def test_qa_windows_need_a_fast_tokenizer_and_a_sane_stride(tiny):
    tok = load_tokenizer(QA, tiny["enc"])
    with pytest.raises(ValueError, match="doc_stride 40 must be between 1 and 28"):
        encode(TaskSpec("qa", (), doc_stride=40), tok, [qa_record("en")], 48)
    with pytest.raises(ValueError, match="has no label set"):
        TaskSpec("qa", ("a",))
    assert infer_labels("qa", [[qa_record("en")]]) == ()


def test_qa_metric_through_the_kind_interface():
    gold = [["王芳"], ["the Roman coins", "coins"], ["1891"]]
    pred = ["王芳女士", "the Roman coins", ""]
    zh = scores("qa", gold, pred, "zh")
    direct = qa_scores({str(i): p for i, p in enumerate(pred)}, {str(i): g for i, g in enumerate(gold)}, "zh")  # fmt: skip
    assert zh["f1"] == direct["f1"] and zh["exact_match"] == direct["exact_match"] == 100 / 3
    # zh: characters are tokens (王芳 of 王芳女士: F1 2/3); the SQuAD rule sees one token
    assert zh["f1"] == pytest.approx(100 * (2 / 3 + 1 + 0) / 3)
    assert zh["f1_squad"] == pytest.approx(100 * (0 + 1 + 0) / 3)
    stats = example_stats("qa", gold, pred, (), "zh")
    assert stats.shape == (3, 2) and score_from_stats("qa", stats) == pytest.approx(zh["f1"])
    assert score_from_stats("qa", stats[[1]]) == 100.0
    with pytest.raises(ValueError, match="need the language"):
        scores("qa", gold, pred)


# --------------------------------------------------------------------------------------------
# relations: markers and the entity-start model


def test_markers_go_around_head_and_tail():
    rec = {"tokens": ["Ann", "Lee", "met", "Bo", "in", "Rome"], "head": [3, 4], "tail": [0, 2]}
    assert marked_words(rec) == ["[E2start]", "Ann", "Lee", "[E2end]", "met", "[E1start]", "Bo",
                                 "[E1end]", "in", "Rome"]  # fmt: skip
    adjacent = {"tokens": ["A", "B"], "head": [0, 1], "tail": [1, 2]}
    assert marked_words(adjacent) == ["[E1start]", "A", "[E1end]", "[E2start]", "B", "[E2end]"]


def test_marker_tokens_are_appended_once_and_found_after_encoding(tiny):
    from transformers import AutoTokenizer

    base = AutoTokenizer.from_pretrained(tiny["enc"])
    with pytest.raises(ValueError, match="lacks the relation markers"):
        encode(RE, base, [], 64)
    tok = load_tokenizer(RE, tiny["enc"])
    ids = marker_ids(tok)
    assert ids == tuple(range(len(base), len(base) + 4)) and len(tok) == len(base) + 4
    get_kind("relation").prepare_tokenizer(tok)  # a second call adds nothing
    assert len(tok) == len(base) + 4 and marker_ids(load_tokenizer(RE, tiny["enc"])) == ids
    recs = read_jsonl(tiny["data"] / "synth-relation" / "zh" / "dev.jsonl")
    feats = encode(RE, tok, recs, 64)
    for i, row in enumerate(feats.input_ids):
        assert row[feats.extra["e1"][i]] == ids[0] and row[feats.extra["e2"][i]] == ids[2]
        assert tok.convert_ids_to_tokens(row).count("[E1end]") == 1
    assert feats.targets[0] == RELATION_LABELS.index(recs[0]["label"])
    # a sentence longer than max_length keeps both start markers
    long = {"tokens": ["x"] * 80 + ["Ann", "met", "Bo"] + ["y"] * 80, "head": [80, 81], "tail": [82, 83], "label": "no_relation"}  # fmt: skip
    short = encode(RE, tok, [long], 32)
    assert len(short.input_ids[0]) == 32 and short.truncated == 1
    row = short.input_ids[0]
    assert row[short.extra["e1"][0]] == ids[0] and row[short.extra["e2"][0]] == ids[2]
    assert row[0] == tok.cls_token_id and row[-1] == tok.sep_token_id
    # entities farther apart than a window: the beginning of each
    assert fit_window([1, 9, 5, 9, 9, 9, 9, 9, 7, 9, 8, 9], (1, 5, 7, 8), 4) == [1, 9, 7, 9]
    assert fit_window([9, 1, 5, 7, 8, 9, 9], (1, 5, 7, 8), 5) == [1, 5, 7, 8, 9]


def test_entity_start_model_is_deterministic_and_saves_and_reloads(tiny, tmp_path):
    from xlt.studies.interpolation.interpolation import load_weights

    tok = load_tokenizer(RE, tiny["enc"])
    a, b = build_model(RE, tiny["enc"], 3), build_model(RE, tiny["enc"], 3)
    other = build_model(RE, tiny["enc"], 4)
    sa, sb, so = a.state_dict(), b.state_dict(), other.state_dict()
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
    emb = a.get_input_embeddings().weight
    assert emb.shape[0] == len(tok)
    rows = len(tok) - 4  # the encoder's own rows are untouched; the markers' depend on the seed
    key = "encoder.embeddings.word_embeddings.weight"
    assert torch.equal(sa[key][:rows], so[key][:rows]) and not torch.equal(sa[key][rows:], so[key][rows:])  # fmt: skip
    assert a.config.xlt_markers == dict(zip(MARKERS, marker_ids(tok), strict=True))
    recs = read_jsonl(tiny["data"] / "synth-relation" / "en" / "dev.jsonl")[:8]
    feats = encode(RE, tok, recs, 64)
    batch = get_kind("relation").collate(feats, np.arange(len(feats)), tok.pad_token_id)
    a.eval()
    out = a(**batch, output_hidden_states=True)
    assert out.logits.shape == (8, len(RELATION_LABELS)) and out.loss.item() > 0
    assert len(out.hidden_states) == SIZE.layers + 1
    a.save_pretrained(tmp_path / "m")
    back = EntityStartModel.from_pretrained(tmp_path / "m").eval()
    assert torch.equal(back(**batch).logits, out.logits)
    # the interpolation study reads the same state dict, under the model's own names
    assert load_weights(tmp_path / "m").keys() == {k for k, _ in a.named_parameters()} | {k for k, _ in a.named_buffers() if k in sa}  # fmt: skip
    with pytest.raises(ValueError, match="not an entity-start relation model"):
        EntityStartModel.from_pretrained(tiny["enc"])


# --------------------------------------------------------------------------------------------
# learning, on tiny encoders


def test_qa_training_learns_beyond_a_trivial_answer(tiny):
    data = tiny["data"] / "synth-qa"
    train = read_jsonl(data / "en" / "train.jsonl")
    evals = {lang: {"dev": read_jsonl(data / lang / "dev.jsonl")} for lang in ("en", "de")}
    cfg = FinetuneConfig(kind="qa", labels=(), lr=1e-3, epochs=4, batch_size=16, seed=1, max_length=128)  # fmt: skip
    res = finetune(cfg, tiny["enc"], train, evals)
    assert np.mean(res.loss_curve[-5:]) < 0.7 * np.mean(res.loss_curve[:5])
    dev = evals["en"]["dev"]
    # trivial answers: the passage's first two words (an agent starts most sentences)
    trivial = scores("qa", [r["answers"]["text"] for r in dev], [" ".join(r["context"].split()[:2]) for r in dev], "en")  # fmt: skip
    got = res.scores["en"]["dev"]
    assert got["f1"] > trivial["f1"] + 5, (got, trivial)
    assert set(got) == {"exact_match", "f1", "exact_match_squad", "f1_squad"}
    assert len(res.predictions["de"]) == len(evals["de"]["dev"]) and res.features["de"].shape == (64,)  # fmt: skip
    assert all(p in r["context"] for p, r in zip(res.predictions["en"], dev, strict=True))


def test_relation_training_learns_beyond_the_majority(tiny):
    data = tiny["data"] / "synth-relation"
    train = read_jsonl(data / "en" / "train.jsonl")[:400]
    evals = {lang: {"dev": read_jsonl(data / lang / "dev.jsonl")} for lang in ("en", "de")}
    cfg = FinetuneConfig(kind="relation", labels=RELATION_LABELS, lr=3e-3, epochs=4, batch_size=16, seed=1, max_length=64)  # fmt: skip
    res = finetune(cfg, tiny["enc"], train, evals)
    assert np.mean(res.loss_curve[-5:]) < 0.8 * np.mean(res.loss_curve[:5])
    dev = evals["en"]["dev"]
    majority, predict = get_kind("relation").majority_baseline(train)
    assert majority == "no_relation"
    base = scores("relation", [r["label"] for r in dev], [predict(r["label"]) for r in dev])
    assert base["f1"] == 0.0  # no_relation is never a positive
    got = res.scores["en"]["dev"]
    assert got["f1"] > 15 and got["accuracy"] > base["accuracy"] + 10, (got, base)


def test_relation_candidate_keeps_weights_that_reload(tiny, tmp_path):
    data = tiny["data"] / "synth-relation"
    params = {"task": "rel", "method": "zero-shot", "kind": "relation", "labels": None, "lr": 3e-3,
              "epochs": 1, "batch_size": 16, "seed": 2, "max_length": 64, "device": "cpu"}  # fmt: skip
    out = {k: str(tmp_path / f) for k, f in (("metrics", "metrics.json"), ("predictions", "p.json"), ("features", "f.npz"), ("weights", "model"))}  # fmt: skip
    evals = {f"{lg}/{s}": str(data / lg / f"{s}.jsonl") for lg in ("en", "zh") for s in ("dev", "test")}  # fmt: skip
    res = run_candidate(params, tiny["enc"], [str(data / "en" / "train.jsonl")], evals, out)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["main_metric"] == "f1" and metrics["config"]["labels"][0] == "no_relation"
    model = EntityStartModel.from_pretrained(tmp_path / "model")
    tok = load_tokenizer(RE, tiny["enc"])
    spec = TaskSpec("relation", tuple(metrics["config"]["labels"]))
    recs = read_jsonl(data / "zh" / "dev.jsonl")
    from xlt.tasks import predict

    pred, _ = predict(model, spec, encode(spec, tok, recs, 64), tok.pad_token_id, 16, "cpu")
    assert pred == res.predictions["zh"]


# --------------------------------------------------------------------------------------------
# bad input, end to end through prepare_split


def _prepare(tmp_path: Path, name: str, text: str, task_type: str, fmt: str, **extra) -> None:
    path = tmp_path / "src" / "en" / "dev.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    cfg = {"task_type": task_type, "format": fmt, "languages": {"en": ["dev"]},
           "source": {"file": str(tmp_path / "src" / "{lang}" / "{split}.txt")}, **extra}  # fmt: skip
    prepare_split(name, cfg, "en", "dev", tmp_path / "out.jsonl", tmp_path)


def test_bad_qa_and_relation_input_names_file_line_and_fix(tmp_path):
    src = tmp_path / "src" / "en" / "dev.txt"
    doc = {"data": [{"paragraphs": [{"context": "Ada wrote in 1843.", "qas": [
        {"id": "q1", "question": "When?", "answers": [{"text": "1843", "answer_start": 12}]}]}]}]}  # fmt: skip
    with pytest.raises(DataError) as err:
        _prepare(tmp_path, "sq", json.dumps(doc, indent=1), "qa", "squad")
    msg = str(err.value)
    assert msg.startswith(f"{src} line ") and "answer '1843' expected at answer_start 12" in msg
    assert "the text occurs at [13]" in msg and not (tmp_path / "out.jsonl").exists()
    block = '7\t"<e1> Ann </e1> works for Acme ."\nper:employee_of(e1,e2)\n\n'
    with pytest.raises(DataError) as err:
        _prepare(tmp_path, "kb", block, "relation", "kbp37")
    assert str(err.value).startswith(f"{src} line 1: no <e2> ... </e2> marker pair (each sentence marks two disjoint entities")  # fmt: skip
    block = '7\t"<e1> Ann </e1> works for <e2> Acme </e2> ."\nper:boss_of(e1,e2)\n\n'
    with pytest.raises(DataError) as err:
        _prepare(tmp_path, "kb", block, "relation", "kbp37", labels=["no_relation", "per:employee_of(e1,e2)"])  # fmt: skip
    assert str(err.value) == (
        f"{src} line 2: label 'per:boss_of(e1,e2)' is not in the label set ['no_relation', "
        "'per:employee_of(e1,e2)'] (fix the label or add it to the dataset's labels in the config)"
    )
    assert not (tmp_path / "out.jsonl").exists()


def test_relation_labels_sort_no_relation_first():
    recs = [{"label": "b(e1,e2)"}, {"label": "no_relation"}, {"label": "a(e2,e1)"}]
    assert infer_labels("relation", [recs]) == ("no_relation", "a(e2,e1)", "b(e1,e2)")
    assert Counter(RELATION_LABELS)["no_relation"] == 1


def test_kbp37_f1_is_relx_scoring():
    metrics = pytest.importorskip("sklearn.metrics")
    labels = ["no_relation", "a(e1,e2)", "a(e2,e1)", "b(e1,e2)", "b(e2,e1)", "c(e1,e2)", "c(e2,e1)"]
    gold = ["a(e1,e2)", "a(e2,e1)", "a(e1,e2)", "b(e1,e2)", "no_relation", "b(e2,e1)", "c(e1,e2)", "no_relation"]  # fmt: skip
    pred = ["a(e1,e2)", "a(e1,e2)", "no_relation", "b(e1,e2)", "b(e2,e1)", "c(e2,e1)", "c(e1,e2)", "no_relation"]  # fmt: skip
    ids = {lab: i for i, lab in enumerate(labels)}
    g, p = [ids[x] for x in gold], [ids[x] for x in pred]
    # RELX's finetune.py: sklearn's micro F1 over each type's two labels, averaged over the types
    relx = np.mean([metrics.f1_score(g, p, average="micro", labels=[2 * i + 1, 2 * i + 2]) for i in range(3)])  # fmt: skip
    got = scores("relation", gold, pred)
    assert got["f1_kbp37"] == pytest.approx(100 * relx)
    assert got["f1"] == pytest.approx(100 * 2 * 3 / (6 + 6))  # TACRED: 3 correct, 6 guessed, 6 gold


# --------------------------------------------------------------------------------------------
# configuration: which studies apply, paper scale


REPO = Path(__file__).resolve().parents[1]


def kinds_test_config(edit=None) -> dict:
    """configs/test.yaml with a QA and a relation task on the synthetic world."""
    import copy

    import yaml

    from xlt.config import validate
    from xlt.studies import load

    cfg = copy.deepcopy(yaml.safe_load((REPO / "configs" / "test.yaml").read_text()))
    cfg["world"]["datasets"] = ["synth-ner", "synth-pos", "synth-sentiment", "synth-parallel", "synth-text", "synth-qa", "synth-relation"]  # fmt: skip
    cfg["tasks"]["qa"] = {"dataset": "synth-qa", "kind": "qa", "targets": ["de", "zh", "af"]}
    cfg["tasks"]["relation"] = {"dataset": "synth-relation", "kind": "relation", "targets": ["de", "zh", "af"]}  # fmt: skip
    cfg["lms"]["tasks"] = ["ner", "qa", "relation"]
    if edit:
        edit(cfg)
    validate(cfg, REPO / "schemas" / "config.schema.yaml")
    load(cfg)
    return cfg


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c["metaxl"]["tasks"].update(qa={"targets": ["af"]}),
         "metaxl.tasks.qa: task 'qa' is a qa task; this study takes ['ner', 'tagging', "
         "'classification'] tasks only (seed 001 defines it for NER and sentence classification, and its meta step calls the "
         "encoder with sub-word ids alone); "
         "drop the task from metaxl.tasks"),
        (lambda c: c["iwda"]["tasks"].update(relation={"targets": ["zh"]}),
         "iwda.tasks.relation: task 'relation' is a relation task; this study takes"),
        (lambda c: c["tasks"]["qa"].update(methods=["zero-shot", "to"]),
         "tasks.qa.methods: ['to'] project token labels (NER spans, POS tags) onto translations; a "
         "qa task has no such projection here: use zero-shot"),
        (lambda c: c["tasks"]["relation"].update(kind="classification"),
         "tasks.relation.kind: 'classification' does not fit dataset 'synth-relation' (relation); "
         "use one of ['relation']"),
        (lambda c: c["tasks"]["ner"].update(kind="qa"),
         "tasks.ner.kind: 'qa' does not fit dataset 'synth-ner' (tagging); use one of ['ner', 'tagging']"),
    ],
)  # fmt: skip
def test_studies_that_do_not_apply_refuse_qa_and_relation_tasks(edit, message):
    from xlt.config import ConfigError

    kinds_test_config()  # zero-shot, LMS (and the interpolation study) take both kinds
    with pytest.raises(ConfigError) as err:
        kinds_test_config(edit)
    assert message in str(err.value)


def test_paper_scale_plans_qa_from_squad_and_mlqa():
    import yaml

    from xlt.config import validate
    from xlt.data.sources import resolve_source
    from xlt.studies import load

    cfg = yaml.safe_load((REPO / "configs" / "paper.yaml").read_text())
    validate(cfg, REPO / "schemas" / "config.schema.yaml")
    studies = load(cfg)
    plan = studies.plan
    for task in ("qa_mlqa_mbert", "qa_mlqa_xlmr"):
        assert len(studies.candidates(task)) == 240 and task in studies["lms"].tasks
        assert plan.tasks[task].languages == ("en", "ar", "de", "es", "hi", "vi", "zh")
        assert plan.candidate_params(task, 1)["max_length"] == 384
    assert plan.candidate_params("ner_conll_mbert", 1)["max_length"] == 128
    mlqa = cfg["datasets"]["mlqa"]
    train = resolve_source("mlqa", mlqa, "en", "train")
    assert train["url"].endswith("/SQuAD-explorer/dataset/train-v1.1.json") and len(train["sha256"]) == 64  # fmt: skip
    test = resolve_source("mlqa", mlqa, "de", "test")
    assert test["url"] == "https://dl.fbaipublicfiles.com/MLQA/MLQA_V1.zip"
    assert test["member"] == "MLQA_V1/test/test-context-de-question-de.json"
    assert resolve_source("mlqa", mlqa, "en", "dev")["member"] == "MLQA_V1/dev/dev-context-en-question-en.json"  # fmt: skip
    slurm = yaml.safe_load((REPO / "slurm" / "config.yaml").read_text())
    runtime = slurm["set-resources"]["finetune"]["runtime"]
    assert slurm["set-resources"]["finetune"]["gpu"] == 1
    assert eval(runtime, {"wildcards": type("W", (), {"task": "qa_mlqa_xlmr"})}) == 720
    assert eval(runtime, {"wildcards": type("W", (), {"task": "ner_conll_xlmr"})}) == 240


SHARED = Path(__import__("os").environ.get("XLT_SHARED_DATA", REPO.parent / "shared" / "data"))


def _real(config: str, tmp_path: Path) -> dict:
    """The datasets of a real-data config, pointed at the shared data, each split prepared."""
    import yaml

    if not SHARED.is_dir():
        pytest.skip(f"shared data not available: {SHARED}")
    text = (REPO / "configs" / config).read_text().replace("../shared/data", str(SHARED))
    out = {}
    for name, spec in yaml.safe_load(text)["datasets"].items():
        for lang, splits in spec["languages"].items():
            for split in splits:
                path = tmp_path / name / lang / f"{split}.jsonl"
                prepare_split(name, spec, lang, split, path, tmp_path, seed=1)
                out[name, lang, split] = read_jsonl(path, spec["task_type"], spec.get("labels"))
    return out


def test_real_qa_config_splits_are_disjoint_and_parallel(tmp_path):
    data = _real("real-e5-qa.yaml", tmp_path)
    train, dev = data["tydiqa", "en", "train"], data["tydiqa", "en", "dev"]
    assert (len(train), len(dev), len(data["tydiqa", "en", "test"])) == (2000, 332, 266)
    # the English dev set shares no passage (and no question) with the training questions
    assert not {r["context"] for r in dev} & {r["context"] for r in train}
    for lang in ("ar", "th", "zh"):
        d, t = data["xquad", lang, "dev"], data["xquad", lang, "test"]
        assert (len(d), len(t)) == (250, 266) and not {r["id"] for r in d} & {r["id"] for r in t}
        # the same questions in every language, English test included
        assert [r["id"] for r in t] == [r["id"] for r in data["tydiqa", "en", "test"]]
    # articles 1-9 are dev, 10-19 test: no passage on both sides
    assert not {r["context"] for r in data["xquad", "de", "dev"]} & {r["context"] for r in data["xquad", "de", "test"]}  # fmt: skip


def test_real_relation_config_splits(tmp_path):
    data = _real("real-e5-re.yaml", tmp_path)
    assert len(data["kbp37", "en", "train"]) == 6000 and len(data["kbp37", "en", "dev"]) == 500
    en_test = data["kbp37", "en", "test"]
    for lang in ("de", "fr", "tr"):  # sentence 27 dropped in these (and en): ids stay parallel
        assert [r["id"] for r in data["relx", lang, "test"]] == [r["id"] for r in en_test]
        assert len(data["relx", lang, "dev"]) == 100
    es_dev, es_test = data["relx", "es", "dev"], data["relx", "es", "test"]
    assert len(es_dev) == 100 and len(es_test) == 401 and es_test[0]["id"] == data["relx", "de", "dev"][-1]["id"]  # fmt: skip
    labels = {r["label"] for r in en_test}
    assert "no_relation" in labels and len(labels) == 37


# --------------------------------------------------------------------------------------------
# pools and LMS on QA and relation candidates (their records made up: no training)


@pytest.mark.parametrize("kind", ["qa", "relation"])
def test_pool_and_lms_on_qa_and_relation_candidates(tiny, tmp_path, kind):
    from xlt.finetune import write_candidate
    from xlt.pool import Pool, build_pool
    from xlt.studies.lms.experiments import run_study_step
    from xlt.studies.lms.lms import LMSConfig

    data, langs = tiny["data"] / f"synth-{kind}", ("en", "de", "zh", "ar")
    files = {(lg, s): str(data / lg / f"{s}.jsonl") for lg in langs for s in ("dev", "test")}
    gold = {k: [get_kind(kind).gold(r) for r in read_jsonl(p)] for k, p in files.items()}
    records = {k: read_jsonl(p) for k, p in files.items()}
    labels = () if kind == "qa" else RELATION_LABELS

    def answer(rng, q, rec, g):  # right with probability q, else a wrong answer
        if rng.random() < q:
            return g[0] if kind == "qa" else g
        return " ".join(rec["context"].split()[:2]) if kind == "qa" else "no_relation"

    metrics, preds, feats = [], [], []
    for i in range(8):
        rng = np.random.default_rng(i)
        q = 0.1 + 0.1 * i  # candidate i is better than i - 1 in every language
        predicted = {k: [answer(rng, q, r, g) for r, g in zip(records[k], gold[k], strict=True)] for k in files}  # fmt: skip
        result = type("R", (), {})()
        result.scores = {lg: {s: scores(kind, gold[lg, s], predicted[lg, s], lg) for s in ("dev", "test")} for lg in langs}  # fmt: skip
        result.predictions = {lg: predicted[lg, "dev"] for lg in langs}
        result.features = {lg: rng.normal(size=4).astype(np.float32) + q for lg in langs}
        result.loss_curve, result.info = [1.0], {}
        cfg = FinetuneConfig(kind=kind, labels=labels, lr=1e-3, epochs=1, batch_size=16, seed=i)
        d = tmp_path / f"c{i}"
        paths = [str(d / "metrics.json"), str(d / "predictions.json.gz"), str(d / "features.npz")]
        meta = {"method": "zero-shot", "hp": "lr0.001-ep1-bs16", "lr": 1e-3, "epochs": 1, "batch_size": 16, "seed": i}  # fmt: skip
        write_candidate(result, cfg, meta, *paths)
        metrics.append(paths[0]), preds.append(paths[1]), feats.append(paths[2])
    dev = {lg: files[lg, "dev"] for lg in langs}
    test = {lg: files[lg, "test"] for lg in langs}
    table = tmp_path / "pool.parquet"
    build_pool(kind, metrics, preds, feats, dev, str(data / "en" / "train.jsonl"), test, str(table), str(tmp_path / "pool.npz"))  # fmt: skip
    pool = Pool.load(table, tmp_path / "pool.npz")
    # the stored dev statistics re-score to the candidates' own dev scores
    for lg in langs:
        rescored = score_from_stats(kind, pool.stats[lg])
        assert np.allclose(rescored, pool.matrix("dev")[:, pool.lang_index(lg)], atol=1e-3)
    assert pool.stats["de"].shape[-1] == (2 if kind == "qa" else 4)
    lms = LMSConfig(pivots=("de", "zh", "ar"), hidden=8, epochs=1, batch_sizes=(4,), lrs=(1e-3,), runs=2, n_target=10, n_draws=2, nmodels=(2,))  # fmt: skip
    main = run_study_step("main", pool, lms, "en", ["de", "zh", "ar"])
    runs = run_study_step("runs", pool, lms, "en", ["de", "zh", "ar"], main)
    assert main["pivots"] == ["de", "zh", "ar"] and len(runs["runs"]) == 2
