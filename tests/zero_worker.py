"""One rank of the ZeRO stage-1 check (tests/test_train_memory.py): torch's
ZeroRedundancyOptimizer(Adam) over gloo; writes the Adam state bytes this rank holds."""

import os
import sys


def work(rank: int, world: int, port: str, out: str) -> None:
    import torch
    import torch.distributed as dist
    from torch import nn
    from torch.distributed.optim import ZeroRedundancyOptimizer

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=port)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(0)
    model = nn.Sequential(*[nn.Linear(64, 64) for _ in range(8)])
    opt = ZeroRedundancyOptimizer(model.parameters(), optimizer_class=torch.optim.Adam)
    model(torch.randn(2, 64)).sum().backward()
    opt.step()
    local = sum(v.nbytes for s in opt.optim.state.values() for k, v in s.items() if torch.is_tensor(v) and k != "step")
    with open(f"{out}.{rank}", "w") as handle:
        handle.write(str(local))
    dist.destroy_process_group()


if __name__ == "__main__":
    import torch.multiprocessing as mp

    mp.spawn(work, args=(int(sys.argv[1]), sys.argv[2], sys.argv[3]), nprocs=int(sys.argv[1]))
