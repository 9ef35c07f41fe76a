"""DrNAS: the Dirichlet architecture distribution, the bilevel step, the training loop (exact resume) and the CLI."""

from __future__ import annotations

import copy
import json
import math
import os
import signal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from scipy.special import digamma, gammaln

import supernet.training.drnas as drnas_mod
from supernet.config import config_from_dict
from supernet.data import synthetic_images
from supernet.network import SuperNet
from supernet.space import OPS, Arch, parse_arch
from supernet.training import (
    CheckpointError,
    DirichletArch,
    DrNASConfig,
    NonFiniteLossError,
    StopRequested,
    drnas_config_from_dict,
    drnas_step,
    load_checkpoint,
    load_drnas_config,
    train_drnas,
)
from supernet.training.dirichlet import MIN_CONCENTRATION

REPO = Path(__file__).resolve().parents[3]
TINY_TOML = REPO / "configs" / "drnas-tiny.toml"

SCFG = config_from_dict({"data": {"source": "synthetic", "synthetic_train": 128, "synthetic_valid": 64},
                         "model": {"C": 4, "N": 1}})
DCFG = DrNASConfig(epochs=2, batch_size=16, w_lr=0.05, arch_lr=1e-2, reg_type="kl", seed=3, threads=1,
                   device="cpu")


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)  # the tests are tiny; more threads only contend with other work on the machine


def _elu1(t: torch.Tensor) -> torch.Tensor:
    return F.elu(t.double()) + 1


# ---------------------------------------------------------------------- the distribution
def test_concentration_is_elu_plus_one_and_strictly_positive() -> None:
    a = DirichletArch(seed=0)
    with torch.no_grad():
        a.theta.copy_(torch.tensor([[-1e4, -200.0, -50.0, -17.0, -5.0]] * 3 + [[0.0, 0.5, 2.0, 10.0, -1.0]] * 3))
    c = a.concentration()
    assert (c > 0).all() and torch.isfinite(c).all()
    # equal to elu + 1 wherever float32 represents it; the floor only below exp(-13.8)
    assert c[0, 4].item() == pytest.approx(math.exp(-5.0), rel=1e-5)
    assert c[3].tolist() == pytest.approx([1.0, 1.5, 3.0, 11.0, math.exp(-1.0)], rel=1e-6)
    assert c[0, 0].item() == pytest.approx(MIN_CONCENTRATION)
    assert (F.elu(a.theta.detach()[0, :4]) + 1 == 0).any(), "the naive formula underflows here (the floor matters)"
    w = a.rsample()
    assert torch.isfinite(w).all() and torch.allclose(w.sum(-1), torch.ones(6), atol=1e-5)


def test_concentration_stays_positive_under_optimisation() -> None:
    a = DirichletArch(seed=1)
    opt = torch.optim.Adam(a.parameters(), lr=5.0)
    for _ in range(30):  # push every concentration towards 0 as hard as possible
        opt.zero_grad()
        a.concentration().sum().backward()
        opt.step()
        w = a.rsample()
        assert torch.isfinite(w).all() and torch.allclose(w.sum(-1), torch.ones(6), atol=1e-5)
    assert a.theta.max().item() < -20, "the optimiser did not push theta far negative"
    assert (F.elu(a.theta.detach()) + 1 == 0).all(), "here the naive float32 elu + 1 is 0"
    c = a.concentration()
    assert (c > 0).all()
    w = a.rsample()
    assert torch.isfinite(w).all() and (w >= 0).all()


def test_rsample_lies_on_the_simplex_and_is_pathwise_differentiable() -> None:
    a = DirichletArch(init_std=0.5, seed=2)
    torch.manual_seed(0)
    w = a.rsample()
    assert w.shape == (6, 5)
    assert (w >= 0).all() and torch.allclose(w.sum(-1), torch.ones(6), atol=1e-5)
    assert not torch.allclose(w, a.mean().detach(), atol=1e-3), "a sample should not be the mean"
    (g,) = torch.autograd.grad((w * torch.arange(5.0)).sum(), a.theta)
    assert torch.isfinite(g).all() and (g.abs() > 0).all()
    # two draws differ (fresh noise each call), and the sample mean approaches mean()
    assert not torch.equal(a.rsample(), a.rsample())
    with torch.no_grad():
        many = torch.stack([a.rsample() for _ in range(4000)]).mean(0)
    assert torch.allclose(many, a.mean(), atol=0.02)


def test_mean_is_normalised_concentration() -> None:
    a = DirichletArch(seed=0)
    with torch.no_grad():
        a.theta.copy_(torch.tensor([[0.0, 1.0, 2.0, 3.0, 4.0]] * 6))  # concentrations 1..5
    assert a.mean()[0].tolist() == pytest.approx([1 / 15, 2 / 15, 3 / 15, 4 / 15, 5 / 15], rel=1e-6)


def test_kl_to_uniform_prior() -> None:
    a = DirichletArch(seed=0)
    with torch.no_grad():
        a.theta.zero_()
    assert a.kl_to_prior().item() == pytest.approx(0.0, abs=1e-6)
    with torch.no_grad():
        a.theta.copy_(torch.tensor([[-1.0, 0.0, 0.5, 2.0, 0.0]] + [[0.0] * 5] * 5))
    alpha = _elu1(a.theta.detach()[0]).numpy()
    a0 = alpha.sum()
    closed = gammaln(a0) - gammaln(alpha).sum() - gammaln(5.0) + ((alpha - 1) * (digamma(alpha) - digamma(a0))).sum()
    kl = a.kl_to_prior()
    assert kl.item() > 0.01
    assert kl.item() == pytest.approx(closed, rel=1e-4)  # the other 5 edges contribute 0
    (g,) = torch.autograd.grad(kl, a.theta)
    assert g[1:].abs().max() < 1e-5 and g[0].abs().min() > 1e-3  # only the non-uniform edge is pulled


def test_derive_is_argmax_of_concentration_none_included() -> None:
    a = DirichletArch(seed=0)
    theta = torch.tensor([
        [0.3, 0.1, 0.0, -0.2, 0.1],   # none
        [0.0, 0.2, 0.1, 0.0, 0.0],    # skip_connect
        [-1.0, -2.0, -0.5, -3.0, -4.0],  # nor_conv_1x1 (all negative)
        [0.0, 0.0, 0.0, 0.9, 0.0],    # nor_conv_3x3
        [0.0, 0.0, 0.0, 0.0, 0.01],   # avg_pool_3x3
        [0.0, 0.0, 0.0, 0.5, 0.0],    # nor_conv_3x3
    ])
    with torch.no_grad():
        a.theta.copy_(theta)
    arch = a.derive()
    assert arch.ops == ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3", "nor_conv_3x3")
    assert arch.codes == tuple(int(i) for i in theta.argmax(1))
    assert arch.codes == tuple(int(i) for i in a.mean().argmax(1))


# ---------------------------------------------------------------------- the bilevel step
def _batches(n: int = 8) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(0)
    xt, yt = torch.randn(n, 3, 16, 16, generator=g), torch.randint(0, 10, (n,), generator=g)
    xv, yv = torch.randn(n, 3, 16, 16, generator=g) + 1.0, torch.randint(0, 10, (n,), generator=g)
    return (xt, yt), (xv, yv)


def _setup(seed: int = 0):
    model = SuperNet(C=4, N=1, seed=seed)
    arch = DirichletArch(init_std=0.3, seed=seed)
    w_opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    a_opt = torch.optim.Adam(arch.parameters(), lr=0.01, betas=(0.5, 0.999))
    return model, arch, w_opt, a_opt


def _valid_grad(model: SuperNet, arch: DirichletArch, batch, seed: int, kl: float) -> torch.Tensor:
    torch.manual_seed(seed)
    x, y = batch
    loss = F.cross_entropy(model.forward_mixed(x, arch.rsample()), y) + kl * arch.kl_to_prior()
    (g,) = torch.autograd.grad(loss, arch.theta)
    return g


def test_step_updates_theta_from_the_valid_batch_and_weights_from_the_train_batch() -> None:
    train_b, valid_b = _batches()
    model, arch, w_opt, a_opt = _setup()
    ref_model, ref_arch = copy.deepcopy(model), copy.deepcopy(arch)
    expect = _valid_grad(ref_model, ref_arch, valid_b, seed=11, kl=0.5)
    from_train = _valid_grad(ref_model, ref_arch, train_b, seed=11, kl=0.5)
    assert not torch.allclose(expect, from_train, atol=1e-6), "the check could not tell the batches apart"

    theta0 = arch.theta.detach().clone()
    w0 = {k: v.clone() for k, v in model.state_dict().items()}
    torch.manual_seed(11)
    st = drnas_step(model, arch, w_opt, a_opt, train_b, valid_b, reg_type="kl", reg_scale=0.5, grad_clip=5.0)
    torch.testing.assert_close(arch.theta.grad, expect, rtol=1e-5, atol=1e-7)
    assert not torch.equal(arch.theta.detach(), theta0)
    changed = [k for k, v in model.state_dict().items() if not torch.equal(v, w0[k])]
    assert any("cells" in k for k in changed) and any("classifier" in k for k in changed)
    assert st.valid_seen == 8 and st.train_seen == 8 and 0 <= st.train_correct <= 8
    # the weight step's gradient is the train batch's: redo it by hand from the same starting point
    ref_model2, ref_arch2, ref_w, ref_a = _setup()
    torch.manual_seed(11)
    ref_a.zero_grad()
    x, y = valid_b
    (F.cross_entropy(ref_model2.forward_mixed(x, ref_arch2.rsample()), y) + 0.5 * ref_arch2.kl_to_prior()).backward(
        inputs=[ref_arch2.theta])
    ref_a.step()
    with torch.no_grad():
        w = ref_arch2.rsample()
    ref_w.zero_grad()
    x, y = train_b
    F.cross_entropy(ref_model2.forward_mixed(x, w), y).backward()
    torch.nn.utils.clip_grad_norm_([p for p in ref_model2.parameters() if p.grad is not None], 5.0)
    ref_w.step()
    for (k, v), (k2, v2) in zip(model.state_dict().items(), ref_model2.state_dict().items()):
        assert k == k2 and torch.equal(v, v2), f"{k} differs from the hand-made weight step"


def test_step_without_valid_batch_leaves_theta_alone() -> None:
    train_b, _ = _batches()
    model, arch, w_opt, a_opt = _setup()
    theta0 = arch.theta.detach().clone()
    w0 = copy.deepcopy(model.state_dict())
    st = drnas_step(model, arch, w_opt, a_opt, train_b, None)
    assert torch.equal(arch.theta.detach(), theta0) and arch.theta.grad is None
    assert st.valid_seen == 0
    assert any(not torch.equal(v, w0[k]) for k, v in model.state_dict().items())


def test_several_steps_move_theta_and_lower_the_train_loss() -> None:
    train_b, valid_b = _batches(16)
    model, arch, w_opt, a_opt = _setup()
    theta0 = arch.theta.detach().clone()
    torch.manual_seed(0)
    losses = [drnas_step(model, arch, w_opt, a_opt, train_b, valid_b).train_loss for _ in range(8)]
    assert (arch.theta.detach() - theta0).abs().max() > 0.01
    assert losses[-1] < losses[0]


# ---------------------------------------------------------------------- the loop
def _marked_data() -> dict:
    """Train images never of class 9, valid images all of class 9: a batch's labels say where it came from."""
    tr = synthetic_images(180, seed=0)
    va = synthetic_images(400, seed=1)
    return {"train": tr.subset(np.flatnonzero(tr.labels != 9)), "valid": va.subset(np.flatnonzero(va.labels == 9))}


def test_arch_steps_use_only_valid_half_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bool, bool | None]] = []
    real = drnas_mod.drnas_step

    def spy(model, arch, w_opt, a_opt, train_batch, valid_batch, **kw):
        calls.append((bool((train_batch[1] != 9).all()),
                      None if valid_batch is None else bool((valid_batch[1] == 9).all())))
        return real(model, arch, w_opt, a_opt, train_batch, valid_batch, **kw)

    monkeypatch.setattr(drnas_mod, "drnas_step", spy)
    data = _marked_data()
    assert len(data["valid"]) == 40 and len(data["train"]) == 162
    s = train_drnas(SCFG, DCFG.replace(epochs=3, arch_warmup_epochs=1), tmp_path / "run", progress=False, data=data)
    steps_per_epoch = 162 // 16
    assert s["global_step"] == len(calls) == 3 * steps_per_epoch
    assert all(t for t, _ in calls), "a weight step got a valid-half batch"
    assert [v for _, v in calls[:steps_per_epoch]] == [None] * steps_per_epoch  # warm-up: no arch step
    assert all(v is True for _, v in calls[steps_per_epoch:]), "an arch step got a train-half batch"
    log = pd.read_csv(tmp_path / "run" / "drnas_log.csv")
    assert log["valid_loss"].isna().tolist() == [True, False, False]


def test_run_writes_log_result_and_checkpoint(tmp_path: Path) -> None:
    s = train_drnas(SCFG, DCFG, tmp_path / "run", progress=False)
    run = tmp_path / "run"
    assert s["finished"] and s["global_step"] == 2 * (128 // 16)
    log = pd.read_csv(run / "drnas_log.csv")
    assert list(log.columns) == ["epoch", "lr", "train_loss", "train_acc", "valid_loss", "valid_acc", "seconds",
                                 "arch_str", "arch_index", "entropy", "max_prob"]
    assert log["epoch"].tolist() == [1, 2] and log["lr"].iloc[0] == pytest.approx(0.05)
    assert log["lr"].iloc[1] == pytest.approx(0.001 + 0.5 * (0.05 - 0.001) * (1 + math.cos(math.pi / 2)))
    assert log["valid_acc"].between(0, 100).all() and (log["valid_loss"] > 0).all()
    assert [parse_arch(a).index for a in log["arch_str"]] == log["arch_index"].tolist()
    assert (log["entropy"] <= math.log(5) + 1e-6).all() and (log["max_prob"] >= 0.2 - 1e-6).all()
    res = json.loads((run / "drnas_result.json").read_text())
    ck = load_checkpoint(run / "drnas_checkpoint.pt")
    theta = ck["arch"]["theta"]
    conc = _elu1(theta)
    assert np.allclose(res["concentration"], conc.numpy(), rtol=1e-5)
    assert res["arch_str"] == Arch(tuple(int(i) for i in theta.argmax(1))).to_str()
    assert res["index"] == parse_arch(res["arch_str"]).index
    assert res["op_names"] == list(OPS) and res["edges"][2] == "1->2"
    assert res["concentration_by_edge"]["0->3"]["nor_conv_3x3"] == pytest.approx(float(conc[3, 3]), rel=1e-6)
    assert [h["arch_str"] for h in res["history"]] == log["arch_str"].tolist()
    assert res["config"]["drnas"]["reg_type"] == "kl" and res["config"]["model"]["C"] == 4
    assert not torch.allclose(theta, DirichletArch(init_std=DCFG.init_std, seed=DCFG.seed + 1).theta.detach())
    # a finished run resumed does nothing more; a fresh run refuses the directory; another config is refused
    again = train_drnas(SCFG, DCFG, run, resume=True, progress=False)
    assert again["global_step"] == s["global_step"] and again["weights_sha256"] == s["weights_sha256"]
    with pytest.raises(CheckpointError, match="--resume"):
        train_drnas(SCFG, DCFG, run, progress=False)
    with pytest.raises(CheckpointError, match=r"\[drnas\] arch_lr: 0.01 -> 0.02"):
        train_drnas(SCFG, DCFG.replace(arch_lr=0.02), run, resume=True, progress=False)
    # resuming needs a checkpoint; resume="auto" starts when there is none
    with pytest.raises(CheckpointError, match=r"no checkpoint in .*other to resume; drop --resume"):
        train_drnas(SCFG, DCFG, tmp_path / "other", resume=True, progress=False)
    assert train_drnas(SCFG, DCFG, tmp_path / "other", resume="auto", progress=False, max_steps=1)["global_step"] == 1


def test_a_diverging_search_stops_with_a_clear_error_and_keeps_the_last_good_checkpoint(tmp_path: Path) -> None:
    run = tmp_path / "run"
    train_drnas(SCFG, DCFG.replace(epochs=3), run, progress=False, max_steps=8)  # a good epoch, checkpointed
    good = load_checkpoint(run / "drnas_checkpoint.pt")
    # the same run diverging in its second epoch (the learning rate is not part of what a resume may change,
    # so patch the optimiser's rate as a diverging run would have it)
    original = drnas_mod._DrNAS.start_epoch

    def blow_up(self, epoch: int) -> None:
        original(self, epoch)
        for g in self.w_opt.param_groups:
            g["lr"] = 1e6

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(drnas_mod._DrNAS, "start_epoch", blow_up)
        with pytest.raises(NonFiniteLossError, match=r"loss became nan at epoch 2 step \d+ .*the last good checkpoint "
                           r"is .*drnas_checkpoint.pt \(end of epoch 1\)"):
            train_drnas(SCFG, DCFG.replace(epochs=3), run, resume=True, progress=False)
    after = load_checkpoint(run / "drnas_checkpoint.pt")
    assert after["global_step"] == good["global_step"] == 8
    assert torch.equal(after["arch"]["theta"], good["arch"]["theta"])
    assert pd.read_csv(run / "drnas_log.csv")["epoch"].tolist() == [1]


def test_stop_when_stable_ends_the_search_once_the_derived_cell_holds(tmp_path: Path, monkeypatch) -> None:
    # the derived cell is forced to change in epoch 2 and then hold: with stop_when_stable=2 the run must
    # stop after epoch 3 (epochs 2 and 3 agree), not run all 6
    cells = iter([Arch((1, 1, 1, 1, 1, 1)), Arch((2, 2, 2, 2, 2, 2)), Arch((2, 2, 2, 2, 2, 2)),
                  Arch((3, 3, 3, 3, 3, 3)), Arch((3, 3, 3, 3, 3, 3)), Arch((3, 3, 3, 3, 3, 3))])
    fixed: dict[int, Arch] = {}

    def derive(self):  # one cell per epoch: the same call inside an epoch returns the same cell
        n = len(getattr(self, "_seen", []))
        if n not in fixed:
            fixed[n] = next(cells)
        return fixed[n]

    monkeypatch.setattr(DirichletArch, "derive", derive)
    orig_end = drnas_mod._DrNAS.end_epoch

    def end_epoch(self, state):
        row = orig_end(self, state)
        self.arch._seen = getattr(self.arch, "_seen", []) + [1]
        return row

    monkeypatch.setattr(drnas_mod._DrNAS, "end_epoch", end_epoch)
    cfg = DCFG.replace(epochs=6, stop_when_stable=2)
    s = train_drnas(SCFG, cfg, tmp_path / "run", progress=False)
    assert s["epochs_done"] == 3 and s["converged"] and s["finished"] and s["stable_epochs"] == 2
    assert [h["index"] for h in s["history"]] == [Arch((1,) * 6).index] + [Arch((2,) * 6).index] * 2
    res = json.loads((tmp_path / "run" / "drnas_result.json").read_text())
    assert res["converged"] and res["epochs_done"] == 3
    again = train_drnas(SCFG, cfg, tmp_path / "run", resume=True, progress=False)  # nothing more to do
    assert again["global_step"] == s["global_step"] and again["epochs_done"] == 3
    with pytest.raises(ValueError, match="stop_when_stable"):
        DCFG.replace(stop_when_stable=-1)


def _final_state(run: Path) -> tuple[dict, dict]:
    ck = load_checkpoint(run / "drnas_checkpoint.pt")
    return ck["model"], ck["arch"]


def test_resume_after_interruptions_reproduces_the_uninterrupted_run(tmp_path: Path, monkeypatch) -> None:
    full = train_drnas(SCFG, DCFG, tmp_path / "full", progress=False)
    run = tmp_path / "cut"
    # 1) stopped mid-epoch by max_steps; 2) across the epoch boundary; 3) by SIGINT mid-epoch; 4) to the end
    first = train_drnas(SCFG, DCFG, run, progress=False, max_steps=3)
    assert not first["finished"] and first["global_step"] == 3 and not (run / "drnas_result.json").exists()
    second = train_drnas(SCFG, DCFG, run, resume=True, progress=False, max_steps=7)
    assert second["global_step"] == 10 and second["epochs_done"] == 1

    real = drnas_mod.drnas_step
    n = {"calls": 0}

    def interrupt_on_second(*a, **kw):
        out = real(*a, **kw)
        n["calls"] += 1
        if n["calls"] == 2:
            os.kill(os.getpid(), signal.SIGINT)  # the handler only sets a flag: the step finishes first
        return out

    monkeypatch.setattr(drnas_mod, "drnas_step", interrupt_on_second)
    with pytest.raises(StopRequested):
        train_drnas(SCFG, DCFG, run, resume=True, progress=False)
    assert load_checkpoint(run / "drnas_checkpoint.pt")["global_step"] == 12
    monkeypatch.setattr(drnas_mod, "drnas_step", real)
    last = train_drnas(SCFG, DCFG, run, resume=True, progress=False)
    assert last["finished"] and last["global_step"] == full["global_step"]

    (m_full, a_full), (m_cut, a_cut) = _final_state(tmp_path / "full"), _final_state(run)
    assert torch.equal(a_full["theta"], a_cut["theta"])
    diff = [k for k in m_full if not torch.equal(m_full[k], m_cut[k])]
    assert not diff, f"{len(diff)} weight tensors differ, e.g. {diff[:3]}"
    assert last["weights_sha256"] == full["weights_sha256"]
    cols = ["epoch", "lr", "train_loss", "train_acc", "valid_loss", "valid_acc", "arch_str"]
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "full" / "drnas_log.csv")[cols],
                                  pd.read_csv(run / "drnas_log.csv")[cols])
    assert full["history"] == last["history"]


def test_the_callers_global_rng_is_untouched(tmp_path: Path) -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train_drnas(SCFG, DCFG.replace(epochs=1), tmp_path / "run", progress=False, max_steps=2)
    assert torch.equal(torch.rand(3), expected)


# ---------------------------------------------------------------------- config
def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "c.toml"
    p.write_text(text)
    return p


def test_config_loader(tmp_path: Path) -> None:
    scfg, dcfg = load_drnas_config(TINY_TOML)
    assert scfg.data.source == "synthetic" and scfg.model.C == 8
    assert dcfg.reg_type == "kl" and dcfg.epochs == 2 and dcfg.arch_betas == (0.5, 0.999)
    s, d = load_drnas_config(_write(tmp_path, "[model]\nC = 12\n[drnas]\narch_betas = [0, 0.9]\nepochs = 3\n"))
    assert s.model.C == 12 and d.arch_betas == (0.0, 0.9) and d.epochs == 3 and d.arch_lr == 3e-4
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['arch_learning_rate'\] in \[drnas\]"):
        load_drnas_config(_write(tmp_path, "[drnas]\narch_learning_rate = 1e-3\n"))
    with pytest.raises(ValueError, match=r"\['train'\] are not read by DrNAS"):
        load_drnas_config(_write(tmp_path, "[train]\nlr = 0.1\n[drnas]\nepochs = 3\n"))
    with pytest.raises(ValueError, match=r"\[drnas\] reg_type must be one of 'kl', 'none', got 'l2'"):
        load_drnas_config(_write(tmp_path, "[drnas]\nreg_type = 'l2'\n"))
    with pytest.raises(ValueError, match="must be true or false"):
        drnas_config_from_dict({"channels_last": 1})
    with pytest.raises(ValueError, match="must be an integer"):
        drnas_config_from_dict({"epochs": 2.5})
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['C_typo'\] in \[model\]"):
        load_drnas_config(_write(tmp_path, "[model]\nC_typo = 8\n[drnas]\nepochs = 3\n"))


@pytest.mark.parametrize(
    "toml,message",
    [
        ('epochs = "two"', r"\[drnas\] epochs must be an integer, got 'two'"),
        ("epochs = 0", r"\[drnas\] epochs must be >= 1, got 0"),
        ("w_lr = nan", r"\[drnas\] w_lr must be a finite number, got nan"),
        ("w_lr = 0.01\nw_lr_min = 0.1", r"\[drnas\] w_lr_min \(0.1\) must be <= w_lr \(0.01\)"),
        ("arch_lr = -1e-3", r"\[drnas\] arch_lr must be > 0"),
        ("threads = 0", r"\[drnas\] threads must be >= 1, got 0"),
        ("arch_betas = [0.5, 1.5]", r"\[drnas\] arch_betas must be < 1, got \(0.5, 1.5\)"),
        ("arch_betas = [0.5]", r"\[drnas\] arch_betas must be a list of 2 numbers, got \[0.5\]"),
        ("batch_size = 0", r"\[drnas\] batch_size must be >= 1, got 0"),
    ],
)
def test_drnas_values_out_of_type_or_range_name_file_and_key(tmp_path: Path, toml: str, message: str) -> None:
    with pytest.raises(ValueError, match=r"c\.toml: " + message):
        load_drnas_config(_write(tmp_path, "[drnas]\n" + toml + "\n"))
    with pytest.raises(ValueError, match=r"c\.toml: \[model\] N must be >= 1, got 0"):
        load_drnas_config(_write(tmp_path, "[model]\nN = 0\n"))


def test_shipped_cpu_config_loads() -> None:
    scfg, dcfg = load_drnas_config(REPO / "configs" / "drnas-cpu.toml")
    assert scfg.data.source == "cifar10" and scfg.data.split == "nb201" and (scfg.model.C, scfg.model.N) == (16, 1)
    assert dcfg.threads == 2 and dcfg.epochs >= 1


# ---------------------------------------------------------------------- CLI
def test_cli_drnas_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from predictor.cli import main

    rc = main(["drnas", "--config", str(TINY_TOML), "--out", str(tmp_path / "run"), "--json", "--no-progress"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["finished"] and out["epochs_done"] == 2
    assert parse_arch(out["arch_str"]).index == out["index"]
    assert np.asarray(out["concentration"]).shape == (6, 5) and (np.asarray(out["concentration"]) > 0).all()
    assert len(out["history"]) == 2
    res = json.loads((tmp_path / "run" / "drnas_result.json").read_text())
    assert res["arch_str"] == out["arch_str"] and res["concentration"] == out["concentration"]
    truth_path = Path(os.environ.get("NASGCN_DATA", REPO / "data")) / "nb201" / "nb201_truth.csv.gz"
    if truth_path.is_file():
        from predictor.truth import load_truth, truth_accuracy

        truth = load_truth(truth_path)
        acc = truth_accuracy(truth, "cifar10")[(truth["index"] == out["index"]).to_numpy()][0]
        assert out["cifar10_test_acc"] == pytest.approx(acc)
    else:
        assert out["cifar10_test_acc"] is None
    # text mode on the finished run (resume does no more steps) names the architecture
    rc = main(["drnas", "--config", str(TINY_TOML), "--out", str(tmp_path / "run"), "--resume", "--no-progress"])
    text = capsys.readouterr().out
    assert rc == 0 and out["arch_str"] in text and "concentration" in text
