"""Helper of test_distributed.py (not a test itself): trains the jobs given as JSON in one
process, under torchrun (several ranks) or alone (the single-process reference), and writes
rank 0's final weights and the largest weight difference seen between ranks after any step.

    python -m torch.distributed.run --standalone --nproc_per_node 2 tests/distributed_worker.py OUT DATA JOBS
"""

import json
import sys
from pathlib import Path

import torch

torch.set_num_threads(1)

from gankit import distributed  # noqa: E402
from gankit.api import make_trainer  # noqa: E402
from gankit.config import load_preset  # noqa: E402

COMMON = ["device=cpu", "eval.every=0", "log.tensorboard=off", "log.progress=off", "train.log_every=3"]


def freeze_batch_norm(net: torch.nn.Module) -> None:
    """Batch norm in eval mode for the whole run (running statistics, which never change, instead
    of per-batch ones): each sample is then treated independently of the others in its batch, so
    a batch split over ranks computes exactly what the whole batch does in one process."""
    for m in net.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.eval()
            m.train = lambda mode=True, m=m: m  # the trainer's G.train() must not switch it back


def params(trainer) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in (*trainer.G.parameters(), *trainer.D.parameters())])


def main() -> None:
    out, data_root, jobs = Path(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
    d = distributed.init_from_env("cpu", timeout_s=60)
    results = {}
    for job in jobs:
        cfg = load_preset(job["preset"], COMMON + job["overrides"])
        trainer = make_trainer(cfg, None, data_root=data_root, progress=False)
        if job.get("bn_eval"):
            freeze_batch_norm(trainer.G)
            freeze_batch_norm(trainer.D)
        spread = [0.0]
        step = trainer.train_group

        def checked(reals, step=step, trainer=trainer, spread=spread):
            step(reals)
            every = distributed.all_gather(params(trainer)[None])
            spread[0] = max(spread[0], (every - every[0]).abs().max().item())

        trainer.train_group = checked
        trainer.fit()
        if d.is_main:
            torch.save(
                {"g": trainer.G.state_dict(), "d": trainer.D.state_dict()}, out / f"{job['name']}-world{d.world}.pt"
            )
        results[job["name"]] = {"rank_spread": spread[0], "steps": trainer.pos.step}
    if d.is_main:
        (out / f"results-world{d.world}.json").write_text(json.dumps(results))
    distributed.barrier()  # leave together: gloo may abort a rank whose peer tears down first
    distributed.shutdown()


if __name__ == "__main__":
    main()
