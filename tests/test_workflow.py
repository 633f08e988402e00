"""The workflow as a user drives it: config validation, dry run, offline failure, an executor."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def _workflow_copy(repo: Path, dest: Path) -> Path:
    """A clean copy of the workflow (Snakefile, config, rules, profiles) in ``dest``."""
    shutil.copy(repo / "Snakefile", dest / "Snakefile")
    for folder in ("config", "workflow", "profiles"):
        shutil.copytree(repo / folder, dest / folder)
    return dest


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(SNAKEMAKE + args, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout)


def test_unknown_config_key_fails_before_any_job_and_names_it(repo_root: Path) -> None:
    res = _run(["-n", "--cores", "1", "--config", "clustering_method=kmeans"], repo_root)
    assert res.returncode != 0
    assert "clustering_method" in res.stdout + res.stderr


def test_bad_territory_value_fails_and_names_the_key(repo_root: Path) -> None:
    res = _run(["-n", "--cores", "1", "--config", "territory=dep-999"], repo_root)
    assert res.returncode != 0
    out = res.stdout + res.stderr
    assert "territory" in out and "dep-999" in out


@pytest.mark.parametrize(("territory", "word"), [("dep-96", "département"), ("reg-99", "région")])
def test_unknown_departement_or_region_fails_at_once(repo_root: Path, territory: str, word: str) -> None:
    res = _run(["-n", "--cores", "1", "--config", f"territory={territory}"], repo_root)
    assert res.returncode != 0
    assert f"territory '{territory}': no such {word}" in res.stdout + res.stderr


def test_dry_run_of_the_demo_lists_the_jobs(repo_root: Path) -> None:
    res = _run(["-n", "--forceall", "--cores", "1", "--config", "territory=demo"], repo_root)
    assert res.returncode == 0, res.stderr[-2000:]
    out = res.stdout + res.stderr
    for rule in ("demo_sources", "territories_communes", "spaces_register", "indicators_access",
                 "typology_space_models", "typology_siting", "atlas_static_typology", "publish"):
        assert rule in out, f"rule {rule} missing from the demo's job list"


def test_offline_without_mirror_fails_fast_with_the_ways_out(repo_root: Path, tmp_path: Path) -> None:
    wf = _workflow_copy(repo_root, tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "COWORKING_GEO_MIRROR"}
    env.update({"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"})  # no network
    res = subprocess.run(SNAKEMAKE + ["--cores", "1", "--config", "territory=dep-61"], cwd=wf, env=env,
                         capture_output=True, text=True, timeout=300)
    out = res.stdout + res.stderr
    assert res.returncode != 0
    # every source has an official download now: offline, the downloads fail and one report names them
    report = out[out.index("retrieve failed for"):]
    # (the first source Snakemake schedules may hold one file or several taken from one official archive)
    assert re.match(r"retrieve failed for \d+ source\(s\) in this run:\n- \w+: (?:\d+ files of source '\w+' "
                    r"failed:\n\s+)?cannot retrieve source '", report)
    assert "https://" in report
    assert "COWORKING_GEO_MIRROR" in out and "territory=demo" in out


def test_lint_is_clean(repo_root: Path) -> None:
    res = _run(["--lint"], repo_root)
    assert "Lints for" not in res.stdout + res.stderr, (res.stdout + res.stderr)[-3000:]


def test_a_clustering_parameter_reaches_only_the_typology_maps_and_the_report(repo_root: Path) -> None:
    """The rules downstream of the clustering rules (what a typology.k_max change re-runs): the
    typology PNGs and the pages (one-page atlas and its home page, report, portraits: one job), never the
    seven other static maps (docs/performance.md)."""
    res = _run(["--rulegraph", "--config", "territory=demo"], repo_root)
    assert res.returncode == 0, res.stderr[-2000:]
    names = dict(re.findall(r"^\s*(\d+)\[label = \"(\w+)\"", res.stdout, flags=re.M))
    edges = [(names[a], names[b]) for a, b in re.findall(r"^\s*(\d+) -> (\d+)", res.stdout, flags=re.M)]
    reached, todo = set(), ["typology_space_models", "typology_territory_profiles"]
    while todo:
        rule = todo.pop()
        for a, b in edges:
            if a == rule and b not in reached:
                reached.add(b)
                todo.append(b)
    assert reached == {"atlas_static_typology", "publish", "all"}
    assert {"atlas_static", "typology_siting"} <= set(names.values())


@pytest.mark.slow
def test_jobs_run_through_the_cluster_generic_executor(repo_root: Path, tmp_path: Path) -> None:
    """The job graph up to the communes table runs through the cluster-generic executor: every job
    is submitted by profiles/local-cluster/submit.sh (a stand-in for sbatch) and runs in its own
    process, then Snakemake sees its outputs and submits the next jobs."""
    wf = _workflow_copy(repo_root, tmp_path)
    target = "data/processed/demo/communes.parquet"
    res = _run(["--profile", "profiles/local-cluster", target, "--config", "territory=demo"], wf, timeout=600)
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    assert (wf / target).exists()
    submissions = (wf / "logs" / "local-cluster" / "submissions.log").read_text().splitlines()
    assert all(" submitted local-" in line for line in submissions)
    # one submission per job of the graph: the demo sources, the admin tables, the national crosswalk and
    # communes, the territory's selection
    submitted = sorted(re.search(r"snakejob\.(\w+)\.\d+\.sh", line).group(1) for line in submissions)
    assert submitted == ["demo_sources", "territories_admin", "territories_communes", "territories_communes_national",
                         "territories_crosswalk"]
    ran = set(re.findall(r"Finished jobid: \d+ \(Rule: (\w+)\)", res.stdout + res.stderr))
    assert ran == set(submitted)
    # each job ran in its own process, logged by the submit script, and wrote its benchmark file
    outs = list((wf / "logs" / "local-cluster").glob("local-*.out"))
    assert len(outs) == len(submissions)
    assert (wf / "benchmarks" / "out" / "demo" / "territories" / "communes.tsv").exists()


def test_a_setting_that_validates_never_crashes_later(repo_root: Path, tmp_path: Path) -> None:
    """Dotted keys are refused by Snakemake itself; a radius the summaries use must be one of the access radii."""
    res = _run(["-n", "--config", "indicators.access_radii_km=[5,20]"], repo_root, timeout=300)
    assert res.returncode != 0 and "Invalid config definition" in res.stdout + res.stderr
    radii = tmp_path / "radii.yaml"
    radii.write_text("indicators:\n  access_radii_km: [5, 20]\n", encoding="utf-8")
    res = _run(["-n", "--configfile", str(radii)], repo_root, timeout=300)
    out = res.stdout + res.stderr
    assert res.returncode != 0 and "indicators.summary_radius_km = 10 must be one of" in out
    assert "Finished jobid" not in out
    radii.write_text("indicators:\n  access_radii_km: [5, 20]\n  summary_radius_km: 20\n", encoding="utf-8")
    res = _run(["-n", "--configfile", str(radii)], repo_root, timeout=300)
    assert res.returncode == 0, (res.stdout + res.stderr)[-2000:]


@pytest.mark.slow
def test_a_failing_rule_writes_its_traceback_to_its_log(repo_root: Path, tmp_path: Path) -> None:
    """An unexpected error (here a damaged processed table) leaves its traceback in the rule's log."""
    wf = _workflow_copy(repo_root, tmp_path)
    env = {"PYTHONPATH": str(repo_root / "src")}
    ind = "data/processed/demo/indicators.parquet"
    res = _run(["--cores", "2", ind, "--config", "territory=demo"], wf, env=env)
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    (wf / ind).write_bytes(b"PAR1 this is not a parquet file")
    target = "results/demo/tables/diagnosis_by_territory_class.csv"
    res = _run(["--cores", "1", target, "--config", "territory=demo"], wf, env=env)
    assert res.returncode != 0
    log = (wf / "logs" / "demo" / "summary" / "summary_tables.log").read_text(encoding="utf-8")
    assert "the rule failed on an unexpected error" in log and "Traceback (most recent call last)" in log
    assert "indicators.parquet" in log or "Parquet" in log
    assert not (wf / target).exists()


def _job_counts(out: str) -> dict[str, int]:
    """The 'Job stats' table of a dry run: rule -> number of jobs."""
    table = out[out.index("Job stats:"):]
    table = table[:table.index("total")]
    return {rule: int(n) for rule, n in re.findall(r"(?m)^(\w+)\s+(\d+)\s*$", table)}


@pytest.mark.slow
def test_two_territories_in_one_dag_share_the_national_jobs(repo_root: Path, mirror: Path) -> None:
    """{territory} is a wildcard: dep-61 and reg-28 are built by one invocation, the national crosswalk,
    commune table and centroids once for both, every territory job twice, each source retrieved once."""
    res = _run(["-n", "--forceall", "--cores", "2", "results/dep-61/report.html", "results/reg-28/report.html"],
               repo_root, env={"COWORKING_GEO_MIRROR": str(mirror)}, timeout=300)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    jobs = _job_counts(out)
    for rule in ("territories_crosswalk", "territories_communes_national", "territories_commune_places",
                 "retrieve_ign_admin_express_communes", "retrieve_eurostat_popgrid_1km"):
        assert jobs[rule] == 1, (rule, jobs)
    for rule in ("territories_communes", "spaces_register", "indicators_access", "typology_siting", "publish"):
        assert jobs[rule] == 2, (rule, jobs)
    # on one machine the access and commuting work of a territory is one job, not one per région
    assert jobs["indicators_access_region"] == 2 and jobs["indicators_commuting_region"] == 2
    res = _run(["--summary", "--cores", "2", "results/dep-61/report.html", "results/reg-28/report.html"],
               repo_root, env={"COWORKING_GEO_MIRROR": str(mirror)}, timeout=300)
    files = set(re.findall(r"(?m)^(\S+)\t", res.stdout))
    assert {"data/processed/national/communes.parquet", "data/processed/national/commune_crosswalk.parquet",
            "data/processed/dep-61/regions/all/access.parquet", "data/processed/reg-28/regions/all/access.parquet",
            "results/dep-61/report.html", "results/reg-28/report.html"} <= files


def test_run_name_keeps_a_run_apart_and_the_partition_is_a_setting(repo_root: Path) -> None:
    """config run_name prefixes the paths; indicators.partition: region gives one access job per région."""
    res = _run(["--summary", "--cores", "1", "--config", "run_name=trial"], repo_root, timeout=300)
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    files = set(re.findall(r"(?m)^(\S+)\t", res.stdout))
    assert {"results/trial/demo/report.html", "data/processed/trial/national-demo/communes.parquet"} <= files
    assert not [f for f in files if f.startswith(("results/demo/", "data/processed/demo/"))]
    res = _run(["--summary", "--cores", "1", "--config", "indicators={partition: region}", "territory=demo"],
               repo_root, timeout=300)
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    regions = set(re.findall(r"(?m)^data/processed/demo/regions/(\w+)/access\.parquet\t", res.stdout))
    assert regions == {"84"}  # the demo's one région (300 communes), no "all" part
