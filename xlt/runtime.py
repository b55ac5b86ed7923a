"""Running one workflow job: its log, its threads, its provenance.

Every workflow script wraps its work in :func:`job`, so that progress bars, warnings and
tracebacks land in the rule's ``log:`` file and torch uses exactly the job's threads.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
import traceback
import warnings


@contextlib.contextmanager
def job(log_path: str | os.PathLike | None, threads: int = 1):
    """Redirect stdout/stderr/logging to ``log_path`` for the duration of a job.

    On failure the traceback is written to the log *and* re-raised on the original stderr, so
    Snakemake shows the error message while the log keeps the details.
    """
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        import torch

        torch.set_num_threads(max(1, int(threads)))
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    if log_path is None:
        yield
        return
    from .io import safe_target

    safe_target(log_path).parent.mkdir(parents=True, exist_ok=True)
    old_out, old_err = sys.stdout, sys.stderr
    with open(log_path, "w", buffering=1, encoding="utf-8") as fh:
        sys.stdout = sys.stderr = fh
        logging.basicConfig(
            stream=fh, level=logging.INFO, force=True, format="%(asctime)s %(name)s: %(message)s"
        )
        logging.captureWarnings(True)
        warnings.filterwarnings("once")
        t0 = time.time()
        print(f"# xlt job started {time.strftime('%Y-%m-%d %H:%M:%S')} threads={threads}")
        try:
            yield
        except BaseException:
            traceback.print_exc(file=fh)
            raise
        finally:
            print(f"# xlt job ended after {time.time() - t0:.1f}s")
            sys.stdout, sys.stderr = old_out, old_err
            logging.basicConfig(stream=old_err, level=logging.WARNING, force=True)
