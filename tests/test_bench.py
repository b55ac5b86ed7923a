"""make bench runs and reports what it promises (timings are measured there, not asserted here)."""

from __future__ import annotations

import json

from xlt.bench import main


def test_bench_quick_reports_every_measurement(tmp_path, capsys):
    out = tmp_path / "bench.json"
    res = main(["--quick", "--threads", "1", "--json", str(out)])
    printed = capsys.readouterr().out
    assert "(a) MLM pretraining" in printed and "ratio" in printed
    assert "(b) fine-tuning padding efficiency" in printed and "(c) LMS" in printed
    assert res["mlm"]["ours_tokens_per_s"] > 0 and res["mlm"]["stock_tokens_per_s"] > 0
    # padding efficiency is a property of the batching, not of the machine's speed
    assert res["padding"]["bucketed"] >= 0.85 > res["padding"]["pad_to_128"]
    assert res["lms"]["targets"] > 0
    # interpolation: scored in place; the interpolator holds exactly the three endpoint copies
    assert res["interpolation"]["models_per_second"] > 0 and res["interpolation"]["copies"] == 3.0
    assert "(h) interpolation" in printed
    # fp32 vs bf16 (at a toy shape under --quick): both timed, and what precision auto picks here
    prec = res["precision"]
    assert set(prec["train_tokens_per_s"]) == {"fp32", "bf16"} and prec["train_speedup"] > 0
    assert prec["auto_chooses"] in ("fp32", "bf16") and "(g) fp32 vs bf16" in printed
    assert json.loads(out.read_text())["padding"] == res["padding"]


def test_candidate_step_times_the_training_loop(capsys):
    # the GPU check (make bench-gpu) at toy size on the CPU: same code path, any device
    res = main(["--candidate-step", "--size", "tiny", "--precision", "fp32", "--steps", "4"])
    step = res["candidate_step"]
    assert step["device"] == "cpu" or step["peak_gpu_mem_gb"] > 0
    assert step["steps"] == 4 and abs(step["tokens_per_s"] - step["sequences_per_s"] * 128) < 128
    assert step["parameters"] > 0 and step["final_loss"] > 0
    assert "(d) one paper-size candidate" in capsys.readouterr().out


def test_iwda_step_is_timed_against_a_zero_shot_step(capsys):
    step = main(["--iwda-step", "--quick", "--threads", "1"])["iwda_step"]
    assert step["zero_shot_step_s"] > 0 and step["iwda_step_s"] > 0 and step["ratio"] > 0
    assert step["iw_estimation_s"] > 0 and step["steps"] == 3
    out = capsys.readouterr().out
    assert "(f) IWDA step vs zero-shot step" in out
    # the weights' positive control runs in full (2,000 steps) even in --quick
    control = step["weights_control"]
    assert control["tv0.3"]["l1_final"] <= 0.1 and control["tv0.0"]["max_abs_w_minus_1"] <= 0.1
    assert "weights positive control" in out and "label shift TV 0.3" in out


def test_metaxl_step_is_timed_against_a_jt_step(capsys):
    res = main(["--metaxl-step", "--quick", "--threads", "1"])["metaxl_step"]
    assert res["jt_step_s"] > 0 and res["metaxl_step_s"] > 0 and res["ratio"] > 0
    assert "(e) MetaXL (joint) step vs JT step (both paired)" in capsys.readouterr().out


def test_lms_positive_control_runs_from_the_bench(capsys):
    # make bench-lms-control at toy size: both planted pools, both numbers printed
    shared, none = main(["--lms-control", "--quick", "--threads", "1"])["lms_control"]
    assert shared["signal"] == "shared" and none["signal"] == "none"
    assert shared["tau"] >= shared["ceiling"] - 0.05 and abs(none["tau"]) < 3 * none["chance_sd"]
    printed = capsys.readouterr().out
    assert "(i) LMS positive control" in printed and printed.count("Adam steps") == 2
