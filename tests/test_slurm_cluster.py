"""Snakemake really submits through Slurm: the local single-node cluster + tests/slurm-local.

The first tests check, without any cluster, that ``scripts/slurm-local`` refuses state
directories another user could control and cleans up after an interrupt. The cluster tests
(marked ``slurm``) run when asked for (``XLT_SLURM_TESTS=1``, which also brings the cluster up with
``scripts/slurm-local up``; needs root and apt on Debian/Ubuntu), in CI (``CI=true``) on a root
Debian/Ubuntu runner, or when the cluster is already up (``scripts/slurm-local status`` exits 0).
Otherwise skipped::

    XLT_SLURM_TESTS=1 pytest -m slurm tests/test_slurm_cluster.py

A cluster the test brought up is taken down again afterwards (set ``XLT_SLURM_KEEP=1`` to keep it);
one that was already up is left alone.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SLURM_LOCAL = REPO / "scripts" / "slurm-local"
PROFILE = REPO / "tests" / "slurm-local"

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (root-owned directories)")


def _run(cmd: list[str], timeout: float, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)


# --- scripts/slurm-local without a cluster: directory checks and cleanup --------------------------


def _local(tmp_path: Path, *args: str, state: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "XLT_SLURM_STATE": str(state), "XLT_SLURM_SPOOL": str(tmp_path / "spool")}
    return _run([str(SLURM_LOCAL), *args], timeout=60, env=env)


def _refused(proc: subprocess.CompletedProcess, path: Path, why: str) -> None:
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert str(path) in proc.stderr and why in proc.stderr, proc.stderr
    assert "XLT_SLURM_STATE" in proc.stderr, proc.stderr  # the fix: names the variable to set


@pytest.mark.parametrize("command", ["check", "down", "status"])
def test_a_symlinked_state_dir_is_refused(tmp_path: Path, command: str) -> None:
    (tmp_path / "elsewhere").mkdir()
    link = tmp_path / "state"
    link.symlink_to(tmp_path / "elsewhere")
    proc = _local(tmp_path, command, state=link)
    _refused(proc, link, "is a symbolic link")
    assert f"rm -- '{link}'" in proc.stderr


def test_a_state_dir_of_another_owner_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    if os.geteuid() == 0:  # as root: hand it to nobody; otherwise it is ours, i.e. not root's
        os.chown(state, 65534, 65534)
    proc = _local(tmp_path, "check", state=state)
    _refused(proc, state, "not root")


@as_root
def test_a_state_dir_below_a_shared_directory_is_refused(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # anyone could replace the state directory inside it
    proc = _local(tmp_path, "check", state=shared / "state")
    _refused(proc, shared, "writable by other users")


@as_root
def test_a_root_owned_state_dir_is_accepted_and_check_creates_nothing(tmp_path: Path) -> None:
    proc = _local(tmp_path, "check", state=tmp_path / "state")
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "state").exists() and not (tmp_path / "spool").exists()


@as_root
def test_down_makes_slurm_clients_fail_at_once_and_leaves_other_configs_alone(
    tmp_path: Path,
) -> None:
    """With the daemons down, Slurm clients retry the dead controller for MessageTimeout (10 s),
    and Snakemake's Slurm plugin runs `scontrol show config` at every Snakemake start: `down`
    sets MessageTimeout=1 in the configuration it wrote (idempotently), never in another one."""
    conf_dir = tmp_path / "etc-slurm"
    conf_dir.mkdir()
    conf = conf_dir / "slurm.conf"
    ours = "# written by xlt scripts/slurm-local -- single-node test cluster, do not edit\nClusterName=xlt\nMessageTimeout=10\n"  # fmt: skip
    env = {
        **os.environ,
        "XLT_SLURM_STATE": str(tmp_path / "state"),
        "XLT_SLURM_SPOOL": str(tmp_path / "spool"),
        "XLT_SLURM_CONF_DIR": str(conf_dir),
    }
    conf.write_text(ours)
    for _ in range(2):
        proc = _run([str(SLURM_LOCAL), "down"], timeout=60, env=env)
        assert proc.returncode == 0, proc.stderr
        lines = conf.read_text().splitlines()
        assert [x for x in lines if x.startswith("MessageTimeout")] == ["MessageTimeout=1"]
        assert lines[:2] == ours.splitlines()[:2]
    foreign = "ClusterName=site\nSlurmctldHost=head\n"
    conf.write_text(foreign)
    assert _run([str(SLURM_LOCAL), "down"], timeout=60, env=env).returncode == 0
    assert conf.read_text() == foreign


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@as_root
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["INT", "TERM"])
def test_an_interrupted_install_removes_its_policy_rc_d(
    tmp_path: Path, sig: signal.Signals
) -> None:
    """Ctrl-C (or a kill) while apt-get runs must not leave the policy that blocks daemons."""
    fake = tmp_path / "bin"
    fake.mkdir()
    started = tmp_path / "apt-started"
    (fake / "dpkg-query").write_text("#!/bin/sh\nexit 1\n")  # nothing is installed
    (fake / "apt-get").write_text(f"#!/bin/sh\ntouch {started}\nexec sleep 120\n")
    for f in fake.iterdir():
        f.chmod(0o755)
    policy = tmp_path / "sbin" / "policy-rc.d"
    policy.parent.mkdir()
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}", "XLT_SLURM_POLICY_RC": str(policy),
           "XLT_SLURM_STATE": str(tmp_path / "state"), "XLT_SLURM_SPOOL": str(tmp_path / "spool")}  # fmt: skip
    # SIGINT at its default: a shell started in the background inherits it ignored, and a signal
    # ignored on entry can be neither trapped nor delivered (bash, POSIX)
    proc = subprocess.Popen([str(SLURM_LOCAL), "up"], env=env, start_new_session=True,
                            preexec_fn=_default_sigint,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        for _ in range(600):  # apt-get (fake) is running, so the policy is in place
            if started.exists() or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert started.exists(), proc.communicate()
        assert policy.read_text() == "#!/bin/sh\nexit 101\n"
        os.killpg(proc.pid, sig)  # as Ctrl-C does: the whole foreground group
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 128 + sig, err
    assert list(policy.parent.iterdir()) == [], err  # neither the policy nor a temporary file


# --- the real cluster ---------------------------------------------------------------------------


def _cluster_up() -> bool:
    try:
        return _run([str(SLURM_LOCAL), "status"], timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="module")
def slurm_cluster():
    """The local Slurm cluster, up; skip the module when it is neither up nor requested."""
    was_up = _cluster_up()
    in_ci = os.environ.get("CI") == "true" and os.geteuid() == 0 and shutil.which("apt-get")
    if not was_up and os.environ.get("XLT_SLURM_TESTS") != "1" and not in_ci:
        pytest.skip(
            "Slurm tests not requested (set XLT_SLURM_TESTS=1 or run scripts/slurm-local up)"
        )
    if not was_up:
        up = _run([str(SLURM_LOCAL), "up"], timeout=900)
        assert up.returncode == 0, f"scripts/slurm-local up failed:\n{up.stdout}\n{up.stderr}"
    yield
    if not was_up and os.environ.get("XLT_SLURM_KEEP") != "1":
        _run([str(SLURM_LOCAL), "down"], timeout=120)


# Rule names are xlt's, so that the test profile's real grouping is exercised: the three `prep`
# rules (two unconnected prepare_data jobs + train_tokenizer) must go out as ONE Slurm job,
# pretrain_encoder (not grouped) as another. Each job writes the Slurm job id it ran under.
SNAKEFILE = textwrap.dedent(
    """
    LANGS = ["de", "sw"]

    rule all:
        input:
            "results/encoder.txt",

    rule prepare_data:
        output:
            "results/data/{lang}.txt",
        shell:
            "echo \\"${{SLURM_JOB_ID:-none}}\\" > {output}.tmp && mv {output}.tmp {output}"

    rule train_tokenizer:
        input:
            expand("results/data/{lang}.txt", lang=LANGS),
        output:
            "results/tokenizer.txt",
        shell:
            "echo \\"${{SLURM_JOB_ID:-none}}\\" > {output}.tmp && mv {output}.tmp {output}"

    rule pretrain_encoder:
        input:
            "results/tokenizer.txt",
        output:
            "results/encoder.txt",
        threads: 2
        shell:
            "echo \\"${{SLURM_JOB_ID:-none}} ${{SLURM_CPUS_PER_TASK:-none}}\\" > {output}.tmp"
            " && mv {output}.tmp {output}"
    """
)


@pytest.mark.slurm
def test_daemons_run_as_their_own_users_with_private_state(slurm_cluster) -> None:
    users = {}
    for name in ("munged", "slurmctld", "slurmd"):
        ps = _run(["ps", "-o", "user=", "-C", name], timeout=30)
        users[name] = set(ps.stdout.split())
    # munged as Debian runs it; slurmctld as SlurmUser; slurmd stays root to start jobs as users
    assert users == {"munged": {"munge"}, "slurmctld": {"slurm"}, "slurmd": {"root"}}, users
    config = _run(["scontrol", "show", "config"], timeout=30).stdout
    slurm_user = [v.strip() for k, _, v in (line.partition("=") for line in config.splitlines())
                  if k.strip() == "SlurmUser"]  # fmt: skip
    assert slurm_user == [f"slurm({pwd.getpwnam('slurm').pw_uid})"], config
    state = Path(os.environ.get("XLT_SLURM_STATE", "/var/lib/xlt-slurm"))
    st = state.lstat()
    assert stat.S_ISDIR(st.st_mode) and st.st_uid == 0 and stat.S_IMODE(st.st_mode) == 0o700
    spool = Path(os.environ.get("XLT_SLURM_SPOOL", "/var/spool/xlt-slurm"))
    for d in ("slurmctld", "slurmd", "log", "run"):
        assert (spool / d).owner() == "slurm", d
    # slurm.conf was renamed into place: no temporary file left next to it
    assert [p.name for p in Path("/etc/slurm").glob(".slurm.conf.*")] == []


def _job_state(job_id: str) -> str:
    # no accounting database: squeue still knows finished jobs for MinJobAge (600 s)
    out = _run(["squeue", "--states=all", "-h", "-j", job_id, "-o", "%T"], timeout=30)
    return out.stdout.strip()


@pytest.mark.slurm
def test_snakemake_runs_jobs_through_slurm(slurm_cluster, tmp_path: Path) -> None:
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--profile",
        str(PROFILE),
        "--snakefile",
        str(tmp_path / "Snakefile"),
        "--directory",
        str(tmp_path),
        "all",
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    proc = _run(cmd, timeout=600, cwd=tmp_path, env=env)
    log = f"$ {' '.join(cmd)}\n--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
    assert proc.returncode == 0, log

    results = tmp_path / "results"
    prep = [results / "data" / "de.txt", results / "data" / "sw.txt", results / "tokenizer.txt"]
    for path in [*prep, results / "encoder.txt"]:
        assert path.is_file(), f"{path} missing\n{log}"

    # every job ran inside a Slurm allocation
    prep_ids = {p.read_text().strip() for p in prep}
    enc_id, enc_cpus = (results / "encoder.txt").read_text().split()
    assert all(i.isdigit() for i in prep_ids | {enc_id}), (prep_ids, enc_id, log)
    # the `prep` group (2 unconnected prepare_data + train_tokenizer) was ONE submission
    assert len(prep_ids) == 1, f"prep group split over Slurm jobs {prep_ids}\n{log}"
    (prep_id,) = prep_ids
    assert enc_id != prep_id
    # threads -> --cpus-per-task
    assert enc_cpus == "2", log

    for job_id in (prep_id, enc_id):
        assert _job_state(job_id) == "COMPLETED", (job_id, _job_state(job_id))

    # the plugin's per-rule/group log directories (kept: slurm-keep-successful-logs)
    slurm_logs = tmp_path / ".snakemake" / "slurm_logs"
    # (named group_<group>_<rules...>, e.g. group_prep_prepare_data_train_tokenizer)
    assert list(slurm_logs.glob("group_prep*/*.log")), log
    assert (slurm_logs / "rule_pretrain_encoder" / f"{enc_id}.log").is_file(), log


@pytest.mark.slurm
def test_the_test_study_runs_through_slurm(slurm_cluster, tmp_path: Path) -> None:
    """xlt's own DAG on configs/test.yaml, one table's worth of jobs, submitted through Slurm."""
    target = "results/tables/zero_shot_sentiment.csv"
    cmd = [sys.executable, "-m", "snakemake", "--profile", str(PROFILE), "--snakefile",
           str(REPO / "Snakefile"), "--directory", str(tmp_path), target,
           "--configfile", str(REPO / "configs" / "test.yaml")]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    proc = _run(cmd, timeout=900, cwd=tmp_path, env=env)
    log = f"$ {' '.join(cmd)}\n--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-6000:]}"  # fmt: skip
    assert proc.returncode == 0, log
    assert (tmp_path / target).is_file() and (tmp_path / target).with_suffix(".md").is_file()
    slurm_logs = tmp_path / ".snakemake" / "slurm_logs"
    finetune_jobs = sorted(p.stem for p in slurm_logs.rglob("*.log") if "rule_finetune" in p.parts)  # fmt: skip
    assert len(finetune_jobs) == 2, (finetune_jobs, log)  # sentiment: 2 seeds, one job each
    assert list(slurm_logs.glob("group_prep*/*.log")), log  # world + tokenizer: one submission
    for job_id in finetune_jobs:
        assert _job_state(job_id) == "COMPLETED", (job_id, _job_state(job_id))
