"""``nasgcn run``: images -> supernet -> weight-sharing scores -> GCN lookup table -> search -> evaluation -> report.

Every stage writes its files into the run directory and records, in ``RUN/stages.json``, a key made from
its inputs (config sections and SHA-256 of input files).  A stage whose outputs exist and whose key is
unchanged is skipped, so a killed run resumes where it stopped and a changed option reruns only the
stages it affects.  The supernet stage additionally resumes mid-training from its own checkpoint.

Config: one TOML file with the supernet sections (``[data] [model] [train] [sampling] [eval]``, see
:mod:`supernet.config`) plus

* ``[run]``: ``sample`` (architectures scored by the supernet), ``seed``, ``include_degenerate``,
  ``truth`` (``"auto"``: the data root's truth table when present; a path; or ``"none"``), ``dataset``;
* ``[predictor]``: ``model`` (gcn, ridge, gbr, mlp), ``seed``, ``landmarks`` (optional CSV with
  ``index``/``arch_str`` and ``true_acc``);
* ``[proxies]``: ``archs`` (``"sample"``: the architectures the supernet scored; ``"all"``; ``"none"``:
  no proxies, a plain weight-sharing table; or a number to draw), ``table`` (a precomputed proxy table
  to use instead, e.g. ``benchmarks/results/proxies_cifar10.csv.gz``), ``C``, ``N``, ``batch_size``,
  ``seed`` (:class:`supernet.proxies.ProxyConfig`); the table stage fuses them with the scores;
* ``[hardware]``: ``table`` (``"auto"``: the data root's latency table when present; a path; ``"none"``);
* ``[search]``: ``top`` and ``sets``, a table of named constraint lists, e.g.
  ``sets = { unconstrained = [], small = ["params_m<=0.5"], pi4 = ["hwnb_c10_raspi4_latency_ms<=15"] }``;
* ``[loop]`` (optional, off unless ``k`` > 0): propose ``k`` landmarks from the table, train each stand-alone
  on the supernet's images (``preset``, ``epochs``, ... :class:`predictor.loop.LoopSection`), refit the table
  with them and search again, ``rounds`` times (``RUN/loop/``, ``table_loop.csv.gz``, ``search_loop.json``).

(Over 400 lines by choice: the config sections and the stage order are read together; each stage's
work lives in its own module and only its key, outputs and call are here.)
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from supernet.config import SupernetConfig, config_from_dict, read_toml
from supernet.evaluate import evaluate_supernet, sample_archs
from supernet.fileio import to_json, write_json_atomic, write_text_atomic
from supernet.hashing import file_digest, json_digest
from supernet.paths import data_path
from supernet.proxies import ProxyConfig, compute_proxies, load_proxy_images
from supernet.schema import Section, build_section, setting, show
from supernet.space import degenerate_mask
from supernet.tables import read_arch_table
from supernet.training import resolve_source, train_supernet

from .metrics import evaluate_ranking
from .report import write_report
from .search import SearchError, UnknownColumnError, check_feasible, parse_constraints, result_columns, to_records, top_k
from .table import LookupTable, fit_table, read_ws
from .loop import LoopSection, run_landmark_loop
from .truth import load_truth, truth_accuracy

__all__ = ["RunConfig", "load_run_config", "run_pipeline", "STAGES"]

log = logging.getLogger(__name__)

STAGES = ("supernet", "ws", "proxies", "table", "search", "evaluate", "loop", "report")


@dataclass(frozen=True)
class RunSection(Section):
    SECTION = "run"

    sample: int = setting(1000, ge=1)
    seed: int = setting(0, ge=0)
    include_degenerate: bool = False
    truth: str = "auto"
    dataset: str = "cifar10"


@dataclass(frozen=True)
class PredictorSection(Section):
    SECTION = "predictor"

    model: str = "gcn"
    seed: int = setting(0, ge=0)
    landmarks: str | None = None


@dataclass(frozen=True)
class ProxiesSection(Section):
    SECTION = "proxies"

    archs: str | int = "sample"
    table: str | None = None
    C: int = setting(16, ge=1)
    N: int = setting(5, ge=1)
    batch_size: int = setting(32, ge=2)  # nwot and jacov compare images
    seed: int = setting(0, ge=0)

    def check(self) -> None:
        ok = self.archs >= 1 if isinstance(self.archs, int) else self.archs.lower() in ("sample", "all", "none")
        if not ok:
            raise ValueError(
                f"[proxies] archs must be 'sample', 'all', 'none' or a number >= 1, got {show(self.archs)}"
            )


@dataclass(frozen=True)
class HardwareSection(Section):
    SECTION = "hardware"

    table: str = "auto"


@dataclass(frozen=True)
class SearchSection(Section):
    SECTION = "search"

    top: int = setting(5, ge=1)
    sets: dict[str, tuple[str, ...]] = field(default_factory=lambda: {"unconstrained": ()})


@dataclass(frozen=True)
class RunConfig:
    """A whole pipeline: the supernet stage's config plus the later stages' sections."""
    supernet: SupernetConfig
    run: RunSection = field(default_factory=RunSection)
    predictor: PredictorSection = field(default_factory=PredictorSection)
    proxies: ProxiesSection = field(default_factory=ProxiesSection)
    hardware: HardwareSection = field(default_factory=HardwareSection)
    search: SearchSection = field(default_factory=SearchSection)
    loop: LoopSection = field(default_factory=LoopSection)

    def to_dict(self) -> dict[str, Any]:
        d = self.supernet.to_dict()
        for sec in ("run", "predictor", "proxies", "hardware", "search", "loop"):
            d[sec] = json.loads(json.dumps(dataclasses.asdict(getattr(self, sec))))
        return d


_SECTION_CLASSES = {"run": RunSection, "predictor": PredictorSection, "proxies": ProxiesSection,
                    "hardware": HardwareSection, "search": SearchSection, "loop": LoopSection}


def load_run_config(path: str | Path) -> RunConfig:
    """Read a pipeline TOML config (unknown sections or keys, wrong types and values out of range are errors)."""
    p = Path(path)
    d = read_toml(p)
    sn = {k: d.pop(k) for k in ("data", "model", "train", "sampling", "landmarks", "eval") if k in d}
    supernet = config_from_dict(sn, where=str(p))
    kw = {name: build_section(cls, d.pop(name, {}), str(p)) for name, cls in _SECTION_CLASSES.items()}
    if d:
        raise ValueError(f"{p}: unknown section(s) {sorted(d)}; known: data, model, train, sampling, landmarks, eval, "
                         f"run, predictor, proxies, hardware, search, loop")
    return RunConfig(supernet=supernet, **kw)


# ---------------------------------------------------------------------- keys and the manifest
def _key(*parts: Any) -> str:
    return json_digest(parts, 16, default=str)


class Manifest:
    """``RUN/stages.json``: per stage, the input key, outputs and wall time of its last completion."""
    def __init__(self, run: Path) -> None:
        self.path = run / "stages.json"
        self.data: dict[str, Any] = json.loads(self.path.read_text()) if self.path.exists() else {}

    def fresh(self, stage: str, key: str, outputs: list[Path]) -> bool:
        rec = self.data.get(stage)
        return bool(rec) and rec.get("key") == key and all(p.exists() for p in outputs)

    def record(self, stage: str, key: str, outputs: list[Path], seconds: float, **extra: Any) -> None:
        self.data[stage] = {"key": key, "outputs": [p.name for p in outputs], "seconds": round(seconds, 2),
                            "finished": time.strftime("%Y-%m-%d %H:%M:%S"), **extra}
        write_json_atomic(self.path, self.data, indent=2)


def _optional_file(setting: str | None, default: Path | None = None) -> Path | None:
    """``"auto"`` -> ``default`` when it exists; ``"none"``/None -> None; else the path (must exist)."""
    if setting is None or setting.lower() == "none":
        return None
    if setting.lower() == "auto":
        if default is None:
            raise ValueError("'auto' is not a choice here: give a file path or 'none'")
        return default if default.is_file() else None
    p = Path(setting).expanduser()
    if not p.is_file():
        raise FileNotFoundError(f"{p} not found (set it to 'auto', 'none' or an existing file)")
    return p


# ---------------------------------------------------------------------- the pipeline
def run_pipeline(
    cfg: RunConfig,
    out: str | Path,
    *,
    progress: bool = True,
    on_stage: Callable[[str, str], None] | None = None,
) -> dict[str, Any]:
    """Run (or resume) every stage into ``out``; returns ``{stage: "ran"|"skipped", ...}`` plus paths.

    ``on_stage(stage, status)`` is called as each stage starts ("running") or is skipped ("skipped").
    """

    run = Path(out)
    run.mkdir(parents=True, exist_ok=True)
    sn = resolve_source(cfg.supernet)
    cfg = dataclasses.replace(cfg, supernet=sn)
    write_text_atomic(run / "run_config.json", to_json(cfg.to_dict(), indent=2))
    man = Manifest(run)
    status: dict[str, Any] = {"data_source": sn.data.source}
    note = on_stage or (lambda s, st: None)

    def stage(name: str, key: str, outputs: list[Path], fn: Callable[[], dict[str, Any] | None]) -> None:
        if man.fresh(name, key, outputs):
            status[name] = "skipped"
            note(name, "skipped")
            return
        note(name, "running")
        t0 = time.perf_counter()
        extra = fn() or {}
        man.record(name, key, outputs, time.perf_counter() - t0, **extra)
        status[name] = "ran"

    # 1. supernet (its own checkpoint resumes mid-training)
    sdir = run / "supernet"
    sn_dict = sn.to_dict()
    lm_file = sn.landmarks.file
    k_sn = _key({s: sn_dict[s] for s in ("data", "model", "train", "sampling", "landmarks")},
                file_digest(Path(lm_file), n=16) if lm_file and Path(lm_file).is_file() else None)

    def do_supernet() -> dict[str, Any]:
        s = train_supernet(sn, sdir, resume="auto", progress=progress)
        return {"epochs": s["epochs_done"], "device": s["device"]}

    stage("supernet", k_sn, [sdir / "checkpoint.pt", sdir / "train_log.csv"], do_supernet)

    # 2. weight-sharing scores of a sample
    ws_path = run / "ws.csv"
    r = cfg.run
    k_ws = _key(file_digest(sdir / "checkpoint.pt", n=16), sn_dict["eval"], r.sample, r.seed, r.include_degenerate)

    def do_ws() -> dict[str, Any]:
        archs = sample_archs(r.sample, seed=r.seed, include_degenerate=r.include_degenerate)
        df = evaluate_supernet(sdir, archs, ws_path, eval_cfg=sn.eval, progress=progress)
        return {"architectures": len(df), "classes_scored": int(df["measured"].sum())}

    stage("ws", k_ws, [ws_path], do_ws)

    # 3. zero-cost proxies (of the scored sample, of all, or a given table)
    px = cfg.proxies
    prox_path: Path | None = None
    if px.table:
        prox_path = _optional_file(px.table)
        status["proxies"] = f"given table {prox_path}"
    elif str(px.archs).lower() != "none":
        prox_path = run / "proxies.csv.gz"
        pcfg = ProxyConfig(C=px.C, N=px.N, batch_size=px.batch_size, seed=px.seed)
        which = str(px.archs).lower()
        if which not in ("sample", "all") and not which.isdigit():
            raise ValueError(f"[proxies] archs must be 'sample', 'all', 'none' or a number, got {px.archs!r}")
        k_px = _key(dataclasses.asdict(pcfg), sn_dict["data"], which,
                    file_digest(ws_path, n=16) if which == "sample" else None)

        def do_proxies() -> dict[str, Any]:
            if which == "sample":
                archs = read_ws(ws_path)["index"].tolist()
            elif which == "all":
                archs = None
            else:
                archs = sample_archs(int(which), seed=r.seed)
            train, source = load_proxy_images(sn.data.source, sn.data.root, progress=progress)
            df = compute_proxies(archs, train, prox_path, pcfg, progress=progress, source=source)
            return {"architectures": len(df), "images": source}

        stage("proxies", k_px, [prox_path], do_proxies)
    else:
        status["proxies"] = "none"

    # 4. predictor and lookup table

    table_path = run / "table.csv.gz"
    hw = _optional_file(cfg.hardware.table, data_path("nb201", "nb201_hw_latency.csv.gz"))
    lm = _optional_file(cfg.predictor.landmarks)
    p = cfg.predictor
    k_tab = _key(file_digest(ws_path, n=16), dataclasses.asdict(p), hw and file_digest(hw, n=16),
                 lm and file_digest(lm, n=16), prox_path and file_digest(prox_path, n=16))

    def fit(landmarks: Any) -> LookupTable:
        return fit_table(ws_path, model=p.model, seed=p.seed, hardware=hw, landmarks=landmarks,
                         proxies=[prox_path] if prox_path else None)

    def do_table() -> dict[str, Any]:
        t = fit(lm)
        t.save(table_path)
        return {"model": p.model, "hardware": str(hw) if hw else None, "landmarks": str(lm) if lm else None,
                "fit_seconds": t.meta.get("fit_seconds")}

    stage("table", k_tab, [table_path], do_table)
    table = LookupTable.load(table_path)

    # 5. constrained search
    search_path = run / "search.json"
    k_search = _key(file_digest(table_path, n=16), dataclasses.asdict(cfg.search))

    def do_search() -> None:
        write_text_atomic(search_path, to_json(search_table(table.df, cfg.search, hardware=hw is not None), indent=2))

    stage("search", k_search, [search_path], do_search)

    # 6. evaluation against the truth, when there is one
    truth = _optional_file(r.truth, data_path("nb201", "nb201_truth.csv.gz"))
    eval_path = run / "evaluation.json"
    if truth is not None:
        k_eval = _key(file_digest(table_path, n=16), file_digest(ws_path, n=16), file_digest(search_path, n=16),
                      file_digest(truth, n=16), r.dataset)

        def do_eval() -> None:
            res = evaluate_run(table.df, read_ws(ws_path), json.loads(search_path.read_text()), truth,
                               r.dataset, cfg.search)
            write_text_atomic(eval_path, to_json(res, indent=2))

        stage("evaluate", k_eval, [eval_path], do_eval)
    else:
        status["evaluate"] = "no truth table"
        if eval_path.exists():
            eval_path.unlink()

    # 7. the landmark loop: propose, train stand-alone, refit, search again (each network resumes on its own)
    lp = cfg.loop
    if lp.k > 0:
        k_loop = _key(file_digest(table_path, n=16), dataclasses.asdict(lp), sn_dict["data"], k_tab,
                      truth and file_digest(truth, n=16), dataclasses.asdict(cfg.search))

        def refit(trained: pd.DataFrame) -> LookupTable:
            given = read_arch_table(lm, ["true_acc"])[["index", "true_acc"]] if lm else None
            both = trained[["index", "true_acc"]] if given is None else pd.concat(
                [given[~given["index"].isin(trained["index"])], trained[["index", "true_acc"]]], ignore_index=True)
            return fit(both)

        def do_loop() -> dict[str, Any]:
            true = np.asarray(truth_accuracy(load_truth(truth), r.dataset), float) if truth else None
            summary = run_landmark_loop(run, lp, sn.data, table_path, refit, device=sn.train.device,
                                        threads=sn.train.threads, progress=progress, true_acc=true)
            t_loop = LookupTable.load(run / "table_loop.csv.gz")
            s_loop = search_table(t_loop.df, cfg.search, hardware=hw is not None)
            write_text_atomic(run / "search_loop.json", to_json(s_loop, indent=2))
            if truth is not None:
                ev = evaluate_run(t_loop.df, read_ws(ws_path), s_loop, truth, r.dataset, cfg.search)
                summary["evaluation"] = ev
                write_json_atomic(run / "loop.json", summary, indent=2)
            return {"landmarks": len(summary["landmarks"]), "trained_now": summary["trained_now"]}

        stage("loop", k_loop, [run / "loop.json", run / "table_loop.csv.gz", run / "search_loop.json"], do_loop)
    else:
        status["loop"] = "off"

    # 8. report (cheap: always rewritten)
    note("report", "running")
    write_report(run)
    status["report"] = "ran"
    status["out"] = str(run)
    status["report_path"] = str(run / "report.md")
    return status


def search_table(
    df: pd.DataFrame, search: SearchSection, score: str = "pred_acc", *, hardware: bool = True
) -> dict[str, Any]:
    """Top architectures of every configured constraint set; an infeasible set records its message.

    ``hardware=False`` (the run has no hardware table): a set that constrains a column the table lacks is
    recorded as ``{"skipped": "no hardware table"}`` instead of an error.
    """
    out: dict[str, Any] = {}
    for name, rules in search.sets.items():
        try:
            top = top_k(df, score, list(rules), k=search.top, distinct_iso=True)
        except UnknownColumnError as e:
            key = "error" if hardware else "skipped"
            out[name] = {"constraints": list(rules), key: str(e) if hardware else "no hardware table", "detail": str(e)}
            continue
        except SearchError as e:
            out[name] = {"constraints": list(rules), "error": str(e)}
            continue
        out[name] = {"constraints": list(rules), "top": to_records(top, result_columns(top, score, rules))}
    return out


def evaluate_run(
    table: pd.DataFrame, ws: pd.DataFrame, search: dict[str, Any], truth_path: Path, dataset: str,
    search_cfg: SearchSection,
) -> dict[str, Any]:
    """Ranking metrics of the table and of the raw supernet, and the true accuracy/regret of each pick."""
    truth = load_truth(truth_path)
    true = np.asarray(truth_accuracy(truth, dataset), dtype=np.float64)
    res: dict[str, Any] = {"dataset": dataset, "truth": str(truth_path)}
    res["table_all"] = evaluate_ranking(table["pred_acc"].to_numpy(), true, degenerate=degenerate_mask())
    idx = ws["index"].to_numpy()
    res["supernet_sampled"] = evaluate_ranking(ws["ws_acc"].to_numpy(), true[idx])
    res["table_on_sampled"] = evaluate_ranking(table["pred_acc"].to_numpy()[idx], true[idx])
    picks = {}
    for name, s in search.items():
        if "top" not in s or not s["top"]:
            picks[name] = {"skipped": s["skipped"]} if "skipped" in s else {"error": s.get("error")}
            continue
        cons = list(parse_constraints(search_cfg.sets.get(name, ())))
        mask = check_feasible(table, cons) if cons else np.ones(len(table), bool)
        best_true = float(true[mask].max())
        pick = int(s["top"][0]["index"])
        picks[name] = {
            "pick_index": pick, "pick_arch": s["top"][0]["arch_str"], "pick_true_acc": float(true[pick]),
            "best_true_acc_under_constraints": best_true, "regret": best_true - float(true[pick]),
            "feasible": int(mask.sum()),
        }
    res["search"] = picks
    return res
