"""Interpolation between fine-tuned models (seed 002): exact endpoints, tied weights, buffers,
geometry, grids, the interpolation job and its tables and figures. Tiny models built from
configs (no download)."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from xlt.plan import ConfigError, Plan
from xlt.studies.interpolation import report as rep
from xlt.studies.interpolation.interpolation import (
    GridScorer,
    Interpolator,
    geometry,
    grid_points,
    load_weights,
    model_bytes,
    point_1d,
    run_interpolation,
)
from xlt.studies.interpolation.settings import alpha_grid, interpolation_settings
from xlt.tasks import TaskSpec

REPO = Path(__file__).resolve().parents[1]
WORDS = [f"w{i}" for i in range(40)]
NER = ("O", "B-PER", "I-PER", "B-LOC", "I-LOC")


def tokenizer(root: Path):
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", *WORDS])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )  # fmt: skip
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]",
                                   cls_token="[CLS]", sep_token="[SEP]")  # fmt: skip
    fast.save_pretrained(root)
    return fast


def bert_config(**kw):
    from transformers import BertConfig

    return BertConfig(vocab_size=len(WORDS) + 4, hidden_size=16, num_hidden_layers=1,
                      num_attention_heads=2, intermediate_size=32, max_position_embeddings=64, **kw)  # fmt: skip


def xlmr_config(**kw):
    from transformers import XLMRobertaConfig

    return XLMRobertaConfig(vocab_size=len(WORDS) + 4, hidden_size=16, num_hidden_layers=1,
                            num_attention_heads=2, intermediate_size=32, max_position_embeddings=70,
                            pad_token_id=0, bos_token_id=2, eos_token_id=3, **kw)  # fmt: skip


def perturbed(model, seed: int, scale: float = 0.05):
    """A copy of ``model`` with every unique parameter moved by seeded noise (tied stay tied)."""
    out = copy.deepcopy(model)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, p in out.named_parameters():  # remove_duplicate=True: a tied tensor moves once
            p.add_(scale * torch.randn(p.shape, generator=gen))
    return out


def endpoints(model, tmp_path: Path) -> dict[str, dict]:
    """θ_src, θ_tgt, θ_bi as saved by save_pretrained and read back by load_weights."""
    states = {}
    for i, e in enumerate(("src", "tgt", "bi")):
        d = tmp_path / e
        perturbed(model, i + 1).save_pretrained(d)
        states[e] = load_weights(d)
    return states


def assert_state(model, state: dict) -> None:
    for name, p in model.state_dict().items():
        if name in state:
            assert torch.equal(p, state[name]), name


def models():
    from transformers import (
        BertForMaskedLM,
        BertForTokenClassification,
        XLMRobertaForSequenceClassification,
    )

    torch.manual_seed(0)
    return {
        "bert-token": BertForTokenClassification(bert_config(num_labels=len(NER))),
        "xlmr-sequence": XLMRobertaForSequenceClassification(xlmr_config(num_labels=3)),
        "bert-mlm-tied": BertForMaskedLM(bert_config()),
    }


# --- the interpolator ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["bert-token", "xlmr-sequence", "bert-mlm-tied"])
def test_endpoints_are_reproduced_bit_for_bit_and_the_plane_is_linear(name, tmp_path):
    model = models()[name].eval()
    states = endpoints(model, tmp_path)
    interp = Interpolator(model, states)
    for point, e in (((1.0, 0.0), "src"), ((0.0, 1.0), "tgt"), ((0.0, 0.0), "bi")):
        interp.apply(*point)
        assert_state(model, states[e])
    # α = 0 / α = 1 on both 1-D paths: the monolingual endpoints and θ_bi
    for direction in ("src", "tgt"):
        interp.apply_1d(direction, 0.0)
        assert_state(model, states[direction])
        interp.apply_1d(direction, 1.0)
        assert_state(model, states["bi"])
    a1, a2 = 0.3, -0.45
    interp.apply(a1, a2)
    for key, p in model.state_dict().items():
        if key in states["bi"] and p.is_floating_point():
            bi = states["bi"][key]
            want = bi + a1 * (states["src"][key] - bi) + a2 * (states["tgt"][key] - bi)
            assert torch.allclose(p, want, atol=1e-6), key
    # memory: the model plus exactly three endpoint copies, the loaded tensors themselves
    assert interp.held_bytes() <= 3 * model_bytes(model)
    loaded = {t.data_ptr() for s in states.values() for t in s.values()}
    assert all(t.data_ptr() in loaded for e in interp.entries for t in e.ends.values())


def test_tied_weights_are_one_tensor_updated_once(tmp_path):
    model = models()["bert-mlm-tied"].eval()
    decoder = model.cls.predictions.decoder.weight
    embeddings = model.bert.embeddings.word_embeddings.weight
    assert decoder is embeddings  # tied in the architecture
    states = endpoints(model, tmp_path)
    assert "cls.predictions.decoder.weight" not in states["src"]  # save_pretrained drops it
    interp = Interpolator(model, states)
    tied = [e for e in interp.entries if len(e.names) > 1]
    assert any("cls.predictions.decoder.weight" in e.names for e in tied)
    interp.apply(0.5, 0.25)
    key = "bert.embeddings.word_embeddings.weight"
    bi = states["bi"][key]
    want = bi + 0.5 * (states["src"][key] - bi) + 0.25 * (states["tgt"][key] - bi)
    assert torch.allclose(decoder, want, atol=1e-6) and decoder is embeddings


class Counter(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3, 2)
        self.register_buffer("scale", torch.ones(2))
        self.register_buffer("steps", torch.tensor([7]))


def test_float_buffers_are_interpolated_and_integer_buffers_must_agree():
    states = {}
    for i, e in enumerate(("src", "tgt", "bi")):
        m = Counter()
        m.scale.fill_(float(i + 1))
        states[e] = {k: v.clone() for k, v in m.state_dict().items()}
    model = Counter()
    Interpolator(model, states).apply(0.5, 0.0)  # 0.5·bi(3) + 0.5·src(1)
    assert torch.equal(model.scale, torch.full((2,), 2.0)) and model.steps.item() == 7
    states["tgt"]["steps"] = torch.tensor([8])
    with pytest.raises(ValueError, match="tgt: integer buffer 'steps' differs"):
        Interpolator(model, states)
    states["tgt"]["steps"] = torch.tensor([7])
    states["src"]["extra.weight"] = torch.zeros(1)
    with pytest.raises(ValueError, match=r"src: weights \['extra.weight'\] match nothing"):
        Interpolator(model, states)
    del states["src"]["extra.weight"], states["bi"]["lin.bias"]
    with pytest.raises(ValueError, match="bi: no weights for 'lin.bias'"):
        Interpolator(model, states)


# --- geometry and grids ------------------------------------------------------------------------------


def test_geometry_of_known_directions():
    g = geometry([(torch.tensor([3.0, 0.0]), torch.tensor([0.0, 0.0])), (torch.tensor([0.0]), torch.tensor([4.0]))])  # fmt: skip
    assert (g.norm_src, g.norm_tgt, g.ratio, g.params) == (3.0, 4.0, 0.75, 3)
    assert g.angle == pytest.approx(90.0)
    g = geometry([(torch.tensor([1.0, 0.0]), torch.tensor([2.0, 2.0]))])
    assert g.angle == pytest.approx(45.0) and g.ratio == pytest.approx(1 / math.sqrt(8))
    assert geometry([(torch.tensor([1.0, 1.0]), torch.tensor([-2.0, -2.0]))]).angle == pytest.approx(180.0)  # fmt: skip


def test_geometry_of_an_interpolator_counts_trainable_parameters_only():
    states = {e: {k: v.clone() for k, v in Counter().state_dict().items()} for e in ("src", "tgt", "bi")}  # fmt: skip
    for e, v in (("src", 1.0), ("tgt", 0.0)):
        states[e]["lin.weight"] = states["bi"]["lin.weight"] + v
        states[e]["lin.bias"] = states["bi"]["lin.bias"] + (1.0 - v)
    g = geometry(Interpolator(Counter(), states).deltas())
    assert g.params == 8 and g.angle == pytest.approx(90.0)  # buffers excluded
    assert g.norm_src == pytest.approx(math.sqrt(6)) and g.norm_tgt == pytest.approx(math.sqrt(2))


def test_alpha_grids():
    paper = alpha_grid("paper")
    assert len(paper) == 33 and paper == sorted(paper)
    assert {-0.5, 0.0, 0.025, 0.1, 0.3, 0.5, 0.975, 1.0, 1.5} <= set(paper)
    assert all(round(a, 4) == a for a in paper)
    assert alpha_grid("paper", plane=True) == [round(-0.5 + 0.1 * i, 4) for i in range(21)]
    assert alpha_grid("coarse") == [-0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5]
    assert alpha_grid("sketch", plane=True) == [-0.5, 0.0, 0.5, 1.0, 1.5]
    with pytest.raises(ValueError, match="unknown alpha grid 'fine'"):
        alpha_grid("fine")
    assert point_1d("src", 0.025) == (0.975, 0.0) and point_1d("tgt", 1.5) == (0.0, -0.5)
    pts = grid_points([0.0, 1.0], [0.0, 0.5])
    assert len(pts) == 4 + 4 and {p["path"] for p in pts} == {"src", "tgt", "2d"}


# --- scoring and the job ---------------------------------------------------------------------------


def records(rng: np.random.Generator, n: int, offset: int) -> list[dict]:
    out = []
    for i in range(n):
        k = int(rng.integers(3, 8))
        ids = [(offset + int(j)) % len(WORDS) for j in rng.integers(0, 20, k)]
        toks = [WORDS[j] for j in ids]
        tags = ["B-PER" if j % 7 == 1 else "B-LOC" if j % 7 == 3 else "O" for j in ids]
        out.append({"id": f"x{i}", "tokens": toks, "tags": tags})
    return out


@pytest.fixture(scope="module")
def job(tmp_path_factory) -> dict:
    """A tiny encoder, three endpoints trained by the candidate job (finetune()), their data."""
    from transformers import BertModel

    from xlt.finetune import run_candidate
    from xlt.io import write_jsonl

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("interp")
    tokenizer(root / "enc")
    torch.manual_seed(0)
    BertModel(bert_config()).save_pretrained(root / "enc")
    rng = np.random.default_rng(0)
    data = {}
    for lang, offset in (("en", 0), ("de", 20)):
        for split, n in (("train", 48), ("dev", 24)):
            data[f"{lang}/{split}"] = str(root / "data" / lang / f"{split}.jsonl")
            write_jsonl(data[f"{lang}/{split}"], records(rng, n, offset))
    params = {"task": "ner", "kind": "ner", "labels": list(NER), "lr": 1e-2, "epochs": 4,
              "batch_size": 8, "seed": 3, "source": "en", "device": "cpu", "max_length": 32,
              "weight_decay": 0.0}  # fmt: skip
    evals = {k: v for k, v in data.items() if k.endswith("/dev")}
    trains = {"src": ["en/train"], "tgt": ["de/train"], "bi": ["en/train", "de/train"]}
    out = {}
    for e, files in trains.items():
        d = root / "endpoints" / e
        outs = {"metrics": d / "metrics.json", "predictions": d / "p.json.gz", "features": d / "f.npz", "weights": d / "model"}  # fmt: skip
        run_candidate({**params, "method": f"interpolation-{e}"}, str(root / "enc"), [data[f] for f in files], evals, {k: str(v) for k, v in outs.items()})  # fmt: skip
        out[e] = {k: str(v) for k, v in outs.items()}
    return {"root": root, "data": data, "evals": evals, "params": params, "endpoints": out}


def test_job_scores_reproduce_the_endpoints_exactly_and_write_one_document(job, tmp_path):
    p = job["params"]
    params = {**p, "target": "de", "pooling": "first", "eval_batch_size": 5,
              "grid_1d": alpha_grid("coarse"), "grid_2d": [0.0, 1.0]}  # fmt: skip
    ends = job["endpoints"]
    out = tmp_path / "en-de" / "seed3.json.gz"
    doc = run_interpolation(params, str(job["root"] / "enc"), {e: v["weights"] for e, v in ends.items()},
                            {e: v["metrics"] for e, v in ends.items()}, job["evals"], out)  # fmt: skip
    assert doc["endpoint_check"] == {"src": 0, "tgt": 0, "bi": 0}
    back = rep.load_docs([out])[0]
    assert back["rows"] == doc["rows"] and back["geometry"] == doc["geometry"]
    metrics = {e: json.loads(Path(v["metrics"]).read_text())["scores"] for e, v in ends.items()}
    rows = pd.DataFrame(doc["rows"])
    for direction in ("src", "tgt"):
        for lang in ("en", "de"):
            at = rows[(rows["path"] == direction) & (rows["lang"] == lang)].set_index("alpha")["score"]  # fmt: skip
            assert at[0.0] == metrics[direction][lang]["dev"]["f1"]
            assert at[1.0] == metrics["bi"][lang]["dev"]["f1"] == doc["bilingual"][f"{lang}/dev"]
    # 9 + 9 points on the paths and 4 on the plane; shared points (θ_bi, θ_src, θ_tgt) are
    # scored once
    assert len(rows) == (9 + 9 + 4) * 2 and doc["cost"]["models"] == 18
    assert metrics["bi"]["de"]["dev"]["f1"] > 50 and metrics["src"]["en"]["dev"]["f1"] > 50
    g = doc["geometry"]
    assert 0 < g["angle"] < 180 and g["ratio"] == pytest.approx(g["norm_src"] / g["norm_tgt"])
    assert doc["cost"]["endpoint_copies_mb"] <= 3 * doc["cost"]["model_mb"] + 1e-6


def test_scorer_logits_equal_a_model_loaded_from_the_endpoint(job):
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    from xlt.finetune import load_labelled
    from xlt.tasks import build_model, collate, encode

    spec = TaskSpec("ner", NER)
    enc = str(job["root"] / "enc")
    tok = AutoTokenizer.from_pretrained(enc)
    model = build_model(spec, enc, 3).eval()
    states = {e: load_weights(v["weights"]) for e, v in job["endpoints"].items()}
    sets = {("de", "dev"): load_labelled(job["evals"]["de/dev"], "ner", NER)}
    scorer = GridScorer(Interpolator(model, states), spec, tok, sets, 32, 8)
    scorer.score(1.0, 0.0)  # θ_src written into the shared model
    feats = encode(spec, tok, sets[("de", "dev")], 32)
    batch = collate(feats, np.arange(len(feats)), tok.pad_token_id)
    batch.pop("labels")
    direct = AutoModelForTokenClassification.from_pretrained(job["endpoints"]["src"]["weights"]).eval()  # fmt: skip
    with torch.no_grad():
        assert torch.equal(model.eval()(**batch).logits, direct(**batch).logits)


# --- settings ---------------------------------------------------------------------------------------


def with_defaults(cfg: dict) -> dict:
    """``cfg`` with the schema's defaults filled in (as the Snakefile does before the plan)."""
    from snakemake.utils import validate

    validate(cfg, str(REPO / "schemas" / "config.schema.yaml"))
    return cfg


BASE = with_defaults(yaml.safe_load((REPO / "configs" / "test.yaml").read_text()))


def plan_with(section) -> Plan:
    cfg = copy.deepcopy(BASE)
    cfg["interpolation"] = section
    return Plan(cfg)


def test_the_schema_fills_in_the_section_and_refuses_typos():
    cfg = with_defaults(copy.deepcopy(BASE) | {"interpolation": {"tasks": {"ner": {"targets": ["de"]}}}})  # fmt: skip
    assert cfg["interpolation"]["grid_1d"] == "paper" and cfg["interpolation"]["seeds"] == [1, 2, 3]  # fmt: skip
    assert interpolation_settings(Plan(cfg)).weight_decay == 0.0
    with pytest.raises(Exception, match="grid_3d"):
        with_defaults(copy.deepcopy(BASE) | {"interpolation": {"tasks": {}, "grid_3d": "x"}})


def test_settings_defaults_and_endpoints():
    s = interpolation_settings(plan_with({"tasks": {"ner": {"targets": ["de", "zh"]}}}))
    assert s.seeds == (1, 2, 3) and s.lr == 2e-5 and s.epochs == 5 and s.batch_size == 32
    assert s.endpoints("ner") == ["src", "tgt-de", "bi-de", "tgt-zh", "bi-zh"]
    assert len(s.alphas_1d()) == 33 and len(s.alphas_2d()) == 9 and s.splits == ("dev",)
    assert interpolation_settings(Plan(copy.deepcopy(BASE) | {"interpolation": None})) is None


@pytest.mark.parametrize(
    ("section", "parts"),
    [
        ({"tasks": {"nre": {"targets": ["de"]}}}, ["interpolation.tasks.nre", "unknown task", "'ner'"]),
        ({"tasks": {"ner": {"targets": ["es"]}}}, ["interpolation.tasks.ner.targets", "'es' is not a target", "tasks.ner.targets"]),
        ({"tasks": {"ner": {"targets": ["de"]}}, "seeds": []}, ["interpolation.seeds: empty"]),
        ({"tasks": {"ner": {"targets": ["de"]}}, "splits": ["test"]}, ["interpolation.splits", "[dev, test]"]),
        ({"tasks": {"ner": {"targets": ["de"]}}, "grid_2d": "fine"}, ["interpolation.grid_2d", "'coarse'"]),
        ({"tasks": {}}, ["interpolation.tasks: empty"]),
    ],
)  # fmt: skip
def test_invalid_settings_name_the_key_and_the_fix(section, parts):
    with pytest.raises(ConfigError) as err:
        interpolation_settings(plan_with(section))
    for part in parts:
        assert part in str(err.value), (part, str(err.value))


def test_a_target_without_a_train_split_is_refused():
    cfg = copy.deepcopy(BASE)
    cfg["datasets"] = {"mine": {"task_type": "tagging", "languages": {"en": ["train", "dev", "test"], "de": ["dev", "test"]}}}  # fmt: skip
    cfg["tasks"] = {"ner": {"dataset": "mine", "kind": "ner", "targets": ["de"]}}
    cfg["lms"] = {**cfg["lms"], "tasks": []}
    cfg["translate"] = {**cfg["translate"], "datasets": [], "targets": [], "quality": {}}
    cfg["interpolation"] = {"tasks": {"ner": {"targets": ["de"]}}}
    with pytest.raises(ConfigError, match=r"interpolation.tasks.ner.targets: 'mine' has no train split for 'de'"):  # fmt: skip
        interpolation_settings(Plan(cfg))


# --- tables and figures -----------------------------------------------------------------------------


def fake_doc(target: str, seed: int) -> dict:
    """A document shaped like run_interpolation's: target dev rises linearly towards θ_bi."""
    g1, g2 = alpha_grid("coarse"), [0.0, 1.0]
    rows = []
    for p in grid_points(g1, g2):
        for lang in ("en", target):
            a = p["alpha"] if p["alpha"] is not None else 1 - p["a1"] - p["a2"]
            score = 80.0 if lang == "en" else 40.0 + 40.0 * a + seed * (1 - a)
            rows.append({**p, "lang": lang, "split": "dev", "score": score})
    bi = {"en/dev": 80.0, f"{target}/dev": 80.0}
    return {"task": "ner", "kind": "ner", "metric": "f1", "source": "en", "target": target,
            "seed": seed, "grid_1d": g1, "grid_2d": g2, "bilingual": bi, "rows": rows,
            "geometry": {"norm_src": 2.0, "norm_tgt": 2.0 + seed, "ratio": 2.0 / (2 + seed),
                         "angle": 50.0 + seed, "params": 10}}  # fmt: skip


def test_tables_normalise_by_the_bilingual_model_and_aggregate_over_seeds(tmp_path):
    docs = [fake_doc(t, s) for t in ("de", "zh") for s in (1, 2, 3)]
    t1 = rep.table_1d(rep.frame(docs))
    assert list(t1.columns) == rep.COLUMNS_1D
    assert len(t1) == 2 * 3 * 2 * 9 * 2  # pairs x seeds x directions x alphas x langs
    assert (t1.loc[t1["alpha"] == 1.0, "normalised"] == 1.0).all()
    assert (t1.loc[t1["role"] == "source", "normalised"] == 1.0).all()
    agg = rep.aggregate(t1)
    at0 = agg[(agg["alpha"] == 0.0) & (agg["role"] == "target")]
    assert np.allclose(at0["mean"], (40 + 2) / 80) and np.allclose(at0["variance"], (1 / 80) ** 2)
    assert np.allclose(at0["ci95"], 4.302653 * (1 / 80) / math.sqrt(3), rtol=1e-5)
    out = {k: str(tmp_path / f"{k}.{k[:3] if k.startswith('csv') else 'md'}") for k in ("csv_1d", "md_1d", "csv_geometry", "md_geometry")}  # fmt: skip
    rep.write_tables(docs, "ner", out)
    csv = pd.read_csv(out["csv_1d"])
    assert list(csv.columns) == rep.COLUMNS_1D and 0.025 not in set(csv["alpha"])
    assert set(csv["pair"]) == {"en-de", "en-zh"}
    md = Path(out["md_1d"]).read_text()
    assert md.startswith("### Interpolation (1-D): ner") and "α=0.5" in md and "0.525 ± " in md
    geo = pd.read_csv(out["csv_geometry"])
    assert list(geo.columns) == rep.COLUMNS_GEOMETRY and len(geo) == 6
    assert "| en-de | mean |" in Path(out["md_geometry"]).read_text()


def test_figures_are_written(tmp_path):
    docs = [fake_doc(t, s) for t in ("de", "zh") for s in (1, 2)]
    out = {name: str(tmp_path / f"{name}.png") for name in rep.FIGURES}
    rep.write_figures(docs, "ner", out)
    assert all(Path(p).stat().st_size > 5000 for p in out.values())


def test_paths_and_params_the_rules_ask_for():
    plan = plan_with({"tasks": {"ner": {"targets": ["de", "zh"]}}, "seeds": [1, 2], "grid_2d": "none"})  # fmt: skip
    s = interpolation_settings(plan)
    assert s.train_files(plan, "ner", "bi-zh") == ["results/data/synth-ner/en/train.jsonl", "results/data/synth-ner/zh/train.jsonl"]  # fmt: skip
    assert s.train_files(plan, "ner", "src") == ["results/data/synth-ner/en/train.jsonl"]
    assert set(s.eval_files(plan, "ner", "zh")) == {"en/dev", "zh/dev"}
    p = s.endpoint_params(plan, "ner", "tgt-de", 2)
    assert (p["lr"], p["seed"], p["weight_decay"], p["method"]) == (2e-5, 2, 0.0, "interpolation-tgt-de")  # fmt: skip
    assert "threads" not in p and "keep_weights" not in p
    job = s.job_params(plan, "ner", "en-zh", 1)
    assert job["grid_2d"] == [] and set(job["endpoints"]) == {"tgt", "bi"}
    # the pair job trains θ_tgt on the target alone and θ_bi on source + target, same seed
    assert job["endpoints"]["tgt"]["train"] == ["results/data/synth-ner/zh/train.jsonl"]
    assert job["endpoints"]["bi"]["train"] == s.train_files(plan, "ner", "bi-zh")
    assert job["endpoints"]["bi"]["cfg"] == s.endpoint_params(plan, "ner", "bi-zh", 1)
    with pytest.raises(ConfigError, match="no pair 'de-zh' for task 'ner'.*'en-de', 'en-zh'"):
        s.job_params(plan, "ner", "de-zh", 1)
    assert len(s.documents(plan, "ner")) == 4
    out = s.outputs(plan)
    assert "results/tables/interpolation_1d_ner.csv" in out and len(out) == 6 + 3  # no plane figure
    with pytest.raises(ConfigError, match="task 'pos' is not in the interpolation study"):
        s.documents(plan, "pos")
