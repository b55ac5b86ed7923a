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
    assert json.loads(out.read_text())["padding"] == res["padding"]
