"""KGE on the shared trainer: DDP with 2 gloo processes, and exact resume after kill -9."""

from __future__ import annotations

import os

import pytest
import torch
from safetensors.torch import load_file, save_file

from kgnlu.kge import LossConfig, ModelConfig, SamplingConfig, TrainConfig, train
from tests.kge.conftest import ring_data
from tests.train_helpers import KGE_STEPS_PER_EPOCH, kill_after, logged, run_kge, run_script, script


def _one_n(batch_size: int) -> TrainConfig:
    # 1-N scoring draws nothing at random, so 2 ranks × batch B must equal 1 process × batch 2B
    return TrainConfig(model=ModelConfig("complex", dim=8), mode="1-n", loss=LossConfig("ce"), optimizer="adagrad",
                       lr=0.3, regularizer="n3", reg_weight=1e-3, epochs=4, batch_size=batch_size, seed=1,
                       eval_every=1, threads=1, plot=False)


def _slcwa() -> TrainConfig:
    return TrainConfig(model=ModelConfig("rotate", dim=8), loss=LossConfig("nssa", margin=4.0),
                       sampling=SamplingConfig(num_negatives=8, weighting="self_adversarial"), epochs=6, batch_size=4,
                       lr=0.05, seed=2, threads=1, plot=False)


def _state(result) -> dict[str, torch.Tensor]:
    return {k: v.detach().contiguous().clone() for k, v in result.model.state_dict().items()}


def _ddp_worker(rank: int, world: int, rendezvous: str, out: str) -> None:
    torch.set_num_threads(1)
    torch.distributed.init_process_group("gloo", init_method=f"file://{rendezvous}", rank=rank, world_size=world)
    try:
        one_n = train(ring_data(), _one_n(batch_size=4), out_dir=os.path.join(out, "one_n"))
        save_file(_state(one_n), os.path.join(out, f"one_n-{rank}.safetensors"))
        slcwa = train(ring_data(), _slcwa())  # no out_dir: one temporary run folder shared by the ranks
        save_file(_state(slcwa), os.path.join(out, f"slcwa-{rank}.safetensors"))
        assert slcwa.world_size == 2 and slcwa.history[-1]["loss"] < slcwa.history[0]["loss"] if rank == 0 else True
    finally:
        torch.distributed.destroy_process_group()


def test_ddp_two_gloo_processes_equal_one_process_with_the_doubled_batch(tmp_path):
    import torch.multiprocessing as mp

    mp.spawn(_ddp_worker, args=(2, str(tmp_path / "rdzv"), str(tmp_path)), nprocs=2, join=True)
    single = train(ring_data(), _one_n(batch_size=8), out_dir=tmp_path / "single")
    for rank in (0, 1):
        ddp = load_file(tmp_path / f"one_n-{rank}.safetensors")
        for key, value in _state(single).items():
            torch.testing.assert_close(ddp[key], value, atol=1e-5, rtol=0, msg=key)
    # the logged loss is the mean over ranks (the single process's), and rank 0's validation decided
    assert [v for _, v in logged(tmp_path / "one_n")] == pytest.approx([v for _, v in logged(tmp_path / "single")],
                                                                      abs=1e-5)
    ddp_eval, single_eval = logged(tmp_path / "one_n", "eval", "mrr"), logged(tmp_path / "single", "eval", "mrr")
    assert [s for s, _ in ddp_eval] == [s for s, _ in single_eval] == [3, 6, 9, 12]  # after each epoch
    assert [v for _, v in ddp_eval] == pytest.approx([v for _, v in single_eval], abs=1e-6)
    # sLCWA: each rank draws its own negatives, and DDP's averaged gradients keep the replicas equal
    a, b = (load_file(tmp_path / f"slcwa-{rank}.safetensors") for rank in (0, 1))
    for key in a:
        torch.testing.assert_close(a[key], b[key], atol=1e-6, rtol=0, msg=key)


def test_kge_kill_minus_9_then_resume_gives_the_uninterrupted_run(tmp_path):
    epochs = 6
    kill_after(script("kge", tmp_path / "run", epochs, 0.03),
               tmp_path / "run" / "checkpoints" / f"step-{2 * KGE_STEPS_PER_EPOCH:08d}")
    assert logged(tmp_path / "run")[-1][0] < epochs * KGE_STEPS_PER_EPOCH  # really interrupted
    run_script(script("kge", tmp_path / "run", epochs))  # resumes: the checkpoint folder exists
    run_kge(str(tmp_path / "ref"), epochs)  # the uninterrupted run, in this process
    expected = logged(tmp_path / "ref")
    assert [s for s, _ in expected] == [KGE_STEPS_PER_EPOCH * e for e in range(1, epochs + 1)]
    assert logged(tmp_path / "run") == expected  # bit for bit
    assert logged(tmp_path / "run", "eval", "mrr") == logged(tmp_path / "ref", "eval", "mrr")
    final = f"step-{epochs * KGE_STEPS_PER_EPOCH:08d}"
    ours, ref = (load_file(tmp_path / run / "checkpoints" / final / "model.safetensors") for run in ("run", "ref"))
    assert ours.keys() == ref.keys() and all(torch.equal(ours[k], ref[k]) for k in ref)
